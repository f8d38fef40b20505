"""Readers for data a user brings: IDX files and .npz archives (folders and .zip files of images: data_images).

Every reader returns a LoadedArrays: images of shape (n, height, width, channels), float32 in [0, 1],
C-contiguous, and labels of shape (n,), int64, or None. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import gzip
import io
import math
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ae_core.units import human_size

MAX_UPLOAD_BYTES = 200 * 2**20  # Streamlit's own default upload limit (server.maxUploadSize = 200 MB)
MAX_DECOMPRESSED_BYTES = 2**30  # per archive or gzip stream, and for the float32 pixels an image set decodes to
MAX_IMAGES = 100_000

IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (n, height, width)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (n,)
# A class name is made for every id up to the largest label, so one stray huge label must not make millions.
_MAX_CLASSES = 1_000
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


def check_decoded_size(shape: tuple[int, ...], what: str) -> None:
    """Refuse an image set whose float32 pixels, shape (n, height, width, channels), would pass the memory limit."""
    n_bytes = math.prod(shape) * 4
    if n_bytes > MAX_DECOMPRESSED_BYTES:
        raise DataFileError(
            f"{what}: {' x '.join(map(str, shape))} float32 pixels would take {human_size(n_bytes)}, over the "
            f"{human_size(MAX_DECOMPRESSED_BYTES)} limit; use fewer images or a smaller image_size such as (64, 64).")


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
        raise DataFileError(f"{what} holds {len(x):,} images; the limit is {MAX_IMAGES:,}. "
                            f"Use a subset, e.g. x[:{MAX_IMAGES}].")
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
        raise DataFileError(f"{name} decompresses to more than {human_size(MAX_DECOMPRESSED_BYTES)}, the limit; "
                            "refused. Use a smaller file.")
    return out


def parse_idx(data: bytes, name: str) -> np.ndarray:
    """Parse an IDX file of unsigned bytes, gzipped or raw: (n,) uint8 for labels, (n, h, w) uint8 for images."""
    data = gunzip(data, name) if data[:2] == b"\x1f\x8b" else data
    magic = int.from_bytes(data[:4], "big")
    if len(data) < 4 or magic not in (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC):
        raise DataFileError(f"{name} starts with magic number {magic:#010x}; expected 0x00000803 (IDX images) or "
                            "0x00000801 (IDX labels), as in MNIST's *-ubyte files. Other data can come as .npz, "
                            ".zip or a folder of images.")
    header = 4 + 4 * data[3]
    dims = tuple(int.from_bytes(data[i:i + 4], "big") for i in range(4, header, 4))
    if len(data) != header + math.prod(dims):
        raise DataFileError(f"{name} holds {max(len(data) - header, 0):,} bytes of data but its header promises "
                            f"{math.prod(dims):,} ({' x '.join(map(str, dims))}); the file is truncated or damaged. "
                            "Download it again.")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)


def idx_arrays(images: tuple[str, np.ndarray], labels: tuple[str, np.ndarray] | None) -> LoadedArrays:
    """Build LoadedArrays from parsed IDX files given as (file name, array); labels None -> unlabeled."""
    (images_name, x), (labels_name, y) = images, labels or ("", None)
    if x.ndim != 3:
        raise DataFileError(f"{images_name} is an IDX labels file; expected an IDX images file (magic 0x00000803). "
                            "Pass the images file; a labels file beside it is found by name.")
    if y is not None and y.ndim != 1:
        raise DataFileError(f"{labels_name} is an IDX images file; expected a labels file (magic 0x00000801).")
    x, notes = images_from_array(x, images_name)
    if y is None:
        return LoadedArrays(x, None, (), tuple(notes))
    if len(y) != len(x):
        raise DataFileError(f"{labels_name} holds {len(y):,} labels but {images_name} holds {len(x):,} images; "
                            "expected one label per image. Pair files of the same set (train-* with train-*, "
                            "t10k-* with t10k-*).")
    y = labels_from_array(y, len(x), labels_name)
    return LoadedArrays(x, y, class_names_for([y], None, labels_name), tuple(notes))


def _read_file_bytes(path: Path) -> bytes:
    """Read a whole file, refusing one larger than MAX_DECOMPRESSED_BYTES."""
    size = path.stat().st_size
    if size > MAX_DECOMPRESSED_BYTES:
        raise DataFileError(f"{path} is {human_size(size)}; the limit is {human_size(MAX_DECOMPRESSED_BYTES)}.")
    return path.read_bytes()


def read_idx_files(images_path: Path, labels_path: Path | None) -> LoadedArrays:
    """Read an IDX images file and, unless labels_path is None, its labels file."""
    images, labels = ((path.name, parse_idx(_read_file_bytes(path), path.name)) if path else None
                      for path in (images_path, labels_path))
    return idx_arrays(images, labels)


def open_zip(source: Path | bytes, name: str) -> zipfile.ZipFile:
    """Open a zip archive from a path or bytes; an unreadable one is a DataFileError naming it."""
    try:
        return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataFileError(f"{name} is not a readable zip archive ({exc}); expected a .zip or .npz file.") from exc


def read_npz(source: Path | bytes, name: str) -> LoadedArrays:
    """Read a .npz in Keras layout (x_train, x_test, optional y_train, y_test, class_names; x_test becomes the
    validation set) or images layout (images, optional labels, class_names). Pickled arrays are refused."""
    with open_zip(source, name) as archive:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        keys = set(members)
        if not ({"x_train", "x_test"} <= keys <= _KERAS_KEYS or ("images" in keys and keys <= _IMAGES_KEYS)):
            raise DataFileError(f"{name} holds arrays {sorted(keys)}; expected x_train and x_test (Keras layout, "
                                "optionally y_train, y_test, class_names) or images (optionally labels, class_names). "
                                "Save with np.savez(path, images=x, labels=y).")
        total = sum(info.file_size for info in members.values())
        if total > MAX_DECOMPRESSED_BYTES:  # zipfile stops each member at its stated size, so this bounds the reads
            raise DataFileError(f"{name} unpacks to {human_size(total)}; the limit is "
                                f"{human_size(MAX_DECOMPRESSED_BYTES)}. Save fewer or smaller arrays.")
        arrays = {key: _read_npy(archive, info, f"{name}[{key!r}]") for key, info in members.items()}
    return _npz_arrays(arrays, name)


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> np.ndarray:
    try:
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            dtype = header(stream)[2]
        if dtype.hasobject:  # checked on the header, before numpy would try to unpickle anything
            raise DataFileError(f"{what} is an object array, which needs pickle to load; refused, because unpickling "
                                "can run code. Save plain numeric arrays, e.g. x.astype('uint8').")
        with archive.open(info) as stream:
            return np.lib.format.read_array(stream, allow_pickle=False)
    except DataFileError:
        raise
    except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise DataFileError(f"{what} could not be read ({exc}); expected a .npz written by np.savez.") from exc


def _npz_arrays(arrays: dict[str, np.ndarray], name: str) -> LoadedArrays:
    """arrays : a .npz's arrays in Keras layout or images layout (see read_npz), checked and converted."""
    x_key, y_key = ("images", "labels") if "images" in arrays else ("x_train", "y_train")
    x_train, notes = images_from_array(arrays[x_key], f"{name}: {x_key}")
    x_val = None
    if "x_test" in arrays:
        x_val, val_notes = images_from_array(arrays["x_test"], f"{name}: x_test")
        notes += val_notes
        if x_val.shape[1:] != x_train.shape[1:]:
            raise DataFileError(f"{name}: x_test images have shape {x_val.shape[1:]} but x_train images have "
                                f"{x_train.shape[1:]}; expected the same (height, width, channels).")
        if ("y_train" in arrays) != ("y_test" in arrays):
            raise DataFileError(f"{name} holds labels for only one of its sets; expected y_train and y_test, "
                                "or neither.")
    if y_key not in arrays:
        return LoadedArrays(x_train, None, (), tuple(notes), x_val)
    y_train = labels_from_array(arrays[y_key], len(x_train), f"{name}: {y_key}")
    y_val = None if x_val is None else labels_from_array(arrays["y_test"], len(x_val), f"{name}: y_test")
    names = class_names_for([y for y in (y_train, y_val) if y is not None], arrays.get("class_names"), name)
    return LoadedArrays(x_train, y_train, names, tuple(notes), x_val, y_val)
