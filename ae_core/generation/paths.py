"""Walks through the code space, each decoded in one decoder call: between two codes (interpolation), along one
dimension at a time (traversal), and over the whole plane of a 2-dimensional code (manifold grid, as in keras-io's
examples/generative/vae.py).
"""

from dataclasses import dataclass
from functools import cache
from statistics import NormalDist
from typing import Annotated

import numpy as np
from pydantic import Field

from ae_core.models.architectures import decode, latent_dim_of
from ae_core.validation import Expected, Integer, Number, OneOf, check

INTERPOLATIONS = ("linear", "slerp")
INTERPOLATION = OneOf(INTERPOLATIONS)
INTERPOLATION_STEPS = Integer(2, 100)
TRAVERSAL_STEPS = Integer(2, 50)
EXTENT = Number(0, 10, low_open=True)
GRID_SIZE = Integer(2, 40)
# The whole range would reach N(0, 1)'s infinite tails; 0.999 spans +-3.3 standard deviations.
COVERAGE = Number(0, 0.999, low_open=True)


@cache  # one rule per code size, so ae_core.validation builds its checker once
def code_dimensions(latent_dim: int):
    """The rule for ``traverse``'s dims: 1 or more dimensions of a code of ``latent_dim`` numbers (a list is taken
    as a tuple). ae_core.validation has no rule for a list of indices; this one is built the same way."""
    return Annotated[
        tuple[Integer(0, latent_dim - 1), ...],
        Field(min_length=1),
        Expected(f"1 or more code dimensions, each an integer between 0 and {latent_dim - 1}"),
    ]


def interpolate_codes(code_a: np.ndarray, code_b: np.ndarray, steps: int, method: str = "linear") -> np.ndarray:
    """``steps`` codes from ``code_a`` to ``code_b`` (each (latent_dim,)) -> (steps, latent_dim) float32; the first
    and last are exactly the two codes.

    "slerp" follows the great circle between the two directions while the length changes linearly, which keeps
    in-between codes as long as the ends (a straight line cuts through the middle, where N(0, I) codes are rare);
    for nearly parallel codes it is the straight line.
    """
    method = check("method", method, INTERPOLATION)
    steps = check("steps", steps, INTERPOLATION_STEPS, "It counts both ends.")
    a, b = np.asarray(code_a, dtype=np.float64), np.asarray(code_b, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"the two codes must be vectors of one length; got shapes {a.shape} and {b.shape}.")
    fractions = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    codes = (1 - fractions) * a + fractions * b
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if method == "slerp" and norm_a > 0 and norm_b > 0:
        angle = np.arccos(np.clip(a @ b / (norm_a * norm_b), -1.0, 1.0))
        if np.sin(angle) > 1e-6:
            directions = np.sin((1 - fractions) * angle) * a / norm_a + np.sin(fractions * angle) * b / norm_b
            codes = directions / np.sin(angle) * ((1 - fractions) * norm_a + fractions * norm_b)
    codes = codes.astype(np.float32)
    codes[0], codes[-1] = code_a, code_b  # exact ends, whatever the rounding of the formulas above
    return codes


@dataclass(frozen=True)
class Interpolation:
    """codes : (steps, latent_dim); decoded : (steps, height, width, channels) in [0, 1], the walk through code
    space; crossfade : the same shape, the two images blended pixel by pixel, for comparison."""

    codes: np.ndarray
    decoded: np.ndarray
    crossfade: np.ndarray


def interpolate_images(
    model,
    image_a: np.ndarray,
    image_b: np.ndarray,
    code_a: np.ndarray,
    code_b: np.ndarray,
    steps: int = 8,
    method: str = "linear",
) -> Interpolation:
    """Decode the walk from ``code_a`` to ``code_b``, the codes of ``image_a`` and ``image_b`` (height, width,
    channels) in [0, 1], and cross-fade the two images over as many steps."""
    codes = interpolate_codes(code_a, code_b, steps, method)
    fractions = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None, None, None]
    crossfade = (1 - fractions) * np.asarray(image_a, np.float32) + fractions * np.asarray(image_b, np.float32)
    return Interpolation(codes, decode(model, codes), crossfade)


def traverse(
    model, base_code: np.ndarray, code_std: np.ndarray, dims, steps: int = 9, extent: float = 3.0
) -> np.ndarray:
    """One row per dimension in ``dims``: ``base_code`` (latent_dim,) with that dimension moved from -extent to
    +extent of its standard deviation ``code_std`` (latent_dim,) (of the training codes), the others held.

    Returns (len(dims), steps, height, width, channels) in [0, 1]; with an odd ``steps`` the middle column decodes
    the base code itself.
    """
    latent_dim = latent_dim_of(model)
    dims = check("dims", dims, code_dimensions(latent_dim))
    steps = check("steps", steps, TRAVERSAL_STEPS)
    extent = check("extent", extent, EXTENT, "It counts standard deviations of the codes.")
    offsets = traversal_offsets(steps, extent)  # (steps,)
    codes = np.tile(np.asarray(base_code, np.float32), (len(dims), steps, 1))  # (rows, steps, latent_dim)
    for row, dim in enumerate(dims):
        codes[row, :, dim] += offsets * code_std[dim]
    images = decode(model, codes.reshape(-1, latent_dim))
    return images.reshape(len(dims), steps, *images.shape[1:])


def most_varying_dimensions(code_std: np.ndarray, count: int = 4) -> list[int]:
    """The ``count`` code dimensions (fewer when the code is shorter) whose standard deviation ``code_std``
    (latent_dim,) over the training codes is largest, largest first: the ones a traversal shows changing most."""
    order = np.argsort(-np.asarray(code_std, dtype=np.float64), kind="stable")  # ties keep the lower index first
    return [int(dim) for dim in order[:count]]


def traversal_offsets(steps: int = 9, extent: float = 3.0) -> np.ndarray:
    """(steps,) the offsets, in standard deviations, of a traversal's columns, as ``traverse`` moves them."""
    return np.linspace(-extent, extent, steps)


@dataclass(frozen=True)
class ManifoldGrid:
    """images : (size, size, height, width, channels) in [0, 1], row 0 at the top (largest second coordinate);
    x_values, y_values : (size,) the code values of the columns (increasing) and rows (decreasing)."""

    images: np.ndarray
    x_values: np.ndarray
    y_values: np.ndarray


def manifold_grid(model, codes: np.ndarray | None = None, size: int = 15, coverage: float = 0.9) -> ManifoldGrid:
    """Decode a size x size grid over the plane of a 2-dimensional code, in one decoder call.

    The grid spans the central ``coverage`` of the training ``codes`` (n, 2) along each axis (their quantiles), or
    of N(0, 1) when ``codes`` is None, which suits a VAE.
    """
    if latent_dim_of(model) != 2:
        raise ValueError(
            f"a manifold grid needs a model with a 2-dimensional code; this one has "
            f"{latent_dim_of(model)}. Train one with latent size 2, or use a traversal."
        )
    size = check("size", size, GRID_SIZE, "It is the grid's side, in images.")
    coverage = check("coverage", coverage, COVERAGE, "It is the central share of the codes the grid spans.")
    levels = np.linspace((1 - coverage) / 2, (1 + coverage) / 2, size)
    if codes is None:
        x_values = y_values = np.array([NormalDist().inv_cdf(level) for level in levels])
    else:
        x_values, y_values = np.quantile(np.asarray(codes, np.float64), levels, axis=0).T
    y_values = y_values[::-1]
    grid = np.stack(np.meshgrid(x_values, y_values), axis=-1)  # (size, size, 2): [row, column] = (x, y)
    images = decode(model, grid.reshape(-1, 2))
    return ManifoldGrid(images.reshape(size, size, *images.shape[1:]), x_values, y_values)
