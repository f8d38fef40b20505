"""Readers for data a user brings: IDX files, .npz archives, and folders or .zip files of PNG/JPEG images.

Every reader returns a LoadedArrays: images of shape (n, height, width, channels), float32 in [0, 1],
C-contiguous, and labels of shape (n,), int64, or None. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import gzip
import io
import math
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image

MAX_UPLOAD_BYTES = 200 * 2**20  # Streamlit's own default upload limit (server.maxUploadSize = 200 MB)
MAX_DECOMPRESSED_BYTES = 2**30  # per archive or gzip stream, and for the float32 pixels an image set decodes to
MAX_IMAGES = 100_000

IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (n, height, width)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (n,)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Files that macOS and Windows add to folders and archives on their own; they are never part of the data.
_OS_JUNK = {"__MACOSX", "Thumbs.db", "desktop.ini"}
_MAX_CLASSES = 1_000  # one class name per id up to the largest label, so a stray huge label must not allocate millions
_KERAS_KEYS = {"x_train", "y_train", "x_test", "y_test", "class_names"}
_IMAGES_KEYS = {"images", "labels", "class_names"}


class DataFileError(ValueError):
    """A user's data file cannot be used; the message says what was expected, what was found and what to do."""


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays field by field is ambiguous
class LoadedArrays:
    """What a reader found, before the train/validation split.

    images : (n, height, width, channels) float32 in [0, 1]; labels : (n,) int64 or None.
    val_images, val_labels : a held-out set that came with the data (Keras layout's x_test), else None.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...]
    notes: tuple[str, ...] = ()
    val_images: np.ndarray | None = None
    val_labels: np.ndarray | None = None


def _human(n_bytes: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.4g} {unit}"
    return f"{n_bytes:,} bytes"


def check_decoded_size(shape: tuple[int, ...], what: str) -> None:
    """Refuse an image set whose float32 pixels, shape (n, height, width, channels), would pass the memory limit."""
    n_bytes = math.prod(shape) * 4
    if n_bytes > MAX_DECOMPRESSED_BYTES:
        raise DataFileError(
            f"{what}: {' x '.join(map(str, shape))} float32 pixels would take {_human(n_bytes)}, over the "
            f"{_human(MAX_DECOMPRESSED_BYTES)} limit; use fewer images or a smaller image_size such as (64, 64).")


def images_from_array(x: np.ndarray, what: str) -> tuple[np.ndarray, list[str]]:
    """Check and convert an image array; return images (n, height, width, channels) float32 in [0, 1] and notes.

    x : (n, h, w), (n, h, w, 1 or 3) or (n, d) with d a perfect square; integers in 0..255, or floats
    in [0, 1] (kept) or [0, 255] (divided by 255).
    """
    x, notes = np.asarray(x), []
    side = math.isqrt(x.shape[1]) if x.ndim == 2 else 0
    if x.ndim == 2 and side > 0 and side * side == x.shape[1]:
        x = x.reshape(len(x), side, side)  # (n, d) -> (n, side, side)
        notes.append(f"{what}: rows of {side * side} values were reshaped to {side}x{side} images")
    if x.ndim == 3:
        x = x[..., np.newaxis]  # (n, h, w) -> (n, h, w, 1)
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or 0 in x.shape:
        raise DataFileError(
            f"{what} has shape {x.shape}; expected (n, height, width), (n, height, width, 1 or 3) or (n, d) "
            "with d a perfect square, and n >= 1. Reshape the array, e.g. x.reshape(n, 28, 28).")
    if len(x) > MAX_IMAGES:
        raise DataFileError(f"{what} holds {len(x):,} images; the limit is {MAX_IMAGES:,}. Use a subset, e.g. x[:{MAX_IMAGES}].")
    check_decoded_size(x.shape, what)
    x, note = _to_unit_range(x, what)
    return np.ascontiguousarray(x, dtype=np.float32), notes + ([note] if note else [])


def _to_unit_range(x: np.ndarray, what: str) -> tuple[np.ndarray, str | None]:
    if np.issubdtype(x.dtype, np.integer):
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 255:
            raise DataFileError(f"{what} holds integers from {low} to {high}; expected 0 to 255 (8-bit pixels). "
                                "Rescale to 0..255, or save floats in [0, 1].")
        return np.divide(x, 255, dtype=np.float32), None
    if not np.issubdtype(x.dtype, np.floating):
        raise DataFileError(f"{what} has dtype {x.dtype}; expected integers in 0..255 or floats in [0, 1]. "
                            "Convert it, e.g. x.astype('float32').")
    n_bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
    if n_bad:
        raise DataFileError(f"{what} holds {n_bad:,} NaN or infinite values; expected finite pixel values in [0, 1]. "
                            "Replace them first, e.g. np.nan_to_num(x).")
    low, high = float(x.min()), float(x.max())
    if low >= 0 and high <= 1:
        return x, None
    if low >= 0 and high <= 255:
        return np.divide(x, 255, dtype=np.float32), f"{what}: floats from {low:g} to {high:g} were divided by 255"
    raise DataFileError(f"{what} holds values from {low:g} to {high:g}; expected [0, 1] or 0..255. "
                        "Rescale first, e.g. (x - x.min()) / (x.max() - x.min()).")


def labels_from_array(y: np.ndarray, n: int, what: str) -> np.ndarray:
    """Check class ids: y of shape (n,) or (n, 1), integers in 0..999. Returns (n,) int64."""
    y = np.asarray(y)
    y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if y.shape != (n,):
        raise DataFileError(f"{what} has shape {y.shape}; expected ({n},), one label per image.")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataFileError(f"{what} has dtype {y.dtype}; expected integer class ids 0, 1, 2, ... "
                            "Map names to ids first, e.g. np.unique(y, return_inverse=True)[1].")
    if y.min() < 0 or y.max() >= _MAX_CLASSES:
        raise DataFileError(f"{what} holds ids from {y.min()} to {y.max()}; expected 0 to {_MAX_CLASSES - 1}. "
                            "Renumber the classes 0, 1, 2, ...")
    return y.astype(np.int64)


def class_names_for(labels: list[np.ndarray], names: np.ndarray | None, what: str) -> tuple[str, ...]:
    """Names for ids 0..max(labels): the given 1-D str array, or "0", "1", ... when names is None."""
    n_classes = max(int(y.max()) + 1 for y in labels)
    if names is None:
        return tuple(str(i) for i in range(n_classes))
    names = np.asarray(names)
    if names.ndim != 1 or names.dtype.kind != "U" or len(names) < n_classes:
        raise DataFileError(f"{what}: class_names has shape {names.shape} and dtype {names.dtype}; expected a 1-D str "
                            f"array with at least {n_classes} names (labels go up to {n_classes - 1}).")
    return tuple(str(name) for name in names)


def gunzip(data: bytes, name: str) -> bytes:
    """Decompress gzip data, stopping as soon as the output passes MAX_DECOMPRESSED_BYTES."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(MAX_DECOMPRESSED_BYTES + 1)  # never trust the size a gzip trailer claims
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFileError(f"{name} could not be decompressed ({exc}); expected a complete .gz file. "
                            "Download it again.") from exc
    if len(out) > MAX_DECOMPRESSED_BYTES:
        raise DataFileError(f"{name} decompresses to more than {_human(MAX_DECOMPRESSED_BYTES)}, the limit; "
                            "refused. Use a smaller file.")
    return out


def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Parse an IDX file of unsigned bytes, gzipped or raw: (n,) uint8 for labels, (n, h, w) uint8 for images."""
    data = gunzip(data, name) if data[:2] == b"\x1f\x8b" else data
    magic = int.from_bytes(data[:4], "big")
    if len(data) < 4 or magic not in (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC):
        raise DataFileError(f"{name} starts with magic number {magic:#010x}; expected 0x00000803 (IDX images) or "
                            "0x00000801 (IDX labels), as in MNIST's *-ubyte files. Use .npz, .zip or a folder for other data.")
    header = 4 + 4 * data[3]
    dims = tuple(int.from_bytes(data[i:i + 4], "big") for i in range(4, header, 4))
    if len(data) != header + math.prod(dims):
        raise DataFileError(f"{name} holds {max(len(data) - header, 0):,} bytes of data but its header promises "
                            f"{math.prod(dims):,} ({' x '.join(map(str, dims))}); the file is truncated or damaged. "
                            "Download it again.")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def idx_arrays(images: tuple[str, np.ndarray], labels: tuple[str, np.ndarray] | None) -> LoadedArrays:
    """Build LoadedArrays from parsed IDX files given as (file name, array); labels None -> unlabeled."""
    (images_name, x), names = images, (images[0], labels[0] if labels else "")
    if x.ndim != 3 or (labels and labels[1].ndim != 1):
        raise DataFileError(f"{names} do not hold IDX images (magic 0x00000803) and labels (0x00000801); "
                            "pass the images file first and its labels file second.")
    x, notes = images_from_array(x, images_name)
    if labels is None:
        return LoadedArrays(x, None, (), tuple(notes))
    labels_name, y = labels
    if len(y) != len(x):
        raise DataFileError(f"{labels_name} holds {len(y):,} labels but {images_name} holds {len(x):,} images; "
                            "expected one label per image. Pair files of the same set (train-* with train-*, t10k-* with t10k-*).")
    y = labels_from_array(y, len(x), labels_name)
    return LoadedArrays(x, y, class_names_for([y], None, labels_name), tuple(notes))


def read_file_bytes(path: Path) -> bytes:
    """Read a whole file, refusing one larger than MAX_DECOMPRESSED_BYTES."""
    if path.stat().st_size > MAX_DECOMPRESSED_BYTES:
        raise DataFileError(f"{path} is {_human(path.stat().st_size)}; the limit is {_human(MAX_DECOMPRESSED_BYTES)}.")
    return path.read_bytes()


def read_idx_files(images_path: Path, labels_path: Path | None) -> LoadedArrays:
    """Read an IDX images file and, unless labels_path is None, its labels file."""
    images = (images_path.name, parse_idx(read_file_bytes(images_path), images_path.name))
    labels = labels_path and (labels_path.name, parse_idx(read_file_bytes(labels_path), labels_path.name))
    return idx_arrays(images, labels or None)
