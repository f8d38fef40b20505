"""Classification with few labels: do the latent codes make a better input than raw pixels or PCA codes of the
same size?

Logistic regression (on standardised features) and k-nearest neighbours (k = 5, or the fewest images of one class
when that is fewer: with one image per class, more neighbours would only outvote the nearest) are fitted on a
balanced, seeded subset of the labelled training images and scored on the whole validation split. PCA is fitted
on all training images (it needs no labels) with as many components as the code.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ae_core.validation import Integer, OneOf, check

FEATURES = ("pixels", "pca", "codes")
CLASSIFIERS = ("logistic_regression", "knn")
FEATURE, CLASSIFIER = OneOf(FEATURES), OneOf(CLASSIFIERS)
LABEL_COUNTS = (10, 100, 1000, None)  # None: every labelled training image


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


def make_classifier(name: str, fewest_per_class: int):
    """An unfitted scikit-learn classifier: "logistic_regression" or "knn"; ``fewest_per_class`` caps k."""
    if check("classifier", name, CLASSIFIER) == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return KNeighborsClassifier(n_neighbors=min(5, fewest_per_class))


def feature_sets(
    pca, x_train: np.ndarray, x_val: np.ndarray, train_codes: np.ndarray, val_codes: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (training features, validation features), each (n, features): raw pixels, the coefficients of
    ``pca`` (a fitted scikit-learn PCA with as many components as the codes have), and the codes."""
    flat_train, flat_val = x_train.reshape(len(x_train), -1), x_val.reshape(len(x_val), -1)  # (n, pixels)
    return {
        "pixels": (flat_train, flat_val),
        "pca": (pca.transform(flat_train), pca.transform(flat_val)),
        "codes": (train_codes, val_codes),
    }


def accuracy_table(
    features: dict[str, tuple[np.ndarray, np.ndarray]],
    y_train: np.ndarray,
    y_val: np.ndarray,
    label_counts=LABEL_COUNTS,
    seed: int = 0,
    progress=None,
) -> list[dict]:
    """Rows {"features", "classifier", "n_labels", "accuracy"} (validation accuracy in [0, 1]) for every feature
    set, classifier and label count; ``n_labels`` None becomes the number of training images.

    progress : called as progress(done, total) after each fit, the slow part.
    """
    total, rows = len(features) * len(CLASSIFIERS) * len(label_counts), []
    for n_labels in label_counts:
        subset = balanced_subset(y_train, n_labels, seed)
        for name, (train_features, val_features) in features.items():
            for classifier in CLASSIFIERS:
                predictions = fit_predict(classifier, train_features[subset], y_train[subset], val_features)
                rows.append(
                    {
                        "features": name,
                        "classifier": classifier,
                        "n_labels": len(subset),
                        "accuracy": accuracy(y_val, predictions),
                    }
                )
                if progress is not None:
                    progress(len(rows), total)
    return rows


def fit_predict(
    classifier: str, train_features: np.ndarray, train_labels: np.ndarray, val_features: np.ndarray
) -> np.ndarray:
    fewest_per_class = int(np.unique(train_labels, return_counts=True)[1].min())
    return make_classifier(classifier, fewest_per_class).fit(train_features, train_labels).predict(val_features)


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """The share of ``predictions`` equal to ``labels``, both (n,); in [0, 1] (scikit-learn's ``accuracy_score``)."""
    return float(accuracy_score(labels, predictions))


def best_accuracies(rows: list[dict], n_labels: int) -> dict:
    """{"pixels", "pca", "codes"}: the best accuracy over the classifiers at ``n_labels``, and "per_classifier":
    features -> classifier -> accuracy."""
    chosen = [row for row in rows if row["n_labels"] == n_labels]
    per_classifier = {
        name: {row["classifier"]: row["accuracy"] for row in chosen if row["features"] == name}
        for name in dict.fromkeys(row["features"] for row in chosen)
    }
    return {**{name: max(scores.values()) for name, scores in per_classifier.items()}, "per_classifier": per_classifier}


def classification_verdict(rows: list[dict], n_labels: int) -> str:
    """How the codes compare with the better of pixels and PCA at ``n_labels`` labelled images."""
    best = best_accuracies(rows, n_labels)
    rival = max(("pixels", "pca"), key=lambda name: best[name])
    gap = best["codes"] - best[rival]
    summary = (
        f"With {n_labels:,} labels the codes reach {best['codes']:.1%}, pixels {best['pixels']:.1%} and PCA "
        f"{best['pca']:.1%}"
    )
    if gap > 0:
        return f"{summary}: the codes win by {gap:.1%} over {rival}."
    return f"{summary}: {rival} {'matches' if gap == 0 else 'beats'} the codes, which add nothing for a classifier."


def confusion(
    features: tuple[np.ndarray, np.ndarray],
    y_train: np.ndarray,
    y_val: np.ndarray,
    classifier: str,
    n_labels: int | None,
    n_classes: int,
    seed: int = 0,
) -> np.ndarray:
    """(n_classes, n_classes) int64 counts: row = true class, column = predicted, for one setting."""
    subset = balanced_subset(y_train, n_labels, seed)
    predictions = fit_predict(classifier, features[0][subset], y_train[subset], features[1])
    return confusion_matrix(y_val, predictions, labels=np.arange(n_classes))


@dataclass(frozen=True)
class ClassificationReport:
    rows: list[dict]  # see accuracy_table
    label_counts: tuple[int, ...]  # the n_labels of the rows, None resolved to the number of training images


def classification_report(context, label_counts=LABEL_COUNTS, seed: int = 0, progress=None) -> ClassificationReport:
    """``accuracy_table`` for a RunContext's pixels, PCA codes and latent codes; ValueError for unlabeled data."""
    dataset = context.dataset
    if dataset.y_train is None:
        raise ValueError(
            f"{dataset.name} has no labels; classification needs a labelled dataset such as digits or "
            "mnist, or image folders with one sub-folder per class."
        )
    features = classification_features(context)
    rows = context.cached(
        ("classification", tuple(label_counts), seed),
        lambda: accuracy_table(features, dataset.y_train, dataset.y_val, label_counts, seed, progress),
    )
    return ClassificationReport(rows, tuple(dict.fromkeys(row["n_labels"] for row in rows)))


def classification_features(context) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``feature_sets`` of a RunContext, computed once per run; the PCA is the one compression uses."""
    from ae_core.quality.pca_baseline import context_pca

    dataset = context.dataset
    return context.cached(
        ("classification_features",),
        lambda: feature_sets(
            context_pca(context), dataset.x_train, dataset.x_val, context.codes("training"), context.codes("validation")
        ),
    )


def confusion_report(context, features: str, classifier: str, n_labels: int | None, seed: int = 0) -> np.ndarray:
    """``confusion`` of a RunContext for one feature set (see FEATURES), classifier and label count, cached."""
    features = check("features", features, FEATURE)
    dataset = context.dataset
    return context.cached(
        ("confusion", features, classifier, n_labels, seed),
        lambda: confusion(
            classification_features(context)[features],
            dataset.y_train,
            dataset.y_val,
            classifier,
            n_labels,
            len(dataset.class_names),
            seed,
        ),
    )
