"""The Fréchet distance between two sets of feature vectors, each summarised by a Gaussian: the measure behind FID
(Heusel et al., 2017), here on the judge's penultimate layer instead of Inception's.

0 means the two sets have the same mean and covariance; the distance grows with the square of a shift of the mean.
It is biased upwards for small sets, so a batch is only ever compared with a real set of the same size.
"""

import numpy as np


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """features : (n >= 2, d) -> their mean (d,) and covariance (d, d), float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must be an array of shape (n >= 2, d); got shape {features.shape}.")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(features: np.ndarray, reference: tuple[np.ndarray, np.ndarray]) -> float:
    """Fréchet distance >= 0 between the Gaussian of ``features`` (n >= 2, d) and ``reference``, the (mean,
    covariance) of another set by ``feature_statistics``:
    ||mean_1 - mean_2||^2 + trace(cov_1 + cov_2 - 2 sqrt(cov_1 cov_2))."""
    mean, covariance = feature_statistics(features)
    reference_mean, reference_covariance = reference
    # trace(sqrt(C1 C2)) = trace(sqrt(R C2 R)) with R = sqrt(C1): a symmetric matrix, so its eigenvalues are real
    # and >= 0 up to rounding, also when C1 or C2 is singular (fewer images than features, a feature never active).
    values, vectors = np.linalg.eigh(covariance)
    root = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(root @ reference_covariance @ root), 0.0, None)).sum()
    shift = mean - reference_mean
    distance = shift @ shift + np.trace(covariance) + np.trace(reference_covariance) - 2 * trace_root
    return max(float(distance), 0.0)
