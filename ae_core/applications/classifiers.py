"""The classifiers the classification panel compares: scikit-learn's logistic regression and k-NN at their defaults,
the pipeline cross-validation chooses on the labelled images alone, and label spreading over the unlabelled ones too.
"""

from functools import cache

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading
from threadpoolctl import ThreadpoolController

from ae_core.validation import Integer, OneOf, check

LOGISTIC_C = (0.1, 1.0, 10.0)  # C = 1 is scikit-learn's default; smaller is stronger regularisation
NEIGHBOURS = (1, 3, 5)
# Five folds, repeated twice: with 100 labels a single three-fold split ranks the pipelines by noise, and may pick
# standardised pixels over raw ones that score better on unseen images; ten fits a candidate rank them steadily.
CV_FOLDS = 5
CV_REPEATS = 2
CV_MAX_IMAGES = 300  # the choice is made on at most this many labelled images: cheap, and enough to rank pipelines
SPREADING_NEIGHBOURS = 7  # LabelSpreading's default k-NN graph
DEFAULT_CLASSIFIER = OneOf(("logistic_regression", "knn"))


def one_thread():
    """A context in which scikit-learn's BLAS and OpenMP pools use one thread each. The fits here are many small
    matrix products (logistic regression's L-BFGS steps on 80 to 300 images); OpenBLAS's threads, spinning on a CPU
    other work also uses, made cross-validating raw pixels on 300 MNIST images take 152 to 170 s instead of 3.4 s on
    one thread at a load average of 7 on 2 cores (bench/classification_speed.py measures the whole panel)."""
    return _thread_pools().limit(limits=1)


@cache
def _thread_pools() -> ThreadpoolController:
    return ThreadpoolController()  # found once: looking the pools up costs about 12 ms each time


def make_classifier(name: str, fewest_per_class: int):
    """An unfitted scikit-learn classifier: "logistic_regression" or "knn"; ``fewest_per_class`` caps k."""
    if check("classifier", name, DEFAULT_CLASSIFIER) == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return KNeighborsClassifier(n_neighbors=min(5, fewest_per_class))


def cross_validated_pipeline(features: np.ndarray, labels: np.ndarray, seed: int = 0) -> tuple[Pipeline, str]:
    """(the unfitted pipeline chosen by cross-validation on ``features`` (n, d) and ``labels`` (n,), a description
    of it). See the module's docstring for the candidates."""
    fewest = int(np.unique(labels, return_counts=True)[1].min())
    default = Pipeline([("scale", "passthrough"), ("model", LogisticRegression(max_iter=1000))])
    if fewest < 2:
        return default, "logistic regression, C=1, raw features: scikit-learn's defaults (one label per class)"
    chosen = balanced_subset(labels, min(len(labels), CV_MAX_IMAGES), seed)
    fewest = int(np.unique(labels[chosen], return_counts=True)[1].min())
    folds = min(CV_FOLDS, fewest)
    largest_k = max(1, fewest * (folds - 1) // folds)  # the fewest images of a class a training fold can hold
    scalings = ["passthrough", StandardScaler()]
    grid = [
        {"scale": scalings, "model": [LogisticRegression(max_iter=1000)], "model__C": list(LOGISTIC_C)},
        {"scale": scalings, "model": [KNeighborsClassifier()], "model__n_neighbors": _neighbours(largest_k)},
    ]
    splits = RepeatedStratifiedKFold(n_splits=folds, n_repeats=CV_REPEATS, random_state=seed)
    search = GridSearchCV(default, grid, cv=splits)
    search.fit(features[chosen], labels[chosen])
    return clone(search.best_estimator_), _describe(search.best_estimator_, folds, len(chosen))


def _neighbours(largest: int) -> list[int]:
    return [k for k in NEIGHBOURS if k <= largest] or [1]


def _describe(pipeline: Pipeline, folds: int, n_images: int) -> str:
    model = pipeline.named_steps["model"]
    what = (
        f"logistic regression, C={model.C:g}"
        if isinstance(model, LogisticRegression)
        else f"k-NN, k={model.n_neighbors}"
    )
    scaling = "raw features" if pipeline.named_steps["scale"] == "passthrough" else "standardised"
    cross_validation = f"{folds}-fold cross-validation, repeated {CV_REPEATS} times"
    return f"{what}, {scaling} ({cross_validation}, on {n_images:,} labelled images)"


def label_spreading(
    train_features: np.ndarray, labelled: np.ndarray, labels: np.ndarray, val_features: np.ndarray
) -> np.ndarray:
    """Predictions for ``val_features`` of LabelSpreading on every training image, of which only the indices
    ``labelled`` carry their ``labels`` (the others are unlabelled)."""
    known = np.full(len(train_features), -1, dtype=np.int64)
    known[labelled] = labels[labelled]
    spreading = LabelSpreading(kernel="knn", n_neighbors=min(SPREADING_NEIGHBOURS, len(train_features) - 1))
    with np.errstate(divide="ignore", invalid="ignore"):  # an image no label reaches gets no class: counted wrong
        return spreading.fit(train_features, known).predict(val_features)


def balanced_subset(labels: np.ndarray, n_labels: int | None, seed: int = 0) -> np.ndarray:
    """Indices (sorted, int64) of ``n_labels`` images of ``labels`` (n,), as equal a share per class as the data
    allows, drawn with ``seed``; every index when ``n_labels`` is None or at least n."""
    classes = np.unique(labels)
    if n_labels is None:
        return np.arange(len(labels))
    hint = "A classifier needs one labelled image per class; a number above the images, or None, takes them all."
    n_labels = check("n_labels", n_labels, Integer(len(classes)), hint)
    if n_labels >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    pools = [rng.permutation(np.flatnonzero(labels == label)) for label in classes]
    quotas = np.full(len(classes), n_labels // len(classes))
    quotas[rng.permutation(len(classes))[: n_labels % len(classes)]] += 1
    chosen = [pool[:quota] for pool, quota in zip(pools, quotas)]
    # a class with too few images leaves its share to the others, drawn from what is left
    leftover = rng.permutation(np.concatenate([pool[quota:] for pool, quota in zip(pools, quotas)]))
    chosen.append(leftover[: n_labels - sum(len(part) for part in chosen)])
    return np.sort(np.concatenate(chosen)).astype(np.int64)
