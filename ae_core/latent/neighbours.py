"""A mapped image up close: its original, reconstruction and nearest neighbours in code space and in pixel space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ae_core.latent.maps import LatentMap
from ae_core.latent.nearest import nearest_others
from ae_core.latent.sampling import SPLITS
from ae_core.validation import Integer, check


@dataclass(frozen=True)
class Neighbours:
    """The k images nearest to a selected one, nearest first, the selected image itself excluded.

    latent, pixel : (k,) int64 row indices, by Euclidean distance between codes and between pixel values.
    latent_distances, pixel_distances : (k,) float32. overlap : how many images are in both lists.
    """

    latent: np.ndarray
    latent_distances: np.ndarray
    pixel: np.ndarray
    pixel_distances: np.ndarray

    @property
    def overlap(self) -> int:
        return len(np.intersect1d(self.latent, self.pixel))


def nearest_neighbours(codes: np.ndarray, images: np.ndarray, index: int, k: int = 8) -> Neighbours:
    """Neighbours of row ``index`` among codes (n, latent_dim) and among images (n, height, width, channels), by
    ``latent.nearest.nearest_others`` (ties in distance in row order)."""
    if len(codes) != len(images):
        raise ValueError(f"codes and images must have one row per image; got {len(codes)} and {len(images)}.")
    if len(codes) < 2:
        raise ValueError(f"an image needs others to have neighbours; got {len(codes)} image(s). Map more images.")
    index = check("index", index, Integer(0, len(codes) - 1), "It is a row of the map.")
    k = check("k", k, Integer(1, len(codes) - 1), "Neighbours are the other images of the map.")
    latent, latent_distances = nearest_others(codes, index, k)
    pixel, pixel_distances = nearest_others(images, index, k)
    return Neighbours(latent, latent_distances, pixel, pixel_distances)


@dataclass(frozen=True, eq=False)
class Inspection:
    """One mapped image up close. split, index : where the image comes from; label : int or None.

    original, reconstruction : (height, width, channels) in [0, 1]. neighbours : rows of the map nearest in
    latent and in pixel space; latent_images, pixel_images : their images (k, height, width, channels).
    """

    split: str
    index: int
    label: int | None
    original: np.ndarray
    reconstruction: np.ndarray
    neighbours: Neighbours
    latent_images: np.ndarray
    pixel_images: np.ndarray


def mapped_images(context, latent_map: LatentMap) -> np.ndarray:
    """The images (n, height, width, channels) of the map's rows, in row order (validation rows come first)."""
    sample = latent_map.sample
    parts = [context.images(split)[sample.indices[sample.splits == split]] for split in SPLITS]
    return np.concatenate(parts)


def inspect_row(context, latent_map: LatentMap, row: int, k: int = 8) -> Inspection:
    """Row ``row`` of the map (an index into its coords, as each point's customdata holds) and its ``k`` nearest
    neighbours among the mapped images (k is cut to the number of other images)."""
    sample = latent_map.sample
    row = check("row", row, Integer(0, len(sample.indices) - 1), "It is a point of the map; select one there.")
    images = mapped_images(context, latent_map)
    neighbours = nearest_neighbours(latent_map.codes, images, row, min(k, len(images) - 1))
    split, index = str(sample.splits[row]), int(sample.indices[row])
    label = None if latent_map.labels is None else int(latent_map.labels[row])
    return Inspection(
        split,
        index,
        label,
        images[row],
        context.reconstructions(split)[index],
        neighbours,
        images[neighbours.latent],
        images[neighbours.pixel],
    )
