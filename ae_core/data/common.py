"""What every step of loading shares: the error a user's data raises, the arrays passed from step to step, the
checks of the limits (ae_core.settings.limits) against sizes known before the work (from file systems and headers), and
the one resize, used by the image readers and by normalise alike."""

from __future__ import annotations

import io
import math
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from ae_core.settings import limits
from ae_core.units import human_size

# What reading a damaged zip, gzip stream or zip member raises: zipfile reports a bad offset as ValueError ("negative
# seek value"), an unknown zip version or compression method as NotImplementedError, an encrypted member as
# RuntimeError.
READ_ERRORS = (OSError, EOFError, ValueError, RuntimeError, NotImplementedError, zlib.error, zipfile.BadZipFile)
_CHUNK_BYTES = 2**20


class DataFileError(ValueError):
    """A user's data file cannot be used; the message says what was expected, what was found and what to do."""


_OBJECT_REPR = re.compile(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>")


def without_reprs(text: str) -> str:
    """``text`` without Python object reprs such as ``<_io.BytesIO object at 0x7f...>``, which Pillow, zipfile and
    numpy's header parser put in their messages and which say nothing to a user but an address."""
    return _OBJECT_REPR.sub("", text).strip()


def error_text(error: BaseException) -> str:
    """The message of a library's ``error`` for a user: without object reprs; the error's type when nothing is
    left."""
    return without_reprs(str(error)) or type(error).__name__


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays field by field is ambiguous
class LoadedArrays:
    """What a reader found, before the train/validation split.

    images : (n, height, width[, channels]) as read (normalise makes them (n, h, w, c) float32 in [0, 1]);
    labels : (n,) integers or None. val_images, val_labels : a held-out set that came with the data (a test
    set), else None. class_names : index -> name, () when unknown. notes : conversions the user should know.
    array_names : what messages call each array, by field name, e.g. {"images": "pets.npz: x_train"}.
    """

    images: np.ndarray
    labels: np.ndarray | None
    class_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    val_images: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    array_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DecodedLimit:
    """A limit on what an image set's float32 pixels may take, below max_decoded_bytes, and how a refusal words it.

    n_bytes : the limit, at least 1. name : what it is, e.g. "the 96 MiB left of the server's 4 GiB memory for
    uploads (AE_MAX_UPLOAD_MEMORY_BYTES)". advice : what to do instead, a sentence.
    """

    n_bytes: int
    name: str
    advice: str


# The limit that the loading in progress on this thread (or task) decodes within, when a caller set one; a context
# variable, so that every reader and normalise check it without each passing it on.
_decoded_limit: ContextVar[DecodedLimit | None] = ContextVar("decoded_limit", default=None)


@contextmanager
def decoding_within(limit: DecodedLimit | None) -> Iterator[None]:
    """Within this block, check_image_set refuses image sets over ``limit`` too (None: max_decoded_bytes alone)."""
    token = _decoded_limit.set(limit)
    try:
        yield
    finally:
        _decoded_limit.reset(token)


def check_image_set(shape: tuple[int, ...], what: str) -> None:
    """Refuse an image set, shape (n, height, width[, channels]), with more images than max_images or whose
    float32 pixels would pass max_decoded_bytes, or the tighter limit of ``decoding_within``; called with shapes
    from headers, before reading pixels."""
    current = limits.current()
    if shape[0] > current.max_images:
        raise DataFileError(
            f"{what} holds {shape[0]:,} images; the limit is {current.max_images:,} "
            f"(AE_MAX_IMAGES). Use a subset, e.g. the first {current.max_images:,}."
        )
    tighter = _decoded_limit.get()
    if tighter is not None and tighter.n_bytes < current.max_decoded_bytes:
        limit, over, advice = tighter.n_bytes, f"over {tighter.name}.", (tighter.advice, tighter.advice)
    else:
        limit = current.max_decoded_bytes
        over = f"over the {human_size(limit)} limit (AE_MAX_DECODED_BYTES);"
        advice = ("use smaller images.", "use fewer images or a smaller image_size such as (64, 64).")
    image_bytes = math.prod(shape[1:]) * 4
    if image_bytes > limit:  # checked alone too: a set of 0 images has 0 pixels in all
        raise DataFileError(
            f"{what}: one image of {' x '.join(f'{side:,}' for side in shape[1:])} float32 pixels would take "
            f"{human_size(image_bytes)}, {over} {advice[0]}"
        )
    n_bytes = shape[0] * image_bytes
    if n_bytes > limit:
        raise DataFileError(
            f"{what}: {' x '.join(f'{side:,}' for side in shape)} float32 pixels would take {human_size(n_bytes)}, "
            f"{over} {advice[1]}"
        )


def check_unpacked_size(n_bytes: int, what: str) -> None:
    """Refuse an archive member, gzip stream or array that states it unpacks to more than max_decompressed_bytes."""
    limit = limits.current().max_decompressed_bytes
    if n_bytes > limit:
        raise DataFileError(
            f"{what} unpacks to {human_size(n_bytes)}; the limit is {human_size(limit)} "
            "(AE_MAX_DECOMPRESSED_BYTES). Use a smaller file."
        )


def regular_file_size(path: Path) -> int:
    """The size of path, refused unless it is a regular file (a FIFO or device would block or never end; a
    symlink to a regular file is fine) of at most max_file_bytes. Never opens the file."""
    try:
        status = os.stat(path)  # follows symlinks, does not open: a FIFO must not block us
    except OSError as exc:
        raise DataFileError(f"{path} could not be read ({exc.strerror}); check the path and its permissions.") from exc
    if not stat.S_ISREG(status.st_mode):
        raise DataFileError(
            f"{path} is not a regular file (it is a FIFO, socket or device); expected a data file "
            "or a folder of images. Copy the data into a regular file first."
        )
    limit = limits.current().max_file_bytes
    if status.st_size > limit:
        raise DataFileError(
            f"{path} is {human_size(status.st_size)}; the limit is {human_size(limit)} "
            "(AE_MAX_FILE_BYTES). Use a smaller file."
        )
    return status.st_size


def open_zip(content: Path | bytes, name: str) -> zipfile.ZipFile:
    """Open a zip archive from a path or bytes; an unreadable one is a DataFileError naming it."""
    if isinstance(content, Path):
        regular_file_size(content)
    try:
        return zipfile.ZipFile(io.BytesIO(content) if isinstance(content, bytes) else content)
    except READ_ERRORS as exc:
        raise DataFileError(
            f"{name} is not a readable zip archive ({error_text(exc)}); expected a .zip or .npz file."
        ) from exc


def read_at_most(stream: BinaryIO, n_bytes: int) -> bytearray:
    """Up to n_bytes from stream, a chunk at a time, so that memory follows the bytes that are really there: a
    single read(n_bytes) allocates n_bytes at once (files, gzip streams) or inflates up to n_bytes (zip members)
    whatever a header or a zip directory claims. A bytearray, so arrays made on it with np.frombuffer are writable."""
    data = bytearray()
    while len(data) < n_bytes and (chunk := stream.read(min(_CHUNK_BYTES, n_bytes - len(data)))):
        data += chunk
    return data


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The one resize of the data layer, for whole arrays and single decoded images alike.

    images : (n, h, w, c) float32 in [0, 1]; size : (height, width). Returns (n, height, width, c) float32 in [0, 1].
    Pillow's bilinear filter on each channel of each image, as 32-bit float planes: widened when shrinking, so that
    every source pixel counts. Its weights take about two numbers per source pixel of a side, so a long side (a
    1 x 400,000 PNG is a 200-byte upload) costs little.
    """
    check_image_set((len(images), *size, images.shape[-1]), "resized images")
    out = np.empty((len(images), *size, images.shape[-1]), np.float32)
    for index, image in enumerate(images):
        for channel in range(images.shape[-1]):
            plane = Image.fromarray(np.ascontiguousarray(image[:, :, channel], dtype=np.float32))  # mode "F"
            out[index, :, :, channel] = plane.resize(size[::-1], Image.Resampling.BILINEAR)  # Pillow: (width, height)
    return np.clip(out, 0, 1, out=out)  # the filter's weights are convex: clip removes rounding only
