"""Maps of successive epochs turned onto each other (orthogonal Procrustes), so the map over training moves only
where the codes move.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import orthogonal_procrustes
from sklearn.decomposition import PCA


def align_epoch_maps(codes_per_epoch: np.ndarray, dims: int = 2) -> np.ndarray:
    """PCA maps of each epoch's codes, turned to match the last epoch's so the axes do not jump.

    codes_per_epoch : (epochs, n, latent_dim), e.g. ``TrainingResult.map_codes``. Returns (epochs, n, dims)
    float32 (dims = latent_dim when the code has no more than ``dims`` dimensions: codes drawn as they are).
    Each epoch's map is rotated or mirrored (orthogonal Procrustes, no scaling) onto the last epoch's, so
    what moves on screen is what the model changed, not PCA's arbitrary choice of axis signs and order.
    """
    codes_per_epoch = np.asarray(codes_per_epoch, dtype=np.float32)
    if codes_per_epoch.ndim != 3 or 0 in codes_per_epoch.shape:
        raise ValueError(
            f"codes_per_epoch must have shape (epochs, n, latent_dim) with none of them 0; got "
            f"{codes_per_epoch.shape}. Runs saved before maps were recorded have no map over training."
        )
    if codes_per_epoch.shape[2] <= dims:
        return codes_per_epoch.copy()
    maps = [PCA(n_components=dims).fit_transform(codes) for codes in codes_per_epoch]
    return np.stack([align_to(maps[-1], coords) for coords in maps]).astype(np.float32)


def align_to(reference: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """``coords`` (n, dims) rotated or mirrored about their mean to lie closest to ``reference`` (n, dims)."""
    centred = coords - coords.mean(axis=0)
    rotation, _ = orthogonal_procrustes(centred, reference - reference.mean(axis=0))
    return centred @ rotation + reference.mean(axis=0)
