"""The second step of loading: read what sources found. IDX files and .npz archives are read here, folders and
.zip files of images in readers_images. Every reader checks the limits from headers and stated sizes before it
reads the data, and returns a LoadedArrays as read (normalise converts it). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import tokenize
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from ae_core.data import image_members, readers_images
from ae_core.data.common import (
    READ_ERRORS,
    DataFileError,
    LoadedArrays,
    check_image_set,
    check_unpacked_size,
    error_text,
    open_zip,
    read_at_most,
    regular_file_size,
)
from ae_core.data.sources import DataFile, Source

IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (n, height, width)
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (n,)
_KERAS_KEYS = {"x_train", "y_train", "x_test", "y_test", "class_names"}
_IMAGES_KEYS = {"images", "labels", "class_names"}
_IMAGE_ARRAYS = {"images", "x_train", "x_test"}
# numpy parses an npy header with Python's own tokenizer and literal_eval, whose errors a damaged header raises.
NPY_HEADER_ERRORS = (SyntaxError, tokenize.TokenError, RecursionError)


def read(source: Source, image_size: tuple[int, int] | None, resize: bool) -> LoadedArrays:
    """Read a source's files (images decoded at image_size (height, width) when given; see read_images)."""
    if source.format == "arrays":
        arrays = source.arrays
    elif source.format == "npz":
        arrays = read_npz(source.files[0])
    elif source.format == "idx":
        arrays = read_idx(source.files)
        if source.test_files:
            test = read_idx(source.test_files)
            test_names = {f"val_{key}": value for key, value in test.array_names.items()}
            arrays = replace(
                arrays, val_images=test.images, val_labels=test.labels, array_names={**arrays.array_names, **test_names}
            )
    else:
        file = source.files[0]
        members = (
            image_members.folder_members(file.content)
            if source.format == "image_folder"
            else image_members.zip_members(file.content, file.name)
        )
        arrays = readers_images.read_images(members, file.name, image_size=image_size, resize=resize)
    if source.class_names:
        arrays = replace(arrays, class_names=source.class_names)
    return replace(arrays, notes=arrays.notes + source.notes)


@contextlib.contextmanager
def _idx_stream(file: DataFile) -> Iterator[BinaryIO]:
    """The bytes of an IDX file, gunzipped on the fly when it starts with gzip's magic number."""
    if isinstance(file.content, Path):
        regular_file_size(file.content)
    with io.BytesIO(file.content) if isinstance(file.content, bytes) else open(file.content, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        if not gzipped:
            yield raw
            return
        with gzip.GzipFile(fileobj=raw) as stream:
            yield stream


def _read_exactly(stream: BinaryIO, n_bytes: int, name: str, last: bool = False) -> bytes:
    """n_bytes from stream, never more (a gzip stream may hold anything); fewer, or more when last, is a damaged
    file."""
    try:
        data = read_at_most(stream, n_bytes)
        extra = last and stream.read(1)
    except READ_ERRORS as exc:
        raise DataFileError(
            f"{name} could not be read ({error_text(exc)}); expected a complete file. Download it again."
        ) from exc
    if len(data) != n_bytes or extra:
        found = "more than" if extra else f"only {len(data):,} of"
        raise DataFileError(
            f"{name} holds {found} the {n_bytes:,} bytes its header promises; the file is truncated "
            "or damaged. Download it again."
        )
    return data


def _idx_dims(stream: BinaryIO, name: str) -> tuple[int, ...]:
    """Read an IDX header: (n, height, width) for images, (n,) for labels."""
    try:
        head = stream.read(4)
    except READ_ERRORS as exc:
        raise DataFileError(
            f"{name} could not be decompressed ({error_text(exc)}); expected a complete .gz file. Download it again."
        ) from exc
    magic = int.from_bytes(head, "big")
    if len(head) < 4 or magic not in (IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC):
        raise DataFileError(
            f"{name} starts with magic number {magic:#010x}; expected 0x00000803 (IDX images) or "
            "0x00000801 (IDX labels), as in MNIST's *-ubyte files. Other data can come as .npz, "
            ".zip or a folder of images."
        )
    header = _read_exactly(stream, 4 * head[3], name)
    return tuple(int.from_bytes(header[i : i + 4], "big") for i in range(0, len(header), 4))


def read_idx(files: tuple[DataFile, ...]) -> LoadedArrays:
    """Read an IDX images file and optionally its labels file, given in any order. Both headers are checked
    against each other and the limits before any pixel is read. Returns images (n, h, w) uint8, labels (n,)."""
    with contextlib.ExitStack() as stack:
        opened = [(file.name, stack.enter_context(_idx_stream(file))) for file in files]
        headers = sorted(((name, stream, _idx_dims(stream, name)) for name, stream in opened), key=lambda h: -len(h[2]))
        images, labels = headers[0], (headers[1] if len(headers) == 2 else None)
        _check_idx_pair(images, labels)
        arrays = [
            np.frombuffer(_read_exactly(stream, math.prod(dims), name, last=True), np.uint8).reshape(dims)
            for name, stream, dims in filter(None, (images, labels))
        ]
    names = {"images": images[0], **({"labels": labels[0]} if labels else {})}
    return LoadedArrays(arrays[0], arrays[1] if labels else None, array_names=names)


def _check_idx_pair(images: tuple, labels: tuple | None) -> None:
    (images_name, _, dims), (labels_name, _, label_dims) = images, labels or ("", None, None)
    if len(dims) != 3:
        raise DataFileError(
            f"{images_name} is an IDX labels file; expected an IDX images file (magic 0x00000803). "
            "Pass the images file; a labels file beside it is found by name."
        )
    if label_dims is not None and len(label_dims) != 1:
        raise DataFileError(
            f"{images_name} and {labels_name} are both IDX images files; expected one images file "
            "(idx3) and one labels file (idx1)."
        )
    check_image_set((*dims, 1), images_name)
    check_unpacked_size(16 + math.prod(dims), images_name)
    if label_dims is not None and label_dims[0] != dims[0]:
        raise DataFileError(
            f"{labels_name} holds {label_dims[0]:,} labels but {images_name} holds {dims[0]:,} "
            "images; expected one label per image. Pair files of the same set (train-* with train-*, "
            "t10k-* with t10k-*)."
        )


def read_npz(file: DataFile) -> LoadedArrays:
    """Read a .npz in Keras layout (x_train, x_test, optional y_train, y_test, class_names; x_test becomes the
    validation set) or images layout (images, optional labels, class_names). Each array's npy header is checked
    (no pickled objects, sizes within the limits) before its data is read."""
    name = file.name
    arrays = read_plain_npz(file, _IMAGE_ARRAYS)
    keys = set(arrays)
    if not ({"x_train", "x_test"} <= keys <= _KERAS_KEYS or ("images" in keys and keys <= _IMAGES_KEYS)):
        raise DataFileError(
            f"{name} holds arrays {sorted(keys)}; expected x_train and x_test (Keras layout, "
            "optionally y_train, y_test, class_names) or images (optionally labels, class_names). "
            "Save with np.savez(path, images=x, labels=y)."
        )
    if ("x_test" in keys) and (("y_train" in keys) != ("y_test" in keys)):
        raise DataFileError(f"{name} holds labels for only one of its sets; expected y_train and y_test, or neither.")
    return _npz_arrays(arrays, name)


def read_plain_npz(file: DataFile, image_keys: set[str]) -> dict[str, np.ndarray]:
    """Every array of a .npz by name; each npy header is checked before its data is read: no pickled objects, no
    more data than the archive holds, and the arrays named in ``image_keys`` within the image limits."""
    with open_zip(file.content, file.name) as archive:
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        check_unpacked_size(sum(info.file_size for info in members.values()), file.name)
        return {
            key: _read_npy(archive, info, f"{file.name}: {key}", key in image_keys) for key, info in members.items()
        }


def _read_npy(archive: zipfile.ZipFile, info: zipfile.ZipInfo, what: str, holds_images: bool) -> np.ndarray:
    """One array of a .npz. Not np.lib.format.read_array: it allocates the whole array its header states before
    reading, so a member of a few bytes that claims a large size (and a zip directory that agrees) would cost that
    much memory; here memory follows the bytes the member really holds."""
    try:
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, fortran_order, dtype = read_header(stream)
            n_bytes = _check_npy_header(shape, dtype, info.file_size - stream.tell(), holds_images, what)
            data = read_at_most(stream, n_bytes)
        if len(data) < n_bytes:
            raise DataFileError(
                f"{what} holds only {len(data):,} of the {n_bytes:,} bytes its header promises; the "
                "file is truncated or damaged. Save it again with np.savez."
            )
        array = np.frombuffer(data, dtype, count=math.prod(shape))
        return array.reshape(shape[::-1]).transpose() if fortran_order else array.reshape(shape)
    except DataFileError:
        raise
    except (*READ_ERRORS, *NPY_HEADER_ERRORS) as exc:
        raise DataFileError(
            f"{what} could not be read ({error_text(exc)}); expected a .npz written by np.savez."
        ) from exc


def _check_npy_header(shape: tuple[int, ...], dtype: np.dtype, stated_bytes: int, holds_images: bool, what: str) -> int:
    """Refuse an array from its npy header: pickled objects, a negative side, an image set over the limits, or more
    data than the archive says the member holds. Returns the array's size in bytes."""
    if any(side < 0 for side in shape):
        raise DataFileError(
            f"{what}: its header states the shape {shape}, with a negative side; the file is "
            "damaged. Save it again with np.savez."
        )
    if dtype.hasobject:  # checked on the header, before numpy would try to unpickle anything
        raise DataFileError(
            f"{what} is an object array, which needs pickle to load; refused, because unpickling "
            "can run code. Save plain numeric arrays, e.g. x.astype('uint8')."
        )
    if holds_images and shape:
        check_image_set(shape, what)
    n_bytes = math.prod(shape) * dtype.itemsize
    if n_bytes > stated_bytes:
        raise DataFileError(
            f"{what}: its header promises {' x '.join(f'{side:,}' for side in shape)} values "
            f"({n_bytes:,} bytes) but the archive holds {max(stated_bytes, 0):,} bytes for it; the "
            "file is truncated or damaged. Save it again with np.savez."
        )
    return n_bytes


def _npz_arrays(arrays: dict[str, np.ndarray], name: str) -> LoadedArrays:
    """arrays : a .npz's arrays in Keras layout or images layout (see read_npz), as read."""
    x_key, y_key = ("images", "labels") if "images" in arrays else ("x_train", "y_train")
    array_names = {
        "images": f"{name}: {x_key}",
        "labels": f"{name}: {y_key}",
        "val_images": f"{name}: x_test",
        "val_labels": f"{name}: y_test",
    }
    class_names = ()
    if y_key in arrays and "class_names" in arrays:
        names = arrays["class_names"]
        if names.ndim != 1 or names.dtype.kind != "U":
            raise DataFileError(
                f"{name}: class_names has shape {names.shape} and dtype {names.dtype}; expected a "
                "1-D str array, one name per class, e.g. np.array(['cat', 'dog'])."
            )
        class_names = tuple(str(class_name) for class_name in names)
    return LoadedArrays(
        arrays[x_key], arrays.get(y_key), class_names, (), arrays.get("x_test"), arrays.get("y_test"), array_names
    )
