"""The command line's commands and options (argparse)."""

import argparse

from ae_core.settings.model_config import ARCHITECTURES, DEFAULT_PRESET, PRESETS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ae_core", description="Autoencoder Lab from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_datasets(commands)
    _add_train(commands)
    _add_evaluate(commands)
    _add_applications(commands)
    _add_generate(commands)
    _add_notebook(commands)
    return parser


def _add_datasets(commands) -> None:
    listing = commands.add_parser("datasets", help="list the datasets and whether each is available here")
    listing.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _add_train(commands) -> None:
    """Options left unset take ``recommended_settings`` for the dataset and preset."""
    training = commands.add_parser(
        "train",
        help="train an autoencoder and save the run",
        description="Unset options follow the recommended settings for the dataset and "
        "preset (ae_core.settings.recommended.recommended_settings).",
    )
    training.add_argument("--dataset", required=True, help="digits, mnist, fashion_mnist, or a path to your images")
    _add_model_options(training)
    _add_training_options(training)
    training.add_argument(
        "--out",
        help="run folder, e.g. runs/my-run (default: <preset>-<dataset>-<time> in "
        "$AE_RUNS_DIR, else in runs/, where the app saves too)",
    )
    training.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    training.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    training.add_argument(
        "--executor",
        choices=("local", "ray"),
        help="train in a worker process (local) or on the Ray cluster RAY_ADDRESS names (ray), as the app does "
        "(default: in this process)",
    )
    training.add_argument("--json", action="store_true", help="print the results as one JSON object")


def _add_model_options(training) -> None:
    """What to build: ``ModelConfig``'s fields."""
    training.add_argument(
        "--model", default=DEFAULT_PRESET, choices=PRESETS, help=f"preset (default: {DEFAULT_PRESET})"
    )
    training.add_argument("--latent-dim", type=int, help="code size (default: 32, or 1/8 of the pixels when smaller)")
    training.add_argument(
        "--architecture",
        choices=ARCHITECTURES,
        help="base of the denoising, sparse and vae presets (default: dense)",
    )
    training.add_argument("--hidden-units", help="dense widths, e.g. 256,128 (default: 256,128)")
    training.add_argument("--filters", help="conv filters, e.g. 32,64 (default: 32,64)")
    training.add_argument("--activation", help="default: relu")
    training.add_argument("--loss", help="mse or binary_crossentropy (default: mse)")
    training.add_argument("--noise", dest="noise_type", help="denoising: gaussian, salt_pepper or masking")
    training.add_argument("--noise-level", type=float, help="denoising: default 0.3")
    training.add_argument("--l1", type=float, help="sparse: L1 weight on the code (default: 1e-4)")
    training.add_argument("--beta", type=float, help="vae: weight of the KL term (default: 1)")


def _add_training_options(training) -> None:
    """How to train: ``TrainConfig``'s fields, and the class to leave out."""
    training.add_argument("--epochs", type=int, help="default: 40 for digits, 15 for MNIST, 20 for seed_dense")
    training.add_argument("--batch-size", type=int, help="default: 64 for convolutional models, else 256")
    training.add_argument("--learning-rate", type=float, help="default: 0.001")
    training.add_argument("--optimizer", help="adam, rmsprop or sgd (default: adam)")
    training.add_argument(
        "--seed",
        type=int,
        help="seeds the weights, batch order and noise (default: 0); the "
        "training/validation split keeps its own fixed seed",
    )
    training.add_argument(
        "--exclude-class", type=int, help="leave class K out of the training images (validation keeps every class)"
    )


def _add_evaluate(commands) -> None:
    evaluation = commands.add_parser("evaluate", help="score a saved run on the validation images it was trained with")
    evaluation.add_argument("run", help="run folder, e.g. runs/my-run")
    evaluation.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    evaluation.add_argument("--json", action="store_true", help="print the results as one JSON object")

    mapping = commands.add_parser("latent", help="map a saved run's codes to 2-D or 3-D and write them as CSV")
    mapping.add_argument("run", help="run folder, e.g. runs/my-run")
    mapping.add_argument("--method", required=True, choices=("pca", "tsne", "umap"))
    mapping.add_argument("--dims", type=int, default=2, choices=(2, 3))
    mapping.add_argument(
        "--split",
        default="validation",
        choices=("validation", "training", "all"),
        help="images to map; all: validation first, then training (default: validation)",
    )
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
    generation.add_argument(
        "--sampler",
        required=True,
        choices=("normal", "gaussian", "gmm"),
        help="normal: N(0, I), for a VAE; gaussian or gmm: fitted to the training codes",
    )
    generation.add_argument("--n", type=int, default=64, help="images to generate (default: 64)")
    generation.add_argument("--seed", type=int, default=0, help="seeds the codes drawn (default: 0)")
    generation.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="scales the spread of the codes; below 1: cleaner, above 1: stranger (default: 1)",
    )
    generation.add_argument("--out", required=True, help=".npz file to write: images (n, h, w, c) and codes")
    generation.add_argument("--data-dir", help="folder holding dataset files (default: $AE_DATA_DIR)")
    generation.add_argument(
        "--json", action="store_true", help="print sampler, n, seconds and the judge's scores against real images"
    )


def _add_notebook(commands) -> None:
    notebook = commands.add_parser(
        "notebook", help="write a Jupyter notebook that reopens a saved run and shows its scores and figures again"
    )
    notebook.add_argument("run", help="run folder, e.g. runs/my-run")
    notebook.add_argument("--out", required=True, help=".ipynb file to write, e.g. my-run.ipynb")
    notebook.add_argument(
        "--data-dir", help="folder holding dataset files, written into the notebook (default: $AE_DATA_DIR)"
    )
    notebook.add_argument("--json", action="store_true", help="print the notebook's path and the run's as JSON")
