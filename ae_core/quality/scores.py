"""Reconstruction quality: per-image MSE, PSNR and SSIM, and the PCA baseline at the same code size.

Needs no Keras: it compares arrays, so a model's reconstructions and PCA's are scored by the same code.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ae_core.settings.model_config import MIN_IMAGE_SIDE

SSIM_CHUNK = 1024  # images scored at once: bounds the filtered float64 copies to ~10 per chunk


@dataclass(frozen=True)
class ImageScores:
    """Per-image scores, each an ndarray of shape (n,)."""

    mse: np.ndarray
    psnr: np.ndarray  # dB; inf for a perfect reconstruction
    ssim: np.ndarray  # in [-1, 1]

    def means(self, prefix: str = "") -> dict:
        return {
            f"{prefix}mse": float(self.mse.mean()),
            # Capped at 100 dB: a perfect reconstruction's infinite PSNR would otherwise swamp the mean.
            f"{prefix}psnr": float(np.mean(np.minimum(self.psnr, 100.0))),
            f"{prefix}ssim": float(self.ssim.mean()),
        }


def _ssim_window(height: int, width: int) -> int:
    """scikit-image's default 7x7 window, shrunk (odd, at least 3: MIN_IMAGE_SIDE) for images smaller than that."""
    side = min(7, height, width)
    return side if side % 2 == 1 else side - 1


def per_image_mse(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """originals, reconstructions : (n, height, width, channels) in [0, 1] -> (n,) float64 mean squared errors;
    reconstructions are clipped to [0, 1] first, as an image can show nothing outside that range."""
    errors = originals.astype(np.float64) - np.clip(reconstructions.astype(np.float64), 0.0, 1.0)
    return np.mean(errors**2, axis=(1, 2, 3))


def score_images(originals: np.ndarray, reconstructions: np.ndarray) -> ImageScores:
    """Score ``reconstructions`` against ``originals``, both (n, height, width, channels) float in [0, 1]."""
    if originals.shape != reconstructions.shape:
        raise ValueError(
            f"originals and reconstructions must have the same shape; got {originals.shape} and "
            f"{reconstructions.shape}."
        )
    if min(originals.shape[1:3]) < MIN_IMAGE_SIDE:
        raise ValueError(
            f"SSIM needs images of at least {MIN_IMAGE_SIDE}x{MIN_IMAGE_SIDE} pixels; got "
            f"{originals.shape[1]}x{originals.shape[2]}."
        )
    mse = per_image_mse(originals, reconstructions)
    originals = originals.astype(np.float64)
    reconstructions = np.clip(reconstructions.astype(np.float64), 0.0, 1.0)
    window = _ssim_window(*originals.shape[1:3])
    with np.errstate(divide="ignore"):
        psnr = 10.0 * np.log10(1.0 / mse)  # peak_signal_noise_ratio with data_range 1; inf when identical
    ssim = np.concatenate(
        [
            _batch_ssim(originals[start : start + SSIM_CHUNK], reconstructions[start : start + SSIM_CHUNK], window)
            for start in range(0, len(originals), SSIM_CHUNK)
        ]
    )
    return ImageScores(mse=mse, psnr=psnr, ssim=ssim)


def _batch_ssim(originals: np.ndarray, reconstructions: np.ndarray, window: int) -> np.ndarray:
    """(n,) SSIM of each image pair, float64 (n, height, width, channels) in [0, 1]: scikit-image's
    structural_similarity (uniform window, sample covariance, border cropped, channels averaged) over the whole
    batch at once rather than one call per image."""
    size = (1, window, window, 1)  # filter within each image and channel
    covariance_norm = window**2 / (window**2 - 1)
    mean_x, mean_y = ndimage.uniform_filter(originals, size), ndimage.uniform_filter(reconstructions, size)
    var_x = covariance_norm * (ndimage.uniform_filter(originals * originals, size) - mean_x * mean_x)
    var_y = covariance_norm * (ndimage.uniform_filter(reconstructions * reconstructions, size) - mean_y * mean_y)
    cov_xy = covariance_norm * (ndimage.uniform_filter(originals * reconstructions, size) - mean_x * mean_y)
    c1, c2 = 0.01**2, 0.03**2  # scikit-image's K1, K2 at data_range 1
    similarity = (2 * mean_x * mean_y + c1) * (2 * cov_xy + c2) / ((mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2))
    pad = (window - 1) // 2
    return similarity[:, pad : similarity.shape[1] - pad, pad : similarity.shape[2] - pad].mean(axis=(1, 2, 3))
