"""What the Reconstructions page computes: a split's reconstructions, each image's error, and their order.

Only the MSE is computed for the whole split, which is cheap, so it can be sorted by error at once; PSNR and SSIM
are computed for the images shown.
"""

import numpy as np

from ae_core.metrics import per_image_mse
from ae_core.models import reconstruct

SORT_ORDERS = ("worst", "best", "dataset")


def reconstruct_with_errors(model, images: np.ndarray, known: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """The model's reconstructions of ``images`` (same shape, in [0, 1]) and each one's MSE, shape (n,).

    known : reconstructions of these images computed earlier (e.g. ``Run.val_reconstructions``), used as they are.
    """
    reconstructions = reconstruct(model, images) if known is None else known
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
