"""Command line: ``python -m ae_core datasets | train | evaluate``.

Errors a user can cause end with a one-line message and exit status 2, never a traceback.
"""

import argparse
import json
import signal
import sys
from dataclasses import fields
from pathlib import Path

from ae_core.config import DEFAULT_PRESET, PRESETS, SEED_DENSE, ModelConfig, TrainConfig, parse_layer_sizes
from ae_core.config import recommended_latent_dim, recommended_train_config
from ae_core.data import DataFileError, DatasetUnavailableError, dataset_status, load_dataset

USER_ERRORS = (ValueError, DataFileError, DatasetUnavailableError, FileNotFoundError, FileExistsError, OSError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ae_core", description="Autoencoder Lab from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("datasets", help="list the datasets and whether each is available here")
    listing.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")

    training = commands.add_parser("train", help="train an autoencoder and save the run")
    training.add_argument("--dataset", required=True, help="digits, mnist, fashion_mnist, or a path to your images")
    training.add_argument("--model", default=DEFAULT_PRESET, choices=PRESETS,
                          help=f"preset (default: {DEFAULT_PRESET})")  # fmt: skip
    training.add_argument("--latent-dim", type=int,
                          help="code size (default: 32, or 1/8 of the pixels for small images; seed_dense: 32)")
    training.add_argument("--architecture", choices=("dense", "conv"), default="dense",
                          help="base of the denoising, sparse and vae presets")  # fmt: skip
    training.add_argument("--hidden-units", default="256,128", help="dense widths, e.g. 256,128")
    training.add_argument("--filters", default="32,64", help="conv filters, e.g. 32,64")
    training.add_argument("--activation", default="relu")
    training.add_argument("--loss", default="mse", help="mse or binary_crossentropy")
    training.add_argument("--noise", dest="noise_type", default="gaussian",
                          help="denoising: gaussian, salt_pepper or masking")  # fmt: skip
    training.add_argument("--noise-level", type=float, default=0.3)
    training.add_argument("--l1", type=float, default=1e-4, help="sparse: L1 weight on the code")
    training.add_argument("--beta", type=float, default=1.0, help="vae: weight of the KL term")
    training.add_argument("--epochs", type=int, default=20)
    training.add_argument("--batch-size", type=int, help="default: 256, or 64 for convolutional models")
    training.add_argument("--learning-rate", type=float, default=1e-3)
    training.add_argument("--optimizer", default="adam", help="adam, rmsprop or sgd")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--out", help="run folder, e.g. runs/my-run (default: runs/<preset>-<dataset>-<time>)")
    training.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    training.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    training.add_argument("--json", action="store_true", help="print the results as one JSON object")

    evaluation = commands.add_parser("evaluate", help="score a saved run on its dataset's validation split")
    evaluation.add_argument("run", help="run folder, e.g. runs/my-run")
    evaluation.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    evaluation.add_argument("--json", action="store_true", help="print the results as one JSON object")
    return parser


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


def _model_config(args, image_shape) -> ModelConfig:
    """The model the arguments describe; an unset latent size gets the app's recommendation for these images."""
    names = {field.name for field in fields(ModelConfig)}
    values = {name: value for name, value in vars(args).items() if name in names and value is not None}
    if args.latent_dim is None:
        fixed = args.model == "seed_dense"
        values["latent_dim"] = SEED_DENSE.latent_dim if fixed else recommended_latent_dim(image_shape)
    values["hidden_units"] = parse_layer_sizes("--hidden-units", args.hidden_units)
    values["filters"] = parse_layer_sizes("--filters", args.filters)
    return ModelConfig(preset=args.model, **values)


def _train(args) -> dict:
    from ae_core.progress import ProgressBar
    from ae_core.runs import save_run, train_run
    from ae_core.training import TrainingControl

    dataset = load_dataset(args.dataset, data_dir=args.data_dir)
    model_config = _model_config(args, dataset.image_shape)
    batch_size = args.batch_size or recommended_train_config(model_config).batch_size
    train_config = TrainConfig(epochs=args.epochs, batch_size=batch_size, learning_rate=args.learning_rate,
                               optimizer=args.optimizer, seed=args.seed)  # fmt: skip
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise FileExistsError(f"{out} already exists; pass --overwrite to replace it or choose another --out.")
    control = TrainingControl()
    signal.signal(signal.SIGINT, lambda *_: control.stop())  # Ctrl-C stops after this batch and keeps the run
    with ProgressBar() as progress:
        run = train_run(dataset.x_train, dataset.x_val, dataset.name, model_config, train_config,
                        listener=progress, control=control, name=out.name if out else None)  # fmt: skip
    path = save_run(run, out.parent if out else "runs", overwrite=args.overwrite)
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
    from ae_core.runs import evaluate_model, load_run

    run = load_run(args.run)
    dataset = load_dataset(run.dataset_name, data_dir=args.data_dir, seed=run.train_config.seed)
    run.metrics = evaluate_model(run.model, dataset.x_train, dataset.x_val, seed=run.train_config.seed)
    report = _report(run, Path(args.run))
    if not args.json:
        _print_report(report)
    return report


COMMANDS = {"datasets": _datasets, "train": _train, "evaluate": _evaluate}


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
