"""The first step of loading: find what to read, a ``Source``. A user's data comes from a path or an upload; the
built-in datasets are found by ``builtin``. Nothing is read here beyond file systems' metadata.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ae_core.data.common import DataFileError, LoadedArrays, regular_file_size
from ae_core.settings import limits
from ae_core.units import human_size

DATA_DIR_ENV = "AE_DATA_DIR"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class DataFile:
    """A file to read: its name for messages, and its content as a path on disk or an upload's bytes."""

    name: str
    content: Path | bytes


@dataclass(frozen=True)
class Source:
    """What to read. format : "npz", "image_zip", "image_folder" (files holds the one file or folder), "idx"
    (files holds an images file and optionally its labels file, in any order; test_files likewise for a test
    set) or "arrays" (arrays holds what is already in memory). positional : the one set ("test" or "training")
    of a built-in dataset that was found, to be split by position; class_names : a built-in dataset's names."""

    name: str
    description: str
    format: str
    files: tuple[DataFile, ...] = ()
    test_files: tuple[DataFile, ...] = ()
    arrays: LoadedArrays | None = None
    positional: str | None = None
    class_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The data directory: data_dir if given, else the AE_DATA_DIR environment variable, else None."""
    from ae_core.settings import environment

    value = data_dir if data_dir is not None else environment.current().data_dir
    return Path(value).expanduser() if value else None


def find_path(path: Path) -> Source:
    """A user's folder of images, .npz, .zip of images, or IDX images file with its labels file beside it."""
    if path.is_dir():
        return Source(path.name, str(path), "image_folder", (DataFile(path.name, path),))
    regular_file_size(path)  # before anything opens it: a FIFO would block
    file, suffix = DataFile(path.name, path), path.suffix.lower()
    if suffix in (".npz", ".zip"):
        return Source(path.name, str(path), "npz" if suffix == ".npz" else "image_zip", (file,))
    labels = _labels_beside(path)
    if labels is None:
        note = (
            f"no labels file was found beside {path.name}, so the images are unlabeled; name it like the images "
            "file with 'labels' for 'images' and 'idx1' for 'idx3'"
        )
        return Source(path.name, str(path), "idx", (file,), notes=(note,))
    return Source(path.name, str(path), "idx", (file, DataFile(labels.name, labels)))


def _labels_beside(images_path: Path) -> Path | None:
    """The IDX labels file named like images_path with images -> labels and idx3 -> idx1, gzipped or raw."""
    name = images_path.name.replace("images", "labels").replace("idx3", "idx1").removesuffix(".gz")
    if name == images_path.name.removesuffix(".gz"):
        return None
    return next((p for p in (images_path.with_name(name + ".gz"), images_path.with_name(name)) if p.is_file()), None)


def find_upload(files: list[tuple[str, bytes]]) -> Source:
    """What the app's uploader gives, as (file name, content) pairs: one .npz, one .zip of images, or IDX files
    (an images file and optionally its labels file, in any order). Uploads over max_upload_bytes are refused."""
    total, limit = sum(len(data) for _, data in files), limits.current().max_upload_bytes
    if total > limit:
        raise DataFileError(
            f"the upload is {human_size(total)}; the limit is {human_size(limit)} "
            "(AE_MAX_UPLOAD_BYTES). Use fewer or smaller files, or load them by path."
        )
    names = [name for name, _ in files]
    suffixes = {Path(name).suffix.lower() for name in names}
    description = f"upload of {', '.join(names)}"
    if len(files) == 1 and suffixes <= {".npz", ".zip"}:
        file_format = "npz" if suffixes == {".npz"} else "image_zip"
        return Source(names[0], description, file_format, (DataFile(*files[0]),))
    if not files or len(files) > 2 or suffixes & {".npz", ".zip", *IMAGE_SUFFIXES}:
        raise DataFileError(
            f"got files {names}; expected one .npz, one .zip of images (zip loose images with one "
            "sub-folder per class), or an IDX images file with or without its labels file."
        )
    return Source("", description, "idx", tuple(DataFile(*file) for file in files))
