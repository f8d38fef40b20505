"""Each lesson step's experiment, on the bundled digits: the lab's own runs, computations and figures, gathered into
what the step shows. A step names the runs it needs (``STEP_RUNS``); ``run_step`` takes them trained.

The runs are the presets' recommended settings (those the Train page starts from), so a run the lesson trains is the
run a student would get there, but for the convolutional run's shorter training (``CONV_TRAINING``); each opens on
every lab page.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from ae_core.data import Dataset
from ae_core.figures.data import class_count_figure, sample_figure
from ae_core.figures.images import comparison_image, enlarge, image_grid
from ae_core.figures.latent import latent_figure
from ae_core.figures.training import loss_figure
from ae_core.generation.judge import judge_for
from ae_core.generation.paths import interpolate_images
from ae_core.generation.report import generate_for_run
from ae_core.latent.maps import default_run_map
from ae_core.latent.nearest import nearest
from ae_core.latent.neighbours import mapped_images
from ae_core.lesson.four_uses import four_uses
from ae_core.lesson.result import StepResult
from ae_core.quality.pca_baseline import pca_baseline
from ae_core.runs.context import context_for
from ae_core.settings.recommended import recommended_settings

DATASET = "digits"
SHOWN = 12  # validation images in a comparison grid
NEIGHBOURS = 10  # codes around each image that step 4 counts
SAMPLES = 64  # images step 5 generates with each sampler
WALKS = 6  # image pairs step 6 walks between
WALK_STEPS = 9
LOSS_CAPTION = (
    "The error while it trained, lower is better: the line on the training images, batch by batch; the diamonds on "
    "the validation images, after each epoch."
)
# The convolutional run's training, in place of the preset's 40 epochs at Adam's default 0.001 on digits: half the
# epochs at twice the learning rate, for step 3 to fit in 15 s on a busy server. The step takes about 0.7x the time,
# and the run still reaches 0.57x to 0.61x PCA's error on seeds 0-2 (40 epochs: 0.52x to 0.57x), with steps 4 to 7 as
# they state (bench/lesson_steps.py).
CONV_TRAINING = {"epochs": 20, "learning_rate": 2e-3}


@dataclass(frozen=True)
class LessonRun:
    """A run the lesson trains: a preset's recommended settings on the lesson's data, maybe without one class;
    ``training``, TrainConfig fields set otherwise."""

    name: str
    preset: str
    excluded_class: int | None = None
    training: dict = field(default_factory=dict, hash=False)

    def settings(self, dataset: Dataset):
        """(ModelConfig, TrainConfig): the recommended ones for ``dataset``, as the Train page would start, with
        ``training``'s fields."""
        model_config, train_config = recommended_settings(
            dataset.name, dataset.image_shape, self.preset, dataset.n_train
        )
        return model_config, replace(train_config, **self.training)


TEXTBOOK = LessonRun("lesson-textbook", "seed_dense")
CONVOLUTIONAL = LessonRun("lesson-conv", "conv", training=CONV_TRAINING)
WITHOUT_ZEROS = LessonRun("lesson-dense-without-0", "dense", excluded_class=0)
STEP_RUNS = {1: (), 2: (TEXTBOOK,), 3: (CONVOLUTIONAL,), 4: (CONVOLUTIONAL,), 5: (CONVOLUTIONAL,)}
STEP_RUNS |= {6: (CONVOLUTIONAL,), 7: (CONVOLUTIONAL, WITHOUT_ZEROS), 8: (WITHOUT_ZEROS,)}


def run_step(step: int, dataset: Dataset, runs: dict) -> StepResult:
    """Step ``step``'s experiment on ``dataset``; ``runs``: LessonRun.name -> its trained Run, for STEP_RUNS[step]."""
    contexts = [context_for(runs[lesson_run.name], dataset) for lesson_run in STEP_RUNS[step]]
    return EXPERIMENTS[step](dataset, *contexts)


def the_data(dataset: Dataset) -> StepResult:
    labels = [dataset.class_names[label] for label in dataset.y_train[:20]]
    height, width, channels = dataset.image_shape
    pixels = height * width * channels
    headline = (
        f"Each image is {height} × {width} = {pixels} numbers, from 0 (black) to 1 (white). There are "
        f"{dataset.n_train:,} training images, which the model learns from, and {dataset.n_val:,} validation "
        "images, kept apart to test it on images it has never seen."
    )
    return StepResult(
        headline,
        figures=[
            (sample_figure(dataset.x_train[:20], labels), "The first 20 training images, each with its label."),
            (class_count_figure(dataset.class_counts()), "Images of each digit: about the same number of each."),
        ],
        numbers={"pixels": pixels, "n_train": dataset.n_train, "n_val": dataset.n_val},
    )


def against_pca(dataset: Dataset, context) -> StepResult:
    """A model's validation error beside PCA's with as many numbers: the verdict, the loss curves and a grid."""
    run, images = context.run, context.images("validation")[:SHOWN]
    metrics, components = run.metrics, run.metrics["pca_components"]
    pca_images = pca_baseline(context.trained_images(), images, components, run.train_config.seed).reconstructions
    caption = (
        f"Top: validation images. Middle: the autoencoder's reconstructions. Bottom: PCA's, from {components} numbers."
    )
    model_mse, pca_mse = metrics["val_mse"], metrics["pca_val_mse"]
    winner, ratio = ("PCA", model_mse / pca_mse) if pca_mse < model_mse else ("The autoencoder", pca_mse / model_mse)
    headline = (
        f"Validation error (MSE): autoencoder {model_mse:.4f}, PCA {pca_mse:.4f}, both with {components} numbers "
        f"per image. {winner} wins: its error is {ratio:.1f} times smaller."
    )
    history = run.result.history
    return StepResult(
        headline,
        figures=[(loss_figure(run.result.batch_losses, history), LOSS_CAPTION)],
        pictures=[(comparison_image(images, context.reconstructions("validation")[:SHOWN], pca_images), caption)],
        numbers={"val_mse": metrics["val_mse"], "pca_val_mse": metrics["pca_val_mse"], "components": components},
    )


def the_map(dataset: Dataset, context) -> StepResult:
    """The default PCA map of the codes, and how often an image's nearest codes are of its own digit."""
    latent_map = default_run_map(context)
    labels, names = latent_map.labels, dataset.class_names
    indices, _ = nearest(latent_map.codes, latent_map.codes, NEIGHBOURS + 1)
    neighbour_labels = labels[indices[:, 1:]]  # (n, NEIGHBOURS), the image itself left out
    same = float(np.mean(neighbour_labels == labels[:, None]))
    mixed = np.zeros((len(names), len(names)))
    np.add.at(mixed, (np.repeat(labels, NEIGHBOURS), neighbour_labels.ravel()), 1)
    np.fill_diagonal(mixed, 0)
    mixed = mixed + mixed.T
    first, second = np.unravel_index(np.argmax(mixed), mixed.shape)
    headline = (
        f"Of each image's {NEIGHBOURS} nearest codes, {same:.0%} belong to the same digit (by chance it would be "
        f"about {1 / len(names):.0%}). The digits most often mixed up are {names[first]} and {names[second]}."
    )
    caption = (
        "Each dot is one image's code, drawn in 2-D (a PCA view of the codes); the colour is its label, which the "
        "model never saw. Squeezing 8 numbers into 2 lays groups over each other that are apart in the code; the "
        "Latent space page's t-SNE and UMAP maps keep each image's neighbours closer together."
    )
    return StepResult(
        headline,
        figures=[(latent_figure(latent_map.projection.coords, labels, names), caption)],
        numbers={"same_digit_share": same, "chance": 1 / len(names), "most_mixed": (int(first), int(second))},
        map_images=mapped_images(context, latent_map),
    )


def sampling(dataset: Dataset, context) -> StepResult:
    """Codes from N(0, I) against codes from a Gaussian fitted to the training codes, decoded and judged."""
    reports = {name: generate_for_run(context, name, SAMPLES) for name in ("normal", "gaussian")}
    shares = {name: report.scores.confident_share for name, report in reports.items()}
    real = reports["normal"].reference.confident_share
    headline = (
        f"A separate digit classifier recognises {shares['gaussian']:.0%} of the images from fitted codes, but "
        f"only {shares['normal']:.0%} of those from N(0, I) noise (real images: {real:.0%})."
    )
    side = int(np.sqrt(SAMPLES))
    pictures = [
        (enlarge(image_grid(reports[name].generation.images, side, side), dataset.image_shape[0]), caption)
        for name, caption in (
            ("normal", "Decoded from N(0, I) noise: each number from a bell curve around 0 with spread 1."),
            ("gaussian", "Decoded from codes drawn from a bell curve fitted to the training images' codes."),
        )
    ]
    return StepResult(headline, pictures=pictures, numbers={"recognised": shares, "real": real})


def walk_pairs(labels: np.ndarray, count: int) -> list[tuple[int, int]]:
    """``count`` pairs of validation indices of different digits: the first image of digit d and of digit d + 1."""
    firsts = {int(label): int(np.flatnonzero(labels == label)[0]) for label in np.unique(labels)}
    digits = sorted(firsts)
    return [(firsts[digits[i]], firsts[digits[(i + 1) % len(digits)]]) for i in range(count)]


def interpolation(dataset: Dataset, context) -> StepResult:
    """Walks through the codes against pixel cross-fades, the in-between images of each judged."""
    images, codes = context.images("validation"), context.codes("validation")
    labels, names, pairs = (
        context.labels("validation"),
        dataset.class_names,
        walk_pairs(context.labels("validation"), WALKS),
    )
    walks = [
        interpolate_images(context.run.model, images[a], images[b], codes[a], codes[b], WALK_STEPS) for a, b in pairs
    ]
    judge = judge_for(dataset)
    middle = slice(1, WALK_STEPS - 1)  # the in-between images, both ends left out
    shares = {
        "code walk": judge.score_images(np.concatenate([walk.decoded[middle] for walk in walks])).confident_share,
        "cross-fade": judge.score_images(np.concatenate([walk.crossfade[middle] for walk in walks])).confident_share,
    }
    headline = (
        f"The digit classifier recognises {shares['code walk']:.0%} of the in-between images of the walks through "
        f"the codes as one digit, against {shares['cross-fade']:.0%} of the cross-faded ones."
    )
    pictures = [
        (
            comparison_image(walk.decoded, walk.crossfade),
            f"From a {names[labels[a]]} to a {names[labels[b]]}. Top: the walk through the codes. Bottom: the "
            "cross-fade.",
        )
        for walk, (a, b) in list(zip(walks, pairs))[:3]
    ]
    return StepResult(headline, pictures=pictures, numbers={"recognised": shares})


def drawing_ready(dataset: Dataset, context) -> StepResult:
    """The run a drawing is shown to, with its map made ready."""
    default_run_map(context)
    run = context.run
    headline = (
        f"Ready: {run.name}, a model that turns an image into {run.model_config.latent_dim} numbers and was trained "
        f"without any {dataset.class_names[run.excluded_class]}s. Draw below."
    )
    return StepResult(headline, numbers={"latent_dim": run.model_config.latent_dim})


EXPERIMENTS = {
    1: the_data,
    2: against_pca,
    3: against_pca,
    4: the_map,
    5: sampling,
    6: interpolation,
    7: four_uses,
    8: drawing_ready,
}
