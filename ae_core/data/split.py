"""The last step of loading: split normalised arrays into training and validation sets, recording how (Split)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Annotated

import numpy as np
from pydantic import StringConstraints

from ae_core.data.common import DataFileError, LoadedArrays
from ae_core.validation import Expected, Integer, Number, OneOf, check, from_values

SPLIT_KINDS = ("test_set", "positional", "seeded")
MAX_SEED = 2**31 - 1  # as TrainConfig's seed: one seed field in the app fits both
VAL_FRACTION = Number(0, 0.9, low_open=True)
SEED = Integer(0, MAX_SEED)
HASH_DIGITS = 32  # a 128-bit BLAKE2b digest, in hexadecimal
CONTENT_HASH = Annotated[
    Annotated[str, StringConstraints(pattern=f"^[0-9a-f]{{{HASH_DIGITS}}}$")] | None,
    Expected(f"null or {HASH_DIGITS} hexadecimal digits"),
]


@dataclass(frozen=True)
class Split:
    """How a dataset was split into training and validation sets; load_dataset(name, val_fraction=split.val_fraction,
    seed=split.seed) gives the same split again.

    kind : "test_set" (the data's own test set is the validation set), "positional" (the first n_train images
    train, the last n_val validate) or "seeded" (shuffled by split_train_val with seed). val_fraction : in (0, 0.9],
    as asked (not used by "test_set"); seed : >= 0 (used only by "seeded"); n_train, n_val : >= 1 images.
    content_hash : ``content_hash`` of the split's images and labels, which tells two datasets of one name and size
    apart; None in splits recorded before it was. Not compared: two Splits are equal when they split alike.
    """

    kind: OneOf(SPLIT_KINDS)
    val_fraction: VAL_FRACTION
    seed: SEED
    n_train: Integer(1)
    n_val: Integer(1)
    content_hash: CONTENT_HASH = field(default=None, compare=False)

    def to_dict(self) -> dict:
        """Plain JSON types: {"kind": str, "val_fraction": float, "seed": int, "n_train": int, "n_val": int,
        "content_hash": str or None}."""
        return {
            "kind": self.kind,
            "val_fraction": float(self.val_fraction),
            "seed": int(self.seed),
            "n_train": int(self.n_train),
            "n_val": int(self.n_val),
            "content_hash": self.content_hash,
        }

    @classmethod
    def from_dict(cls, values: dict, where: str = "split") -> Split:
        """The Split that to_dict gave; a missing, unknown or ill-typed key is a ValueError naming ``where`` and the
        key."""
        return from_values(cls, values, where)


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays field by field is ambiguous
class Dataset:
    """Images split into training and validation sets.

    x_train : (n_train, height, width, channels) float32 in [0, 1], C-contiguous; y_train : (n_train,) int64
    or None when unlabeled; x_val, y_val likewise with n_val images. class_names : index -> name, () when
    unlabeled. source : where it was read from. split : how training and validation were chosen.
    notes : conversions and choices the user should know about.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_val: np.ndarray
    y_val: np.ndarray | None
    class_names: tuple[str, ...]
    source: str
    split: Split
    notes: tuple[str, ...] = ()

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_val(self) -> int:
        return len(self.x_val)

    def class_counts(self) -> dict[str, int]:
        """Images per class over training and validation together; {} when unlabeled."""
        if self.y_train is None:
            return {}
        counts = np.bincount(np.concatenate([self.y_train, self.y_val]), minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))


def content_hash(*arrays: np.ndarray | None) -> str:
    """A BLAKE2b digest (HASH_DIGITS hexadecimal digits) of ``arrays``: each one's dtype, shape and bytes, None
    counted as absent. The same images and labels, in the same order and split, give the same hash."""
    digest = hashlib.blake2b(digest_size=HASH_DIGITS // 2)
    for array in arrays:
        if array is None:
            digest.update(b"none;")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(memoryview(array).cast("B"))  # the bytes in place, no copy
    return digest.hexdigest()


def check_split_args(val_fraction: float, seed: int) -> None:
    """ValueError unless val_fraction is in (0, 0.9] and seed an integer between 0 and MAX_SEED."""
    check("val_fraction", val_fraction, VAL_FRACTION, "It is the share of images kept for validation; 0.2 is usual.")
    check("seed", seed, SEED)


def split_train_val(n: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Shuffle 0..n-1 with a seeded generator; return (train indices, validation indices), int64.

    The validation set holds round(n * val_fraction) indices, at least 1, leaving at least 1 for training.
    """
    check_split_args(val_fraction, seed)
    check("n", n, Integer(2), "One image is needed for training and one for validation.")
    order = np.random.default_rng(seed).permutation(n)
    n_train = n - _n_val(n, val_fraction)
    return order[:n_train], order[n_train:]


def _n_val(n: int, val_fraction: float) -> int:
    return min(n - 1, max(1, round(n * val_fraction)))


def make_dataset(
    name: str, source: str, arrays: LoadedArrays, val_fraction: float, seed: int, positional: str | None
) -> Dataset:
    """Split normalised arrays: by the data's own test set when it has one ("test_set"), by position when
    positional names the one set of a built-in dataset that was found, so benchmarks see fixed sets
    ("positional"), else shuffled with seed ("seeded")."""
    x, y, n, notes = arrays.images, arrays.labels, len(arrays.images), list(arrays.notes)
    if arrays.val_images is not None:
        notes.append(
            f"the {len(arrays.val_images):,}-image test set that came with the data is the validation "
            "set; val_fraction is not used"
        )
        digest = content_hash(x, y, arrays.val_images, arrays.val_labels)
        split = Split("test_set", val_fraction, seed, n, len(arrays.val_images), digest)
        return Dataset(
            name, x, y, arrays.val_images, arrays.val_labels, arrays.class_names, source, split, tuple(notes)
        )
    if n < 2:
        raise DataFileError(f"{name} holds {n} image; expected at least 2, one for training and one for validation.")
    if positional:
        n_train = n - _n_val(n, val_fraction)
        train, val = np.arange(n_train), np.arange(n_train, n)
        notes.append(
            f"only the {n:,}-image {positional} set was found; first {n_train:,} for training, "
            f"last {n - n_train:,} for validation"
        )
    else:
        train, val = split_train_val(n, val_fraction, seed)
    y_train, y_val = (None, None) if y is None else (y[train], y[val])
    x_train, x_val = x[train], x[val]
    digest = content_hash(x_train, y_train, x_val, y_val)
    split = Split("positional" if positional else "seeded", val_fraction, seed, len(train), len(val), digest)
    return Dataset(name, x_train, y_train, x_val, y_val, arrays.class_names, source, split, tuple(notes))
