"""Images are read as they are meant to be seen: 16-bit greyscale over its full range, transparency composited
onto white, EXIF orientation applied; and the one resize is Pillow's bilinear filter, checked against Pillow and
scikit-image."""

import io
import zipfile

import numpy as np
import pytest
import skimage.transform
from PIL import Image

from ae_core.data import load_upload
from ae_core.data.common import resize_images


def _encoded(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def _upload(members: dict[str, bytes]):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return load_upload([("images.zip", buffer.getvalue())], val_fraction=0.5)


def _all_images(dataset) -> np.ndarray:
    return np.concatenate([dataset.x_train, dataset.x_val])


def test_16_bit_greyscale_keeps_its_levels():
    levels = (np.arange(256, dtype=np.uint16) * 257).reshape(16, 16)  # 0..65535 in 256 steps
    png = _encoded(Image.fromarray(levels))
    assert Image.open(io.BytesIO(png)).mode == "I;16"
    dataset = _upload({"a.png": png, "b.png": png})
    assert dataset.image_shape == (16, 16, 1)
    np.testing.assert_allclose(dataset.x_train[0, :, :, 0], levels / 65535, atol=1e-6)
    assert len(np.unique(dataset.x_train)) == 256


def test_transparency_is_composited_onto_white():
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[...] = (200, 50, 0, 255)
    pixels[:, 2:, 3] = 128  # right half half transparent
    png = _encoded(Image.fromarray(pixels, "RGBA"))
    dataset = _upload({"a.png": png, "b.png": png})
    colour, alpha = np.array([200, 50, 0]) / 255, 128 / 255
    image = dataset.x_train[0]
    np.testing.assert_allclose(image[:, :2], np.broadcast_to(colour, (4, 2, 3)), atol=1e-6)
    np.testing.assert_allclose(image[:, 2:], np.broadcast_to(colour * alpha + 1 - alpha, (4, 2, 3)), atol=1e-6)
    assert any("composited 2 images with transparency onto a white background" in note for note in dataset.notes)


def test_exif_orientation_is_applied():
    pixels = np.zeros((8, 16), np.uint8)
    pixels[:, 8:] = 255  # stored wide: black left half, white right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    jpeg = _encoded(Image.fromarray(pixels), "JPEG", quality=95, exif=exif)
    dataset = _upload({"a.jpg": jpeg, "b.jpg": jpeg})
    assert dataset.image_shape == (16, 8, 1)  # shown tall: black top half, white bottom half
    np.testing.assert_allclose(dataset.x_train[0, :, :, 0], np.rot90(pixels, k=-1) / 255, atol=0.05)


@pytest.mark.parametrize("size", [(5, 7), (30, 40), (13, 4)])
def test_resize_is_pillows_bilinear_filter_on_each_channel_of_each_image(size):
    images = np.random.default_rng(0).uniform(0, 1, (2, 13, 17, 3)).astype(np.float32)
    resized = resize_images(images, size)
    assert resized.shape == (2, *size, 3) and resized.dtype == np.float32
    assert resized.min() >= 0 and resized.max() <= 1
    for i in range(2):
        for channel in range(3):
            plane = Image.fromarray(images[i, :, :, channel]).resize(size[::-1], Image.Resampling.BILINEAR)
            np.testing.assert_allclose(resized[i, :, :, channel], np.asarray(plane), atol=1e-6)


@pytest.mark.parametrize("size", [(15, 24), (7, 11)])
def test_enlarging_agrees_with_scikit_images_bilinear_resize(size):
    """An independent implementation: scikit-image interpolates at the same pixel centres, edges repeated."""
    images = np.random.default_rng(1).uniform(0, 1, (2, 5, 6, 3)).astype(np.float32)
    expected = skimage.transform.resize(images, (2, *size, 3), order=1, mode="edge", anti_aliasing=False)
    np.testing.assert_allclose(resize_images(images, size), expected, atol=1e-5)


def test_shrinking_counts_every_source_pixel():
    """A one-pixel checkerboard halved is flat grey inside: a filter that sampled only some pixels (nearest, or
    bilinear not widened when shrinking) would give black and white stripes or a single colour."""
    board = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float32)[np.newaxis, ..., np.newaxis]
    halved = resize_images(board, (8, 8))
    np.testing.assert_allclose(halved[0, 1:-1, 1:-1, 0], 0.5, atol=1e-6)
