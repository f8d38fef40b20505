"""Hostile and oversized files are refused from their headers and stated sizes, before the work: each test
builds the file cheaply, checks the message says what was found and what the limit is, and that memory stayed
small (tracemalloc's peak), which would be false had the data been inflated or decoded first."""

import gzip
import io
import os
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from ae_core.data import DataFileError, load_dataset, load_upload


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _refused(load, message: str, max_peak_bytes: int = 4 * 2**20) -> None:
    """load() raises DataFileError matching message, and allocates under max_peak_bytes on the way."""
    tracemalloc.start()
    try:
        with pytest.raises(DataFileError, match=message):
            load()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < max_peak_bytes, f"peak {peak:,} bytes"


def _idx_header(*dims: int) -> bytes:
    return (0x800 + len(dims)).to_bytes(4, "big") + b"".join(side.to_bytes(4, "big") for side in dims)


def _png_header(width: int, height: int) -> bytes:
    """A PNG's signature, IHDR (8-bit greyscale) and IEND, without pixels: enough for a reader of headers."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


def _claiming(archive: bytes, member_index: int, size: int) -> bytes:
    """archive with its central directory stating that member member_index unpacks to size bytes."""
    offset = -1
    for _ in range(member_index + 1):
        offset = archive.index(b"PK\x01\x02", offset + 1)
    return archive[: offset + 24] + struct.pack("<I", size) + archive[offset + 28 :]


def test_big_photos_are_downscaled_while_decoding():
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 40, 10)).save(buffer, format="JPEG", quality=80)
    photos = _zip({f"photo{i}.jpg": buffer.getvalue() for i in range(4)}, zipfile.ZIP_STORED)
    tracemalloc.start()
    try:
        dataset = load_upload([("photos.zip", photos)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert dataset.image_shape == (192, 256, 3)
    np.testing.assert_allclose(dataset.x_train[0, 100, 100], np.array([200, 40, 10]) / 255, atol=0.03)
    assert any("downscaled 4 images with a side over 256 pixels to fit 256" in note for note in dataset.notes)
    assert peak < 40 * 2**20, f"peak {peak:,} bytes"  # one 12-megapixel photo as float32 would take 144 MiB


def test_an_image_over_the_pixel_limit_is_refused_from_its_header():
    members = {"small.png": _png(np.zeros((4, 4), np.uint8)), "huge.png": _png_header(9000, 9000)}
    _refused(
        lambda: load_upload([("huge.zip", _zip(members))]),
        r"'huge.png' is 9,000x9,000 pixels, over the limit of 25,000,000 pixels \(AE_MAX_SOURCE_PIXELS\)",
    )


def test_a_zip_member_stating_a_gibibyte_is_refused_before_inflating():
    members = {"a.png": _png(np.zeros((4, 4), np.uint8)), "big.png": bytes(1000)}
    bomb = _claiming(_zip(members), 1, 2**30)
    _refused(lambda: load_upload([("bomb.zip", bomb)]), r"unpacks to more than 1 GiB, the limit \(reached at 'big.png'")


def test_a_zip_member_larger_than_it_states_is_read_only_to_its_stated_size():
    members = {"a.png": _png(np.zeros((4, 4), np.uint8)), "big.png": bytes(50 * 2**20)}  # 50 KiB deflated
    lying = _claiming(_zip(members), 1, 1000)
    _refused(lambda: load_upload([("lying.zip", lying)]), r"member 'big.png' could not be read")


def test_real_zip_bomb_stops_at_the_limit(monkeypatch):
    monkeypatch.setenv("AE_MAX_DECOMPRESSED_BYTES", "10000")
    bomb = _zip({"a.png": _png(np.zeros((6, 6), np.uint8)), "big.png": bytes(50_000)})
    assert len(bomb) < 10_000  # small on disk, five times the limit unpacked
    _refused(lambda: load_upload([("bomb.zip", bomb)]), r"unpacks to more than 9\.766 KiB, the limit .*'big.png'")


@pytest.mark.parametrize(
    "dims, message",
    [
        ((1_000_000, 28, 28), "holds 1,000,000 images; the limit is 100,000 \\(AE_MAX_IMAGES\\)"),
        ((1000, 1000, 1000), "float32 pixels would take 3.725 GiB, over the 1 GiB limit"),
    ],
)
def test_a_gzipped_idx_header_is_checked_before_decompressing_the_rest(tmp_path, dims, message):
    data = gzip.compress(_idx_header(*dims) + bytes(100))
    _refused(lambda: load_upload([("x-images-idx3-ubyte.gz", data)]), message)
    (tmp_path / "x-images-idx3-ubyte.gz").write_bytes(data)
    _refused(lambda: load_dataset(tmp_path / "x-images-idx3-ubyte.gz"), message)


def _npz_claiming(shape: tuple[int, ...], n_data_bytes: int) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False, "shape": shape})
    return _zip({"images.npy": header.getvalue() + bytes(n_data_bytes)}, zipfile.ZIP_STORED)


@pytest.mark.parametrize(
    "shape, message",
    [
        ((10**13, 28, 28), "holds 10,000,000,000,000 images; the limit is 100,000"),
        ((50, 28, 28), "its header promises 50 x 28 x 28 values .* but the archive holds 100 bytes"),
    ],
)
def test_an_npz_header_is_checked_before_its_data_is_read(shape, message):
    _refused(lambda: load_upload([("claims.npz", _npz_claiming(shape, 100))]), message)


def test_limits_come_from_the_environment(tmp_path, monkeypatch):
    images = np.zeros((6, 4, 4), np.uint8)
    np.savez(tmp_path / "six.npz", images=images)
    monkeypatch.setenv("AE_MAX_IMAGES", "5")
    _refused(lambda: load_dataset(tmp_path / "six.npz"), r"holds 6 images; the limit is 5 \(AE_MAX_IMAGES\)")
    members = {f"{i}.png": _png(images[i]) for i in range(6)}
    _refused(lambda: load_upload([("six.zip", _zip(members))]), "holds more than 5 images, the limit")
    monkeypatch.setenv("AE_MAX_IMAGES", "6")
    monkeypatch.setenv("AE_MAX_FILE_BYTES", "100")
    _refused(lambda: load_dataset(tmp_path / "six.npz"), r"six.npz is .* the limit is 100 bytes \(AE_MAX_FILE_BYTES\)")


def test_a_fifo_is_refused_as_not_a_regular_file_without_opening_it(tmp_path):
    os.mkfifo(tmp_path / "pipe-images-idx3-ubyte")  # opening it for reading would block forever
    _refused(lambda: load_dataset(tmp_path / "pipe-images-idx3-ubyte"), "is not a regular file")
    folder = tmp_path / "shapes"
    folder.mkdir()
    (folder / "a.png").write_bytes(_png(np.zeros((4, 4), np.uint8)))
    os.mkfifo(folder / "b.png")
    _refused(lambda: load_dataset(folder), "b.png is not a regular file")


def test_a_symlink_to_a_regular_file_is_read(tmp_path):
    folder = tmp_path / "shapes"
    folder.mkdir()
    (tmp_path / "real.png").write_bytes(_png(np.full((4, 4), 255, np.uint8)))
    (folder / "a.png").write_bytes(_png(np.zeros((4, 4), np.uint8)))
    (folder / "b.png").symlink_to(tmp_path / "real.png")
    dataset = load_dataset(folder)
    assert sorted(np.concatenate([dataset.x_train, dataset.x_val]).max(axis=(1, 2, 3)).tolist()) == [0.0, 1.0]
