"""The built-in datasets (scikit-learn digits, MNIST, Fashion-MNIST): what each is, where its files are found (the
data directory, the Keras cache) and, failing that, a Keras download; ``find_builtin`` gives the ``Source`` to read.

Nothing is read here beyond file systems' metadata; Keras is imported only when a dataset must be downloaded.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ae_core.data.common import LoadedArrays
from ae_core.data.sources import DATA_DIR_ENV, DataFile, Source, resolve_data_dir

DOWNLOAD_TIMEOUT_S = 10  # offline, a download must fail in seconds rather than hang the app


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
class _LocalFiles:
    """A built-in dataset's files on disk: an npz, or (images, labels) IDX pairs for the train and test sets."""

    directory: Path
    npz: Path | None = None
    train: tuple[Path, Path] | None = None
    test: tuple[Path, Path] | None = None


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
