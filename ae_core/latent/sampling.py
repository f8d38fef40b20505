"""Which images a latent map shows: validation images first, then training images, up to a limit, seeded."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ae_core.validation import Integer, check

SPLITS = ("validation", "training")
DEFAULT_SAMPLES = 5000  # a map of more points takes t-SNE and UMAP minutes and the browser seconds per redraw
LIMIT = Integer(1)  # a limit above the images mapped maps them all
SEED = Integer(0, 2**32 - 1)  # scikit-learn, openTSNE and UMAP take 32-bit seeds


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
    images in the room left (all, or a seeded sample). n_val, n_train : the images of each split (counts >= 0, as
    ``len`` gives them); pass n_train=0 or n_val=0 to map one split only.
    """
    limit = check("limit", limit, LIMIT, "It is the most images the map shows.")
    seed = check("seed", seed, SEED)
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
