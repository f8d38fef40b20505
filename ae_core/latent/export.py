"""A latent map as CSV: one row per mapped image with its split, index, label, map coordinates and code."""

from __future__ import annotations

import numpy as np
import pandas as pd


def latent_csv(
    indices: np.ndarray, splits: np.ndarray, labels: np.ndarray | None, coords: np.ndarray, codes: np.ndarray
) -> str:
    """CSV (pandas) with a header and one row per image: index, split, label (empty when unlabeled), x, y[, z],
    code_0 ... code_{d-1}, numbers to 6 significant digits. indices, splits, labels : (n,); coords (n, 2 or 3);
    codes (n, d)."""
    columns = {
        "index": np.asarray(indices, dtype=np.int64),
        "split": np.asarray(splits, dtype=str),
        "label": "" if labels is None else np.asarray(labels, dtype=np.int64),
        **{axis: coords[:, column] for column, axis in enumerate("xyz"[: coords.shape[1]])},
        **{f"code_{column}": codes[:, column] for column in range(codes.shape[1])},
    }
    return pd.DataFrame(columns).to_csv(index=False, float_format="%.6g", lineterminator="\n")
