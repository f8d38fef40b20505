"""The image at a spot of a map: exact for PCA maps, from the mean code of the nearest mapped points for t-SNE and
UMAP, which have no inverse.
"""

from __future__ import annotations

import numpy as np

from ae_core.latent.maps import LatentMap
from ae_core.latent.nearest import nearest
from ae_core.latent.projection import Projection
from ae_core.validation import Integer, check

NOT_INVERTIBLE = (
    "t-SNE and UMAP maps have no inverse: a point on the map is decoded from the mean code of the "
    "images drawn nearest to it, which is only as good as the map is faithful there."
)


def pca_inverse(projection: Projection, points: np.ndarray) -> np.ndarray:
    """The codes (m, latent_dim) that a PCA map draws at ``points`` (m, dims) or (dims,) -> (latent_dim,).

    Exact for a point of the map: the code's part off the map's plane is the codes' mean there.
    """
    points = np.asarray(points, dtype=np.float32)
    if projection.method == "identity":
        return points.copy()
    if projection.method != "pca":
        raise ValueError(
            f"pca_inverse inverts PCA maps; this map is {projection.method}. {NOT_INVERTIBLE} Use mean_code_near."
        )
    if points.shape[-1] != projection.dims:
        raise ValueError(f"points must have {projection.dims} coordinates each; got shape {points.shape}.")
    return points @ projection.pca_components + projection.pca_mean


def mean_code_near(coords: np.ndarray, codes: np.ndarray, point: np.ndarray, k: int = 10) -> np.ndarray:
    """The mean of the codes (n, latent_dim) of the ``k`` map points (coords (n, dims)) nearest to ``point``
    (dims,) -> (latent_dim,) float32, found by ``latent.nearest.nearest``. See NOT_INVERTIBLE: an estimate, not an
    inverse.
    """
    point = np.asarray(point, dtype=np.float32)
    if point.shape != coords.shape[1:]:
        raise ValueError(f"point must have {coords.shape[1]} coordinates; got shape {point.shape}.")
    k = check("k", k, Integer(1, len(coords)), "It counts points of the map.")
    indices, _ = nearest(point[None], coords, k)  # (1, k)
    return codes[indices[0]].mean(axis=0).astype(np.float32)


EXACT_METHODS = ("pca", "identity")  # maps whose points decode exactly (pca_inverse); others decode a mean code
DECODE_NEIGHBOURS = 10  # map points whose mean code a t-SNE or UMAP spot decodes


def decode_at(model, latent_map: LatentMap, point) -> tuple[np.ndarray, bool]:
    """The image (height, width, channels) in [0, 1] decoded at ``point`` (dims,) of the map, and whether it is
    exact: a PCA map (or a code drawn as it is) is inverted; a t-SNE or UMAP map cannot be, so the mean code of the
    DECODE_NEIGHBOURS nearest points is decoded instead (see ``latent.NOT_INVERTIBLE``)."""
    from ae_core.models.architectures import decode

    projection = latent_map.projection
    point = np.asarray(point, dtype=np.float32)
    exact = projection.method in EXACT_METHODS
    if exact:
        code = pca_inverse(projection, point)
    else:
        neighbours = min(DECODE_NEIGHBOURS, len(latent_map.codes))
        code = mean_code_near(projection.coords, latent_map.codes, point, neighbours)
    return decode(model, code[None])[0], exact
