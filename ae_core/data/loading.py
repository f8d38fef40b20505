"""Loading a dataset, in four steps called in this order: sources (find it), readers (read it, limits checked
from headers first), normalise (float32 images in [0, 1] at the asked size) and split (training / validation)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from ae_core.data import readers
from ae_core.data.builtin import DATASETS, find_builtin
from ae_core.data.common import DecodedLimit, decoding_within
from ae_core.data.normalise import normalise
from ae_core.data.sources import Source, find_path, find_upload, resolve_data_dir
from ae_core.data.split import Dataset, check_split_args, make_dataset
from ae_core.validation import Expected, Integer, check

# The side an image may be resized to; what the images then cost is checked against the limits (check_image_set).
MAX_SIDE = 65_536
IMAGE_SIZE = Annotated[
    tuple[Integer(1, MAX_SIDE), Integer(1, MAX_SIDE)] | None,
    Expected(f"None or (height, width), two integers between 1 and {MAX_SIDE:,}"),
]


def load_dataset(
    name_or_path: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    val_fraction: float = 0.2,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    resize: bool = True,
    allow_download: bool = True,
) -> Dataset:
    """Load a built-in dataset by name (a key of DATASETS) or a user's file or folder by path.

    A path may be a .npz, a .zip or folder of PNG/JPEG images (one sub-folder per class), or an IDX images
    file (its labels file is found next to it: images -> labels, idx3 -> idx1). image_size : (height, width)
    to resize every image to; with resize=False, images of another size are an error. val_fraction, seed :
    the share of images held out for validation and the shuffle seed, used when the data has no test set;
    load_dataset(name, val_fraction=d.split.val_fraction, seed=d.split.seed) gives dataset d's split again.
    """
    check_split_args(val_fraction, seed)
    image_size = _check_image_size(image_size)
    if name_or_path in DATASETS:
        source = find_builtin(DATASETS[name_or_path], resolve_data_dir(data_dir), allow_download)
    else:
        path = Path(name_or_path).expanduser()
        if not path.exists():
            raise ValueError(
                f"{str(name_or_path)!r} is neither a built-in dataset ({', '.join(DATASETS)}) nor an "
                "existing file or folder; pass one of those names, or a path to a .npz, .zip, IDX file "
                "or image folder."
            )
        source = find_path(path)
    return _load(source, val_fraction, seed, image_size, resize)


def load_upload(
    files: list[tuple[str, bytes]],
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    image_size: tuple[int, int] | None = None,
    resize: bool = True,
    decoded_limit: DecodedLimit | None = None,
) -> Dataset:
    """Load what the app's uploader gives, as (file name, content) pairs: one .npz, one .zip of images, or
    IDX files (an images file and optionally its labels file, in any order, gzipped or raw).

    Other arguments as in load_dataset. Uploads over the max_upload_bytes limit in total are refused.
    decoded_limit : a limit on each image set's float32 pixels below max_decoded_bytes (such as the room left in a
    server's memory for uploads), checked as that one is, from headers before any pixel is decoded.
    """
    check_split_args(val_fraction, seed)
    image_size = _check_image_size(image_size)
    with decoding_within(decoded_limit):
        return _load(find_upload(files), val_fraction, seed, image_size, resize)


def _load(source: Source, val_fraction: float, seed: int, image_size: tuple[int, int] | None, resize: bool) -> Dataset:
    arrays = readers.read(source, image_size, resize)
    name = source.name or arrays.array_names["images"]  # an IDX upload is named after its images file
    arrays = normalise(arrays, name, image_size, resize)
    return make_dataset(name, source.description, arrays, val_fraction, seed, source.positional)


def _check_image_size(image_size: tuple[int, int] | None) -> tuple[int, int] | None:
    """image_size as a tuple of two ints, or None; ValueError in the lab's format otherwise."""
    return check("image_size", image_size, IMAGE_SIZE, "Try (28, 28).")
