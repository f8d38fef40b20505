"""The classical codecs the autoencoder's code is compared with, and a lossless coder for quantised values.

- JPEG as whole files: each image's own file, quantisation and Huffman tables included (Huffman tables optimised
  per image).
- JPEG with shared tables: one tables-only stream for the whole set (Pillow's ``streamtype=1``) and, per image, the
  abbreviated stream that holds no tables (``streamtype=2``); the standard Huffman tables, so one set serves every
  image. An image is read back from the tables followed by its own stream.
- WebP: each image's own file, as Pillow writes it.
- Lossless coding of 8-bit levels (n, dims): LZMA over the levels laid out dimension by dimension, one stream for
  the set; the bytes per image are that stream's length over n.

Every function takes images (n, height, width, 1 or 3) float in [0, 1] and returns the decoded images in the same
layout, float32, and byte counts.
"""

import io
import lzma
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ae_core.figures.images import to_uint8
from ae_core.validation import Integer, check

QUALITY = Integer(1, 95)  # Pillow's scale for JPEG and WebP; above 95 JPEG only grows the file
QUALITY_HINT = "It is JPEG's quality, from 1 (smallest file) to 95 (best image)."
JPEG_BLOCK = 8  # JPEG codes 8x8 blocks; a grey image's blocks are coded independently of each other
# no literal context (lc, lp, pb 0): the levels are numbers, not text; a small window is all a set of codes needs
LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 6, "dict_size": 1 << 20, "lc": 0, "lp": 0, "pb": 0}]


@dataclass(frozen=True)
class Coded:
    """decoded : (n, height, width, channels) float32 in [0, 1]; bytes_per_image : the mean of each image's own
    stream; shared_bytes : bytes stored once for the whole set (JPEG's shared tables), 0 when none."""

    decoded: np.ndarray
    bytes_per_image: float
    shared_bytes: int = 0


def _pillow_image(pixels: np.ndarray) -> Image.Image:
    """pixels (height, width, 1 or 3) uint8 -> a grey or RGB Pillow image."""
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def _encoded(pixels: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    _pillow_image(pixels).save(buffer, **options)
    return buffer.getvalue()


def _read(stream: bytes, shape: tuple[int, ...]) -> np.ndarray:
    image = Image.open(io.BytesIO(stream))
    return np.asarray(image.convert("L" if shape[-1] == 1 else "RGB")).reshape(shape)


def jpeg_files(images: np.ndarray, quality: int) -> Coded:
    """images through JPEG files at ``quality`` (1..95), each with its own tables; bytes_per_image : the mean file
    size."""
    quality = check("quality", quality, QUALITY, QUALITY_HINT)
    files = [_encoded(pixels, format="JPEG", quality=quality, optimize=True) for pixels in to_uint8(images)]
    # optimised Huffman tables change the bytes, never the pixels: the blocks decode as with the standard tables
    return Coded(jpeg_decoded(images, quality), float(np.mean([len(file) for file in files])))


def jpeg_round_trip(images: np.ndarray, quality: int) -> tuple[np.ndarray, float]:
    """``jpeg_files`` as (decoded images, mean file bytes per image)."""
    coded = jpeg_files(images, quality)
    return coded.decoded, coded.bytes_per_image


def jpeg_shared_tables(images: np.ndarray, quality: int) -> Coded:
    """images through JPEG at ``quality`` with one set of tables for all: bytes_per_image counts each image's
    abbreviated stream, shared_bytes the tables once."""
    quality = check("quality", quality, QUALITY, QUALITY_HINT)
    pixels = to_uint8(images)
    tables = _encoded(pixels[0], format="JPEG", quality=quality, streamtype=1)
    streams = [_encoded(image, format="JPEG", quality=quality, streamtype=2) for image in pixels]
    return Coded(jpeg_decoded(images, quality), float(np.mean([len(stream) for stream in streams])), len(tables))


def jpeg_decoded(images: np.ndarray, quality: int) -> np.ndarray:
    """What JPEG at ``quality`` gives back for each image, float32 in [0, 1]. Grey images are decoded in one go: each
    is padded to whole 8x8 blocks by repeating its last row and column, as the encoder does, and the padded images
    are tiled into one picture, so every block is the block that image's own file holds."""
    pixels = to_uint8(images)
    n, height, width, channels = pixels.shape
    if channels != 1:
        files = [_encoded(image, format="JPEG", quality=quality) for image in pixels]
        return np.stack([_read(file, pixels.shape[1:]) for file in files]).astype(np.float32) / 255.0
    tall, wide = -(-height // JPEG_BLOCK) * JPEG_BLOCK, -(-width // JPEG_BLOCK) * JPEG_BLOCK
    padded = np.pad(pixels[..., 0], ((0, 0), (0, tall - height), (0, wide - width)), mode="edge")  # (n, tall, wide)
    columns = int(np.ceil(np.sqrt(n)))
    rows = -(-n // columns)
    padded = np.concatenate([padded, np.zeros((rows * columns - n, tall, wide), np.uint8)])
    mosaic = padded.reshape(rows, columns, tall, wide).transpose(0, 2, 1, 3).reshape(rows * tall, columns * wide)
    decoded = _read(_encoded(mosaic[..., None], format="JPEG", quality=quality), (rows * tall, columns * wide, 1))
    tiles = decoded[..., 0].reshape(rows, tall, columns, wide).transpose(0, 2, 1, 3).reshape(-1, tall, wide)
    return tiles[:n, :height, :width, None].astype(np.float32) / 255.0


def webp_round_trip(images: np.ndarray, quality: int) -> Coded:
    """images through lossy WebP files at ``quality`` (1..95); bytes_per_image : the mean file size."""
    quality = check("quality", quality, QUALITY, QUALITY_HINT)
    pixels = to_uint8(images)
    files = [_encoded(image, format="WEBP", quality=quality) for image in pixels]
    decoded = np.stack([_read(file, pixels.shape[1:]) for file in files]).astype(np.float32) / 255.0
    return Coded(decoded, float(np.mean([len(file) for file in files])))


def entropy_coded(levels: np.ndarray) -> tuple[float, np.ndarray]:
    """levels (n, dims) uint8 -> (bytes per image of the set's LZMA stream, the levels read back from it).

    The levels are laid out dimension by dimension, so each dimension's values sit together. A stream longer than
    the levels themselves is never kept: the levels are then stored as they are, at their fixed width."""
    n, dims = levels.shape
    raw = np.ascontiguousarray(levels.T).tobytes()  # (dims, n): each dimension's levels in a row
    packed = lzma.compress(raw, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS)
    if len(packed) >= len(raw):
        return float(dims), levels.copy()
    restored = np.frombuffer(lzma.decompress(packed, format=lzma.FORMAT_RAW, filters=LZMA_FILTERS), np.uint8)
    return len(packed) / n, restored.reshape(dims, n).T
