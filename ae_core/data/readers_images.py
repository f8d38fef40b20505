"""Reading images a user brings: folders and .zip files of PNG/JPEG images, one sub-folder per class.

read_images returns a LoadedArrays: images (n, height, width, channels) float32 in [0, 1], C-contiguous, and
labels (n,) int64 or None. Images are taken as they are meant to be seen: EXIF orientation applied, 16-bit
greyscale scaled from its full range 0..65535, transparency composited onto a white background (BACKGROUND),
and photos larger than max_image_side downscaled while decoding. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from PIL import Image, ImageOps

from ae_core.data.common import (
    DataFileError,
    LoadedArrays,
    check_image_set,
    resize_images,
)
from ae_core.data.image_members import IMAGE_ERRORS, check_pixels, unreadable_image
from ae_core.settings import limits

BACKGROUND = 1.0  # white: transparent parts of drawings and icons are meant to be seen on white paper or screens
_EXIF_ORIENTATION = 0x0112
_SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that swap width and height
_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I")  # PNG's 16-bit greyscale; values 0..65535


@dataclass(frozen=True)
class _Probe:
    """What an image's header says. size : (height, width) as it will be decoded (upright, fitted to
    max_image_side); grey : one band of grey; downscaled : larger than max_image_side; transparent : has alpha."""

    size: tuple[int, int]
    grey: bool
    downscaled: bool
    transparent: bool


def read_images(
    members: Iterable[tuple[tuple[str, ...], bytes]], name: str, *, image_size: tuple[int, int] | None, resize: bool
) -> LoadedArrays:
    """Decode PNG/JPEG images given as (path parts, bytes); a class is the sub-folder an image sits in.

    All grayscale -> 1 channel, else RGB. image_size : (height, width) to resize to; None -> the most common
    size. Mixed sizes with resize=False are an error. Returns images (n, h, w, c) float32 in [0, 1].
    """
    entries = _collect(members, name)
    labels, class_names = _folder_labels([parts for parts, _ in entries], name)
    probes = [_probe("/".join(parts), data) for parts, data in entries]
    (height, width), notes = _target_size([probe.size for probe in probes], image_size, resize, name)
    notes += _probe_notes(probes)
    channels = 1 if all(probe.grey for probe in probes) else 3
    check_image_set((len(entries), height, width, channels), name)
    images = np.empty((len(entries), height, width, channels), np.float32)
    for i, (parts, data) in enumerate(entries):
        images[i] = _decode("/".join(parts), data, (height, width), channels)
    return LoadedArrays(images, labels, class_names, tuple(notes))


def _collect(members: Iterable[tuple[tuple[str, ...], bytes]], name: str) -> list[tuple[tuple[str, ...], bytes]]:
    entries, max_images = [], limits.current().max_images
    for entry in members:
        entries.append(entry)
        if len(entries) > max_images:
            raise DataFileError(
                f"{name} holds more than {max_images:,} images, the limit (AE_MAX_IMAGES); use a subset."
            )
    if not entries:
        raise DataFileError(f"{name} holds no images; expected .png, .jpg or .jpeg files, one sub-folder per class.")
    return entries


def _probe_notes(probes: list[_Probe]) -> list[str]:
    n_grey, n_downscaled = sum(probe.grey for probe in probes), sum(probe.downscaled for probe in probes)
    n_transparent, side = sum(probe.transparent for probe in probes), limits.current().max_image_side
    return (
        (
            [f"converted {n_grey:,} grayscale images to RGB, as the others are in colour"]
            if 0 < n_grey < len(probes)
            else []
        )
        + (
            [
                f"downscaled {n_downscaled:,} images with a side over {side:,} pixels to fit {side:,} "
                "(AE_MAX_IMAGE_SIDE), keeping their aspect"
            ]
            if n_downscaled
            else []
        )
        + ([f"composited {n_transparent:,} images with transparency onto a white background"] if n_transparent else [])
    )


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
    raise DataFileError(
        f"{name} holds images both at the top level ({top[0][0]!r}) and in sub-folders "
        f"({'/'.join(nested)!r}); expected one sub-folder per class, or all images at the top level "
        "for unlabeled data. Move the loose images into a class folder."
    )


def _open(member: str, data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
    except IMAGE_ERRORS as exc:
        raise unreadable_image(member, exc) from exc


def _probe(member: str, data: bytes) -> _Probe:
    """Read an image's header only; refuse one with more than max_source_pixels before any pixel is decoded."""
    current = limits.current()
    with _open(member, data) as image:
        width, height = image.size
        check_pixels(member, width, height)
        try:
            sideways = image.getexif().get(_EXIF_ORIENTATION) in _SIDEWAYS  # a PNG's EXIF may follow its pixels
        except IMAGE_ERRORS as exc:
            raise unreadable_image(member, exc) from exc
        if sideways:
            width, height = height, width
        transparent = "A" in image.getbands() or "transparency" in image.info
        grey = image.getbands()[0] in ("1", "L", "I", "F")
    return _Probe(
        _fit_side((height, width), current.max_image_side),
        grey,
        max(width, height) > current.max_image_side,
        transparent,
    )


def _fit_side(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """(height, width) scaled down, aspect kept, so that neither side passes max_side."""
    scale = max_side / max(size)
    return size if scale >= 1 else (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))


def _decode(member: str, data: bytes, size: tuple[int, int], channels: int) -> np.ndarray:
    """Decode one image upright at size (height, width) with channels (1 or 3): (h, w, c) float32 in [0, 1].

    A JPEG is decoded at a reduced scale when much larger than size (libjpeg's draft mode), any image is then
    reduced by a whole factor in Pillow, and the exact size comes from resize_images.
    """
    try:
        with _open(member, data) as image:
            sideways = image.getexif().get(_EXIF_ORIENTATION) in _SIDEWAYS
            if image.format == "JPEG":
                image.draft(None, size if sideways else size[::-1])  # the file's own orientation, (width, height)
            pixels = _pixels(ImageOps.exif_transpose(image), size)
    except IMAGE_ERRORS as exc:
        raise unreadable_image(member, exc) from exc
    if pixels.shape[-1] != channels:  # grey among colour images, or a transparent grey one composited as RGB
        pixels = np.repeat(pixels, 3, axis=-1) if channels == 3 else pixels[..., :1]
    if pixels.shape[:2] != size:
        pixels = resize_images(pixels[np.newaxis], size)[0]
    return pixels


def _pixels(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """An upright image's pixels, each side reduced by the largest whole factor that keeps it at least size:
    (h, w, 1 or 3) float32 in [0, 1], transparency composited onto BACKGROUND."""
    if image.mode in _SIXTEEN_BIT:
        image, full_scale = image.convert("I"), 65535
    elif "A" in image.getbands() or "transparency" in image.info:
        image, full_scale = image.convert("RGBA"), 255
    else:
        image, full_scale = image.convert("L" if image.getbands() == ("L",) or image.mode == "1" else "RGB"), 255
    factors = (max(1, image.width // size[1]), max(1, image.height // size[0]))  # per side: a long one shrinks
    if max(factors) >= 2:
        image = image.reduce(factors)
    pixels = np.asarray(image, np.float32).reshape(image.height, image.width, -1) / full_scale
    if image.mode == "RGBA":
        colour, alpha = pixels[..., :3], pixels[..., 3:]
        pixels = colour * alpha + BACKGROUND * (1 - alpha)
    return np.clip(pixels, 0, 1)


def _target_size(
    sizes: list[tuple[int, int]], image_size: tuple[int, int] | None, resize: bool, name: str
) -> tuple[tuple[int, int], list[str]]:
    counts = Counter(sizes)
    target = image_size or counts.most_common(1)[0][0]
    n_other = len(sizes) - counts[target]
    found = ", ".join(f"{h}x{w}" for (h, w), _ in counts.most_common(5)) + (", ..." if len(counts) > 5 else "")
    if n_other and not resize:
        raise DataFileError(
            f"{name} holds images of sizes {found}; with resize=False expected all to be "
            f"{target[0]}x{target[1]}. Pass resize=True to resize them, or resize the files."
        )
    notes = [f"resized {n_other:,} of {len(sizes):,} images (sizes found: {found}) to {target[0]}x{target[1]}"]
    return target, notes if n_other else []
