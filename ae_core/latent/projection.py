"""Maps of the latent space: PCA, t-SNE (openTSNE) and UMAP projections of codes to 2-D or 3-D, and how faithful
each map is.

openTSNE and UMAP are imported only when used: UMAP's import and first call compile with numba (about a minute
on two cores) once per machine (``umap_import``), which ``warm_up_umap`` pays in a background thread at server start.
"""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from ae_core.latent.sampling import SEED
from ae_core.validation import Integer, Number, OneOf, check

METHODS = ("pca", "tsne", "umap")
METHOD, DIMS, ITERATIONS, MIN_DIST = OneOf(METHODS), Integer(2, 3), Integer(1, 10_000), Number(0.0, 1.0)
TRUST_NEIGHBOURS = 10
# sklearn's trustworthiness holds an (n, n) distance matrix and its argsort: 2,000 codes take ~64 MB and ~0.5 s,
# 5,000 would take 400 MB. Larger maps are scored on a seeded subsample of this size.
TRUST_SAMPLE = 2000
MIN_CODES = 10
# t-SNE from PCA's start settles in far fewer iterations than openTSNE's default 250 + 500: on 5,000 MNIST codes,
# 75 + 100 keep the trustworthiness of scikit-learn's 1,000 (bench/latent_speed.py). The "iterations" parameter
# counts the ones after early exaggeration.
EARLY_EXAGGERATION_ITERATIONS = 75
CALLBACK_EVERY = 25  # t-SNE iterations between two calls of a caller's callback; divides the 75 above
# One thread: a shared server maps for several people at once, and on 2 cores a second thread saved less wall time
# than it cost in CPU (bench/latent_speed.py). Exact neighbours: at 5,000 codes they cost less than Annoy's.
TSNE_THREADS = 1
PARAM_DEFAULTS = {
    "pca": {},
    "tsne": {"perplexity": 30.0, "iterations": 100},
    "umap": {"n_neighbors": 15, "min_dist": 0.1},
}


@dataclass(frozen=True, eq=False)  # eq=False: comparing numpy arrays field by field is ambiguous
class Projection:
    """A map of n codes.

    coords : (n, dims) float32. method : "pca", "tsne", "umap", or "identity" when the code has no more
    dimensions than the map (the codes are drawn as they are). params : the method's parameters as used.
    seconds : wall time of the projection alone. trustworthiness : sklearn's, in [0, 1], with
    ``trust_neighbours`` neighbours, on ``trust_sample`` codes (a seeded subsample when n > TRUST_SAMPLE).
    explained_variance_ratio : (dims,) share of the codes' variance on each PCA axis; None for other methods.
    pca_mean (latent_dim,), pca_components (dims, latent_dim) : the fitted PCA, for ``pca_inverse``.
    """

    coords: np.ndarray
    method: str
    params: dict
    seconds: float
    trustworthiness: float
    trust_sample: int
    trust_neighbours: int
    explained_variance_ratio: np.ndarray | None = None
    pca_mean: np.ndarray | None = field(default=None, repr=False)
    pca_components: np.ndarray | None = field(default=None, repr=False)

    @property
    def dims(self) -> int:
        return int(self.coords.shape[1])


def project(
    codes: np.ndarray,
    method: str,
    dims: int = 2,
    seed: int = 0,
    callback: Callable[[int, np.ndarray], None] | None = None,
    **params,
) -> Projection:
    """Map ``codes`` (n, latent_dim), n >= MIN_CODES, to ``dims`` (2 or 3) dimensions with ``method``.

    params : t-SNE: perplexity (default 30), iterations after early exaggeration (100); UMAP: n_neighbors (15),
    min_dist (0.1); PCA: none. callback(iteration, coords (n, dims)) is called every CALLBACK_EVERY t-SNE
    iterations (counting early exaggeration) so a caller can draw the map as it settles. The same seed gives the
    same map. A code with at most ``dims`` dimensions is returned as it is (method "identity").
    """
    codes = _checked_codes(codes)
    params = _checked_params(method, dims, seed, params, len(codes))
    start = time.perf_counter()
    if codes.shape[1] <= dims:
        method, params, extra, coords = "identity", {}, {}, codes.copy()
    elif method == "pca":
        coords, extra = _pca(codes, dims, seed)
    elif method == "tsne":
        coords, extra = _tsne(codes, dims, seed, callback, **params), {}
    else:
        coords, extra = _umap(codes, dims, seed, **params), {}
    seconds = time.perf_counter() - start
    score, used, neighbours = map_trustworthiness(codes, coords, seed)
    return Projection(np.asarray(coords, dtype=np.float32), method, params, seconds, score, used, neighbours, **extra)


def map_trustworthiness(codes: np.ndarray, coords: np.ndarray, seed: int = 0) -> tuple[float, int, int]:
    """sklearn's trustworthiness of the map ``coords`` (n, dims) of ``codes`` (n, latent_dim), in [0, 1].

    Returns (score, codes used, neighbours): TRUST_NEIGHBOURS neighbours (fewer when n < 22, as sklearn needs
    fewer than n / 2), on all codes up to TRUST_SAMPLE, else on a subsample drawn with ``seed``.
    """
    n = len(codes)
    rows = np.arange(n)
    if n > TRUST_SAMPLE:
        rows = np.sort(np.random.default_rng(seed).choice(n, TRUST_SAMPLE, replace=False))
    neighbours = min(TRUST_NEIGHBOURS, (len(rows) - 1) // 2)
    score = trustworthiness(codes[rows], coords[rows], n_neighbors=neighbours)
    return float(score), len(rows), neighbours


def _checked_codes(codes) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or len(codes) < MIN_CODES or codes.shape[1] < 1:
        raise ValueError(
            f"codes must be an array of shape (n, latent_dim) with n >= {MIN_CODES}; got shape "
            f"{codes.shape}. Map more images."
        )
    if not np.isfinite(codes).all():
        raise ValueError(
            "codes hold NaN or infinite values, so no map can be drawn; the model has diverged; "
            "train it again with a lower learning rate."
        )
    return codes


def _checked_params(method: str, dims: int, seed: int, params: dict, n: int) -> dict:
    method = check("method", method, METHOD)
    dims = check("dims", dims, DIMS, "A map is drawn in 2 or 3 dimensions.")
    check("seed", seed, SEED)
    unknown = set(params) - set(PARAM_DEFAULTS[method])
    if unknown:
        takes = f"the parameters {', '.join(PARAM_DEFAULTS[method])}" if PARAM_DEFAULTS[method] else "no parameters"
        raise ValueError(f"{method} takes {takes}; got {', '.join(sorted(unknown))}.")
    rules = {  # name -> (rule, what to do)
        "perplexity": (
            Number(1.0, (n - 1) / 3),
            f"openTSNE takes 3 x perplexity neighbours of each code, fewer than the {n:,} codes mapped.",
        ),
        "iterations": (ITERATIONS, ""),
        "n_neighbors": (Integer(2, n - 1), f"They must be fewer than the {n:,} codes mapped."),
        "min_dist": (MIN_DIST, ""),
    }
    values = {**PARAM_DEFAULTS[method], **params}
    return {name: check(name, value, *rules[name]) for name, value in values.items()}


def _pca(codes: np.ndarray, dims: int, seed: int) -> tuple[np.ndarray, dict]:
    pca = PCA(n_components=dims, random_state=seed).fit(codes)
    extra = {
        "explained_variance_ratio": pca.explained_variance_ratio_.astype(np.float32),
        "pca_mean": pca.mean_.astype(np.float32),
        "pca_components": pca.components_.astype(np.float32),
    }
    return pca.transform(codes), extra


def _tsne(codes: np.ndarray, dims: int, seed: int, callback, perplexity: float, iterations: int) -> np.ndarray:
    from openTSNE import TSNE

    calls = []

    def report(_iteration, _error, embedding):  # openTSNE restarts its count after early exaggeration
        calls.append(None)
        callback(len(calls) * CALLBACK_EVERY, np.array(embedding, dtype=np.float32))

    tsne = TSNE(
        n_components=dims,
        perplexity=perplexity,
        n_iter=int(iterations),
        random_state=seed,
        n_jobs=TSNE_THREADS,
        initialization="pca",
        neighbors="exact",
        early_exaggeration_iter=EARLY_EXAGGERATION_ITERATIONS,
        # FFT interpolation takes ~20% less CPU than Barnes-Hut on 5,000 MNIST codes (bench/latent_speed.py)
        # but draws only 1-D and 2-D maps
        negative_gradient_method="bh" if dims == 3 else "fft",
        callbacks=report if callback else None,
        callbacks_every_iters=CALLBACK_EVERY,
    )
    return np.asarray(tsne.fit(codes))


def _umap(
    codes: np.ndarray, dims: int, seed: int, n_neighbors: int, min_dist: float, force_approximation: bool = False
) -> np.ndarray:
    from ae_core.latent.umap_import import import_umap

    UMAP = import_umap()  # noqa: N806 - a class
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's and umap's chatter, not the user's business
        reducer = UMAP(
            n_components=dims,
            n_neighbors=int(n_neighbors),
            min_dist=min_dist,
            random_state=seed,
            n_jobs=1,
            force_approximation_algorithm=force_approximation,
        )
        return reducer.fit_transform(codes)


_UMAP_LOCK = threading.Lock()
_umap_warm = False


def warm_up_umap() -> float:
    """Compile UMAP's numba code once per process by mapping 300 random codes; returns the seconds it took, 0.0
    when already done. Safe to call from several threads at once: one compiles, the others wait for it.
    """
    global _umap_warm
    with _UMAP_LOCK:
        if _umap_warm:
            return 0.0
        start = time.perf_counter()
        codes = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
        # Both neighbour searches: exact below 4,096 codes, pynndescent's approximate one above.
        for force_approximation in (False, True):
            _umap(codes, 2, 0, n_neighbors=15, min_dist=0.1, force_approximation=force_approximation)
        _umap_warm = True
        return time.perf_counter() - start
