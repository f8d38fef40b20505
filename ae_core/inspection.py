"""What the Reconstructions page computes: a split's reconstructions, each image's error, and their order.

Per-image MSE matches ``metrics.score_images`` (reconstructions clipped to [0, 1], float64), but is vectorised,
so a whole split can be sorted by error at once; PSNR and SSIM are only computed for the images shown.
"""

import numpy as np

from ae_core.models import reconstruct

SORT_ORDERS = ("worst", "best", "dataset")


def per_image_mse(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """originals, reconstructions : (n, height, width, channels) in [0, 1] -> (n,) float64 mean squared errors."""
    errors = originals.astype(np.float64) - np.clip(reconstructions.astype(np.float64), 0.0, 1.0)
    return np.mean(errors**2, axis=(1, 2, 3))


def reconstruct_with_errors(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's reconstructions of ``images`` (same shape, in [0, 1]) and each one's MSE, shape (n,)."""
    reconstructions = reconstruct(model, images)
    return reconstructions, per_image_mse(images, reconstructions)


def order_by_error(errors: np.ndarray, order: str) -> np.ndarray:
    """Indices into ``errors`` (n,): "worst" (largest error first), "best" (smallest first) or "dataset" order.

    Ties keep dataset order, so the same run always shows the same images.
    """
    if order not in SORT_ORDERS:
        raise ValueError(f"order must be one of {', '.join(SORT_ORDERS)}; got {order!r}.")
    if order == "dataset":
        return np.arange(len(errors))
    return np.argsort(-errors if order == "worst" else errors, kind="stable")
