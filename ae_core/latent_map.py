"""A run's latent map as the app and the command line show it: which images are mapped, their map, the figure,
the CSV export, and what a reader should check before trusting it (neighbours, unused code dimensions).
"""

from __future__ import annotations

import csv
import io
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np
import plotly.graph_objects as go

from ae_core.latent import Projection, project

SPLITS = ("validation", "training")
DEFAULT_SAMPLES = 5000  # a map of more points takes t-SNE and UMAP minutes and the browser seconds per redraw
# A dimension whose variance is under 1% of the busiest one's moves codes by under a tenth of that one's spread.
UNUSED_VARIANCE_SHARE = 0.01


@dataclass(frozen=True, eq=False)
class Sample:
    """Which images a map shows: validation images first, then training ones.

    splits : (n,) "validation" or "training" per row. indices : (n,) int64, each row's index within its split,
    ascending within each split. sampled : whether some images were left out. description : in words.
    """

    splits: np.ndarray
    indices: np.ndarray
    sampled: bool
    description: str


def sample_indices(n_val: int, n_train: int, limit: int = DEFAULT_SAMPLES, seed: int = 0) -> Sample:
    """At most ``limit`` images: all validation images if they fit, else a seeded sample of them; then training
    images in the room left (all, or a seeded sample). Pass n_train=0 or n_val=0 to map one split only.
    """
    for name, value, least in (("n_val", n_val, 0), ("n_train", n_train, 0), ("limit", limit, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}; got {value!r}.")
    rng = np.random.default_rng(seed)
    chosen, parts = [], []
    room = limit
    for split, total in (("validation", n_val), ("training", n_train)):
        take = min(total, room)
        indices = np.arange(total) if take == total else np.sort(rng.choice(total, take, replace=False))
        chosen.append((split, indices))
        room -= take
        if total:
            parts.append(f"all {total:,} {split}" if take == total else f"{take:,} of {total:,} {split}")
    sampled = limit < n_val + n_train
    description = " and ".join(parts) + " images" + (f" (a sample drawn with seed {seed})" if sampled else "")
    splits = np.concatenate([np.full(len(indices), split) for split, indices in chosen])
    return Sample(splits, np.concatenate([indices for _, indices in chosen]).astype(np.int64), sampled, description)


@dataclass(frozen=True, eq=False)
class LatentMap:
    """One map of a run's images: ``sample`` says which, labels (n,) int64 or None, codes (n, latent_dim)."""

    sample: Sample
    labels: np.ndarray | None
    codes: np.ndarray
    projection: Projection

    def csv(self) -> str:
        return latent_csv(self.sample.indices, self.sample.splits, self.labels, self.projection.coords,
                          self.codes)


def latent_map(codes: dict[str, np.ndarray], labels: dict[str, np.ndarray | None], method: str, dims: int = 2,
               samples: int = DEFAULT_SAMPLES, seed: int = 0,
               callback: Callable[[int, np.ndarray], None] | None = None, **params) -> LatentMap:
    """Map up to ``samples`` images of the splits in ``codes`` ("validation" and/or "training" -> (n, latent_dim)).

    labels : the same keys -> (n,) int64, or None for unlabeled data. The sample is drawn with ``seed`` (see
    sample_indices), which also seeds the projection; method, dims, callback and params as in ``project``.
    """
    if not codes or set(codes) - set(SPLITS):
        raise ValueError(f"codes must map one or both of {', '.join(SPLITS)} to arrays; got {sorted(codes)}.")
    empty = np.zeros((0, next(iter(codes.values())).shape[1]), np.float32)  # a split not mapped
    val_codes, train_codes = codes.get("validation", empty), codes.get("training", empty)
    sample = sample_indices(len(val_codes), len(train_codes), samples, seed)
    is_val = sample.splits == "validation"
    mapped = np.concatenate([val_codes[sample.indices[is_val]], train_codes[sample.indices[~is_val]]])
    mapped_labels = None
    if all(labels.get(split) is not None for split in codes):
        parts = [labels[split][sample.indices[sample.splits == split]] for split in SPLITS if split in codes]
        mapped_labels = np.concatenate(parts).astype(np.int64)
    projection = project(mapped, method, dims, seed, callback, **params)
    return LatentMap(sample, mapped_labels, mapped, projection)


def run_latent_map(context, split: str, method: str, dims: int = 2, samples: int = DEFAULT_SAMPLES, seed: int = 0,
                   callback: Callable[[int, np.ndarray], None] | None = None, **params) -> LatentMap:
    """The map of a run's images, as the app and the command line draw it.

    context : an ``ae_core.context.RunContext`` (its codes and labels per split are computed once per run).
    split : "validation", "training" or "all" (validation first, then training). Other arguments as in latent_map.
    """
    if split not in (*SPLITS, "all"):
        raise ValueError(f"split must be one of {', '.join(SPLITS)} or all; got {split!r}.")
    chosen = SPLITS if split == "all" else (split,)
    return latent_map({name: context.codes(name) for name in chosen}, {name: context.labels(name) for name in chosen},
                      method, dims, samples, seed, callback, **params)


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
        raise ValueError(f"index must be in [0, {len(codes)}) and k in [1, {len(codes) - 1}]; got index {index}, "
                         f"k {k}.")
    latent, latent_distances = _nearest(codes.reshape(len(codes), -1), index, k)
    pixel, pixel_distances = _nearest(images.reshape(len(images), -1), index, k)
    return Neighbours(latent, latent_distances, pixel, pixel_distances)


def _nearest(vectors: np.ndarray, index: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    distances = np.linalg.norm(vectors - vectors[index], axis=1).astype(np.float32)
    distances[index] = np.inf  # the image itself; an exact duplicate elsewhere still counts as a neighbour
    nearest = np.argpartition(distances, k - 1)[:k]
    nearest = nearest[np.argsort(distances[nearest], kind="stable")]
    return nearest.astype(np.int64), distances[nearest]


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


def latent_figure(coords: np.ndarray, labels: np.ndarray | None, class_names: tuple[str, ...] = (),
                  dims: int = 2, title: str = "") -> go.Figure:
    """Points coloured by label: Scattergl for 2-D, Scatter3d for 3-D, one trace per class.

    coords : (n, 2 or 3); labels : (n,) int indices into class_names (names default to the numbers), or None.
    Each point's customdata is its row in ``coords``, so a page maps a selection back to its image.
    """
    dims = min(dims, coords.shape[1])
    rows = np.arange(len(coords))
    groups = [(None, rows)] if labels is None else [(label, rows[labels == label]) for label in np.unique(labels)]
    figure = go.Figure()
    for label, members in groups:
        name = "codes" if label is None else (class_names[label] if label < len(class_names) else str(label))
        common = {"name": name, "mode": "markers", "customdata": members,
                  "hovertemplate": f"{name}<br>image %{{customdata}}<extra></extra>"}
        if dims == 3:
            x, y, z = coords[members].T
            figure.add_trace(go.Scatter3d(x=x, y=y, z=z, marker={"size": 2}, **common))
        else:
            x, y = coords[members, 0], coords[members, 1]
            figure.add_trace(go.Scattergl(x=x, y=y, marker={"size": 4, "opacity": 0.8}, **common))
    figure.update_layout(title=title, legend={"itemsizing": "constant"}, margin={"l": 0, "r": 0, "t": 40, "b": 0},
                         dragmode="lasso" if dims == 2 else "orbit")
    return figure


def latent_csv(indices: np.ndarray, splits: np.ndarray, labels: np.ndarray | None, coords: np.ndarray,
               codes: np.ndarray) -> str:
    """CSV with a header and one row per image: index, split, label (empty when unlabeled), x, y[, z],
    code_0 ... code_{d-1}. indices, splits, labels : (n,); coords (n, 2 or 3); codes (n, d)."""
    axes = ["x", "y", "z"][: coords.shape[1]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "split", "label", *axes, *(f"code_{i}" for i in range(codes.shape[1]))])
    for row in range(len(indices)):
        label = "" if labels is None else int(labels[row])
        writer.writerow([int(indices[row]), splits[row], label, *(f"{value:.6g}" for value in coords[row]),
                         *(f"{value:.6g}" for value in codes[row])])
    return buffer.getvalue()
