"""How much each code dimension varies over the images, and which dimensions carry nothing."""

from __future__ import annotations

import numbers

import numpy as np

# A dimension whose variance is under 1% of the busiest one's moves codes by under a tenth of that one's spread.
UNUSED_VARIANCE_SHARE = 0.01


def code_variance(codes: np.ndarray) -> np.ndarray:
    """Variance of each code dimension across the images: codes (n, latent_dim) -> (latent_dim,) float32."""
    return np.asarray(codes, dtype=np.float64).var(axis=0).astype(np.float32)


def unused_dimensions(codes: np.ndarray, threshold: float = UNUSED_VARIANCE_SHARE) -> np.ndarray:
    """Code dimensions that carry almost nothing: (m,) int64 indices of those whose variance across ``codes``
    (n, latent_dim) is below ``threshold`` (in [0, 1)) times the largest dimension's variance. All dimensions
    count as unused when every one is constant.
    """
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a number in [0, 1), a share of the largest variance; got {threshold!r}.")
    variance = code_variance(codes)
    return np.flatnonzero(variance <= threshold * variance.max()).astype(np.int64)
