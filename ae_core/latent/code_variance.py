"""How much each code dimension varies over the images, and which dimensions carry nothing."""

from __future__ import annotations

import numpy as np

from ae_core.validation import Number, check

# A dimension whose variance is under 1% of the busiest one's moves codes by under a tenth of that one's spread.
UNUSED_VARIANCE_SHARE = 0.01
SHARE = Number(0.0, 1.0)


def code_variance(codes: np.ndarray) -> np.ndarray:
    """Variance of each code dimension across the images: codes (n, latent_dim) -> (latent_dim,) float32."""
    return np.asarray(codes, dtype=np.float64).var(axis=0).astype(np.float32)


def unused_dimensions(codes: np.ndarray, threshold: float = UNUSED_VARIANCE_SHARE) -> np.ndarray:
    """Code dimensions that carry almost nothing: (m,) int64 indices of those whose variance across ``codes``
    (n, latent_dim) is at most ``threshold`` (in [0, 1]) times the largest dimension's variance. All dimensions
    count as unused when every one is constant, or when the threshold is 1.
    """
    threshold = check("threshold", threshold, SHARE, "It is a share of the largest dimension's variance.")
    variance = code_variance(codes)
    return np.flatnonzero(variance <= threshold * variance.max()).astype(np.int64)


def code_spread(codes: np.ndarray) -> tuple[float, float]:
    """How far the codes (n, latent_dim) spread, whatever a map of them looks like: (total variance, the sum of
    every dimension's; the share of it on the first principal axis, in [0, 1], 1.0 when all codes lie on a line
    or coincide). A collapse shows as a total near 0 or a share near 1."""
    codes = np.asarray(codes, dtype=np.float64)
    total = float(codes.var(axis=0).sum())
    if total <= 0.0:
        return 0.0, 1.0
    singular = np.linalg.svd(codes - codes.mean(axis=0), compute_uv=False)
    return total, float(singular[0] ** 2 / (singular**2).sum())
