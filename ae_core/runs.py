"""A run: one trained model with its configs, history, dataset, split and metrics; saved under ``runs_dir/NAME/``.

A saved run is a folder holding ``model.keras``, ``run.json`` and ``preview.npz``; its name is the folder's name.
Saving writes a staging folder ``runs_dir/.NAME.saving-PID-HEX/`` and renames it onto ``runs_dir/NAME``: a rename
onto an existing run fails, so of two saves of one name exactly one wins, and a save killed midway leaves only a
staging folder, never a half-written run (``clean_staging`` removes it). Loading never executes code from the files:
the model is built by the lab from run.json and only its weights are read; arrays are read without pickle.
"""

import errno
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ae_core.backend import keras
from ae_core.config import ModelConfig, TrainConfig
from ae_core.data.common import DataFileError
from ae_core.data.readers import read_plain_npz
from ae_core.data.sources import DataFile
from ae_core.metrics import pca_baseline, score_images
from ae_core.model_files import load_model_file
from ae_core.models import build_autoencoder, check_training_cost, latent_dim_of, reconstruct
from ae_core.run_files import (RunListing, check_run_name, check_summary, clean_staging, list_runs,
                               read_run_summary, sanitize_run_name, staging_folder)
from ae_core.training import Divergence, TrainingControl, TrainingListener, TrainingResult, train

__all__ = ["Run", "RunListing", "check_run_name", "clean_staging", "delete_run", "evaluate_model", "list_runs",
           "load_run", "read_run_summary", "sanitize_run_name", "save_run", "train_run", "training_images"]



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
    # The arrays derived from this run (ae_core.context.context_for), kept with it so they go when it goes; not saved.
    context: object = field(default=None, repr=False, compare=False)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.result.preview_images.shape[1:])


def training_images(x_train: np.ndarray, y_train: np.ndarray | None, class_names: tuple[str, ...],
                    excluded_class: int | None) -> np.ndarray:  # fmt: skip
    """``x_train`` without the images of class ``excluded_class`` (an index into ``class_names``), or all of them
    when it is None. ValueError when the images are unlabeled or the class does not exist."""
    if excluded_class is None:
        return x_train
    if y_train is None:
        raise ValueError(f"excluding class {excluded_class} needs labeled images; this dataset is unlabeled. "
                         "Train without excluding a class, or load a labeled dataset.")
    if isinstance(excluded_class, bool) or not isinstance(excluded_class, (int, np.integer)) or not (
            0 <= excluded_class < len(class_names)):  # fmt: skip
        raise ValueError(f"the class to exclude must be one of 0 to {len(class_names) - 1} "
                         f"({', '.join(class_names)}); got {excluded_class!r}.")
    kept = x_train[y_train != excluded_class]
    if len(kept) == 0:
        raise ValueError(f"every training image is of class {excluded_class}; nothing would be left to train on.")
    return kept


def evaluate_model(model: keras.Model, x_train: np.ndarray, x_val: np.ndarray, seed: int = 0,
                   val_reconstructions: np.ndarray | None = None) -> dict:  # fmt: skip
    """Validation MSE, PSNR and SSIM of the model and of PCA with as many components as the code has.

    val_reconstructions : the model's reconstructions of ``x_val`` when the caller has them already.
    """
    if val_reconstructions is None:
        val_reconstructions = reconstruct(model, x_val)
    scores = score_images(x_val, val_reconstructions)
    baseline = pca_baseline(x_train, x_val, latent_dim_of(model), seed=seed)
    return {
        **scores.means("val_"),
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
    result = train(model, x_train, x_val, model_config, train_config, listener, control)
    run_name = sanitize_run_name(name or f"{model_config.preset}-{dataset_name}-{datetime.now():%H%M%S}")
    val_reconstructions = reconstruct(model, x_val)
    metrics = evaluate_model(model, x_train, x_val, train_config.seed, val_reconstructions)
    return Run(run_name, dataset_name, model_config, train_config, model, result, metrics,
               val_reconstructions=val_reconstructions, split=split, excluded_class=excluded_class)  # fmt: skip


def _summary(run: Run, name: str) -> dict:
    result = run.result
    return {
        "id": run.id,
        "name": name,
        "created": run.created,
        "dataset": run.dataset_name,
        "split": run.split,
        "excluded_class": run.excluded_class,
        "model_config": run.model_config.to_dict(),
        "train_config": run.train_config.to_dict(),
        "metrics": run.metrics,
        "history": result.history,
        "batch_losses": result.batch_losses,
        "epochs_completed": result.epochs_completed,
        "samples_seen": result.samples_seen,
        "train_seconds": result.train_seconds,
        "stopped": result.stopped,
        "divergence": None if result.divergence is None else vars(result.divergence),
        "notes": result.notes,
    }


def _write_run(run: Run, name: str, folder: Path) -> None:
    run.model.save(folder / "model.keras")
    (folder / "run.json").write_text(json.dumps(_summary(run, name), indent=1), encoding="utf-8")
    np.savez_compressed(folder / "preview.npz", images=run.result.preview_images,
                        timeline=run.result.preview_timeline, codes=run.result.preview_codes,
                        map_codes=run.result.map_codes)  # fmt: skip


def _claim(staging: Path, target: Path) -> None:
    """Rename ``staging`` onto ``target``; FileExistsError when a run is already there (the rename fails)."""
    try:
        os.rename(staging, target)
    except OSError as error:
        if error.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise FileExistsError(f"A run named {target.name!r} already exists in {target.parent}; choose another "
                                  "name or overwrite it.") from None
        raise


def save_run(run: Run, runs_dir: str | Path = "runs", overwrite: bool = False) -> Path:
    """Write ``run`` to ``runs_dir/NAME/`` (NAME: ``run.name`` sanitised), exclusively and atomically; return it.

    Without ``overwrite`` an existing run of that name is a FileExistsError, also when another save claims the name
    while this one writes. With ``overwrite`` the old run is moved aside, replaced, then deleted.
    """
    runs_dir = Path(runs_dir)
    name = check_run_name(runs_dir, run.name, overwrite)
    runs_dir.mkdir(parents=True, exist_ok=True)
    target, staging = runs_dir / name, staging_folder(runs_dir, name, "saving")
    staging.mkdir()
    try:
        _write_run(run, name, staging)
        retired = None
        if overwrite and target.exists():
            retired = staging_folder(runs_dir, name, "replaced")
            os.rename(target, retired)
        _claim(staging, target)
        if retired is not None:
            shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def delete_run(runs_dir: str | Path, name: str) -> None:
    """Delete the saved run ``runs_dir/name``: it is renamed to a staging folder first, so it leaves the listing
    whole and at once, then removed (a delete killed midway leaves a staging folder that ``clean_staging`` removes).

    ValueError when ``name`` is not a plain run folder's name (a path, "..", a hidden or staging folder, a link);
    FileNotFoundError when no saved run of that name is there (also when another delete took it first).
    """
    runs_dir = Path(runs_dir)
    plain = isinstance(name, str) and name == Path(name).name and "\\" not in name
    if not plain or name in ("", "..") or name.startswith("."):  # "a/b", "/etc", "", a staging folder ".x.saving-1-ab"
        raise ValueError(f"A run to delete is named by its folder in {runs_dir}, such as conv-digits-101500; got "
                         f"{name!r}, which is not a plain folder name.")
    folder = runs_dir / name
    if folder.is_symlink():
        raise ValueError(f"{folder} is a link, not a run folder; only runs saved in {runs_dir} can be deleted.")
    if not (folder / "run.json").is_file():
        raise FileNotFoundError(f"There is no saved run named {name!r} in {runs_dir}; it may have been deleted "
                                "already.")
    retired = staging_folder(runs_dir, name, "deleting")
    try:
        os.rename(folder, retired)
    except FileNotFoundError:
        raise FileNotFoundError(f"The run {name!r} was deleted from {runs_dir} meanwhile.") from None
    shutil.rmtree(retired)


def _result(summary: dict, preview) -> TrainingResult:
    latent_dim = summary["model_config"]["latent_dim"]
    map_codes = preview["map_codes"] if "map_codes" in preview else np.empty((0, 0, latent_dim), np.float32)
    divergence = summary["divergence"]
    return TrainingResult(
        history=summary["history"],
        batch_losses=[tuple(point) for point in summary["batch_losses"]],
        epochs_completed=summary["epochs_completed"],
        samples_seen=summary["samples_seen"],
        train_seconds=summary["train_seconds"],
        preview_images=preview["images"],
        preview_timeline=preview["timeline"],
        preview_codes=preview["codes"],
        map_codes=map_codes,
        stopped=summary["stopped"],
        divergence=None if divergence is None else Divergence(**divergence),
        notes=summary["notes"],
    )


def _load_preview(path: Path) -> dict[str, np.ndarray]:
    """preview.npz's arrays, each npy header checked before its data is read (no pickled objects, the images within
    the limits); a damaged file or a missing array is a ValueError naming what was found."""
    try:
        arrays = read_plain_npz(DataFile(f"{path.parent.name}/preview.npz", path), image_keys={"images"})
    except DataFileError as error:
        found = str(error).split(". ")[0]
        raise ValueError(f"{found}. Expected the plain arrays a run saves, never pickled objects. Train the run "
                         "again, or remove its folder.") from None
    missing = sorted({"images", "timeline", "codes"} - set(arrays))
    if missing or arrays["images"].ndim != 4:
        raise ValueError(f"{path.parent.name}/preview.npz lacks the arrays {missing}; expected images (a stack of "
                         "images), timeline and codes. Train the run again, or remove its folder.")
    return arrays


def load_run(folder: str | Path) -> Run:
    """Load the run saved in ``folder``; its name is the folder's name, whatever run.json says. The model is built
    from run.json's settings and only its weights are read from model.keras (``ae_core.model_files``); arrays are
    read without pickle; a malformed or refused file is a ValueError."""
    folder = Path(folder)
    summary = check_summary(read_run_summary(folder))
    preview = _load_preview(folder / "preview.npz")
    model_config = ModelConfig.from_dict(summary["model_config"])
    model = load_model_file(folder / "model.keras", model_config, preview["images"].shape[1:])
    result = _result(summary, preview)
    return Run(name=Path(os.path.abspath(folder)).name, dataset_name=summary["dataset"], model_config=model_config,
               train_config=TrainConfig(**summary["train_config"]), model=model, result=result,
               metrics=summary["metrics"], created=summary["created"], id=summary["id"], split=summary["split"],
               excluded_class=summary["excluded_class"])  # fmt: skip
