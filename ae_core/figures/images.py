"""Composite images: images tiled into one grid, originals beside their reconstructions, enlarged for display,
encoded as PNG. Float images in [0, 1] in; float32 or uint8 arrays, or PNG bytes, out.

Nothing here imports Streamlit or Keras, so pages that only show data stay fast to load.
"""

import io
import math

import numpy as np
from PIL import Image
from skimage.util import montage

from ae_core.validation import Integer, check

PREVIEW_TILE_PIXELS = 56  # upscale small images until a tile is about this tall, so 8x8 digits stay readable


def to_uint8(images: np.ndarray) -> np.ndarray:
    """images : float in [0, 1] (values outside are clipped) -> uint8 in 0..255, same shape."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def image_grid(images: np.ndarray, rows: int, cols: int, gap: int = 1, gap_value: float = 1.0) -> np.ndarray:
    """Tile ``images`` row by row into one image, leaving unused cells at ``gap_value``.

    images : (n, height, width, channels) float in [0, 1], n <= rows * cols
    Returns (rows * height + (rows - 1) * gap, cols * width + (cols - 1) * gap, channels) float32.
    """
    n, height, width, channels = images.shape
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit a {rows}x{cols} grid; use more rows or columns.")
    # one fill value per channel: montage indexes its fill by channel and fails on a scalar with colour images
    grid = montage(
        np.asarray(images, np.float32),
        fill=(gap_value,) * channels,
        grid_shape=(rows, cols),
        padding_width=gap,
        channel_axis=-1,
    )
    # montage also pads the outer border; the grid keeps gaps between tiles only
    return grid[gap : gap + rows * (height + gap) - gap, gap : gap + cols * (width + gap) - gap]


def enlarge(picture: np.ndarray, height: int, target: int = PREVIEW_TILE_PIXELS) -> np.ndarray:
    """The one resize path for display: ``picture`` (rows, cols, channels) float in [0, 1] whose tiles are
    ``height`` pixels tall, upscaled with nearest neighbour by scale_for(height, target) so small images keep sharp
    pixels; uint8, and grey pictures lose their channel axis, as st.image expects."""
    factor = scale_for(height, target)
    picture = to_uint8(np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1))
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def scale_for(height: int, target: int = PREVIEW_TILE_PIXELS) -> int:
    """The integer upscaling factor that brings a tile of ``height`` pixels near ``target`` (at least 1)."""
    return max(1, round(target / height))


def comparison_image(originals: np.ndarray, *others: np.ndarray, target: int = PREVIEW_TILE_PIXELS) -> np.ndarray:
    """One displayable image: originals in the top row, each array in ``others`` in a row below.

    originals and each of others : (k, height, width, channels) float in [0, 1].
    Returns uint8 (rows * height * s + gaps, k * width * s + gaps) for grey images, or with a last axis of 3 for
    colour ones, upscaled by s = scale_for(height) with nearest neighbour so small images keep sharp pixels.
    """
    stacked = np.concatenate([originals, *others])  # (rows * k, height, width, channels)
    return enlarge(image_grid(stacked, rows=1 + len(others), cols=len(originals), gap=1), originals.shape[1], target)


def enlarged(image: np.ndarray, target: int = 3 * PREVIEW_TILE_PIXELS) -> np.ndarray:
    """One image (height, width, channels) in [0, 1] as uint8, about ``target`` pixels tall (see ``enlarge``)."""
    return enlarge(image, image.shape[0], target)


def grid_png(images: np.ndarray, cols: int, gap: int = 2) -> bytes:
    """PNG bytes of ``images`` (n, height, width, 1 or 3) in [0, 1] tiled ``cols`` a row (``image_grid``), ``gap``
    black pixels apart; a short last row is padded with black."""
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0 or images.shape[3] not in (1, 3):
        raise ValueError(f"images must have shape (n >= 1, height, width, 1 or 3); got {images.shape}.")
    cols = min(check("cols", cols, Integer(1, 10_000)), len(images))
    grid = to_uint8(image_grid(images, rows=math.ceil(len(images) / cols), cols=cols, gap=gap, gap_value=0.0))
    buffer = io.BytesIO()
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(buffer, format="PNG")
    return buffer.getvalue()
