"""A drawn digit brought to a run's images: framed as the dataset's digits were, so a stroke lands where they put it."""

import numpy as np
import pytest

from ae_core.data.drawing import canvas_ink, drawing_to_image, has_ink

CANVAS = 280


def canvas(*boxes: tuple[int, int, int, int]) -> np.ndarray:
    """A black canvas (CANVAS, CANVAS, 4) uint8 with white, opaque filled boxes (top, bottom, left, right)."""
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    rgba[:, :, 3] = 255
    for top, bottom, left, right in boxes:
        rgba[top:bottom, left:right, :3] = 255
    return rgba


def ink_rows_and_columns(image: np.ndarray, share: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    ink = image[:, :, 0] > share
    return np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))


def test_a_vertical_stroke_on_digits_fills_the_height_in_the_middle_columns():
    stroke = canvas((40, 240, 20, 44))  # a tall bar near the left edge of the canvas
    image = drawing_to_image(stroke, (8, 8, 1), "digits")
    rows, columns = ink_rows_and_columns(image)
    assert image.shape == (8, 8, 1) and image.dtype == np.float32
    assert image.max() == pytest.approx(1.0) and image.min() >= 0.0
    assert rows.tolist() == list(range(8))  # optdigits scaled each digit to the frame's full height
    assert set(columns) <= {3, 4} and len(columns) >= 1  # and centred it: the bar moved from the left edge


def test_a_stroke_on_mnist_sits_in_the_20_pixel_box_centred_by_its_mass():
    stroke = canvas((40, 240, 200, 224))  # the same bar, near the right edge
    image = drawing_to_image(stroke, (28, 28, 1), "mnist")
    rows, columns = ink_rows_and_columns(image)
    assert rows.min() >= 4 and rows.max() <= 23 and rows.max() - rows.min() + 1 >= 19  # 20 pixels tall, centred
    mass = (image[:, :, 0].sum(axis=0) * np.arange(28)).sum() / image.sum()
    assert abs(mass - 13.5) <= 0.5  # MNIST's centre of mass at the centre


def test_mnist_centres_the_mass_where_digits_centre_the_box():
    # an L: a long bar and a short foot to its right, whose mass lies left of its box's centre
    shape = canvas((40, 240, 60, 84), (216, 240, 84, 240))
    by_mass = drawing_to_image(shape, (28, 28, 1), "mnist")[:, :, 0]
    by_box = drawing_to_image(shape, (8, 8, 1), "digits")[:, :, 0]
    mass_column = (by_mass.sum(axis=0) * np.arange(28)).sum() / by_mass.sum()
    assert abs(mass_column - 13.5) <= 0.5
    _, columns = ink_rows_and_columns(by_mass[:, :, None])
    assert columns.max() - 13.5 > 13.5 - columns.min()  # the box sticks out further right than left
    _, box_columns = ink_rows_and_columns(by_box[:, :, None], share=0.05)
    assert box_columns.min() == 0 and box_columns.max() == 7  # the box, as wide as tall, fills the 8 columns


def test_colour_images_get_the_grey_drawing_in_every_channel():
    image = drawing_to_image(canvas((40, 240, 120, 160)), (16, 16, 3), "my-photos")
    assert image.shape == (16, 16, 3)
    assert np.array_equal(image[:, :, 0], image[:, :, 2])


def test_a_transparent_canvas_with_light_strokes_reads_as_ink_on_black():
    rgba = np.zeros((CANVAS, CANVAS, 4), np.uint8)  # transparent, no background colour
    rgba[100:180, 130:150] = (255, 255, 255, 255)
    assert has_ink(rgba)
    assert canvas_ink(rgba)[0, 0] == 0.0 and canvas_ink(rgba)[120, 140] == 1.0


def test_a_blank_canvas_is_refused_with_what_to_do():
    assert not has_ink(canvas())
    with pytest.raises(ValueError, match="blank; draw a digit"):
        drawing_to_image(canvas(), (8, 8, 1), "digits")


def test_a_canvas_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"shape \(height, width, 4\)"):
        canvas_ink(np.zeros((10, 10, 3), np.uint8))
