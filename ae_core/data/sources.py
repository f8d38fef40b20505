"""The first step of loading: find what to read. Built-in datasets (scikit-learn digits, MNIST, Fashion-MNIST)
come from the data directory, the Keras cache or a Keras download; a user's data from a path or an upload.

Nothing is read here beyond file systems' metadata; Keras is imported only when a dataset must be downloaded.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ae_core.data.common import DataFileError, LoadedArrays, regular_file_size
from ae_core.settings import limits
from ae_core.units import human_size

DATA_DIR_ENV = "AE_DATA_DIR"
DOWNLOAD_TIMEOUT_S = 10  # offline, a download must fail in seconds rather than hang the app
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class DatasetUnavailableError(RuntimeError):
    """A built-in dataset is neither on disk nor downloadable; the message says where to put its files."""


@dataclass(frozen=True)
class DatasetSpec:
    """A built-in dataset. files : names looked for in the data directory (first match wins; IDX also raw)."""

    name: str
    title: str
    image_shape: tuple[int, int, int]
    description: str
    files: tuple[str, ...]


_IDX_NAMES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec(
        "digits",
        "Digits (scikit-learn)",
        (8, 8, 1),
        "1,797 handwritten digits, 8x8 pixels; bundled with scikit-learn, so always available.",
        (),
    ),
    "mnist": DatasetSpec(
        "mnist",
        "MNIST",
        (28, 28, 1),
        "Handwritten digits 0-9, 28x28 grayscale: 60,000 training and 10,000 test images.",
        ("mnist.npz", *_IDX_NAMES),
    ),
    "fashion_mnist": DatasetSpec(
        "fashion_mnist",
        "Fashion-MNIST",
        (28, 28, 1),
        "Zalando clothes in 10 classes, 28x28 grayscale: 60,000 training, 10,000 test images.",
        ("fashion_mnist.npz", *_IDX_NAMES),
    ),
}
_DIGIT_NAMES = tuple(str(i) for i in range(10))
_CLASS_NAMES = {
    "digits": _DIGIT_NAMES,
    "mnist": _DIGIT_NAMES,
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}


@dataclass(frozen=True)
class DatasetStatus:
    """Whether a built-in dataset can be loaded without downloading. location : where it was found;
    reason : "" when available, else where it was looked for and which files to put where."""

    spec: DatasetSpec
    available: bool
    location: str
    reason: str


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


@dataclass(frozen=True)
class _LocalFiles:
    """A built-in dataset's files on disk: an npz, or (images, labels) IDX pairs for the train and test sets."""

    directory: Path
    npz: Path | None = None
    train: tuple[Path, Path] | None = None
    test: tuple[Path, Path] | None = None


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The data directory: data_dir if given, else the AE_DATA_DIR environment variable, else None."""
    value = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def _keras_cache() -> Path:
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "datasets"


def _search_dirs(name: str, root: Path | None) -> list[Path]:
    keras_dir = _keras_cache() / "fashion-mnist" if name == "fashion_mnist" else _keras_cache()
    return ([root / name, root] if root else []) + [keras_dir]


def _idx_pair(directory: Path, prefix: str) -> tuple[Path, Path] | None:
    found = [
        next(
            (p for p in (directory / f"{prefix}-{kind}-ubyte.gz", directory / f"{prefix}-{kind}-ubyte") if p.is_file()),
            None,
        )
        for kind in ("images-idx3", "labels-idx1")
    ]
    return (found[0], found[1]) if all(found) else None


def _find_local(spec: DatasetSpec, root: Path | None) -> _LocalFiles | None:
    for directory in _search_dirs(spec.name, root):
        if (directory / spec.files[0]).is_file():
            return _LocalFiles(directory, npz=directory / spec.files[0])
        # MNIST and Fashion-MNIST share IDX file names, so loose ones at the top of the data directory are
        # taken as MNIST only; Fashion-MNIST's must sit in their own folder.
        if directory == root and spec.name != "mnist":
            continue
        train, test = _idx_pair(directory, "train"), _idx_pair(directory, "t10k")
        if train or test:
            return _LocalFiles(directory, train=train, test=test)
    return None


def _missing_reason(spec: DatasetSpec, root: Path | None) -> str:
    searched = ", ".join(str(d) for d in _search_dirs(spec.name, root))
    target = str(root / spec.name) if root else f"<folder>/{spec.name} and set {DATA_DIR_ENV}=<folder>"
    return (
        f"not found in {searched}; downloading needs internet. Put t10k-images-idx3-ubyte.gz and "
        f"t10k-labels-idx1-ubyte.gz (or train-*) or {spec.files[0]} in {target}."
    )


def dataset_status(data_dir: str | os.PathLike | None = None) -> list[DatasetStatus]:
    """Where each built-in dataset is, in DATASETS order. Fast: never downloads, never imports Keras."""
    root = resolve_data_dir(data_dir)
    return [_status(spec, root) for spec in DATASETS.values()]


def _status(spec: DatasetSpec, root: Path | None) -> DatasetStatus:
    if spec.name == "digits":
        return DatasetStatus(spec, True, "bundled with scikit-learn", "")
    found = _find_local(spec, root)
    if found is None:
        return DatasetStatus(spec, False, "", _missing_reason(spec, root))
    return DatasetStatus(spec, True, str(found.npz or found.directory), "")


def default_dataset_name(data_dir: str | os.PathLike | None = None) -> str:
    """The dataset to offer first: "mnist" when its files are on disk (data directory or Keras cache), else "digits"."""
    return "mnist" if _find_local(DATASETS["mnist"], resolve_data_dir(data_dir)) else "digits"


def find_builtin(spec: DatasetSpec, root: Path | None, allow_download: bool) -> Source:
    """Where a built-in dataset is: scikit-learn's bundle, its files on disk, or a download through Keras."""
    names = _CLASS_NAMES[spec.name]
    if spec.name == "digits":
        return Source(spec.name, "scikit-learn", "arrays", arrays=_load_digits(), class_names=names)
    found = _find_local(spec, root)
    if found is not None and found.npz is not None:
        return Source(spec.name, str(found.npz), "npz", (DataFile(found.npz.name, found.npz),), class_names=names)
    if found is not None:
        train, test = (tuple(DataFile(path.name, path) for path in pair or ()) for pair in (found.train, found.test))
        positional = None if train and test else "training" if train else "test"
        return Source(
            spec.name,
            str(found.directory),
            "idx",
            train or test,
            test if train else (),
            positional=positional,
            class_names=names,
        )
    if not allow_download:
        raise DatasetUnavailableError(_unavailable_message(spec, root, "downloading is turned off"))
    return Source(spec.name, "Keras download", "arrays", arrays=_download(spec, root), class_names=names)


def _load_digits() -> LoadedArrays:
    from sklearn.datasets import load_digits  # here, not at the top: importing scikit-learn takes a while

    digits = load_digits()
    images = (digits.images / 16).astype(np.float32)  # (1797, 8, 8) in 0..16 -> [0, 1]
    return LoadedArrays(images, digits.target)


def _download(spec: DatasetSpec, root: Path | None) -> LoadedArrays:
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        import keras  # here only: importing Keras takes seconds, and most runs never download

        (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, spec.name).load_data()
    except Exception as exc:  # Keras reports a failed fetch as a bare Exception, so nothing narrower catches it
        raise DatasetUnavailableError(_unavailable_message(spec, root, f"the download failed: {exc}")) from exc
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return LoadedArrays(x_train, y_train, val_images=x_test, val_labels=y_test)


def _unavailable_message(spec: DatasetSpec, root: Path | None, why: str) -> str:
    setting = f"it is {root}" if root else "neither is set"
    return (
        f"{spec.title} is not available ({why}): {_missing_reason(spec, root)} The data directory comes from "
        f"the {DATA_DIR_ENV} environment variable or the app's --data-dir flag; {setting}."
    )


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
