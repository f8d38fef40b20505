"""The third step of loading: bring what a reader found to images (n, height, width, channels), float32 in
[0, 1], C-contiguous, at the asked size, and labels (n,) int64 with a name per class, noting every conversion.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ae_core.data.common import DataFileError, LoadedArrays, check_image_set, resize_images

# A class name is made for every id up to the largest label, so one stray huge label must not make millions.
MAX_CLASSES = 1_000


def normalise(arrays: LoadedArrays, name: str, image_size: tuple[int, int] | None, resize: bool) -> LoadedArrays:
    """Check and convert every array of a reader's result (see images_from_array, labels_from_array), then resize
    to image_size (height, width) unless it is None. name : the data's name, for messages."""
    names = dict(arrays.array_names)
    x, notes = images_from_array(arrays.images, names.get("images", f"{name}: images"))
    x_val = None
    if arrays.val_images is not None:
        x_val, val_notes = images_from_array(arrays.val_images, names.get("val_images", f"{name}: test images"))
        notes += val_notes
        if x_val.shape[1:] != x.shape[1:]:
            raise DataFileError(
                f"{name}: the test images have shape {x_val.shape[1:]} but the training images have "
                f"{x.shape[1:]}; expected the same (height, width, channels)."
            )
    y, y_val = (
        None if labels is None else labels_from_array(labels, len(images), names.get(key, f"{name}: {key}"))
        for key, labels, images in (("labels", arrays.labels, x), ("val_labels", arrays.val_labels, x_val))
    )
    labelled = [labels for labels in (y, y_val) if labels is not None]
    class_names = class_names_for(labelled, arrays.class_names, name) if labelled else ()
    arrays = LoadedArrays(x, y, class_names, arrays.notes + tuple(notes), x_val, y_val)
    return fit_size(arrays, image_size, resize)


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
            "with d a perfect square, and n >= 1. Reshape the array, e.g. x.reshape(n, 28, 28)."
        )
    check_image_set(x.shape, what)
    x, note = _to_unit_range(x, what)
    return np.ascontiguousarray(x, dtype=np.float32), notes + ([note] if note else [])


def _to_unit_range(x: np.ndarray, what: str) -> tuple[np.ndarray, str | None]:
    if np.issubdtype(x.dtype, np.integer):
        low, high = int(x.min()), int(x.max())
        if low < 0 or high > 255:
            raise DataFileError(
                f"{what} holds integers from {low} to {high}; expected 0 to 255 (8-bit pixels). "
                "Rescale to 0..255, or save floats in [0, 1]."
            )
        return np.divide(x, 255, dtype=np.float32), None
    if not np.issubdtype(x.dtype, np.floating):
        raise DataFileError(
            f"{what} has dtype {x.dtype}; expected integers in 0..255 or floats in [0, 1]. "
            "Convert it, e.g. x.astype('float32')."
        )
    n_bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
    if n_bad:
        raise DataFileError(
            f"{what} holds {n_bad:,} NaN or infinite values; expected finite pixel values in [0, 1]. "
            "Replace them first, e.g. np.nan_to_num(x)."
        )
    low, high = float(x.min()), float(x.max())
    if low >= 0 and high <= 1:
        return x, None
    if low >= 0 and high <= 255:
        return np.divide(x, 255, dtype=np.float32), f"{what}: floats from {low:g} to {high:g} were divided by 255"
    raise DataFileError(
        f"{what} holds values from {low:g} to {high:g}; expected [0, 1] or 0..255. "
        "Rescale first, e.g. (x - x.min()) / (x.max() - x.min())."
    )


def labels_from_array(y: np.ndarray, n: int, what: str) -> np.ndarray:
    """Check class ids: y of shape (n,) or (n, 1), integers in 0..999. Returns (n,) int64."""
    y = np.asarray(y)
    y = y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y
    if y.shape != (n,):
        raise DataFileError(f"{what} has shape {y.shape}; expected ({n},), one label per image.")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataFileError(
            f"{what} has dtype {y.dtype}; expected integer class ids 0, 1, 2, ... "
            "Map names to ids first, e.g. np.unique(y, return_inverse=True)[1]."
        )
    if y.min() < 0 or y.max() >= MAX_CLASSES:
        raise DataFileError(
            f"{what} holds ids from {y.min()} to {y.max()}; expected 0 to {MAX_CLASSES - 1}. "
            "Renumber the classes 0, 1, 2, ..."
        )
    return y.astype(np.int64)


def class_names_for(labels: list[np.ndarray], names: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Names for ids 0..max(labels): the given names, or "0", "1", ... when names is ()."""
    n_classes = max(int(y.max()) + 1 for y in labels)
    if not names:
        return tuple(str(i) for i in range(n_classes))
    if len(names) < n_classes:
        raise DataFileError(
            f"{what} names {len(names)} classes but its labels go up to {n_classes - 1}; expected "
            f"a name for each of the {n_classes} classes."
        )
    return tuple(names)


def fit_size(arrays: LoadedArrays, image_size: tuple[int, int] | None, resize: bool) -> LoadedArrays:
    """Resize every image to image_size (height, width) unless it is None or already matches."""
    height, width = arrays.images.shape[1:3]
    if image_size is None or (height, width) == image_size:
        return arrays
    if not resize:
        raise DataFileError(
            f"the images are {height}x{width} but image_size is {image_size} and resize=False; "
            "pass resize=True to resize them, or image_size=None to keep their size."
        )
    val_images = None if arrays.val_images is None else resize_images(arrays.val_images, image_size)
    note = f"resized all images from {height}x{width} to {image_size[0]}x{image_size[1]}"
    return replace(
        arrays, images=resize_images(arrays.images, image_size), val_images=val_images, notes=arrays.notes + (note,)
    )
