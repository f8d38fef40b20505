"""Datasets for the lab: the built-in ones (scikit-learn digits, MNIST, Fashion-MNIST) and files a user brings.

Every loader returns a Dataset of images (n, height, width, channels), float32 in [0, 1], split into training
and validation sets. Keras is imported only when a built-in dataset must be downloaded, so importing this
module stays fast enough for the app's first page.
"""
from __future__ import annotations

import numbers
import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ae_core import data_files
from ae_core.data_files import (IMAGE_SUFFIXES, DataFileError, LoadedArrays, human_size,
                                folder_members, idx_arrays, images_from_array, labels_from_array, parse_idx,
                                read_idx_files, read_images, read_npz, resize_images, zip_members)

__all__ = ["DATASETS", "DataFileError", "Dataset", "DatasetSpec", "DatasetStatus", "DatasetUnavailableError",
           "dataset_status", "default_dataset_name", "load_dataset", "load_upload", "resolve_data_dir",
           "split_train_val"]

DATA_DIR_ENV = "AE_DATA_DIR"
DOWNLOAD_TIMEOUT_S = 10  # offline, a download must fail in seconds rather than hang the app


class DatasetUnavailableError(RuntimeError):
    """A built-in dataset is neither on disk nor downloadable; the message says where to put its files."""


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays field by field is ambiguous
class Dataset:
    """Images split into training and validation sets.

    x_train : (n_train, height, width, channels) float32 in [0, 1], C-contiguous; y_train : (n_train,) int64
    or None when unlabeled; x_val, y_val likewise with n_val images. class_names : index -> name, () when
    unlabeled. source : where it was read from. notes : conversions and choices the user should know about.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    class_names: tuple[str, ...]
    source: str
    notes: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_val(self) -> int:
        return len(self.x_val)

    def class_counts(self) -> dict[str, int]:
        """Images per class over training and validation together; {} when unlabeled."""
        if self.y_train is None:
            return {}
        counts = np.bincount(np.concatenate([self.y_train, self.y_val]), minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))


@dataclass(frozen=True)
class DatasetSpec:
    """A built-in dataset. files : names looked for in the data directory (first match wins; IDX also raw)."""

    name: str
    title: str
    image_shape: tuple[int, int, int]
    description: str
    files: tuple[str, ...]


_IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
              "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
DATASETS: dict[str, DatasetSpec] = {
    "digits": DatasetSpec("digits", "Digits (scikit-learn)", (8, 8, 1),
                          "1,797 handwritten digits, 8x8 pixels; bundled with scikit-learn, so always available.", ()),
    "mnist": DatasetSpec("mnist", "MNIST", (28, 28, 1),
                         "Handwritten digits 0-9, 28x28 grayscale: 60,000 training and 10,000 test images.",
                         ("mnist.npz", *_IDX_NAMES)),
    "fashion_mnist": DatasetSpec("fashion_mnist", "Fashion-MNIST", (28, 28, 1),
                                 "Zalando clothes in 10 classes, 28x28 grayscale: 60,000 training, 10,000 test images.",
                                 ("fashion_mnist.npz", *_IDX_NAMES)),
}
_DIGIT_NAMES = tuple(str(i) for i in range(10))
_CLASS_NAMES = {"digits": _DIGIT_NAMES, "mnist": _DIGIT_NAMES,
                "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")}


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
    found = [next((p for p in (directory / f"{prefix}-{kind}-ubyte.gz", directory / f"{prefix}-{kind}-ubyte")
                   if p.is_file()), None) for kind in ("images-idx3", "labels-idx1")]
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
    return (f"not found in {searched}; downloading needs internet. Put t10k-images-idx3-ubyte.gz and "
            f"t10k-labels-idx1-ubyte.gz (or train-*) or {spec.files[0]} in {target}.")


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


def split_train_val(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle 0..n-1 with a seeded generator; return (train indices, validation indices), int64.

    The validation set holds round(n * val_fraction) indices, at least 1, leaving at least 1 for training.
    """
    _check_split_args(val_fraction, seed)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2:
        raise ValueError(f"n must be an integer >= 2, one image for training and one for validation; got {n!r}.")
    order = np.random.default_rng(seed).permutation(n)
    n_train = n - _n_val(n, val_fraction)
    return order[:n_train], order[n_train:]


def _n_val(n: int, val_fraction: float) -> int:
    return min(n - 1, max(1, round(n * val_fraction)))


def _check_split_args(val_fraction: float, seed: int) -> None:
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real) or not 0 < val_fraction <= 0.9:
        raise ValueError(f"val_fraction must be a number in (0, 0.9], the share of images kept for validation; "
                         f"got {val_fraction!r}. 0.2 is the usual choice.")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}.")


def _check_image_size(image_size: tuple[int, int] | None) -> tuple[int, int] | None:
    if image_size is None:
        return None
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1 for v in image_size)):
        raise ValueError(f"image_size must be None or (height, width), two positive integers; got {image_size!r}. "
                         "Try (28, 28).")
    return int(image_size[0]), int(image_size[1])


def load_dataset(name_or_path: str | os.PathLike, *, data_dir: str | os.PathLike | None = None,
                 val_fraction: float = 0.2, seed: int = 0, image_size: tuple[int, int] | None = None,
                 resize: bool = True, allow_download: bool = True) -> Dataset:
    """Load a built-in dataset by name (a key of DATASETS) or a user's file or folder by path.

    A path may be a .npz, a .zip or folder of PNG/JPEG images (one sub-folder per class), or an IDX images
    file (its labels file is found next to it: images -> labels, idx3 -> idx1). image_size : (height, width)
    to resize every image to; with resize=False, images of another size are an error. val_fraction, seed :
    the share of images held out for validation and the shuffle seed, used when the data has no test set.
    """
    _check_split_args(val_fraction, seed)
    image_size = _check_image_size(image_size)
    if name_or_path in DATASETS:
        arrays, source, positional = _load_builtin(DATASETS[name_or_path], resolve_data_dir(data_dir), allow_download)
        name = str(name_or_path)
    else:
        path = Path(name_or_path).expanduser()
        if not path.exists():
            raise ValueError(f"{str(name_or_path)!r} is neither a built-in dataset ({', '.join(DATASETS)}) nor an "
                             "existing file or folder; pass one of those names, or a path to a .npz, .zip, IDX file "
                             "or image folder.")
        arrays, source, positional, name = _read_path(path, image_size, resize), str(path), None, path.name
    arrays = _fit_size(arrays, image_size, resize)
    return _make_dataset(name, source, arrays, val_fraction, seed, positional)


def load_upload(files: list[tuple[str, bytes]], *, val_fraction: float = 0.2, seed: int = 0,
                image_size: tuple[int, int] | None = None, resize: bool = True) -> Dataset:
    """Load what the app's uploader gives, as (file name, content) pairs: one .npz, one .zip of images, or
    IDX files (an images file and optionally its labels file, in any order, gzipped or raw).

    Other arguments as in load_dataset. Uploads over MAX_UPLOAD_BYTES in total are refused.
    """
    _check_split_args(val_fraction, seed)
    image_size = _check_image_size(image_size)
    total, limit = sum(len(data) for _, data in files), data_files.MAX_UPLOAD_BYTES  # looked up now: tests lower it
    if total > limit:
        raise DataFileError(f"the upload is {human_size(total)}; the limit is {human_size(limit)}. "
                            "Use fewer or smaller files, or load them by path with load_dataset.")
    arrays, name = _read_upload(files, image_size, resize)
    arrays = _fit_size(arrays, image_size, resize)
    source = f"upload of {', '.join(file_name for file_name, _ in files)}"
    return _make_dataset(name, source, arrays, val_fraction, seed, None)


def _read_upload(files: list[tuple[str, bytes]], image_size: tuple[int, int] | None,
                 resize: bool) -> tuple[LoadedArrays, str]:
    """Returns the arrays and the dataset's name: the file's name, or the IDX images file's."""
    names = [name for name, _ in files]
    suffixes = {Path(name).suffix.lower() for name in names}
    if len(files) == 1 and suffixes == {".npz"}:
        return read_npz(files[0][1], names[0]), names[0]
    if len(files) == 1 and suffixes == {".zip"}:
        members = zip_members(files[0][1], names[0])
        return read_images(members, names[0], image_size=image_size, resize=resize), names[0]
    if not files or len(files) > 2 or suffixes & {".npz", ".zip", *IMAGE_SUFFIXES}:
        raise DataFileError(f"got files {names}; expected one .npz, one .zip of images (zip loose images with one "
                            "sub-folder per class), or an IDX images file with or without its labels file.")
    # images (3 dimensions) first, whatever order the files came in
    parsed = sorted(((name, parse_idx(data, name)) for name, data in files), key=lambda item: -item[1].ndim)
    if len(parsed) == 2 and parsed[0][1].ndim == parsed[1][1].ndim:
        raise DataFileError(f"{names} are both IDX {'images' if parsed[0][1].ndim == 3 else 'labels'} files; "
                            "expected one images file (idx3) and one labels file (idx1).")
    return idx_arrays(parsed[0], parsed[1] if len(parsed) == 2 else None), parsed[0][0]


def _read_path(path: Path, image_size: tuple[int, int] | None, resize: bool) -> LoadedArrays:
    """Read a user's folder, .npz, .zip or IDX images file (with the labels file next to it, if any)."""
    if path.is_dir():
        return read_images(folder_members(path), path.name, image_size=image_size, resize=resize)
    if path.suffix.lower() == ".npz":
        return read_npz(path, path.name)
    if path.suffix.lower() == ".zip":
        return read_images(zip_members(path, path.name), path.name, image_size=image_size, resize=resize)
    labels = _labels_beside(path)
    arrays = read_idx_files(path, labels)
    if labels is None:
        return replace(arrays, notes=arrays.notes + (f"no labels file was found beside {path.name}, so the images "
                                                     "are unlabeled; name it like the images file with 'labels' "
                                                     "for 'images' and 'idx1' for 'idx3'",))
    return arrays


def _labels_beside(images_path: Path) -> Path | None:
    """The IDX labels file named like images_path with images -> labels and idx3 -> idx1, gzipped or raw."""
    name = images_path.name.replace("images", "labels").replace("idx3", "idx1").removesuffix(".gz")
    if name == images_path.name.removesuffix(".gz"):
        return None
    return next((p for p in (images_path.with_name(name + ".gz"), images_path.with_name(name)) if p.is_file()), None)


def _load_builtin(spec: DatasetSpec, root: Path | None,
                  allow_download: bool) -> tuple[LoadedArrays, str, str | None]:
    """Returns the arrays, their source, and which set ("test" or "training") a positional split must cut,
    or None when the arrays come with their own test set or need a seeded split."""
    if spec.name == "digits":
        return _load_digits(), "scikit-learn", None
    found = _find_local(spec, root)
    if found is not None:
        arrays, positional = _read_local(found)
        source = str(found.npz or found.directory)
    elif allow_download:
        arrays, positional, source = _download(spec, root), None, "Keras download"
    else:
        raise DatasetUnavailableError(_unavailable_message(spec, root, "downloading is turned off"))
    if arrays.labels is None or any(y.max() >= 10 for y in (arrays.labels, arrays.val_labels) if y is not None):
        raise DataFileError(f"{source} should hold {spec.title} with labels 0-9; found none, or others. "
                            f"Replace it with the original files ({', '.join(spec.files)}).")
    return replace(arrays, class_names=_CLASS_NAMES[spec.name]), source, positional


def _load_digits() -> LoadedArrays:
    from sklearn.datasets import load_digits  # here, not at the top: importing scikit-learn takes a while

    digits = load_digits()
    images = (digits.images / 16).astype(np.float32)[..., np.newaxis]  # (1797, 8, 8) in 0..16 -> (1797, 8, 8, 1)
    return LoadedArrays(images, digits.target.astype(np.int64), _CLASS_NAMES["digits"])


def _read_local(found: _LocalFiles) -> tuple[LoadedArrays, str | None]:
    if found.npz is not None:
        return read_npz(found.npz, found.npz.name), None
    train = read_idx_files(*found.train) if found.train else None
    test = read_idx_files(*found.test) if found.test else None
    if train and test:
        return replace(train, val_images=test.images, val_labels=test.labels), None
    return (train, "training") if train else (test, "test")


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
    x_train, x_val = (images_from_array(x, f"{spec.title} download")[0] for x in (x_train, x_test))
    y_train = labels_from_array(y_train, len(x_train), spec.title)
    return LoadedArrays(x_train, y_train, (), (), x_val, labels_from_array(y_test, len(x_val), spec.title))


def _unavailable_message(spec: DatasetSpec, root: Path | None, why: str) -> str:
    setting = f"it is {root}" if root else "neither is set"
    return (f"{spec.title} is not available ({why}): {_missing_reason(spec, root)} The data directory comes from "
            f"the {DATA_DIR_ENV} environment variable or the app's --data-dir flag; {setting}.")


def _fit_size(arrays: LoadedArrays, image_size: tuple[int, int] | None, resize: bool) -> LoadedArrays:
    """Resize every image to image_size (height, width) unless it is None or already matches."""
    height, width = arrays.images.shape[1:3]
    if image_size is None or (height, width) == image_size:
        return arrays
    if not resize:
        raise DataFileError(f"the images are {height}x{width} but image_size is {image_size} and resize=False; "
                            "pass resize=True to resize them, or image_size=None to keep their size.")
    val_images = None if arrays.val_images is None else resize_images(arrays.val_images, image_size)
    note = f"resized all images from {height}x{width} to {image_size[0]}x{image_size[1]}"
    return replace(arrays, images=resize_images(arrays.images, image_size), val_images=val_images,
                   notes=arrays.notes + (note,))


def _make_dataset(name: str, source: str, arrays: LoadedArrays, val_fraction: float, seed: int,
                  positional: str | None) -> Dataset:
    """Split arrays into training and validation: by the data's own test set when it has one, by position
    when positional names the one set of a built-in dataset (so benchmarks see fixed sets), else seeded."""
    x, y, n, notes = arrays.images, arrays.labels, len(arrays.images), list(arrays.notes)
    if arrays.val_images is not None:
        notes.append(f"the {len(arrays.val_images):,}-image test set that came with the data is the validation "
                     "set; val_fraction is not used")
        return Dataset(name, x, y, arrays.val_images, arrays.val_labels, arrays.class_names, source, tuple(notes))
    if n < 2:
        raise DataFileError(f"{name} holds {n} image; expected at least 2, one for training and one for validation.")
    if positional:
        n_train = n - _n_val(n, val_fraction)
        train, val = np.arange(n_train), np.arange(n_train, n)
        notes.append(f"only the {n:,}-image {positional} set was found; first {n_train:,} for training, "
                     f"last {n - n_train:,} for validation")
    else:
        train, val = split_train_val(n, val_fraction, seed)
    y_train, y_val = (None, None) if y is None else (y[train], y[val])
    return Dataset(name, x[train], y_train, x[val], y_val, arrays.class_names, source, tuple(notes))
