"""The image files a user brings, found and read with their limits checked: the members of a folder or a .zip (one
sub-folder per class; system junk skipped), each zip member's first bytes checked as a PNG or JPEG header of an
allowed size before the member is read whole.
"""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Iterator

from PIL import Image, UnidentifiedImageError

from ae_core.data.common import (
    READ_ERRORS,
    DataFileError,
    error_text,
    open_zip,
    read_at_most,
    regular_file_size,
)
from ae_core.data.sources import IMAGE_SUFFIXES
from ae_core.settings import limits
from ae_core.units import human_size

# Files that macOS and Windows add to folders and archives on their own; they are never part of the data.
_OS_JUNK = {"__MACOSX", "Thumbs.db", "desktop.ini"}
# A zip member's header is read from its first bytes before the rest is inflated: a PNG's size is in its first 33
# bytes, a JPEG's after its metadata, within these for all but photos with very long EXIF or colour profiles.
HEADER_BYTES = 64 * 1024
_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG's and JPEG's first bytes


def _wanted(parts: tuple[str, ...], source: str) -> bool:
    """True for an image to read, False for hidden and OS files to skip; anything else is an error."""
    if any(part.startswith(".") or part in _OS_JUNK for part in parts):
        return False
    if not parts[-1].lower().endswith(IMAGE_SUFFIXES):
        raise DataFileError(
            f"{source} holds {'/'.join(parts)!r}, which is not a PNG or JPEG image; expected only "
            ".png, .jpg or .jpeg files, in one sub-folder per class. Remove it and try again."
        )
    return True


def folder_members(folder: Path) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Yield (path parts relative to folder, file bytes) for each image file, in sorted order."""
    budget = limits.current().max_decompressed_bytes
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") or part in _OS_JUNK for part in parts) or stat.S_ISDIR(path.stat().st_mode):
            continue
        size = regular_file_size(path)  # refuses a FIFO or device before _wanted or anything opens it
        budget -= size
        if _wanted(parts, folder.name):
            if budget < 0:
                raise _too_big(folder.name, "/".join(parts))
            with open(path, "rb") as stream:
                yield parts, stream.read(size)  # read(n) allocates n bytes at once, so n is the size stat gave


def zip_members(content: Path | bytes, name: str) -> Iterator[tuple[tuple[str, ...], bytes]]:
    """Yield (path parts, bytes) for each image in a zip, read in memory (nothing is extracted to disk)."""
    with open_zip(content, name) as archive:
        budget = limits.current().max_decompressed_bytes
        for info in archive.infolist():
            parts = tuple(part for part in info.filename.replace("\\", "/").split("/") if part not in ("", "."))
            if info.filename.startswith(("/", "\\")) or ".." in parts or (parts and parts[0].endswith(":")):
                raise DataFileError(
                    f"{name} holds {info.filename!r}, a path that points outside the archive; refused. "
                    "Zip the folder again with relative paths."
                )
            if info.is_dir() or not parts or not _wanted(parts, name):
                continue
            if info.file_size > budget:  # the stated size refuses before inflating; only the bytes read accept
                raise _too_big(name, info.filename)
            data = _read_member(archive, info, budget, name)
            budget -= len(data)
            if budget < 0:
                raise _too_big(name, info.filename)
            yield parts, data


def _read_member(archive, info, budget: int, name: str) -> bytearray:
    """A zip member's bytes, at most ``budget`` + 1 of them; its header is read from its first HEADER_BYTES and
    checked (``_check_header``) before the rest is inflated."""
    try:
        stream = archive.open(info)
    except READ_ERRORS as exc:
        raise DataFileError(f"{name}: member {info.filename!r} could not be read ({error_text(exc)}).") from exc
    with stream:
        data = _read_or_refuse(stream, min(HEADER_BYTES, budget + 1), name, info.filename)
        _check_header(info.filename, bytes(data))
        data += _read_or_refuse(stream, min(info.file_size, budget) + 1 - len(data), name, info.filename)
    return data


def _read_or_refuse(stream, n_bytes: int, name: str, member: str) -> bytearray:
    try:
        return read_at_most(stream, n_bytes)
    except READ_ERRORS as exc:
        raise DataFileError(f"{name}: member {member!r} could not be read ({error_text(exc)}).") from exc


def _check_header(member: str, head: bytes) -> None:
    """Refuse an image from its first bytes ``head``: bytes in neither format, or a header whose pixel count is
    over the limit. A JPEG whose size comes after ``head`` (long metadata first) is left to ``_probe``."""
    if not head.startswith(_SIGNATURES):
        raise unreadable_image(member, UnidentifiedImageError())
    try:
        with Image.open(io.BytesIO(head), formats=["PNG", "JPEG"]) as image:
            width, height = image.size
    except IMAGE_ERRORS:
        return
    check_pixels(member, width, height)


def check_pixels(member: str, width: int, height: int) -> None:
    most = limits.current().max_source_pixels
    if width * height > most:
        raise DataFileError(
            f"{member!r} is {width:,}x{height:,} pixels, over the limit of {most:,} pixels "
            "(AE_MAX_SOURCE_PIXELS); refused before decoding. Downscale it first."
        )


def _too_big(name: str, member: str) -> DataFileError:
    limit = human_size(limits.current().max_decompressed_bytes)
    return DataFileError(
        f"{name} unpacks to more than {limit}, the limit (reached at {member!r}; "
        "AE_MAX_DECOMPRESSED_BYTES); refused. Use fewer or smaller images."
    )


# What Pillow raises on a damaged PNG or JPEG, while opening or decoding it
IMAGE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError)


def unreadable_image(member: str, exc: Exception) -> DataFileError:
    """What went wrong with one image, in words (Pillow's own message names the file by the object it read from)."""
    if isinstance(exc, UnidentifiedImageError):
        return DataFileError(
            f"{member!r} is not a readable PNG or JPEG image: its bytes are in neither format; replace or remove it."
        )
    return DataFileError(f"{member!r} is not a readable PNG or JPEG image ({error_text(exc)}); replace or remove it.")
