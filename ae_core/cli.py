"""Command line: ``python -m ae_core datasets | train | evaluate``.

Errors a user can cause end with a one-line message and exit status 2, never a traceback.
"""

import argparse
import json
import signal
import sys
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path

from ae_core.config import DEFAULT_PRESET, PRESETS, ModelConfig, TrainConfig, parse_layer_sizes, recommended_settings
from ae_core.data import DataFileError, DatasetUnavailableError, dataset_status, load_dataset

USER_ERRORS = (ValueError, DataFileError, DatasetUnavailableError, FileNotFoundError, FileExistsError, OSError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ae_core", description="Autoencoder Lab from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_datasets(commands)
    _add_train(commands)
    _add_evaluate(commands)
    _add_applications(commands)
    _add_generate(commands)
    return parser


def _add_datasets(commands) -> None:
    listing = commands.add_parser("datasets", help="list the datasets and whether each is available here")
    listing.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _add_train(commands) -> None:
    """Options left unset take ``recommended_settings`` for the dataset and preset."""
    training = commands.add_parser("train", help="train an autoencoder and save the run",
                                   description="Unset options follow the recommended settings for the dataset and "
                                               "preset (ae_core.config.recommended_settings).")  # fmt: skip
    training.add_argument("--dataset", required=True, help="digits, mnist, fashion_mnist, or a path to your images")
    training.add_argument("--model", default=DEFAULT_PRESET, choices=PRESETS,
                          help=f"preset (default: {DEFAULT_PRESET})")  # fmt: skip
    training.add_argument("--latent-dim", type=int, help="code size (default: 32, or 1/8 of the pixels when smaller)")
    training.add_argument("--architecture", choices=("dense", "conv"),
                          help="base of the denoising, sparse and vae presets (default: dense)")  # fmt: skip
    training.add_argument("--hidden-units", help="dense widths, e.g. 256,128 (default: 256,128)")
    training.add_argument("--filters", help="conv filters, e.g. 32,64 (default: 32,64)")
    training.add_argument("--activation", help="default: relu")
    training.add_argument("--loss", help="mse or binary_crossentropy (default: mse)")
    training.add_argument("--noise", dest="noise_type", help="denoising: gaussian, salt_pepper or masking")
    training.add_argument("--noise-level", type=float, help="denoising: default 0.3")
    training.add_argument("--l1", type=float, help="sparse: L1 weight on the code (default: 1e-4)")
    training.add_argument("--beta", type=float, help="vae: weight of the KL term (default: 1)")
    training.add_argument("--epochs", type=int, help="default: 40 for digits, 15 for MNIST, 20 for seed_dense")
    training.add_argument("--batch-size", type=int, help="default: 64 for convolutional models, else 256")
    training.add_argument("--learning-rate", type=float, help="default: 0.001")
    training.add_argument("--optimizer", help="adam, rmsprop or sgd (default: adam)")
    training.add_argument("--seed", type=int, help="seeds the weights, batch order and noise (default: 0); the "
                                                   "training/validation split keeps its own fixed seed")
    training.add_argument("--exclude-class", type=int, help="leave class K out of the training images (validation "
                                                            "keeps every class)")  # fmt: skip
    training.add_argument("--out", help="run folder, e.g. runs/my-run (default: <preset>-<dataset>-<time> in "
                                         "$AE_RUNS_DIR, else in runs/, where the app saves too)")
    training.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    training.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    training.add_argument("--json", action="store_true", help="print the results as one JSON object")


def _add_evaluate(commands) -> None:
    evaluation = commands.add_parser("evaluate", help="score a saved run on the validation images it was trained with")
    evaluation.add_argument("run", help="run folder, e.g. runs/my-run")
    evaluation.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    evaluation.add_argument("--json", action="store_true", help="print the results as one JSON object")

    mapping = commands.add_parser("latent", help="map a saved run's codes to 2-D or 3-D and write them as CSV")
    mapping.add_argument("run", help="run folder, e.g. runs/my-run")
    mapping.add_argument("--method", required=True, choices=("pca", "tsne", "umap"))
    mapping.add_argument("--dims", type=int, default=2, choices=(2, 3))
    mapping.add_argument("--split", default="validation", choices=("validation", "training", "all"),
                         help="images to map; all: validation first, then training (default: validation)")
    mapping.add_argument("--samples", type=int, default=5000, help="at most this many images (default: 5000)")
    mapping.add_argument("--seed", type=int, default=0, help="seeds the sample and the map (default: 0)")
    mapping.add_argument("--perplexity", type=float, help="tsne: neighbourhood size (default: 30)")
    mapping.add_argument("--out", required=True, help="CSV file to write: index, split, label, x, y[, z], code_*")
    mapping.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    mapping.add_argument("--json", action="store_true", help="print method, samples, seconds and trustworthiness")


def _add_applications(commands) -> None:
    """What a saved run is good for, each beside a classical baseline on the run's validation images."""
    compress = commands.add_parser("compress", help="bytes per image vs error: the run's code, PCA and JPEG")
    denoise = commands.add_parser("denoise", help="degrade images, then restore them with the run and with filters")
    denoise.add_argument("--noise", required=True, help="gaussian, salt_pepper, masking, occlusion or blur")
    denoise.add_argument("--level", type=float, required=True, help="strength in [0, 1], e.g. 0.3")
    denoise.add_argument("--seed", type=int, default=0, help="seeds the noise (default: 0)")
    denoise.add_argument("--denoiser", help="a denoising run's folder, to restore with as well")
    classify = commands.add_parser("classify", help="classify from few labels: codes vs pixels vs PCA codes")
    classify.add_argument("--labels", type=int, required=True, help="labelled training images, balanced by class")
    classify.add_argument("--seed", type=int, default=0, help="seeds the labelled subset (default: 0)")
    anomaly = commands.add_parser("anomaly", help="catch a class the run was trained without by its error")
    anomaly.add_argument("--class", dest="anomalous_class", type=int, required=True, help="the held-out class")
    for command in (compress, denoise, classify, anomaly):
        command.add_argument("run", help="run folder, e.g. runs/my-run")
        command.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
        command.add_argument("--json", action="store_true", help="print the results as one JSON object")


def _add_generate(commands) -> None:
    generation = commands.add_parser("generate", help="decode new images from a saved run's code space")
    generation.add_argument("run", help="run folder, e.g. runs/my-run")
    generation.add_argument("--sampler", required=True, choices=("normal", "gaussian", "gmm"),
                            help="normal: N(0, I), for a VAE; gaussian or gmm: fitted to the training codes")
    generation.add_argument("--n", type=int, default=64, help="images to generate (default: 64)")
    generation.add_argument("--seed", type=int, default=0, help="seeds the codes drawn (default: 0)")
    generation.add_argument("--temperature", type=float, default=1.0,
                            help="scales the spread of the codes; below 1: cleaner, above 1: stranger (default: 1)")
    generation.add_argument("--out", required=True, help=".npz file to write: images (n, h, w, c) and codes")
    generation.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    generation.add_argument("--json", action="store_true",
                            help="print sampler, n, seconds and the judge's scores against real images")


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
    from ae_core.run_files import check_run_name, clean_staging, default_runs_dir

    default_name = f"{args.model}-{Path(args.dataset).name}-{datetime.now():%H%M%S}"
    out = Path(args.out) if args.out else default_runs_dir() / default_name
    clean_staging(out.parent)
    return out.parent, check_run_name(out.parent, out.name, overwrite=args.overwrite)


def _train(args) -> dict:
    runs_dir, name = _run_folder(args)  # first, before Keras loads
    from ae_core.progress import ProgressBar
    from ae_core.runs import save_run, train_run, training_images
    from ae_core.training import TrainingControl

    dataset = load_dataset(args.dataset, data_dir=args.data_dir)
    x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, args.exclude_class)
    model_config, train_config = _settings(args, dataset, len(x_train))
    control = TrainingControl()
    signal.signal(signal.SIGINT, lambda *_: control.stop())  # Ctrl-C stops after this batch and keeps the run
    with ProgressBar() as progress:
        run = train_run(x_train, dataset.x_val, dataset.name, model_config, train_config, listener=progress,
                        control=control, name=name, split=dataset.split.to_dict(),
                        excluded_class=args.exclude_class)  # fmt: skip
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
    print(f"PCA-{report['pca_components']} MSE {report['pca_val_mse']:.4f}  PSNR {report['pca_val_psnr']:.2f} dB  "
          f"SSIM {report['pca_val_ssim']:.3f}")  # fmt: skip


def _evaluate(args) -> dict:
    from ae_core.context import dataset_for
    from ae_core.runs import evaluate_model, load_run, training_images

    run = load_run(args.run)
    dataset = dataset_for(run, args.data_dir)  # on the run's own split; refused when the data has changed
    x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, run.excluded_class)
    run.metrics = evaluate_model(run.model, x_train, dataset.x_val, seed=run.train_config.seed)
    report = _report(run, Path(args.run))
    if not args.json:
        _print_report(report)
    return report


def _latent(args) -> dict:
    from ae_core.context import RunContext, dataset_for
    from ae_core.latent_map import run_latent_map
    from ae_core.runs import load_run

    out = Path(args.out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: the folder {out.parent} does not exist; create it or write elsewhere.")
    params = {} if args.perplexity is None else {"perplexity": args.perplexity}
    run = load_run(args.run)
    context = RunContext(run, dataset_for(run, args.data_dir))
    result = run_latent_map(context, args.split, args.method, args.dims, args.samples, args.seed, **params)
    out.write_text(result.csv())
    projection = result.projection
    report = {"method": projection.method, "samples": len(result.codes), "seconds": round(projection.seconds, 3),
              "trustworthiness": round(projection.trustworthiness, 4), "trust_sample": projection.trust_sample,
              "images": result.sample.description, "out": str(out)}  # fmt: skip
    if not args.json:
        print(f"wrote {out}: {report['images']}, {report['method']} in {report['seconds']:.2f} s, "
              f"trustworthiness {report['trustworthiness']:.3f} on {report['trust_sample']:,} images")
    return report


def _run_context(args):
    """The RunContext of the saved run ``args.run``, with its dataset on the split it was trained on."""
    from ae_core.context import context_for, dataset_for
    from ae_core.runs import load_run

    run = load_run(args.run)
    return context_for(run, dataset_for(run, args.data_dir))


def _compress(args) -> dict:
    from ae_core.applications import text_table
    from ae_core.applications.compression import compression_report

    report = compression_report(_run_context(args))
    if not args.json:
        print(text_table([row.to_dict() for row in report.rows]) + "\n" + report.verdict)
    return {"rows": [row.to_dict() for row in report.rows]}


def _denoise(args) -> dict:
    from ae_core.applications import text_table
    from ae_core.applications.restoration import restoration_report
    from ae_core.runs import load_run

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
    return {**best_accuracies(report.rows, report.label_counts[0]), "n_labels": report.label_counts[0]}


def _anomaly(args) -> dict:
    from ae_core.applications.anomaly import anomaly_report

    report = anomaly_report(_run_context(args), args.anomalous_class)
    if not args.json:
        print(report.verdict)
    return report.to_dict()


def _generate(args) -> dict:
    from ae_core.context import context_for, dataset_for
    from ae_core.generation_report import generate_for_run
    from ae_core.runs import load_run

    out = Path(args.out)
    if out.suffix != ".npz":
        raise ValueError(f"--out must name a .npz file, such as samples.npz; got {str(out)!r}.")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: the folder {out.parent} does not exist; create it or write elsewhere.")
    run = load_run(args.run)
    context = context_for(run, dataset_for(run, args.data_dir))
    report = generate_for_run(context, args.sampler, args.n, args.seed, args.temperature)
    report.save_npz(out)
    if not args.json:
        print(report.summary_line(out))
    return report.to_dict()


COMMANDS = {"datasets": _datasets, "train": _train, "evaluate": _evaluate, "latent": _latent,
            "compress": _compress, "denoise": _denoise, "classify": _classify, "anomaly": _anomaly,
            "generate": _generate}


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
