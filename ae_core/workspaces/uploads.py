"""A workspace's one upload on disk: ``arrays.npz`` (the images, and the labels when there are any) and
``dataset.json`` (name, class names, source, split, notes), written through a staging folder and read back without
pickle, so a reload or a server restart gives the very same Dataset, split included.

Images that are whole steps of 1/255 (every upload of 8-bit images) are stored as uint8, a quarter of the float32
size, and read back exactly as the reader made them: ``uint8 / 255`` in float32.
"""

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

from ae_core.data import Split
from ae_core.data.split import Dataset
from ae_core.workspaces.upload_memory import SERVER_UPLOADS, UploadMemory

ARRAYS, DESCRIPTION = "arrays.npz", "dataset.json"


def _compact(images: np.ndarray) -> np.ndarray:
    """``images`` as uint8 when that loses nothing, else as they are."""
    steps = np.rint(images * 255).astype(np.uint8)
    return steps if np.array_equal(steps.astype(np.float32) / np.float32(255), images) else images


def _images(stored: np.ndarray) -> np.ndarray:
    return stored.astype(np.float32) / np.float32(255) if stored.dtype == np.uint8 else stored.astype(np.float32)


def save_upload(folder: str | Path, dataset: Dataset) -> None:
    """Make ``dataset`` the one upload kept in ``folder``, replacing what was there, all at once."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.saving-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        labels = {} if dataset.y_train is None else {"y_train": dataset.y_train, "y_val": dataset.y_val}
        np.savez(staging / ARRAYS, x_train=_compact(dataset.x_train), x_val=_compact(dataset.x_val), **labels)
        description = {
            "name": dataset.name,
            "class_names": list(dataset.class_names),
            "source": dataset.source,
            "split": dataset.split.to_dict(),
            "notes": list(dataset.notes),
        }
        (staging / DESCRIPTION).write_text(json.dumps(description), encoding="utf-8")
        retired = folder.parent / f".{folder.name}.replaced-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        if folder.exists():
            os.rename(folder, retired)
        os.rename(staging, folder)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_upload(folder: str | Path, memory: UploadMemory = SERVER_UPLOADS) -> Dataset | None:
    """The upload kept in ``folder``, counted against ``memory`` (the server's budget for uploads) while it is held;
    None when there is none. ValueError when its files are damaged, or when the budget has no room for it."""
    folder = Path(folder)
    if not (folder / DESCRIPTION).is_file():
        return None
    try:
        description = json.loads((folder / DESCRIPTION).read_text(encoding="utf-8"))
        with np.load(folder / ARRAYS, allow_pickle=False) as arrays:
            labelled = "y_train" in arrays
            dataset = Dataset(
                name=str(description["name"]),
                x_train=np.ascontiguousarray(_images(arrays["x_train"])),
                y_train=arrays["y_train"] if labelled else None,
                x_val=np.ascontiguousarray(_images(arrays["x_val"])),
                y_val=arrays["y_val"] if labelled else None,
                class_names=tuple(map(str, description["class_names"])),
                source=str(description["source"]),
                split=Split.from_dict(description["split"], where=f"{folder.name}/{DESCRIPTION}: split"),
                notes=tuple(map(str, description["notes"])),
            )
    except (OSError, KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"The workspace's upload is damaged ({type(error).__name__} reading {ARRAYS} or {DESCRIPTION}); upload it "
            "again on the Data page."
        ) from None
    return memory.admit(dataset, f"the upload {dataset.name}")
