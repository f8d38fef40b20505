"""What the Reconstructions page computes beyond a RunContext's arrays: the order its images are shown in.

Only the MSE is known for the whole split (RunContext.errors), which is cheap, so it can be sorted by error at once;
PSNR and SSIM are computed for the images shown.
"""

import numpy as np

from ae_core.validation import OneOf, check

SORT_ORDERS = ("worst", "best", "dataset")


def order_by_error(errors: np.ndarray, order: str) -> np.ndarray:
    """Indices into ``errors`` (n,): "worst" (largest error first), "best" (smallest first) or "dataset" order.

    Ties keep dataset order, so the same run always shows the same images.
    """
    check("order", order, OneOf(SORT_ORDERS))
    if order == "dataset":
        return np.arange(len(errors))
    return np.argsort(-errors if order == "worst" else errors, kind="stable")
