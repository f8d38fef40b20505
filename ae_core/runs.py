"""A run: one trained model with its configs, history, dataset id and metrics; saved under ``runs/NAME/``.

A saved run is a folder holding ``model.keras``, ``run.json`` and ``preview.npz``. Saving writes a temporary
folder and renames it into place, so a crash mid-save never leaves a half-written run or harms an earlier one.
Loading never executes code from the files: ``safe_mode=True`` and ``allow_pickle=False``.
"""

import json
import re
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ae_core.backend import keras
from ae_core.config import ModelConfig, TrainConfig
from ae_core.metrics import pca_baseline, score_images
from ae_core.models import build_autoencoder, latent_dim_of, reconstruct
from ae_core.training import Divergence, TrainingControl, TrainingListener, TrainingResult, train

RUN_NAME_PATTERN = re.compile(r"[^A-Za-z0-9._-]+")


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

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.result.preview_images.shape[1:])


def sanitize_run_name(name: str) -> str:
    """A run name safe as one folder name: letters, digits, '.', '_' and '-', no leading dot, at most 64 chars."""
    cleaned = RUN_NAME_PATTERN.sub("-", str(name)).lstrip(".-")[:64]
    if not cleaned:
        raise ValueError(f"A run name needs at least one letter or digit; got {name!r}.")
    return cleaned


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
) -> Run:
    """Build, train and evaluate a model; the returned run is not saved (see ``save_run``)."""
    model = build_autoencoder(model_config, x_train.shape[1:], seed=train_config.seed)
    result = train(model, x_train, x_val, model_config, train_config, listener, control)
    run_name = sanitize_run_name(name or f"{model_config.preset}-{dataset_name}-{datetime.now():%H%M%S}")
    val_reconstructions = reconstruct(model, x_val)
    metrics = evaluate_model(model, x_train, x_val, train_config.seed, val_reconstructions)
    return Run(run_name, dataset_name, model_config, train_config, model, result, metrics,
               val_reconstructions=val_reconstructions)  # fmt: skip


def _summary(run: Run) -> dict:
    result = run.result
    return {
        "name": run.name,
        "created": run.created,
        "dataset": run.dataset_name,
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


def save_run(run: Run, runs_dir: str | Path = "runs", overwrite: bool = False) -> Path:
    """Write ``run`` to ``runs_dir/run.name/`` atomically and return that folder."""
    runs_dir = Path(runs_dir)
    target = runs_dir / sanitize_run_name(run.name)
    if target.exists() and not overwrite:
        raise FileExistsError(f"A run named {target.name!r} already exists in {runs_dir}; choose another name.")
    runs_dir.mkdir(parents=True, exist_ok=True)
    staging = runs_dir / f".{target.name}.saving-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        run.model.save(staging / "model.keras")
        (staging / "run.json").write_text(json.dumps(_summary(run), indent=1))
        np.savez_compressed(
            staging / "preview.npz",
            images=run.result.preview_images,
            timeline=run.result.preview_timeline,
            codes=run.result.preview_codes,
        )
        if target.exists():
            retired = runs_dir / f".{target.name}.replaced-{uuid.uuid4().hex[:8]}"
            target.rename(retired)
            staging.rename(target)
            shutil.rmtree(retired)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def read_run_summary(path: str | Path) -> dict:
    """The run's ``run.json`` (names, configs, history, metrics) without loading the model."""
    summary_file = Path(path) / "run.json"
    if not summary_file.is_file():
        raise FileNotFoundError(f"{path} is not a saved run: expected a folder holding run.json and model.keras.")
    return json.loads(summary_file.read_text())


def list_runs(runs_dir: str | Path = "runs") -> list[dict]:
    """Summaries of the saved runs in ``runs_dir``, newest first; folders that are not runs are skipped."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        return []
    summaries = [read_run_summary(path) for path in runs_dir.iterdir() if (path / "run.json").is_file()]
    return sorted(summaries, key=lambda summary: summary["created"], reverse=True)


def load_run(path: str | Path) -> Run:
    """Load a saved run; the model is deserialised with ``safe_mode=True`` and arrays without pickle."""
    path = Path(path)
    summary = read_run_summary(path)
    model = keras.saving.load_model(path / "model.keras", safe_mode=True)
    with np.load(path / "preview.npz", allow_pickle=False) as preview:
        images, timeline, codes = preview["images"], preview["timeline"], preview["codes"]
    divergence = summary["divergence"]
    result = TrainingResult(
        history=summary["history"],
        batch_losses=[tuple(point) for point in summary["batch_losses"]],
        epochs_completed=summary["epochs_completed"],
        samples_seen=summary["samples_seen"],
        train_seconds=summary["train_seconds"],
        preview_images=images,
        preview_timeline=timeline,
        preview_codes=codes,
        stopped=summary["stopped"],
        divergence=None if divergence is None else Divergence(**divergence),
        notes=summary["notes"],
    )
    model_config = ModelConfig.from_dict(summary["model_config"])
    train_config = TrainConfig(**summary["train_config"])
    return Run(summary["name"], summary["dataset"], model_config, train_config, model, result,
               summary["metrics"], created=summary["created"])  # fmt: skip
