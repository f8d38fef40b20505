"""A run's latent map as the app and the command line show it: which images are mapped, their map, the figure,
the CSV export, and what a reader should check before trusting it (neighbours, unused code dimensions).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ae_core.latent.alignment import align_epoch_maps
from ae_core.latent.export import latent_csv
from ae_core.latent.projection import Projection, map_trustworthiness, project
from ae_core.latent.sampling import DEFAULT_SAMPLES, SPLITS, Sample, sample_indices
from ae_core.validation import OneOf, check

SPLIT_CHOICE = OneOf((*SPLITS, "all"))  # the splits run_latent_map maps
# What one map may cost a shared server. t-SNE's cost grows with the images, the iterations and its 3 x perplexity
# neighbours: at the maximums below, a map of 5,000 codes takes about five times the CPU of the default map
# (bench/heavy_maps.py). Maps of more images than HEAVY_MAP_IMAGES by t-SNE or UMAP wait for a turn in the app.
HEAVY_METHODS = ("tsne", "umap")
HEAVY_MAP_IMAGES = 2_000
MAX_HEAVY_MAP_IMAGES = 5_000
MAX_TSNE_ITERATIONS = 500
MAX_TSNE_PERPLEXITY = 50.0
MAX_UMAP_NEIGHBOURS = 100  # the top of umap-learn's own advice (2 to 100); its cost grows with them


def is_heavy_map(method: str, samples: int) -> bool:
    """Whether a map of ``samples`` images by ``method`` is heavy: t-SNE or UMAP of more than HEAVY_MAP_IMAGES."""
    return method in HEAVY_METHODS and samples > HEAVY_MAP_IMAGES


@dataclass(frozen=True, eq=False)
class LatentMap:
    """One map of a run's images: ``sample`` says which, labels (n,) int64 or None, codes (n, latent_dim)."""

    sample: Sample
    labels: np.ndarray | None
    codes: np.ndarray
    projection: Projection

    def csv(self) -> str:
        return latent_csv(self.sample.indices, self.sample.splits, self.labels, self.projection.coords, self.codes)


def latent_map(
    codes: dict[str, np.ndarray],
    labels: dict[str, np.ndarray | None],
    method: str,
    dims: int = 2,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    callback: Callable[[int, np.ndarray, np.ndarray | None], None] | None = None,
    **params,
) -> LatentMap:
    """Map up to ``samples`` images of the splits in ``codes`` ("validation" and/or "training" -> (n, latent_dim)).

    labels : the same keys -> (n,) int64, or None for unlabeled data. The sample is drawn with ``seed`` (see
    sample_indices), which also seeds the projection; method, dims and params as in ``project``.
    callback(iteration, coords (n, dims), labels (n,) or None) : called as ``project`` calls its own, with the
    mapped images' labels, so a caller can colour the map as it settles.
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
    report = None if callback is None else (lambda iteration, coords: callback(iteration, coords, mapped_labels))
    projection = project(mapped, method, dims, seed, report, **params)
    return LatentMap(sample, mapped_labels, mapped, projection)


def run_latent_map(
    context,
    split: str,
    method: str,
    dims: int = 2,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    callback: Callable[[int, np.ndarray, np.ndarray | None], None] | None = None,
    **params,
) -> LatentMap:
    """The map of a run's images, as the app and the command line draw it.

    context : an ``ae_core.runs.context.RunContext`` (its codes and labels per split are computed once per run).
    split : "validation", "training" or "all" (validation first, then training). Other arguments as in latent_map.
    """
    split = check("split", split, SPLIT_CHOICE)
    chosen = SPLITS if split == "all" else (split,)
    return latent_map(
        {name: context.codes(name) for name in chosen},
        {name: context.labels(name) for name in chosen},
        method,
        dims,
        samples,
        seed,
        callback,
        **params,
    )


def run_map(
    context,
    method: str,
    dims: int = 2,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    callback: Callable[[int, np.ndarray, np.ndarray | None], None] | None = None,
    **params,
) -> LatentMap:
    """The map of up to ``samples`` of the run's images (validation first, then training), computed once per run
    and parameters through ``context`` (an ``ae_core.runs.context.RunContext``); arguments as in
    ``latent_map.latent_map``. The callback is called only while the map is being computed."""
    return context.cached(
        map_key(method, dims, samples, seed, **params),
        lambda: run_latent_map(context, "all", method, dims, samples, seed, callback, **params),
    )


def map_key(method: str, dims: int = 2, samples: int = DEFAULT_SAMPLES, seed: int = 0, **params) -> tuple:
    """The key under which ``run_map`` keeps a map in the run's context."""
    return ("latent_map", method, dims, samples, seed, tuple(sorted(params.items())))


def default_run_map(context) -> LatentMap:
    """The map the page opens on: PCA in 2-D of the default sample (computed once; e.g. when training ends)."""
    return run_map(context, "pca")


def training_maps(context) -> tuple[np.ndarray, np.ndarray | None]:
    """The 2-D maps of the codes recorded after every epoch (``TrainingResult.map_codes``), turned to match the
    last epoch's (``latent.align_epoch_maps``): (epochs, n_map, 2), with the labels (n_map,) of the first n_map
    validation images they belong to, or None. ValueError for a run that recorded none."""
    maps = context.cached(("training_maps",), lambda: align_epoch_maps(context.run.result.map_codes))
    labels = context.labels("validation")
    return maps, None if labels is None else labels[: maps.shape[1]]


def epoch_trustworthiness(context, epoch: int) -> tuple[float, int, int]:
    """``latent.map_trustworthiness`` (score, codes used, neighbours) of the map after ``epoch`` (1-based) of
    ``training_maps``, against the codes recorded then."""
    maps, _ = training_maps(context)
    codes = context.run.result.map_codes[epoch - 1]
    return context.cached(("epoch_trustworthiness", epoch), lambda: map_trustworthiness(codes, maps[epoch - 1]))
