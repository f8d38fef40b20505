"""What a run makes of a digit someone drew: its reconstruction and error, its place on a latent map, its nearest
training images, and whether the run's anomaly threshold would flag it."""

from dataclasses import dataclass

import numpy as np

from ae_core.applications.anomaly import anomaly_report
from ae_core.latent.decoding import DECODE_NEIGHBOURS, EXACT_METHODS
from ae_core.latent.maps import LatentMap
from ae_core.latent.nearest import nearest
from ae_core.models.architectures import decode, encode
from ae_core.quality.scores import per_image_mse

NEAREST_IMAGES = 8


@dataclass(frozen=True)
class DrawnDigit:
    """image, reconstruction : (height, width, channels) in [0, 1]; error : their MSE; error_share : the share of
    validation images the run rebuilds better; map_point : (dims,) on the map, exact for PCA maps, else the mean
    place of the DECODE_NEIGHBOURS nearest codes; nearest : (NEAREST_IMAGES,) training-image indices, nearest code
    first; threshold and flagged : the run's anomaly threshold and whether the error passes it, None for a run
    trained on every class, which has none."""

    image: np.ndarray
    reconstruction: np.ndarray
    error: float
    error_share: float
    map_point: np.ndarray
    map_point_exact: bool
    nearest: np.ndarray
    threshold: float | None
    flagged: bool | None


def inspect_drawing(context, image: np.ndarray, latent_map: LatentMap) -> DrawnDigit:
    """``image`` (height, width, channels) float32 in [0, 1], the run's shape (``data.drawing.drawing_to_image``),
    seen through ``context``'s run, placed on ``latent_map`` (one of the same run's maps)."""
    model = context.run.model
    code = encode(model, image[None])  # (1, latent_dim)
    reconstruction = decode(model, code)[0]
    error = float(per_image_mse(image[None], reconstruction[None])[0])
    point, exact = _map_point(latent_map, code[0])
    indices, _ = nearest(code, context.codes("training"), min(NEAREST_IMAGES, len(context.codes("training"))))
    threshold = anomaly_report(context).threshold if context.run.excluded_class is not None else None
    return DrawnDigit(
        image=image,
        reconstruction=reconstruction,
        error=error,
        error_share=float(np.mean(context.errors("validation") < error)),
        map_point=point,
        map_point_exact=exact,
        nearest=indices[0],
        threshold=threshold,
        flagged=None if threshold is None else error > threshold,
    )


def _map_point(latent_map: LatentMap, code: np.ndarray) -> tuple[np.ndarray, bool]:
    """Where ``code`` (latent_dim,) lies on the map, and whether exactly: a PCA map projects it; a t-SNE or UMAP map
    cannot place a new code, so it goes to the mean place of the codes nearest to it."""
    projection = latent_map.projection
    if projection.method == "pca":
        return ((code - projection.pca_mean) @ projection.pca_components.T).astype(np.float32), True
    if projection.method in EXACT_METHODS:  # "identity": the codes are drawn as they are
        return code[: projection.dims].astype(np.float32), True
    indices, _ = nearest(code[None], latent_map.codes, min(DECODE_NEIGHBOURS, len(latent_map.codes)))
    return projection.coords[indices[0]].mean(axis=0).astype(np.float32), False
