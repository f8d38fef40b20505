"""A mapped image up close: its original, reconstruction and nearest neighbours in code space and in pixel space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ae_core.latent.maps import LatentMap
from ae_core.latent.sampling import SPLITS


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
    """Neighbours of row ``index`` among codes (n, latent_dim) and among images (n, height, width, channels)."""
    if len(codes) != len(images):
        raise ValueError(f"codes and images must have one row per image; got {len(codes)} and {len(images)}.")
    if not 0 <= index < len(codes) or not 1 <= k < len(codes):
        raise ValueError(
            f"index must be in [0, {len(codes)}) and k in [1, {len(codes) - 1}]; got index {index}, k {k}."
        )
    latent, latent_distances = _nearest(codes.reshape(len(codes), -1), index, k)
    pixel, pixel_distances = _nearest(images.reshape(len(images), -1), index, k)
    return Neighbours(latent, latent_distances, pixel, pixel_distances)


def _nearest(vectors: np.ndarray, index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    distances = np.linalg.norm(vectors - vectors[index], axis=1).astype(np.float32)
    distances[index] = np.inf  # the image itself; an exact duplicate elsewhere still counts as a neighbour
    nearest = np.argpartition(distances, k - 1)[:k]
    nearest = nearest[np.argsort(distances[nearest], kind="stable")]
    return nearest.astype(np.int64), distances[nearest]


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
    if not 0 <= row < len(sample.indices):
        raise ValueError(
            f"row must be in [0, {len(sample.indices)}), a point of the map; got {row}. Select a point on the map."
        )
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
