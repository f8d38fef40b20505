"""A digit drawn on a canvas, brought to a run's images the way the built-in datasets' digits were made, so a model
sees it as it saw its training images.

- scikit-learn's digits (UCI optdigits): each digit's bounding box was scaled to fill the frame's height (a wide
  digit its width), centred, then counted in 4x4 blocks: 8x8 images whose top and bottom rows hold ink.
- MNIST and Fashion-MNIST, and any other image set: the bounding box scaled so its longer side is 20 of 28 pixels,
  then placed so its centre of mass sits at the image's centre (LeCun et al.'s description of MNIST).

The canvas draws light strokes on a dark or transparent background, as the datasets' images are (ink near 1 on 0).
"""

from dataclasses import dataclass

import numpy as np

from ae_core.data.common import resize_images

INK = 0.1  # a pixel with at least this share of the drawing's brightest ink counts toward its bounding box


@dataclass(frozen=True)
class Framing:
    """Where a digit goes in its image: ``box_share`` of the shorter side for the bounding box's longer side, and
    whether the box's centre of mass (else the box itself) is centred."""

    box_share: float
    by_mass: bool


FRAMINGS = {"digits": Framing(1.0, by_mass=False)}
DEFAULT_FRAMING = Framing(20 / 28, by_mass=True)  # MNIST's, for every other image set


def canvas_ink(rgba: np.ndarray) -> np.ndarray:
    """rgba : (height, width, 4) uint8, the canvas as drawn -> (height, width) float32 in [0, 1]: each pixel's
    brightness times its opacity, so a transparent or black background is 0 and a white stroke 1."""
    pixels = np.asarray(rgba, np.float32) / 255.0
    if pixels.ndim != 3 or pixels.shape[2] != 4:
        raise ValueError(f"rgba must be a canvas image of shape (height, width, 4); got shape {pixels.shape}.")
    return pixels[:, :, :3].max(axis=2) * pixels[:, :, 3]


def has_ink(rgba: np.ndarray) -> bool:
    """Whether anything has been drawn on the canvas."""
    return bool(canvas_ink(rgba).max() > INK)


def drawing_to_image(rgba: np.ndarray, image_shape: tuple[int, int, int], dataset_name: str) -> np.ndarray:
    """The canvas ``rgba`` (height, width, 4) uint8 as one of ``dataset_name``'s images of ``image_shape``
    (height, width, channels): (height, width, channels) float32 in [0, 1], its brightest pixel 1, framed as
    FRAMINGS says (DEFAULT_FRAMING for datasets not named there). ValueError for a blank canvas."""
    ink = canvas_ink(rgba)
    if ink.max() <= INK:
        raise ValueError("the canvas is blank; draw a digit on it first.")
    rows, cols = np.nonzero(ink > INK * ink.max())
    ink = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]  # the bounding box
    side = max(ink.shape)
    square = np.zeros((side, side), np.float32)  # the box, centred in a square, keeps its aspect ratio when scaled
    top, left = (side - ink.shape[0]) // 2, (side - ink.shape[1]) // 2
    square[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    height, width, channels = image_shape
    framing = FRAMINGS.get(dataset_name, DEFAULT_FRAMING)
    box = max(1, round(framing.box_share * min(height, width)))
    digit = resize_images(square[None, :, :, None], (box, box))[0, :, :, 0]  # (box, box)
    image = np.zeros((height, width), np.float32)
    top, left = _placement(digit, (height, width), framing.by_mass)
    image[top : top + box, left : left + box] = digit
    image = np.clip(image / image.max(), 0.0, 1.0)
    return np.repeat(image[:, :, None], channels, axis=2)


def _placement(digit: np.ndarray, size: tuple[int, int], by_mass: bool) -> tuple[int, int]:
    """The top-left corner of ``digit`` (box, box) in an image of ``size``: centred as a box, or by its centre of
    mass, shifted by whole pixels and kept inside the image."""
    box = digit.shape[0]
    corner = [(size[0] - box) / 2, (size[1] - box) / 2]
    if by_mass:
        weights = digit / digit.sum()
        mass = [float(weights.sum(axis=1 - axis) @ np.arange(box)) for axis in (0, 1)]  # (row, column)
        corner = [(size[axis] - 1) / 2 - mass[axis] for axis in (0, 1)]
    return tuple(int(min(max(round(corner[axis]), 0), size[axis] - box)) for axis in (0, 1))
