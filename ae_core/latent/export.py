"""A latent map as CSV: one row per mapped image with its split, index, label, map coordinates and code."""

from __future__ import annotations

import csv
import io

import numpy as np


def latent_csv(
    indices: np.ndarray, splits: np.ndarray, labels: np.ndarray | None, coords: np.ndarray, codes: np.ndarray
) -> str:
    """CSV with a header and one row per image: index, split, label (empty when unlabeled), x, y[, z],
    code_0 ... code_{d-1}. indices, splits, labels : (n,); coords (n, 2 or 3); codes (n, d)."""
    axes = ["x", "y", "z"][: coords.shape[1]]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index", "split", "label", *axes, *(f"code_{i}" for i in range(codes.shape[1]))])
    for row in range(len(indices)):
        label = "" if labels is None else int(labels[row])
        writer.writerow(
            [
                int(indices[row]),
                splits[row],
                label,
                *(f"{value:.6g}" for value in coords[row]),
                *(f"{value:.6g}" for value in codes[row]),
            ]
        )
    return buffer.getvalue()
