"""Readers for images a user brings: folders and .zip files of PNG/JPEG images, one sub-folder per class.

read_images returns a LoadedArrays: images of shape (n, height, width, channels), float32 in [0, 1],
C-contiguous, and labels of shape (n,), int64, or None. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import io
import zipfile
import zlib
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image

# The limits are read as data_files.MAX_* at each call, not imported by value, so that lowering them there
# (as the tests do) holds for these readers too.
from ae_core import data_files
from ae_core.data_files import DataFileError, LoadedArrays, check_decoded_size, human_size, open_zip

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Files that macOS and Windows add to folders and archives on their own; they are never part of the data.
_OS_JUNK = {"__MACOSX", "Thumbs.db", "desktop.ini"}


def _wanted(parts: tuple[str, ...], source: str) -> bool:
    """True for an image to read, False for hidden and OS files to skip; anything else is an error."""
    if any(part.startswith(".") or part in _OS_JUNK for part in parts):
        return False
    if not parts[-1].lower().endswith(IMAGE_SUFFIXES):
        raise DataFileError(f"{source} holds {'/'.join(parts)!r}, which is not a PNG or JPEG image; expected only "
                            ".png, .jpg or .jpeg files, in one sub-folder per class. Remove it and try again.")
    return True


def folder_members(folder: Path) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Yield (path parts relative to folder, file bytes) for each image file, in sorted order."""
    budget = data_files.MAX_DECOMPRESSED_BYTES
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and _wanted(parts, folder.name):
            budget -= path.stat().st_size
            if budget < 0:
                limit = human_size(data_files.MAX_DECOMPRESSED_BYTES)
                raise DataFileError(f"{folder} holds more than {limit} of images, the limit; use fewer or smaller "
                                    "images.")
            yield parts, path.read_bytes()


def zip_members(source: Path | bytes, name: str) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Yield (path parts, bytes) for each image in a zip, read in memory (nothing is extracted to disk)."""
    with open_zip(source, name) as archive:
        budget = data_files.MAX_DECOMPRESSED_BYTES
        for info in archive.infolist():
            parts = tuple(part for part in info.filename.replace("\\", "/").split("/") if part not in ("", "."))
            if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and parts[0].endswith(":")):
                raise DataFileError(f"{name} holds {info.filename!r}, a path that points outside the archive; refused. "
                                    "Zip the folder again with relative paths.")
            if info.is_dir() or not parts or not _wanted(parts, name):
                continue
            if info.file_size > budget:  # the stated size may refuse early; only the bytes read may accept
                raise _too_big(name, info.filename)
            try:
                with archive.open(info) as stream:
                    data = stream.read(budget + 1)
            except (OSError, EOFError, RuntimeError, NotImplementedError, zlib.error, zipfile.BadZipFile) as exc:
                raise DataFileError(f"{name}: member {info.filename!r} could not be read ({exc}).") from exc
            budget -= len(data)
            if budget < 0:
                raise _too_big(name, info.filename)
            yield parts, data


def _too_big(name: str, member: str) -> DataFileError:
    limit = human_size(data_files.MAX_DECOMPRESSED_BYTES)
    return DataFileError(f"{name} unpacks to more than {limit}, the limit (reached at {member!r}); refused. "
                         "Use fewer or smaller images.")


def read_images(members: Iterable[tuple[tuple[str, ...], bytes]], name: str, *,
                image_size: tuple[int, int] | None, resize: bool) -> LoadedArrays:
    """Decode PNG/JPEG images given as (path parts, bytes); a class is the sub-folder an image sits in.

    All grayscale -> 1 channel, else RGB. image_size : (height, width) to resize to; None -> the most common
    size. Mixed sizes with resize=False are an error. Returns images (n, h, w, c) float32 in [0, 1].
    """
    entries = []
    for entry in members:
        entries.append(entry)
        if len(entries) > data_files.MAX_IMAGES:
            raise DataFileError(f"{name} holds more than {data_files.MAX_IMAGES:,} images, the limit; use a subset.")
    if not entries:
        raise DataFileError(f"{name} holds no images; expected .png, .jpg or .jpeg files, one sub-folder per class.")
    labels, class_names = _folder_labels([parts for parts, _ in entries], name)
    probes = [_probe("/".join(parts), data) for parts, data in entries]
    (height, width), notes = _target_size([size for size, _ in probes], image_size, resize, name)
    n_gray = sum(gray for _, gray in probes)
    mode, channels = ("L", 1) if n_gray == len(entries) else ("RGB", 3)
    if 0 < n_gray < len(entries):
        notes.append(f"converted {n_gray:,} grayscale images to RGB, as the others are in colour")
    check_decoded_size((len(entries), height, width, channels), name)
    images = np.empty((len(entries), height, width, channels), np.float32)
    for i, (parts, data) in enumerate(entries):
        images[i] = _decode("/".join(parts), data, mode, (width, height))
    return LoadedArrays(images, labels, class_names, tuple(notes))


def _folder_labels(paths: list[tuple[str, ...]], name: str) -> tuple[np.ndarray | None, tuple[str, ...]]:
    while all(len(parts) > 1 and parts[0] == paths[0][0] for parts in paths):
        paths = [parts[1:] for parts in paths]  # a folder wrapping everything (zip -r data.zip data/) is no class
    top = [parts for parts in paths if len(parts) == 1]
    if not top:
        class_names, labels = np.unique([parts[0] for parts in paths], return_inverse=True)
        return labels.astype(np.int64), tuple(class_names.tolist())
    if len(top) == len(paths):
        return None, ()
    nested = next(parts for parts in paths if len(parts) > 1)
    raise DataFileError(f"{name} holds images both at the top level ({top[0][0]!r}) and in sub-folders "
                        f"({'/'.join(nested)!r}); expected one sub-folder per class, or all images at the top level "
                        "for unlabeled data. Move the loose images into a class folder.")


def _unreadable(member: str, exc: Exception) -> DataFileError:
    return DataFileError(f"{member!r} could not be read as a PNG or JPEG image ({exc}); replace or remove it.")


def _probe(member: str, data: bytes) -> tuple[tuple[int, int], bool]:
    """Return an image's (height, width) and whether it is grayscale, without decoding its pixels."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            return (image.height, image.width), image.getbands()[0] in ("1", "L", "I", "F")
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _unreadable(member, exc) from exc


def _decode(member: str, data: bytes, mode: str, size: tuple[int, int]) -> np.ndarray:
    """Decode one image into mode ("L" or "RGB") at size (width, height); returns (h, w, c) float32 in [0, 1]."""
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            image = image.convert(mode)
            if image.size != size:
                image = image.resize(size, Image.Resampling.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32) / 255
    except (OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _unreadable(member, exc) from exc
    return pixels.reshape(size[1], size[0], -1)  # (h, w) -> (h, w, c) for grayscale


def _target_size(sizes: list[tuple[int, int]], image_size: tuple[int, int] | None, resize: bool,
                 name: str) -> tuple[tuple[int, int], list[str]]:
    counts = Counter(sizes)
    target = image_size or counts.most_common(1)[0][0]
    n_other = len(sizes) - counts[target]
    found = ", ".join(f"{h}x{w}" for (h, w), _ in counts.most_common(5)) + (", ..." if len(counts) > 5 else "")
    if n_other and not resize:
        raise DataFileError(f"{name} holds images of sizes {found}; with resize=False expected all to be "
                            f"{target[0]}x{target[1]}. Pass resize=True to resize them, or resize the files.")
    notes = [f"resized {n_other:,} of {len(sizes):,} images (sizes found: {found}) to {target[0]}x{target[1]}"]
    return target, notes if n_other else []


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize images (n, h, w, c) float32 in [0, 1] to size (height, width); returns (n, height, width, c)."""
    n, _, _, channels = images.shape
    check_decoded_size((n, *size, channels), "resized images")
    out = np.empty((n, *size, channels), np.float32)
    for i in range(n):
        for channel in range(channels):
            plane = Image.fromarray(np.ascontiguousarray(images[i, :, :, channel]))  # mode "F": float32
            out[i, :, :, channel] = np.asarray(plane.resize(size[::-1], Image.Resampling.BILINEAR))
    return np.clip(out, 0, 1, out=out)  # bilinear weights are convex; this only removes rounding error
