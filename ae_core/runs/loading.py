"""A saved run read back: the model is built by the lab from run.json and only its weights are read; arrays are read
without pickle. Its folder and files are never links (``ae_core.runs.run_files``), run.json and preview.npz are
refused over their limits from their sizes, and the per-batch losses of a run saved with every batch's are
decimated as a save does (``ae_core.runs.history``).
"""

import os
from pathlib import Path

import numpy as np

from ae_core.data.common import DataFileError, open_zip
from ae_core.data.readers import read_plain_npz
from ae_core.data.sources import DataFile
from ae_core.runs.history import decimate_batch_losses
from ae_core.runs.model_file import load_model_file
from ae_core.runs.run import Run
from ae_core.runs.run_files import AGAIN, check_run_file, check_run_folder, read_run_file
from ae_core.runs.summary import check_summary, read_run_summary
from ae_core.settings import limits
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.events import Divergence, TrainingResult
from ae_core.units import human_size


def _result(summary: dict, preview) -> TrainingResult:
    latent_dim = summary["model_config"]["latent_dim"]
    map_codes = preview["map_codes"] if "map_codes" in preview else np.empty((0, 0, latent_dim), np.float32)
    divergence = summary["divergence"]
    return TrainingResult(
        history=summary["history"],
        batch_losses=decimate_batch_losses(summary["batch_losses"]),
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


def _load_preview(folder: Path) -> dict[str, np.ndarray]:
    """preview.npz's arrays. The file (opened without following a link) and what its arrays unpack to must be
    within AE_MAX_PREVIEW_BYTES, each checked before anything is unpacked; each npy header is checked before its
    data is read (no pickled objects, the images within the limits). A damaged file or a missing array is a
    ValueError naming what was found."""
    name = f"{folder.name}/preview.npz"
    content = read_run_file(folder, "preview.npz", "max_preview_bytes")
    try:
        with open_zip(content, name) as archive:  # its directory only: what the arrays unpack to
            unpacked = sum(member.file_size for member in archive.infolist())
        _check_unpacked(name, unpacked)
        arrays = read_plain_npz(DataFile(name, content), image_keys={"images"})
    except DataFileError as error:
        found = str(error).split(". ")[0]
        raise ValueError(f"{found}. Expected the plain arrays a run saves, never pickled objects. {AGAIN}") from None
    missing = sorted({"images", "timeline", "codes"} - set(arrays))
    if missing or arrays["images"].ndim != 4:
        raise ValueError(
            f"{name} lacks the arrays {missing}; expected images (a stack of images), timeline and codes. {AGAIN}"
        )
    return arrays


def _check_unpacked(name: str, unpacked: int) -> None:
    limit = limits.current().max_preview_bytes
    if unpacked > limit:
        raise ValueError(
            f"{name} unpacks to {human_size(unpacked)}; a saved run's preview.npz may hold at most "
            f"{human_size(limit)} (AE_MAX_PREVIEW_BYTES), far more than the lab writes, so it was not read. {AGAIN}"
        )


def load_run(folder: str | Path) -> Run:
    """Load the run saved in ``folder``; its name is the folder's name, whatever run.json says. The model is built
    from run.json's settings and only its weights are read from model.keras (``ae_core.runs.model_file``); arrays are
    read without pickle; a malformed or refused file is a ValueError."""
    folder = Path(folder)
    check_run_folder(folder)
    summary = check_summary(read_run_summary(folder))
    preview = _load_preview(folder)
    check_run_file(folder, "model.keras")
    model_config = ModelConfig.from_dict(summary["model_config"])
    model = load_model_file(folder / "model.keras", model_config, preview["images"].shape[1:])
    result = _result(summary, preview)
    return Run(
        name=Path(os.path.abspath(folder)).name,
        dataset_name=summary["dataset"],
        model_config=model_config,
        train_config=TrainConfig.from_dict(summary["train_config"]),
        model=model,
        result=result,
        metrics=summary["metrics"],
        created=summary["created"],
        id=summary["id"],
        split=summary["split"],
        excluded_class=summary["excluded_class"],
    )
