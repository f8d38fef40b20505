"""Datasets for the lab: the built-in ones (scikit-learn digits, MNIST, Fashion-MNIST) and files a user brings.

Every loader returns a Dataset of images (n, height, width, channels), float32 in [0, 1], split into training
and validation sets. Keras is imported only when a built-in dataset must be downloaded (see data_builtin), so
importing this module stays fast enough for the app's first page.
"""
from __future__ import annotations

import numbers
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ae_core import data_files
from ae_core.data_builtin import (DATASETS, DatasetSpec, DatasetStatus, DatasetUnavailableError, dataset_status,
                                  default_dataset_name, load_builtin, resolve_data_dir)
from ae_core.data_files import (DataFileError, LoadedArrays, human_size, idx_arrays, parse_idx, read_idx_files,
                                read_npz)
from ae_core.data_images import IMAGE_SUFFIXES, folder_members, read_images, resize_images, zip_members

__all__ = ["DATASETS", "DataFileError", "Dataset", "DatasetSpec", "DatasetStatus", "DatasetUnavailableError", "Split",
           "dataset_status", "default_dataset_name", "load_dataset", "load_upload", "resolve_data_dir",
           "split_train_val"]

SPLIT_KINDS = ("test_set", "positional", "seeded")


@dataclass(frozen=True)
class Split:
    """How a dataset was split into training and validation sets; load_dataset(name, val_fraction=split.val_fraction,
    seed=split.seed) gives the same split again.

    kind : "test_set" (the data's own test set is the validation set), "positional" (the first n_train images
    train, the last n_val validate) or "seeded" (shuffled by split_train_val with seed). val_fraction : in (0, 0.9],
    as asked (not used by "test_set"); seed : >= 0 (used only by "seeded"); n_train, n_val : >= 1 images.
    """

    kind: str
    val_fraction: float
    seed: int
    n_train: int
    n_val: int

    def to_dict(self) -> dict:
        """Plain JSON types: {"kind": str, "val_fraction": float, "seed": int, "n_train": int, "n_val": int}."""
        return {"kind": self.kind, "val_fraction": float(self.val_fraction), "seed": int(self.seed),
                "n_train": int(self.n_train), "n_val": int(self.n_val)}

    @classmethod
    def from_dict(cls, values: dict) -> "Split":
        """The Split that to_dict gave; a missing, extra or ill-typed key is a ValueError naming it."""
        if not isinstance(values, dict):
            raise ValueError(f"a split must be a dict with keys {', '.join(_SPLIT_KEYS)}; got {type(values).__name__}.")
        missing, extra = sorted(set(_SPLIT_KEYS) - set(values)), sorted(set(values) - set(_SPLIT_KEYS))
        if missing or extra:
            raise ValueError(f"a split needs exactly the keys {', '.join(_SPLIT_KEYS)}; missing {missing}, "
                             f"unexpected {extra}.")
        if values["kind"] not in SPLIT_KINDS:
            raise ValueError(f"split kind must be one of {', '.join(SPLIT_KINDS)}; got {values['kind']!r}.")
        _check_split_args(values["val_fraction"], values["seed"])
        for key in ("n_train", "n_val"):
            if isinstance(values[key], bool) or not isinstance(values[key], numbers.Integral) or values[key] < 1:
                raise ValueError(f"split {key} must be an integer >= 1; got {values[key]!r}.")
        return cls(values["kind"], float(values["val_fraction"]), int(values["seed"]), int(values["n_train"]),
                   int(values["n_val"]))


_SPLIT_KEYS = ("kind", "val_fraction", "seed", "n_train", "n_val")


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays field by field is ambiguous
class Dataset:
    """Images split into training and validation sets.

    x_train : (n_train, height, width, channels) float32 in [0, 1], C-contiguous; y_train : (n_train,) int64
    or None when unlabeled; x_val, y_val likewise with n_val images. class_names : index -> name, () when
    unlabeled. source : where it was read from. split : how training and validation were chosen.
    notes : conversions and choices the user should know about.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    class_names: tuple[str, ...]
    source: str
    split: Split
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
        arrays, source, positional = load_builtin(DATASETS[name_or_path], resolve_data_dir(data_dir), allow_download)
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
        split = Split("test_set", val_fraction, seed, len(x), len(arrays.val_images))
        return Dataset(name, x, y, arrays.val_images, arrays.val_labels, arrays.class_names, source, split,
                       tuple(notes))
    if n < 2:
        raise DataFileError(f"{name} holds {n} image; expected at least 2, one for training and one for validation.")
    if positional:
        n_train = n - _n_val(n, val_fraction)
        train, val = np.arange(n_train), np.arange(n_train, n)
        notes.append(f"only the {n:,}-image {positional} set was found; first {n_train:,} for training, "
                     f"last {n - n_train:,} for validation")
    else:
        train, val = split_train_val(n, val_fraction, seed)
    split = Split("positional" if positional else "seeded", val_fraction, seed, len(train), len(val))
    y_train, y_val = (None, None) if y is None else (y[train], y[val])
    return Dataset(name, x[train], y_train, x[val], y_val, arrays.class_names, source, split, tuple(notes))
