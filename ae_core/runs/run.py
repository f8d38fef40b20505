"""A run: one trained model with its configs, history, dataset, split and metrics; saved under ``runs_dir/NAME/``.

A saved run is a folder holding ``model.keras``, ``run.json`` and ``preview.npz``; its name is the folder's name.
Saving writes a staging folder ``runs_dir/.NAME.saving-PID-HEX/`` and renames it onto ``runs_dir/NAME``: a rename
onto an existing run fails, so of two saves of one name exactly one wins, and a save killed midway leaves only a
staging folder, never a half-written run (``clean_staging`` removes it). Loading never executes code from the files:
the model is built by the lab from run.json and only its weights are read; arrays are read without pickle.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from ae_core.models.architectures import build_autoencoder, latent_dim_of, reconstruct
from ae_core.models.keras_backend import keras
from ae_core.models.training_cost import check_training_cost
from ae_core.quality.pca_baseline import PcaBaseline, pca_baseline
from ae_core.quality.scores import score_images
from ae_core.runs.names import sanitize_run_name
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.engine import train
from ae_core.training.events import TrainingControl, TrainingListener, TrainingResult
from ae_core.validation import Integer, check


@dataclass
class Run:
    name: str
    dataset_name: str
    model_config: ModelConfig
    train_config: TrainConfig
    model: keras.Model
    result: TrainingResult
    metrics: dict = field(default_factory=dict)  # see evaluate_model
    # The validation reconstructions scored at the end of training, kept in memory for inspection; not saved.
    val_reconstructions: np.ndarray | None = None
    created: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)  # stable: saved in run.json and kept on load
    split: dict | None = None  # the Dataset.split.to_dict() it was trained on; None for runs saved before splits
    excluded_class: int | None = None  # a class left out of the training images, None when all were used
    # The arrays derived from this run (ae_core.runs.context.context_for), kept with it so they go when it goes; not
    # saved.
    context: object = field(default=None, repr=False, compare=False)
    # The PCA fitted on the run's training images at its code size: the baseline of its metrics, reused by
    # compression and classification (ae_core.quality.pca_baseline.context_pca); not saved.
    pca: object = field(default=None, repr=False, compare=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.result.preview_images.shape[1:])


def training_images(
    x_train: np.ndarray, y_train: np.ndarray | None, class_names: tuple[str, ...], excluded_class: int | None
) -> np.ndarray:
    """``x_train`` without the images of class ``excluded_class`` (an index into ``class_names``), or all of them
    when it is None. ValueError when the images are unlabeled or the class does not exist."""
    if excluded_class is None:
        return x_train
    if y_train is None:
        raise ValueError(
            f"excluding class {excluded_class} needs labeled images; this dataset is unlabeled. "
            "Train without excluding a class, or load a labeled dataset."
        )
    named = any(name != str(index) for index, name in enumerate(class_names))
    classes = ", ".join(f"{index} ({name})" for index, name in enumerate(class_names))
    hint = f"The classes are {classes}." if named else ""
    check("excluded_class", excluded_class, Integer(0, len(class_names) - 1), hint)
    kept = x_train[y_train != excluded_class]
    if len(kept) == 0:
        raise ValueError(f"every training image is of class {excluded_class}; nothing would be left to train on.")
    return kept


def evaluate_model(
    model: keras.Model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    seed: int = 0,
    val_reconstructions: np.ndarray | None = None,
    baseline: PcaBaseline | None = None,
) -> dict:
    """Validation MSE, PSNR and SSIM of the model and of PCA with as many components as the code has.

    val_reconstructions : the model's reconstructions of ``x_val`` when the caller has them already; baseline : PCA's
    (``pca_baseline`` on the same images, at the model's code size) when the caller has it already.
    """
    if val_reconstructions is None:
        val_reconstructions = reconstruct(model, x_val)
    if baseline is None:
        baseline = pca_baseline(x_train, x_val, latent_dim_of(model), seed=seed)
    return {
        **score_images(x_val, val_reconstructions).means("val_"),
        **baseline.scores.means("pca_val_"),
        "pca_components": baseline.n_components,
    }


def train_run(
    x_train: np.ndarray,
    x_val: np.ndarray,
    dataset_name: str,
    model_config: ModelConfig,
    train_config: TrainConfig,
    listener: TrainingListener | None = None,
    control: TrainingControl | None = None,
    name: str | None = None,
    split: dict | None = None,
    excluded_class: int | None = None,
) -> Run:
    """Build, train and evaluate a model; the returned run is not saved (see ``save_run``).

    x_train, x_val : (n, height, width, channels) float32 in [0, 1]; x_train already without ``excluded_class``
    (see ``training_images``). split : the dataset's ``split.to_dict()``, recorded so evaluation reuses it.
    """
    check_training_cost(model_config, x_train.shape[1:], train_config.batch_size)
    model = build_autoencoder(model_config, x_train.shape[1:], seed=train_config.seed)
    listener = listener or TrainingListener()
    result = train(model, x_train, x_val, model_config, train_config, listener, control)
    listener.on_trained()
    return finished_run(
        model, result, x_train, x_val, dataset_name, model_config, train_config, name, split, excluded_class
    )


def finished_run(
    model: keras.Model,
    result: TrainingResult,
    x_train: np.ndarray,
    x_val: np.ndarray,
    dataset_name: str,
    model_config: ModelConfig,
    train_config: TrainConfig,
    name: str | None = None,
    split: dict | None = None,
    excluded_class: int | None = None,
) -> Run:
    """The run of a trained ``model``: its name, validation reconstructions and metrics against its PCA baseline.
    Arguments as ``train_run``'s; ``result``: what its training returned (or what reached the caller of a training
    that ended abruptly)."""
    run_name = sanitize_run_name(name or f"{model_config.preset}-{dataset_name}-{datetime.now():%H%M%S}")
    val_reconstructions = reconstruct(model, x_val)
    baseline = pca_baseline(x_train, x_val, latent_dim_of(model), seed=train_config.seed)  # the run's one PCA
    metrics = evaluate_model(model, x_train, x_val, train_config.seed, val_reconstructions, baseline)
    return Run(
        run_name,
        dataset_name,
        model_config,
        train_config,
        model,
        result,
        metrics,
        val_reconstructions=val_reconstructions,
        split=split,
        excluded_class=excluded_class,
        pca=baseline.pca,
    )
