"""Classification with few labels: do the latent codes make a better input than raw pixels or PCA codes of the
same size?

Four classifiers per feature set, each fitted on a balanced, seeded subset of the labelled training images and
scored on the whole validation split:

- "cross_validated": the pipeline a practitioner would pick for that feature set, by stratified cross-validation on
  the labelled images alone (at most CV_MAX_IMAGES of them, CV_FOLDS folds, or fewer when a class has fewer
  images): standardised or raw features, then logistic regression with C in LOGISTIC_C or k-NN with k in
  NEIGHBOURS; the winner is refitted on every labelled image. With one image per class nothing can be
  cross-validated, and scikit-learn's defaults are used (logistic regression, C = 1, raw features).
- "logistic_regression": standardised features, C = 1 (fixed, for reference);
- "knn": k = 5, or the fewest images of one class when that is fewer (with one image per class, more neighbours
  would only outvote the nearest);
- "label_spreading": semi-supervised, the labelled images and every unlabelled training image on one k-NN graph
  (scikit-learn's LabelSpreading), so the unlabelled images' features count too.

PCA is fitted on all training images (it needs no labels) with as many components as the code.
"""

from dataclasses import dataclass
from functools import partial

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix

from ae_core.applications.classifiers import (
    balanced_subset,
    cross_validated_pipeline,
    label_spreading,
    make_classifier,
    one_thread,
)
from ae_core.validation import OneOf, check

FEATURES = ("pixels", "pca", "codes")
CLASSIFIERS = ("logistic_regression", "knn", "cross_validated", "label_spreading")
FEATURE, CLASSIFIER = OneOf(FEATURES), OneOf(CLASSIFIERS)
LABEL_COUNTS = (10, 100, 1000, None)  # None: every labelled training image


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
    classifiers=CLASSIFIERS,
) -> list[dict]:
    """Rows {"features", "classifier", "n_labels", "accuracy", "pipeline"} (validation accuracy in [0, 1]; the
    pipeline described in words) for every feature set, classifier and label count; ``n_labels`` None becomes the
    number of training images.

    progress : called as progress(done, total) after each fit, the slow part.
    classifiers : which of CLASSIFIERS to fit.
    """
    total, rows = len(features) * len(classifiers) * len(label_counts), []
    for n_labels in label_counts:
        subset = balanced_subset(y_train, n_labels, seed)
        for name, (train_features, val_features) in features.items():
            for classifier in classifiers:
                predictions, pipeline = classify(classifier, (train_features, val_features), y_train, subset, seed)
                rows.append(
                    {
                        "features": name,
                        "classifier": classifier,
                        "n_labels": len(subset),
                        "accuracy": accuracy(y_val, predictions),
                        "pipeline": pipeline,
                    }
                )
                if progress is not None:
                    progress(len(rows), total)
    return rows


def classify(
    classifier: str, features: tuple[np.ndarray, np.ndarray], y_train: np.ndarray, subset: np.ndarray, seed: int = 0
) -> tuple[np.ndarray, str]:
    """(predictions for the validation features, the pipeline in words) of ``classifier`` (see CLASSIFIERS) given
    the labels of the training images ``subset``; features : (training (n, d), validation (m, d))."""
    train_features, val_features = features
    labels = y_train[subset]
    if check("classifier", classifier, CLASSIFIER) == "label_spreading":
        predictions = label_spreading(train_features, subset, y_train, val_features)
        return predictions, f"label spreading, k-NN graph of all {len(train_features):,} training images"
    if classifier == "cross_validated":
        pipeline, description = cross_validated_pipeline(train_features[subset], labels, seed)
        return pipeline.fit(train_features[subset], labels).predict(val_features), description
    fewest_per_class = int(np.unique(labels, return_counts=True)[1].min())
    described = {"logistic_regression": "logistic regression, C=1, standardised", "knn": "k-NN"}
    model = make_classifier(classifier, fewest_per_class)
    k = f", k={model.n_neighbors}" if classifier == "knn" else ""
    return model.fit(train_features[subset], labels).predict(val_features), described[classifier] + k


def fit_predict(
    classifier: str, train_features: np.ndarray, train_labels: np.ndarray, val_features: np.ndarray
) -> np.ndarray:
    fewest_per_class = int(np.unique(train_labels, return_counts=True)[1].min())
    return make_classifier(classifier, fewest_per_class).fit(train_features, train_labels).predict(val_features)


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    """The share of ``predictions`` equal to ``labels``, both (n,); in [0, 1] (scikit-learn's ``accuracy_score``)."""
    return float(accuracy_score(labels, predictions))


def best_accuracies(rows: list[dict], n_labels: int) -> dict:
    """At ``n_labels``: {"pixels", "pca", "codes"}: the cross-validated pipeline's accuracy of each feature set (the
    best supervised classifier's when the rows hold none); "per_classifier": features -> classifier -> accuracy;
    "chosen": features -> the cross-validated pipeline in words; "semi_supervised": features -> label spreading's
    accuracy (for the feature sets that have it)."""
    chosen = [row for row in rows if row["n_labels"] == n_labels]
    per_classifier = {
        name: {row["classifier"]: row["accuracy"] for row in chosen if row["features"] == name}
        for name in dict.fromkeys(row["features"] for row in chosen)
    }
    pipelines = {row["features"]: row.get("pipeline", "") for row in chosen if row["classifier"] == "cross_validated"}
    return {
        **{name: _headline(scores) for name, scores in per_classifier.items()},
        "per_classifier": per_classifier,
        "chosen": pipelines,
        "semi_supervised": {
            name: scores["label_spreading"] for name, scores in per_classifier.items() if "label_spreading" in scores
        },
    }


def _headline(scores: dict) -> float:
    if "cross_validated" in scores:
        return scores["cross_validated"]
    return max(score for classifier, score in scores.items() if classifier != "label_spreading")


def classification_verdict(rows: list[dict], n_labels: int) -> str:
    """How the codes compare with the better of pixels and PCA at ``n_labels`` labelled images, each through its
    cross-validated pipeline, and then each with the unlabelled training images too (label spreading); gaps in
    percentage points."""
    best = best_accuracies(rows, n_labels)
    sentences = [_comparison(best, f"With {n_labels:,} labels and each feature set's cross-validated pipeline")]
    if set(best["semi_supervised"]) >= {"pixels", "pca", "codes"}:
        opening = "With the unlabelled training images too (label spreading)"
        sentences.append(_comparison(best["semi_supervised"], opening))
    return " ".join(sentences)


def _comparison(accuracies: dict, opening: str) -> str:
    """ "OPENING, the codes reach ..." and who wins by how many percentage points."""
    rival = max(("pixels", "pca"), key=lambda name: accuracies[name])
    points = 100 * (accuracies["codes"] - accuracies[rival])
    summary = (
        f"{opening}, the codes reach {accuracies['codes']:.1%}, pixels {accuracies['pixels']:.1%} and PCA "
        f"{accuracies['pca']:.1%}"
    )
    if points > 0:
        return f"{summary}: the codes win by {points:.1f} percentage points over {rival}."
    if points == 0:
        return f"{summary}: {rival} matches the codes, which add nothing for a classifier here."
    return f"{summary}: the codes lose, {rival} beats them by {-points:.1f} percentage points."


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
    predictions, _ = classify(classifier, features, y_train, subset, seed)
    return confusion_matrix(y_val, predictions, labels=np.arange(n_classes))


@dataclass(frozen=True)
class ClassificationReport:
    rows: list[dict]  # see accuracy_table
    label_counts: tuple[int, ...]  # the n_labels of the rows, None resolved to the number of training images


def classification_report(context, label_counts=LABEL_COUNTS, seed: int = 0, progress=None) -> ClassificationReport:
    """``accuracy_table`` for a RunContext's pixels, PCA codes and latent codes; ValueError for unlabeled data.

    Each label count's rows are computed on one thread (see ``classifiers.one_thread``) and kept on the context
    apart, so a page can show one label count's rows first and ask for the others after, fitting each once.
    progress : called as progress(done, total) after each fit, counted over the label counts not yet computed.
    """
    dataset = context.dataset
    if dataset.y_train is None:
        raise ValueError(
            f"{dataset.name} has no labels; classification needs a labelled dataset such as digits or "
            "mnist, or image folders with one sub-folder per class."
        )
    features = classification_features(context)
    label_counts = label_counts_of(dataset.y_train, label_counts)
    pending = [n_labels for n_labels in label_counts if not context.holds(("classification", n_labels, seed))]
    fits, rows = len(features) * len(CLASSIFIERS), []
    for n_labels in label_counts:
        step = None
        if progress is not None and n_labels in pending:
            step = partial(_progress_from, progress, pending.index(n_labels) * fits, len(pending) * fits)
        with one_thread():
            rows += context.cached(
                ("classification", n_labels, seed),
                partial(accuracy_table, features, dataset.y_train, dataset.y_val, (n_labels,), seed, step),
            )
    return ClassificationReport(rows, label_counts)


def _progress_from(progress, before: int, total: int, done: int, _fits: int) -> None:
    progress(before + done, total)


def label_counts_of(y_train: np.ndarray, label_counts=LABEL_COUNTS) -> tuple[int, ...]:
    """How many labelled images each of ``label_counts`` takes from training labels ``y_train`` (n,): None and
    counts above n become n; repeats dropped, in order. These are the rows' ``n_labels``."""
    return tuple(dict.fromkeys(len(balanced_subset(y_train, n_labels)) for n_labels in label_counts))


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
    with one_thread():
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
