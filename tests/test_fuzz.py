"""Every loader fed hostile bytes: random bytes, valid files damaged (bit flips, overwrites, truncation, insertion,
deletion, huge header fields), and well-formed containers whose headers claim any size. The property: each input
either loads (float32 images in [0, 1], finite, shapes that agree) or raises DataFileError, the project's one
error for a user's bad file, within a bounded memory peak (tracemalloc). Anything else (IndexError, struct.error,
zlib.error, Pillow's or numpy's own errors, MemoryError) fails the test with the input that caused it.

AE_FUZZ_EXAMPLES sets the examples per test and parameter (150 by default); docs/reliability.md gives the long run.
"""

import gzip
import io
import os
import re
import tempfile
import tracemalloc
import zipfile
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from ae_core.data import DataFileError, Dataset, load_dataset, load_upload

FUZZ = settings(
    max_examples=int(os.environ.get("AE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Inputs are a few KB; a reader that allocated what a damaged header claims would pass this by far.
MAX_PEAK_BYTES = 16 * 2**20
HUGE_FIELDS = (b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\xff\xff\xff", b"\x00\x01\x00\x00")
RNG = np.random.default_rng(0)
PIXELS = RNG.integers(0, 256, (6, 8, 8), dtype=np.uint8)  # (n, height, width)
LABELS = (np.arange(6) % 3).astype(np.uint8)


def _npz(compressed: bool = False, keras_layout: bool = False) -> bytes:
    buffer = io.BytesIO()
    arrays = (
        dict(
            x_train=PIXELS[:4],
            y_train=LABELS[:4],
            x_test=PIXELS[4:],
            y_test=LABELS[4:],
            class_names=np.array(["a", "b", "c"]),
        )
        if keras_layout
        else dict(images=PIXELS, labels=LABELS)
    )
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def _idx(values: np.ndarray) -> bytes:
    return (
        (0x800 + values.ndim).to_bytes(4, "big")
        + b"".join(side.to_bytes(4, "big") for side in values.shape)
        + values.tobytes()
    )


def _image(file_format: str, mode: str) -> bytes:
    pixels = RNG.integers(0, 256, (8, 8, len(mode)), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode).save(buffer, file_format)
    return buffer.getvalue()


IMAGES = {
    "a/grey.png": _image("PNG", "L"),
    "a/photo.jpg": _image("JPEG", "RGB"),
    "b/icon.png": _image("PNG", "RGBA"),
    "b/grey.jpeg": _image("JPEG", "L"),
}


def _zip(members: dict[str, bytes], compression: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


SEEDS = {
    "npz": _npz(),
    "npz_compressed": _npz(compressed=True),
    "npz_keras": _npz(keras_layout=True),
    "zip_stored": _zip(IMAGES, zipfile.ZIP_STORED),
    "zip_deflated": _zip(IMAGES, zipfile.ZIP_DEFLATED),
}
IDX_PAIRS = {"raw": (_idx(PIXELS), _idx(LABELS)), "gzip": (gzip.compress(_idx(PIXELS)), gzip.compress(_idx(LABELS)))}


@st.composite
def damaged(draw, valid: bytes) -> bytes:
    """valid after one to four edits: a bit flip, a byte overwritten, truncation, bytes inserted or deleted, or
    four bytes set to a huge value (a length, count or offset field, wherever it falls)."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        edit, at = (
            draw(st.sampled_from(["flip", "overwrite", "truncate", "insert", "delete", "huge"])),
            draw(st.integers(0, max(len(data) - 1, 0))),
        )
        if edit == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "overwrite" and data:
            data[at] = draw(st.integers(0, 255))
        elif edit == "truncate":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            data[at : at + 4] = draw(st.sampled_from(HUGE_FIELDS))
    return bytes(data)


def _check(load) -> Dataset | None:
    """load() either returns a well-formed Dataset or raises DataFileError, and peaks under MAX_PEAK_BYTES."""
    tracemalloc.start()
    try:
        dataset = load()
    except DataFileError as error:
        assert str(error), "a DataFileError must say what was wrong"
        assert not re.search(r"<[^<>]* at 0x[0-9a-f]+>", str(error)), f"an object's repr in {error}"
        dataset = None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < MAX_PEAK_BYTES, f"peak {peak:,} bytes"
    if dataset is not None:
        _check_dataset(dataset)
    return dataset


def _check_dataset(dataset: Dataset) -> None:
    for images, labels in ((dataset.x_train, dataset.y_train), (dataset.x_val, dataset.y_val)):
        assert images.dtype == np.float32 and images.ndim == 4 and images.shape[-1] in (1, 3) and len(images) >= 1
        assert images.shape[1:] == dataset.image_shape
        assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
        if labels is not None:
            assert labels.shape == (len(images),) and 0 <= labels.min() and labels.max() < len(dataset.class_names)


@pytest.fixture(scope="module", autouse=True)
def lazy_imports_done():
    """The first loads import Pillow's plugins and numpy's lazy modules: they must not count in an input's peak."""
    for kind, data in SEEDS.items():
        load_upload([("data.npz" if kind.startswith("npz") else "data.zip", data)])


def test_seed_files_load():
    """The files the damage starts from are valid, so damaged inputs that still load are checked for real."""
    for kind, data in SEEDS.items():
        name = "data.npz" if kind.startswith("npz") else "data.zip"
        dataset = _check(partial(load_upload, [(name, data)]))
        assert dataset is not None and dataset.n_train + dataset.n_val == (4 if kind.startswith("zip") else 6)
    for images, labels in IDX_PAIRS.values():
        dataset = _check(partial(load_upload, [("t-labels-idx1-ubyte", labels), ("t-images-idx3-ubyte", images)]))
        assert dataset is not None and dataset.image_shape == (8, 8, 1) and dataset.class_names == ("0", "1", "2")


@FUZZ
@given(data=st.binary(max_size=2048))
@pytest.mark.parametrize("name", ["data.npz", "data.zip", "t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"])
def test_upload_of_random_bytes(name, data):
    _check(lambda: load_upload([(name, data)]))


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_upload_of_damaged_archive(kind, data):
    damaged_file = data.draw(damaged(SEEDS[kind]))
    _check(lambda: load_upload([("data.npz" if kind.startswith("npz") else "data.zip", damaged_file)]))


@FUZZ
@given(data=st.data(), damage_labels=st.booleans())
@pytest.mark.parametrize("compression", sorted(IDX_PAIRS))
def test_upload_of_damaged_idx(compression, data, damage_labels):
    images, labels = IDX_PAIRS[compression]
    images, labels = (images, data.draw(damaged(labels))) if damage_labels else (data.draw(damaged(images)), labels)
    _check(lambda: load_upload([("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels)]))


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("kind", ["npz", "zip_deflated", "idx_raw", "idx_gzip"])
def test_path_to_damaged_file(kind, data):
    with tempfile.TemporaryDirectory() as folder:
        if kind.startswith("idx"):
            images, labels = IDX_PAIRS[kind.removeprefix("idx_")]
            suffix = ".gz" if kind == "idx_gzip" else ""
            path = Path(folder) / f"train-images-idx3-ubyte{suffix}"
            path.write_bytes(data.draw(damaged(images)))
            (Path(folder) / f"train-labels-idx1-ubyte{suffix}").write_bytes(data.draw(damaged(labels)))
        else:
            path = Path(folder) / ("data.npz" if kind == "npz" else "images.zip")
            path.write_bytes(data.draw(damaged(SEEDS[kind])))
        _check(lambda: load_dataset(path))


@FUZZ
@given(data=st.data(), random_member=st.booleans())
def test_path_to_folder_of_damaged_images(data, random_member):
    """One to four images of the folder damaged, or one replaced by random bytes under an image's name."""
    names = sorted(IMAGES)
    hit = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            content = IMAGES[name]
            if name in hit:
                content = data.draw(st.binary(max_size=512) if random_member else damaged(content))
            (Path(folder) / name).parent.mkdir(exist_ok=True)
            (Path(folder) / name).write_bytes(content)
        _check(lambda: load_dataset(folder))


SIDES = st.one_of(st.integers(0, 64), st.integers(0, 2**32 - 1), st.sampled_from([100_000, 60_000, 10_000, 51]))


@FUZZ
@given(dims=st.tuples(SIDES, SIDES, SIDES), n_bytes=st.integers(0, 4096), gzipped=st.booleans())
@example(dims=(0, 3_036_988_439, 3_037_012_561), n_bytes=0, gzipped=False)  # no images of huge sides: 0 pixels
def test_idx_header_claiming_any_size(dims, n_bytes, gzipped):
    """An IDX header with any dimensions, followed by fewer or more bytes than they promise."""
    images = (0x803).to_bytes(4, "big") + b"".join(side.to_bytes(4, "big") for side in dims) + bytes(n_bytes)
    _check(lambda: load_upload([("x-images-idx3-ubyte", gzip.compress(images) if gzipped else images)]))


@FUZZ
@given(
    shape=st.lists(SIDES, min_size=0, max_size=4).map(tuple),
    n_bytes=st.integers(0, 4096),
    dtype=st.sampled_from(["|u1", "<f4", ">f8", "<i8", "|b1", "<c8", "<U3", "<M8[s]", "|V4"]),
    compression=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
    stated_size=st.booleans(),
)
@example(
    shape=(0, 3_036_988_439, 3_037_012_561), n_bytes=0, dtype="|u1", compression=zipfile.ZIP_STORED, stated_size=False
)
def test_npz_header_claiming_any_size(shape, n_bytes, dtype, compression, stated_size):
    """An npz whose images.npy header states any shape and dtype, followed by n_bytes; with stated_size the zip
    directory agrees with the header's size, so only the bytes actually there can tell the lie."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False, "shape": shape})
    archive = _zip({"images.npy": header.getvalue() + bytes(n_bytes)}, compression)
    if stated_size:
        claimed = (len(header.getvalue()) + int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize) % 2**32
        directory = archive.rfind(b"PK\x01\x02")
        archive = (
            archive[:22]
            + claimed.to_bytes(4, "little")
            + archive[26 : directory + 24]
            + claimed.to_bytes(4, "little")
            + archive[directory + 28 :]
        )
    _check(lambda: load_upload([("data.npz", archive)]))


VALID_NPY_HEADER = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 8, 8, 1), }"


@FUZZ
@given(
    text=st.one_of(st.text(max_size=120), st.integers(0, len(VALID_NPY_HEADER)).map(lambda cut: VALID_NPY_HEADER[:cut]))
)
def test_npz_header_of_any_text(text):
    """numpy reads an npy header's dict with Python's tokenizer and literal_eval, so a damaged one raises their errors
    (a header cut inside its brackets: tokenize.TokenError); each must still reach the user as a clear DataFileError."""
    header = text.encode("latin1", "replace")
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(2 * 8 * 8 * 4)
    _check(partial(load_upload, [("data.npz", _zip({"images.npy": member}, zipfile.ZIP_STORED))]))


@FUZZ
@given(width=st.integers(1, 250_000), height=st.integers(1, 250_000), grey=st.booleans())
def test_image_of_any_shape_costs_memory_by_its_output(width, height, grey):
    """Two blank PNGs of up to 250,000 pixels and any aspect (a 1 x 250,000 image zips to 200 bytes): decoded
    and resized without weights or float pixels as large as the source."""
    width = max(1, min(width, 250_000 // height))
    image = Image.new("L" if grey else "RGB", (width, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    archive = _zip({"a.png": buffer.getvalue(), "b.png": buffer.getvalue()}, zipfile.ZIP_DEFLATED)
    dataset = _check(lambda: load_upload([("images.zip", archive)]))
    assert dataset is not None and max(dataset.image_shape[:2]) <= 256
