"""What a compression method is scored by: the bytes an image costs at a precision or setting, and the error of its
reconstruction (one RateDistortionRow per method and setting); codes quantised to a precision and back.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np

from ae_core.applications.codecs import (  # noqa: F401 (jpeg_round_trip: part of this module's interface)
    entropy_coded,
    jpeg_files,
    jpeg_round_trip,
    jpeg_shared_tables,
    webp_round_trip,
)
from ae_core.quality.scores import score_images
from ae_core.validation import OneOf, check

BYTES_PER_NUMBER = {"float32": 4, "float16": 2, "int8": 1}
METHODS = ("autoencoder", "pca", "jpeg", "jpeg_shared_tables", "webp")
CODECS = {"jpeg": "JPEG", "jpeg_shared_tables": "JPEG with shared tables", "webp": "WebP"}  # method -> its name
ENTROPY = "int8+entropy"  # the 8-bit levels, entropy-coded
PRECISION = OneOf(tuple(BYTES_PER_NUMBER))


@dataclass(frozen=True)
class Quantiser:
    """8-bit quantisation per dimension between ``low`` and ``high``, each (dims,) float32."""

    low: np.ndarray
    high: np.ndarray

    @classmethod
    def fit(cls, values: np.ndarray) -> "Quantiser":
        """values : (n, dims), e.g. the training codes; the range is their per-dimension min and max."""
        return cls(values.min(axis=0).astype(np.float32), values.max(axis=0).astype(np.float32))

    @property
    def step(self) -> np.ndarray:
        """(dims,) the value of one level; a round trip is off by at most half of it inside the range."""
        return (self.high - self.low) / 255.0

    def encode(self, values: np.ndarray) -> np.ndarray:
        """(n, dims) float -> (n, dims) uint8 levels; values outside [low, high] are clipped."""
        span = np.where(self.high > self.low, self.high - self.low, 1.0)  # a constant dimension needs one level
        return np.round(np.clip((values - self.low) / span, 0.0, 1.0) * 255.0).astype(np.uint8)

    def decode(self, levels: np.ndarray) -> np.ndarray:
        return (self.low + levels.astype(np.float32) * self.step).astype(np.float32)


def round_trip(values: np.ndarray, precision: str, quantiser: Quantiser) -> np.ndarray:
    """``values`` (n, dims) as read back after storing them at ``precision``; float32."""
    precision = check("precision", precision, PRECISION)
    if precision == "int8":
        return quantiser.decode(quantiser.encode(values))
    return values.astype(precision).astype(np.float32)


@dataclass(frozen=True)
class RateDistortionRow:
    """One method at one setting, averaged over the images: bytes per image and MSE, PSNR (dB, capped at 100 per
    image), SSIM. compression_ratio is against 8-bit pixels; bits_per_pixel counts all channels of a pixel.
    precision : how the numbers are stored (float32, float16, int8, int8+entropy; "" for an image codec);
    shared_bytes : bytes stored once for the whole set on top of bytes_per_image (JPEG's shared tables)."""

    method: str
    setting: str
    bytes_per_image: float
    mse: float
    psnr: float
    ssim: float
    compression_ratio: float
    bits_per_pixel: float
    precision: str = ""
    shared_bytes: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def scored_row(
    method: str,
    setting: str,
    bytes_per_image: float,
    originals: np.ndarray,
    reconstructions: np.ndarray,
    precision: str = "",
    shared_bytes: float = 0.0,
    means: dict | None = None,
) -> RateDistortionRow:
    """Score ``reconstructions`` of ``originals`` (n, height, width, channels) in [0, 1] at that byte cost;
    means : their ``score_images(...).means()`` when already known (the same images at another byte cost)."""
    means = means or score_images(originals, reconstructions).means()
    pixel_bytes = math.prod(originals.shape[1:])  # one byte per 8-bit pixel value
    return RateDistortionRow(
        method,
        setting,
        float(bytes_per_image),
        means["mse"],
        means["psnr"],
        means["ssim"],
        pixel_bytes / bytes_per_image,
        8.0 * bytes_per_image / math.prod(originals.shape[1:3]),
        precision,
        float(shared_bytes),
    )
