"""A zip member's image header is read from its first bytes, and refused there, before the member is inflated whole:
peak memory stays a small fraction of the member, measured by tracemalloc; messages hold no object reprs."""

import io
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_core.data.common import DataFileError
from ae_core.data.image_members import HEADER_BYTES, zip_members
from ae_core.data.readers_images import read_images

MEMBER_BYTES = 64 * 2**20  # deflated zeros: a 64 MiB member is a 64 KiB archive
CHUNK = bytes(2**20)


def _png(side: int, seed: int = 0) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (side, side), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _zip_with_member(start: bytes, total: int) -> bytes:
    """A deflated zip holding a/big.png: ``start`` followed by zeros up to ``total`` bytes, written a chunk at a
    time, and one small valid PNG b/small.png."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as written:
        with written.open("a/big.png", "w", force_zip64=True) as member:
            member.write(start)
            for _ in range((total - len(start)) // len(CHUNK)):
                member.write(CHUNK)
        written.writestr("b/small.png", _png(8))
    return archive.getvalue()


def _refusal_and_peak(content: bytes) -> tuple[str, int]:
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError) as refused:
            read_images(zip_members(content, "upload.zip"), "upload.zip", image_size=None, resize=True)
        return str(refused.value), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_member_of_zeros_named_png_is_refused_from_its_first_bytes():
    message, peak = _refusal_and_peak(_zip_with_member(b"", MEMBER_BYTES))
    assert "'a/big.png' is not a readable PNG or JPEG image" in message
    assert "0x" not in message and "<" not in message  # no object reprs
    assert peak < MEMBER_BYTES / 16  # read whole, the member alone would be MEMBER_BYTES


def test_a_header_over_the_pixel_limit_is_refused_before_the_member_is_read(monkeypatch):
    monkeypatch.setenv("AE_MAX_SOURCE_PIXELS", "1000")  # a 64x64 PNG, 4,096 pixels, is over it
    message, peak = _refusal_and_peak(_zip_with_member(_png(64), MEMBER_BYTES))
    assert "'a/big.png' is 64x64 pixels, over the limit of 1,000 pixels" in message
    assert peak < MEMBER_BYTES / 16


def test_a_jpeg_whose_size_comes_after_the_first_bytes_is_still_read():
    """A colour profile longer than HEADER_BYTES puts the JPEG's size beyond them: it is read whole and decoded."""
    pixels = np.random.default_rng(1).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    photo = io.BytesIO()
    Image.fromarray(pixels).save(photo, format="JPEG", icc_profile=bytes(2 * HEADER_BYTES), quality=95)
    with pytest.raises(OSError):  # the premise: the first bytes do not hold the size
        Image.open(io.BytesIO(photo.getvalue()[:HEADER_BYTES]), formats=["JPEG"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as written:
        written.writestr("cats/photo.jpg", photo.getvalue())
        written.writestr("dogs/other.jpg", photo.getvalue())
    loaded = read_images(zip_members(archive.getvalue(), "photos.zip"), "photos.zip", image_size=None, resize=True)
    assert loaded.images.shape == (2, 12, 10, 3) and loaded.class_names == ("cats", "dogs")
