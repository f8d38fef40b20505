"""Command line: ``python -m ae_core datasets | train | evaluate``.

Errors a user can cause end with a one-line message and exit status 2, never a traceback.
"""

import json
import signal
import sys
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path

from ae_core.cli.parser import build_parser
from ae_core.cli.worker_training import train_in_worker
from ae_core.data import DataFileError, DatasetUnavailableError, dataset_status, load_dataset
from ae_core.settings.model_config import ModelConfig, parse_layer_sizes
from ae_core.settings.recommended import recommended_settings
from ae_core.settings.train_config import TrainConfig
from ae_core.validation import Number, OneOf, check

USER_ERRORS = (ValueError, DataFileError, DatasetUnavailableError, FileNotFoundError, FileExistsError, OSError)


def _datasets(args) -> dict:
    statuses = dataset_status(args.data_dir)
    rows = [
        {
            "name": status.spec.name,
            "shape": list(status.spec.image_shape),
            "available": status.available,
            "where": status.location if status.available else status.reason,
        }
        for status in statuses
    ]
    if not args.json:
        for row in rows:
            shape = "x".join(str(side) for side in row["shape"])
            print(f"{row['name']:<14} {shape:<9} {'yes' if row['available'] else 'no ':<4} {row['where']}")
    return {"datasets": rows}


def _settings(args, dataset, n_train: int) -> tuple[ModelConfig, TrainConfig]:
    """The recommended settings for the dataset, preset and ``n_train`` training images, with every option the user
    set put in their place."""
    model_config, train_config = recommended_settings(dataset.name, dataset.image_shape, args.model, n_train)
    given = {name: value for name, value in vars(args).items() if value is not None}
    for name, option in (("hidden_units", "--hidden-units"), ("filters", "--filters")):
        if name in given:
            given[name] = parse_layer_sizes(option, given[name])
    model_config = replace(model_config, **{f.name: given[f.name] for f in fields(ModelConfig) if f.name in given})
    train_config = replace(train_config, **{f.name: given[f.name] for f in fields(TrainConfig) if f.name in given})
    return model_config, train_config


def _run_folder(args) -> tuple[Path, str]:
    """(runs folder, checked run name) from --out, before any data is loaded: a bad or taken name fails here."""
    from ae_core.runs.names import check_run_name, default_runs_dir
    from ae_core.runs.saving import clean_staging

    default_name = f"{args.model}-{Path(args.dataset).name}-{datetime.now():%H%M%S}"
    out = Path(args.out) if args.out else default_runs_dir() / default_name
    clean_staging(out.parent)
    return out.parent, check_run_name(out.parent, out.name, overwrite=args.overwrite)


def _train(args) -> dict:
    runs_dir, name = _run_folder(args)  # first, before Keras loads
    from ae_core.runs.run import train_run, training_images
    from ae_core.runs.saving import save_run
    from ae_core.training.events import TrainingControl
    from ae_core.training.progress_bar import ProgressBar

    dataset = load_dataset(args.dataset, data_dir=args.data_dir)
    x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, args.exclude_class)
    model_config, train_config = _settings(args, dataset, len(x_train))
    options = {"name": name, "split": dataset.split.to_dict(), "excluded_class": args.exclude_class}
    arguments = (x_train, dataset.x_val, dataset.name, model_config, train_config)
    with ProgressBar() as progress:
        if args.executor is None:
            control = TrainingControl()
            signal.signal(signal.SIGINT, lambda *_: control.stop())  # Ctrl-C stops after this batch and keeps the run
            run = train_run(*arguments, listener=progress, control=control, **options)
        else:
            run = train_in_worker(args.executor, arguments, options, progress)
    path = save_run(run, runs_dir, overwrite=args.overwrite)
    report = _report(run, path)
    if not args.json:
        _print_report(report)
    return report


def _report(run, path: Path) -> dict:
    result = run.result
    return {
        "run": str(path),
        "dataset": run.dataset_name,
        "model": run.model_config.preset,
        "id": run.id,
        "latent_dim": run.model_config.latent_dim,
        "batch_size": run.train_config.batch_size,
        "seed": run.train_config.seed,
        "split": run.split,
        "excluded_class": run.excluded_class,
        **run.metrics,
        "epochs": result.epochs_completed,
        "samples": result.samples_seen,
        "seconds_per_epoch": result.seconds_per_epoch,
        "stopped": result.stopped,
        "diverged": result.divergence.message if result.divergence else None,
    }


def _print_report(report: dict) -> None:
    if report["diverged"]:
        print(report["diverged"])
    print(f"saved {report['run']}: {report['epochs']} epochs, {report['seconds_per_epoch']:.2f} s/epoch")
    print(f"validation MSE {report['val_mse']:.4f}  PSNR {report['val_psnr']:.2f} dB  SSIM {report['val_ssim']:.3f}")
    print(
        f"PCA-{report['pca_components']} MSE {report['pca_val_mse']:.4f}  PSNR {report['pca_val_psnr']:.2f} dB  "
        f"SSIM {report['pca_val_ssim']:.3f}"
    )


def _evaluate(args) -> dict:
    from ae_core.runs.context import dataset_for
    from ae_core.runs.loading import load_run
    from ae_core.runs.run import evaluate_model, training_images

    run = load_run(args.run)
    dataset = dataset_for(run, args.data_dir)  # on the run's own split; refused when the data has changed
    x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, run.excluded_class)
    run.metrics = evaluate_model(run.model, x_train, dataset.x_val, seed=run.train_config.seed)
    report = _report(run, Path(args.run))
    if not args.json:
        _print_report(report)
    return report


def _latent(args) -> dict:
    from ae_core.latent.maps import run_latent_map
    from ae_core.runs.context import RunContext, dataset_for
    from ae_core.runs.loading import load_run

    out = Path(args.out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: the folder {out.parent} does not exist; create it or write elsewhere.")
    params = {} if args.perplexity is None else {"perplexity": args.perplexity}
    run = load_run(args.run)
    context = RunContext(run, dataset_for(run, args.data_dir))
    result = run_latent_map(context, args.split, args.method, args.dims, args.samples, args.seed, **params)
    out.write_text(result.csv())
    projection = result.projection
    report = {
        "method": projection.method,
        "samples": len(result.codes),
        "seconds": round(projection.seconds, 3),
        "trustworthiness": round(projection.trustworthiness, 4),
        "trust_sample": projection.trust_sample,
        "images": result.sample.description,
        "out": str(out),
    }
    if not args.json:
        print(
            f"wrote {out}: {report['images']}, {report['method']} in {report['seconds']:.2f} s, "
            f"trustworthiness {report['trustworthiness']:.3f} on {report['trust_sample']:,} images"
        )
    return report


def _run_context(args):
    """The RunContext of the saved run ``args.run``, with its dataset on the split it was trained on."""
    from ae_core.runs.context import context_for, dataset_for
    from ae_core.runs.loading import load_run

    run = load_run(args.run)
    return context_for(run, dataset_for(run, args.data_dir))


def _compress(args) -> dict:
    from ae_core.applications.compression import compression_report
    from ae_core.cli.text import text_table

    report = compression_report(_run_context(args))
    if not args.json:
        print(text_table([row.to_dict() for row in report.rows]) + "\n" + report.verdict)
    return {"rows": [row.to_dict() for row in report.rows], "n_images": report.n_images}


def _denoise(args) -> dict:
    from ae_core.applications.restoration import DEGRADATIONS, restoration_report
    from ae_core.cli.text import text_table
    from ae_core.runs.loading import load_run

    # checked here, before the run loads, and named as the user typed it
    check("--noise", args.noise, OneOf(DEGRADATIONS))
    check("--level", args.level, Number(0, 1))
    denoiser = load_run(args.denoiser).model if args.denoiser else None
    report = restoration_report(_run_context(args), args.noise, args.level, args.seed, denoiser)
    if not args.json:
        print(text_table([{"method": name, **score} for name, score in report.scores.items()]) + "\n" + report.verdict)
    return report.scores


def _classify(args) -> dict:
    from ae_core.applications.classification import best_accuracies, classification_report, classification_verdict

    report = classification_report(_run_context(args), (args.labels,), args.seed)
    if not args.json:
        print(classification_verdict(report.rows, report.label_counts[0]))
    best = best_accuracies(report.rows, report.label_counts[0])
    return {**best, "n_labels": report.label_counts[0], "codes_semi_supervised": best["semi_supervised"]["codes"]}


def _anomaly(args) -> dict:
    from ae_core.applications.anomaly import anomaly_report

    report = anomaly_report(_run_context(args), args.anomalous_class)
    if not args.json:
        print(report.verdict)
    return report.to_dict()


def _out_file(out: str, suffix: str, example: str) -> Path:
    """``--out`` as a path, refused unless it ends in ``suffix`` and its folder exists."""
    path = Path(out)
    if path.suffix != suffix:
        raise ValueError(f"--out must name a {suffix} file, such as {example}; got {str(path)!r}.")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"--out {path}: the folder {path.parent} does not exist; create it or write elsewhere.")
    return path


def _generate(args) -> dict:
    from ae_core.generation.report import generate_for_run
    from ae_core.runs.context import context_for, dataset_for
    from ae_core.runs.loading import load_run

    out = _out_file(args.out, ".npz", "samples.npz")
    run = load_run(args.run)
    context = context_for(run, dataset_for(run, args.data_dir))
    report = generate_for_run(context, args.sampler, args.n, args.seed, args.temperature)
    report.save_npz(out)
    if not args.json:
        print(report.summary_line(out))
    return report.to_dict()


def _notebook(args) -> dict:
    from ae_core.runs.notebook import run_notebook
    from ae_core.settings import environment

    out = _out_file(args.out, ".ipynb", "run.ipynb")
    data_dir = args.data_dir or environment.current().data_dir  # written into the notebook, which runs elsewhere
    out.write_text(run_notebook(args.run, data_dir), encoding="utf-8")
    if not args.json:
        print(f"wrote {out}: open it in Jupyter and run every cell to see run {args.run} measured again")
    return {"notebook": str(out), "run": args.run}


COMMANDS = {
    "datasets": _datasets,
    "train": _train,
    "evaluate": _evaluate,
    "latent": _latent,
    "compress": _compress,
    "denoise": _denoise,
    "classify": _classify,
    "anomaly": _anomaly,
    "generate": _generate,
    "notebook": _notebook,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = COMMANDS[args.command](args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report))
    return 0
