"""One run with the dataset it was trained on, and every array derived from them, each computed once.

The pages and the command line look at a trained model through the same things: the run, its dataset on the run's
own split, the codes and reconstructions of each split, and what is computed from those (projections, fitted
samplers, classifier scores). A ``RunContext`` holds them, memoised per run and parameters; ``context_for`` keeps
the context on the run itself, so a second page or a second look costs nothing, and the arrays go when the run
goes.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections import OrderedDict
from typing import Callable, TypeVar

import numpy as np

from ae_core.data import Dataset, load_dataset
from ae_core.models.architectures import decode, encode
from ae_core.quality.scores import per_image_mse
from ae_core.runs.run import training_images
from ae_core.validation import OneOf, check

SPLITS = ("validation", "training")
MAX_DERIVED = 32  # derived results (projections, samplers, ...) kept per run beyond its codes and reconstructions
T = TypeVar("T")
_BASE_ARRAYS = ("codes", "reconstructions", "errors")


def dataset_for(run, data_dir: str | os.PathLike | None = None, allow_download: bool = True) -> Dataset:
    """The run's built-in dataset or data file, loaded with the split the run was trained on.

    Raises ValueError when the data no longer gives that split (another number of images), so scores are never
    computed on images the model was trained on.
    """
    split = run.split or {}
    dataset = load_dataset(
        run.dataset_name,
        data_dir=data_dir,
        allow_download=allow_download,
        val_fraction=split.get("val_fraction", 0.2),
        seed=split.get("seed", 0),
    )
    check_dataset(run, dataset)
    return dataset


def check_dataset(run, dataset: Dataset) -> None:
    """ValueError unless ``dataset`` has the run's image shape and, when the run recorded them, its split sizes and
    the content hash of its images (data of the same name and size but other images is refused, naming both)."""
    if dataset.image_shape != run.image_shape:
        raise ValueError(
            f"{run.dataset_name} holds {dataset.image_shape} images but run {run.name} was trained on "
            f"{run.image_shape}; load the data the run was trained on."
        )
    expected = (run.split or {}).get("n_train"), (run.split or {}).get("n_val")
    if None not in expected and expected != (dataset.n_train, dataset.n_val):
        raise ValueError(
            f"run {run.name} was trained on a split of {expected[0]:,} training and {expected[1]:,} "
            f"validation images of {run.dataset_name}, but it now gives {dataset.n_train:,} and "
            f"{dataset.n_val:,}; the data has changed since, so the run cannot be scored on it."
        )
    recorded, found = (run.split or {}).get("content_hash"), dataset.split.content_hash
    if recorded is not None and found is not None and recorded != found:
        raise ValueError(
            f"run {run.name} was trained on images of {run.dataset_name} whose content hash is {recorded}, but the "
            f"data now loaded under that name hashes to {found}: other images of the same name and size, so the "
            "run cannot be scored on them. Load the data the run was trained on."
        )


class RunContext:
    """A run and its dataset; arrays are computed on first use and kept. Safe to share between threads."""

    def __init__(self, run, dataset: Dataset):
        check_dataset(run, dataset)
        self.run, self.dataset = run, dataset
        self._derived: OrderedDict[tuple, object] = OrderedDict()
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def key(self) -> str:
        return self.run.id

    def images(self, split: str) -> np.ndarray:
        """(n, height, width, channels) float32 in [0, 1]."""
        return self.dataset.x_val if _checked(split) == "validation" else self.dataset.x_train

    def labels(self, split: str) -> np.ndarray | None:
        """(n,) int64, or None for unlabeled data."""
        return self.dataset.y_val if _checked(split) == "validation" else self.dataset.y_train

    def trained_images(self) -> np.ndarray:
        """The training images the run was trained on: the training split without the class it left out, if any.
        (n, height, width, channels) float32 in [0, 1]; not kept, so a copy lives only as long as its caller."""
        dataset = self.dataset
        return training_images(dataset.x_train, dataset.y_train, dataset.class_names, self.run.excluded_class)

    def codes(self, split: str) -> np.ndarray:
        """(n, latent_dim) float32; a VAE gives its mean codes."""
        return self.cached(("codes", split), lambda: encode(self.run.model, self.images(split)))

    def reconstructions(self, split: str) -> np.ndarray:
        """(n, height, width, channels) in [0, 1]; the validation ones scored at the end of training are reused."""
        known = self.run.val_reconstructions if split == "validation" else None
        if known is not None:
            return known
        return self.cached(("reconstructions", split), lambda: decode(self.run.model, self.codes(split)))

    def errors(self, split: str) -> np.ndarray:
        """(n,) per-image MSE of the reconstructions."""
        return self.cached(("errors", split), lambda: per_image_mse(self.images(split), self.reconstructions(split)))

    def holds(self, key: tuple) -> bool:
        """Whether ``cached`` has a result for ``key`` now, so asking for it costs nothing."""
        with self._guard:
            return key in self._derived

    def cached(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()``'s result, computed once per key for this run. Two threads asking for one key at once wait
        for a single computation. Beyond MAX_DERIVED results, the least recently used are dropped (codes,
        reconstructions and errors are kept)."""
        with self._guard:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            with self._guard:
                if key in self._derived:
                    return self._derived[key]
            value = compute()
            with self._guard:
                self._derived[key] = value
                self._locks.pop(key, None)
                evictable = [old for old in self._derived if old[0] not in _BASE_ARRAYS]
                for old in evictable[: max(0, len(evictable) - MAX_DERIVED)]:
                    del self._derived[old]
        return value


def _checked(split: str) -> str:
    return check("split", split, OneOf(SPLITS))


# Every live context, so an upload's contexts can be dropped when it is replaced; weak, so this set keeps none alive.
_CONTEXTS: weakref.WeakSet[RunContext] = weakref.WeakSet()
_CONTEXTS_LOCK = threading.Lock()


def context_for(run, dataset: Dataset) -> RunContext:
    """The context for ``run`` on ``dataset``, made on first use and kept on the run itself, so its arrays live
    exactly as long as the run: a run its session drops, or whose browser tab has closed, takes them along. A run
    paired with another dataset object gets a fresh context."""
    with _CONTEXTS_LOCK:
        context = run.context
        if context is None or context.run is not run or context.dataset is not dataset:
            context = RunContext(run, dataset)
            run.context = context
            _CONTEXTS.add(context)
        return context


def forget_dataset(dataset: Dataset) -> None:
    """Drop the contexts built on ``dataset`` (an upload its session replaced), so none keeps its arrays alive."""
    with _CONTEXTS_LOCK:
        for context in [context for context in _CONTEXTS if context.dataset is dataset]:
            if context.run.context is context:
                context.run.context = None
            _CONTEXTS.discard(context)
