"""Input corruption for denoising autoencoders and the restoration demo."""

import numpy as np

from ae_core.validation import Number, OneOf, check

NOISE_TYPES = ("gaussian", "salt_pepper", "masking")


def check_noise(noise_type: str, noise_level: float) -> None:
    """Raise ValueError unless ``noise_type`` is one of ``NOISE_TYPES`` and ``noise_level`` a number in [0, 1]."""
    check("noise_type", noise_type, OneOf(NOISE_TYPES))
    check("noise_level", noise_level, Number(0, 1))


def corrupt(images: np.ndarray, noise_type: str, noise_level: float, rng: np.random.Generator) -> np.ndarray:
    """Return a corrupted copy of ``images``.

    images : ndarray of shape (n, height, width, channels), float32 in [0, 1]
    noise_type : "gaussian" adds N(0, noise_level^2) per pixel; "salt_pepper" sets a ``noise_level`` fraction of
        pixels to 0 or 1; "masking" sets a ``noise_level`` fraction of pixels to 0.
    Returns float32 in [0, 1], same shape.
    """
    check_noise(noise_type, noise_level)
    if noise_type == "gaussian":
        noisy = images + rng.normal(0.0, noise_level, size=images.shape).astype(np.float32)
    else:
        hit = rng.random(images.shape, dtype=np.float32) < noise_level
        if noise_type == "salt_pepper":
            salt = rng.random(images.shape, dtype=np.float32) < 0.5
            noisy = np.where(hit, salt.astype(np.float32), images)
        else:
            noisy = np.where(hit, np.float32(0.0), images)
    return np.clip(noisy, 0.0, 1.0).astype(np.float32)
