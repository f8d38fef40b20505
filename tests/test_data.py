"""The dataset layer against real data: scikit-learn digits, MNIST's test set in ../shared/data, and small files
written here in each format a user may bring."""

import gzip
import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from ae_core.data import (
    DATASETS,
    DataFileError,
    DatasetUnavailableError,
    Split,
    dataset_status,
    default_dataset_name,
    load_dataset,
    load_upload,
    resolve_data_dir,
    split_train_val,
)


def _idx(array: np.ndarray) -> bytes:
    """IDX bytes for uint8 labels (n,) or images (n, h, w)."""
    magic = 0x00000800 + array.ndim
    dims = b"".join(side.to_bytes(4, "big") for side in array.shape)
    return magic.to_bytes(4, "big") + dims + array.astype(np.uint8).tobytes()


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _gray(value: int, size: tuple[int, int] = (6, 6)) -> bytes:
    return _png(np.full(size, value, np.uint8))


@pytest.fixture
def mnist_raw(shared_data_dir):
    """MNIST's test set read straight from the IDX files: images (10000, 28, 28) uint8, labels (10000,) uint8."""
    folder = shared_data_dir / "mnist"
    images = np.frombuffer(gzip.decompress((folder / "t10k-images-idx3-ubyte.gz").read_bytes()), np.uint8, offset=16)
    labels = np.frombuffer(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()), np.uint8, offset=8)
    return images.reshape(10_000, 28, 28), labels


@pytest.fixture
def empty_data_dir(tmp_path, monkeypatch):
    """An empty data directory, with HOME moved so that no Keras cache is found either."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.delenv("AE_DATA_DIR", raising=False)
    (tmp_path / "data").mkdir()
    return tmp_path / "data"


def test_digits_match_scikit_learn_with_a_seeded_split():
    dataset = load_dataset("digits", seed=3)
    reference = load_digits()
    train, val = split_train_val(1797, 0.2, seed=3)
    assert (dataset.image_shape, dataset.n_train, dataset.n_val) == ((8, 8, 1), 1438, 359)
    assert dataset.x_train.dtype == np.float32 and dataset.x_train.flags.c_contiguous
    assert dataset.y_train.dtype == np.int64 and dataset.class_names == tuple("0123456789")
    np.testing.assert_allclose(dataset.x_train[..., 0] * 16, reference.images[train], atol=1e-5)
    np.testing.assert_array_equal(dataset.y_val, reference.target[val])
    assert dataset.x_train.min() == 0 and dataset.x_train.max() == 1
    assert sum(dataset.class_counts().values()) == 1797


def test_digits_split_repeats_for_a_seed_and_changes_with_it():
    first, again, other = (load_dataset("digits", seed=seed) for seed in (0, 0, 1))
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.y_train, other.y_train)


def test_split_train_val_partitions_every_index():
    train, val = split_train_val(10, 0.3, seed=7)
    assert (len(train), len(val)) == (7, 3)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(10))


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"val_fraction": 0}, r"val_fraction must be a number in \(0, 0.9\].*got 0"),
        ({"val_fraction": 0.95}, "got 0.95"),
        ({"seed": -1}, r"^seed must be an integer between 0 and 2,147,483,647; got -1\.$"),
        ({"seed": True}, "got True"),
        ({"seed": 1.5}, "got 1.5"),
        ({"image_size": (28,)}, r"image_size must be None or \(height, width\)"),
    ],
)
def test_bad_arguments_are_refused_with_what_was_expected(arguments, message):
    with pytest.raises(ValueError, match=message):
        load_dataset("digits", **arguments)


def test_mnist_test_set_is_split_by_position(shared_data_dir, mnist_raw):
    images, labels = mnist_raw
    dataset = load_dataset("mnist", data_dir=shared_data_dir, seed=5, allow_download=False)
    assert (dataset.n_train, dataset.n_val, dataset.image_shape) == (8000, 2000, (28, 28, 1))
    np.testing.assert_array_equal(np.rint(dataset.x_train[0, :, :, 0] * 255), images[0])
    np.testing.assert_array_equal(np.rint(dataset.x_val[-1, :, :, 0] * 255), images[-1])
    np.testing.assert_array_equal(dataset.y_train, labels[:8000])
    assert any("first 8,000 for training, last 2,000 for validation" in note for note in dataset.notes)


def test_mnist_can_be_resized_on_load(shared_data_dir):
    dataset = load_dataset("mnist", data_dir=shared_data_dir, image_size=(14, 14))
    assert dataset.image_shape == (14, 14, 1) and 0 <= dataset.x_train.min() and dataset.x_train.max() <= 1
    assert any("from 28x28 to 14x14" in note for note in dataset.notes)
    with pytest.raises(ValueError, match="resize=False"):
        load_dataset("mnist", data_dir=shared_data_dir, image_size=(14, 14), resize=False)


def test_status_finds_mnist_in_the_shared_folder(shared_data_dir, monkeypatch):
    statuses = {status.spec.name: status for status in dataset_status(shared_data_dir)}
    assert list(statuses) == list(DATASETS) == ["digits", "mnist", "fashion_mnist"]
    assert statuses["mnist"].available and statuses["mnist"].reason == ""
    assert statuses["mnist"].location == str(shared_data_dir / "mnist")
    assert default_dataset_name(shared_data_dir) == "mnist"
    monkeypatch.setenv("AE_DATA_DIR", str(shared_data_dir))
    assert resolve_data_dir() == shared_data_dir and default_dataset_name() == "mnist"


def test_status_with_nothing_on_disk_says_what_to_put_where(empty_data_dir):
    statuses = {status.spec.name: status for status in dataset_status(empty_data_dir)}
    assert statuses["digits"].available and not statuses["mnist"].available
    reason = statuses["mnist"].reason
    assert "t10k-images-idx3-ubyte.gz" in reason and "mnist.npz" in reason
    assert str(empty_data_dir / "mnist") in reason
    assert default_dataset_name(empty_data_dir) == "digits"


def test_missing_dataset_without_download_raises_unavailable(empty_data_dir):
    with pytest.raises(DatasetUnavailableError) as caught:
        load_dataset("mnist", data_dir=empty_data_dir, allow_download=False)
    message = str(caught.value)
    assert "t10k-labels-idx1-ubyte.gz" in message and "AE_DATA_DIR" in message and "--data-dir" in message


def test_loose_idx_files_count_as_mnist_and_fashion_needs_its_own_folder(empty_data_dir):
    images = np.random.default_rng(4).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    for folder in (empty_data_dir, empty_data_dir / "fashion_mnist"):
        folder.mkdir(exist_ok=True)
        (folder / "t10k-images-idx3-ubyte").write_bytes(_idx(images))
        (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.arange(10))))
    statuses = {status.spec.name: status for status in dataset_status(empty_data_dir)}
    assert statuses["mnist"].location == str(empty_data_dir)
    assert statuses["fashion_mnist"].location == str(empty_data_dir / "fashion_mnist")
    (empty_data_dir / "fashion_mnist" / "t10k-images-idx3-ubyte").unlink()
    assert not dataset_status(empty_data_dir)[2].available  # the loose MNIST files are not taken as Fashion-MNIST
    dataset = load_dataset("mnist", data_dir=empty_data_dir, val_fraction=0.3)
    assert (dataset.n_train, dataset.n_val) == (7, 3)
    np.testing.assert_array_equal(dataset.y_val, [7, 8, 9])


def test_fashion_mnist_from_the_keras_cache_keeps_its_test_set(empty_data_dir, tmp_path):
    cache = tmp_path / "home" / ".keras" / "datasets" / "fashion-mnist"
    cache.mkdir(parents=True)
    rng = np.random.default_rng(5)
    for prefix, n in (("train", 12), ("t10k", 4)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        (cache / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
        (cache / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(_idx(np.arange(n) % 10)))
    dataset = load_dataset("fashion_mnist", data_dir=empty_data_dir, allow_download=False)
    assert (dataset.n_train, dataset.n_val, dataset.source) == (12, 4, str(cache))
    assert dataset.class_names[9] == "Ankle boot"
    assert dataset.class_counts()["T-shirt/top"] == 3  # training images 0 and 10, test image 0
    assert np.array_equal(dataset.y_val, [0, 1, 2, 3])


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="digits, mnist, fashion_mnist"):
        load_dataset("cifar10")


def test_npz_in_keras_layout_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (30, 6, 5), dtype=np.uint8),
        "y_train": rng.integers(0, 3, 30),
        "x_test": rng.integers(0, 256, (10, 6, 5), dtype=np.uint8),
        "y_test": rng.integers(0, 3, 10),
        "class_names": np.array(["cat", "dog", "eel"]),
    }
    np.savez(tmp_path / "pets.npz", **arrays)
    dataset = load_dataset(str(tmp_path / "pets.npz"))
    assert (dataset.name, dataset.n_train, dataset.n_val, dataset.image_shape) == ("pets.npz", 30, 10, (6, 5, 1))
    np.testing.assert_array_equal(np.rint(dataset.x_train[..., 0] * 255), arrays["x_train"])
    np.testing.assert_array_equal(dataset.y_val, arrays["y_test"])
    assert dataset.class_names == ("cat", "dog", "eel")
    assert any("val_fraction is not used" in note for note in dataset.notes)


def test_npz_images_layout_reshapes_rows_and_rescales_floats(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (20, 36))  # rows of 36 values, floats in [0, 255]
    labels = np.arange(20) % 4
    np.savez(tmp_path / "rows.npz", images=images, labels=labels)
    dataset = load_dataset(tmp_path / "rows.npz", seed=2)
    train, _ = split_train_val(20, 0.2, seed=2)
    assert dataset.image_shape == (6, 6, 1) and dataset.class_names == ("0", "1", "2", "3")
    np.testing.assert_allclose(dataset.x_train.reshape(-1, 36), images[train] / 255, rtol=1e-6)
    np.testing.assert_array_equal(dataset.y_train, labels[train])
    assert any("6x6" in note for note in dataset.notes) and any("divided by 255" in note for note in dataset.notes)


def test_npz_with_rgb_images_and_no_labels(tmp_path):
    np.savez(tmp_path / "colour.npz", images=np.random.default_rng(2).uniform(0, 1, (5, 4, 4, 3)))
    dataset = load_dataset(tmp_path / "colour.npz")
    assert dataset.image_shape == (4, 4, 3) and dataset.y_train is None and dataset.class_counts() == {}


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"images": np.array([np.zeros(3), np.zeros(4)], dtype=object)}, "needs pickle to load; refused"),
        ({"images": np.array([[[0.5, np.nan]], [[0.1, 0.2]]])}, "1 NaN or infinite values"),
        ({"images": np.full((2, 3, 3), -1.0)}, "values from -1 to -1; expected"),
        ({"arr_0": np.zeros((2, 3, 3))}, r"holds arrays \['arr_0'\]; expected x_train and x_test"),
        ({"images": np.zeros((3, 4, 4)), "labels": np.arange(2)}, r"labels has shape \(2,\); expected \(3,\)"),
    ],
)
def test_bad_npz_files_are_refused(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataFileError, match=message):
        load_dataset(tmp_path / "bad.npz")


def test_idx_file_finds_its_labels_beside_it(tmp_path):
    images = np.random.default_rng(3).integers(0, 256, (12, 5, 5), dtype=np.uint8)
    (tmp_path / "my-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx(images)))
    (tmp_path / "my-labels-idx1-ubyte").write_bytes(_idx(np.arange(12) % 2))
    dataset = load_dataset(tmp_path / "my-images-idx3-ubyte.gz", val_fraction=0.25)
    assert (dataset.n_train, dataset.n_val, dataset.class_names) == (9, 3, ("0", "1"))
    assert dataset.class_counts() == {"0": 6, "1": 6}


@pytest.mark.parametrize(
    "images, labels, message",
    [
        (_idx(np.zeros((5, 4, 4)))[:70], None, "truncated"),
        (_png(np.zeros((4, 4), np.uint8)), None, "magic number 0x89504e47; expected 0x00000803"),
        (_idx(np.zeros((5, 4, 4))), _idx(np.zeros(4)), "holds 4 labels but .* holds 5 images"),
    ],
)
def test_bad_idx_files_are_refused(tmp_path, images, labels, message):
    (tmp_path / "x-images-idx3-ubyte").write_bytes(images)
    if labels is not None:
        (tmp_path / "x-labels-idx1-ubyte").write_bytes(labels)
    with pytest.raises(DataFileError, match=message):
        load_dataset(tmp_path / "x-images-idx3-ubyte")


def test_upload_of_an_idx_pair_in_reverse_order(shared_data_dir, mnist_raw):
    folder = shared_data_dir / "mnist"
    names = ("t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")  # labels first: the order must not matter
    files = [(name, (folder / name).read_bytes()) for name in names]
    dataset = load_upload(files, seed=4)
    train, val = split_train_val(10_000, 0.2, seed=4)
    assert dataset.name == "t10k-images-idx3-ubyte.gz" and (dataset.n_train, dataset.n_val) == (8000, 2000)
    np.testing.assert_array_equal(np.rint(dataset.x_val[:, :, :, 0] * 255), mnist_raw[0][val])
    np.testing.assert_array_equal(dataset.y_train, mnist_raw[1][train])


def test_upload_limits_are_stated(shared_data_dir, monkeypatch):
    images = (shared_data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    monkeypatch.setenv("AE_MAX_DECOMPRESSED_BYTES", "1000000")
    with pytest.raises(DataFileError, match="unpacks to 7.477 MiB; the limit is 976.6 KiB"):
        load_upload([("t10k-images-idx3-ubyte.gz", images)])
    monkeypatch.setenv("AE_MAX_UPLOAD_BYTES", "1000")
    with pytest.raises(DataFileError, match="the limit is 1,000 bytes"):
        load_upload([("t10k-images-idx3-ubyte.gz", images)])


def test_zip_of_class_folders_gives_labels_and_class_names():
    members = {
        "shapes/square/a.png": _gray(200),
        "shapes/circle/a.png": _gray(10),
        "shapes/circle/b.png": _gray(10),
        "shapes/square/b.png": _gray(200),
        "shapes/square/.DS_Store": b"junk",
        "__MACOSX/shapes/._a.png": b"junk",
    }
    dataset = load_upload([("shapes.zip", _zip(members))], val_fraction=0.5)
    assert dataset.class_names == ("circle", "square") and dataset.image_shape == (6, 6, 1)
    assert dataset.class_counts() == {"circle": 2, "square": 2}
    x = np.concatenate([dataset.x_train, dataset.x_val])
    y = np.concatenate([dataset.y_train, dataset.y_val])
    np.testing.assert_allclose(x[y == 0], 10 / 255)
    np.testing.assert_allclose(x[y == 1], 200 / 255)


def test_folder_of_loose_images_is_unlabeled_and_colour_makes_all_rgb(tmp_path):
    (tmp_path / "faces").mkdir()
    for i in range(3):
        (tmp_path / "faces" / f"{i}.png").write_bytes(_gray(50 * i))
    assert load_dataset(tmp_path / "faces").image_shape == (6, 6, 1)
    (tmp_path / "faces" / "red.jpg").write_bytes(_png(np.zeros((6, 6, 3), np.uint8)))  # PNG content, .jpg name
    dataset = load_dataset(tmp_path / "faces")
    assert dataset.image_shape == (6, 6, 3) and dataset.y_train is None and dataset.class_names == ()
    assert any("converted 3 grayscale images to RGB" in note for note in dataset.notes)


def test_mixed_sizes_are_refused_or_resized():
    members = {"a.png": _gray(100, (8, 8)), "b.png": _gray(100, (8, 8)), "c.png": _gray(100, (5, 7))}
    upload = [("mixed.zip", _zip(members))]
    with pytest.raises(DataFileError, match="sizes 8x8, 5x7; with resize=False"):
        load_upload(upload, resize=False)
    dataset = load_upload(upload)
    assert dataset.image_shape == (8, 8, 1)
    assert any("resized 1 of 3 images" in note and "to 8x8" in note for note in dataset.notes)
    assert load_upload(upload, image_size=(4, 6)).image_shape == (4, 6, 1)


@pytest.mark.parametrize(
    "members, message",
    [
        ({"cats/a.png": _gray(0), "cats/notes.txt": b"hello"}, "'cats/notes.txt', which is not a PNG or JPEG image"),
        (
            {"cats/a.png": _gray(0), "cats/b.png": b"not an image"},
            "'cats/b.png' is not a readable PNG or JPEG image: its bytes are in neither format; replace or remove it.",
        ),
        ({"../evil.png": _gray(0)}, "points outside the archive"),
        ({"a.png": _gray(0), "cats/b.png": _gray(0)}, "both at the top level"),
        ({"empty/": b""}, "holds no images"),
    ],
)
def test_bad_zips_are_refused_naming_the_member(members, message):
    with pytest.raises(DataFileError, match=message):
        load_upload([("bad.zip", _zip(members))])


def test_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setenv("AE_MAX_DECOMPRESSED_BYTES", "10000")
    bomb = _zip({"a.png": _gray(0), "big.png": bytes(50_000)})
    assert len(bomb) < 10_000  # small on disk, five times the limit unpacked
    with pytest.raises(DataFileError, match=r"unpacks to more than 9\.766 KiB, the limit .*'big.png'"):
        load_upload([("bomb.zip", bomb)])


@pytest.mark.parametrize("name, kind", [("digits", "seeded"), ("mnist", "positional")])
def test_the_split_is_recorded_and_reproduces_the_same_sets(shared_data_dir, name, kind):
    dataset = load_dataset(name, data_dir=shared_data_dir, val_fraction=0.25, seed=6)
    split = Split.from_dict(json.loads(json.dumps(dataset.split.to_dict())))
    assert split == dataset.split and split.kind == kind
    assert (split.n_train, split.n_val) == (dataset.n_train, dataset.n_val)
    again = load_dataset(name, data_dir=shared_data_dir, val_fraction=split.val_fraction, seed=split.seed)
    np.testing.assert_array_equal(again.y_val, dataset.y_val)
    np.testing.assert_array_equal(again.x_train, dataset.x_train)


def test_a_test_set_that_came_with_the_data_is_recorded_as_such(tmp_path):
    np.savez(tmp_path / "k.npz", x_train=np.zeros((6, 3, 3)), x_test=np.zeros((2, 3, 3)))
    assert load_dataset(tmp_path / "k.npz").split == Split("test_set", 0.2, 0, 6, 2)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"seed": None}, "split: seed must be an integer between 0 and 2,147,483,647; got None."),
        ({"extra": 1}, r"split has unknown settings \['extra'\]"),
        ({"kind": "random"}, "split: kind must be one of test_set, positional, seeded; got 'random'."),
        ({"n_val": "2"}, "split: n_val must be an integer of at least 1; got '2'."),
        ({"val_fraction": 0.95}, r"split: val_fraction must be a number in \(0, 0.9\]; got 0.95."),
    ],
)
def test_a_bad_split_dict_is_refused_naming_the_key(change, message):
    valid = Split("seeded", 0.2, 0, 8, 2).to_dict()
    with pytest.raises(ValueError, match=message):
        Split.from_dict({**valid, **change})
    with pytest.raises(ValueError, match=r"^split has no kind; it must be one of test_set, positional, seeded\.$"):
        Split.from_dict({key: value for key, value in valid.items() if key != "kind"})


@pytest.mark.parametrize(
    "data, found",
    [
        (b"not an image", ": its bytes are in neither format;"),
        (_png(np.random.default_rng(0).integers(0, 256, (40, 40), np.uint8))[:200], " (image file is truncated)"),
    ],
    ids=["not-an-image", "truncated"],
)
def test_an_unreadable_image_is_named_without_object_reprs(tmp_path, data, found):
    """Pillow names the file by the object it read from (<_io.BytesIO object at 0x7f...>); the lab names the member."""
    folder = tmp_path / "images"
    (folder / "cats").mkdir(parents=True)
    (folder / "cats" / "a.png").write_bytes(_gray(0, (40, 40)))
    (folder / "cats" / "b.png").write_bytes(data)
    for load in (
        lambda: load_dataset(folder),
        lambda: load_upload([("x.zip", _zip({"cats/a.png": _gray(0, (40, 40)), "cats/b.png": data}))]),
    ):
        with pytest.raises(DataFileError) as refusal:
            load()
        message = str(refusal.value)
        assert message.startswith(f"'cats/b.png' is not a readable PNG or JPEG image{found}")
        assert " at 0x" not in message and "<" not in message
