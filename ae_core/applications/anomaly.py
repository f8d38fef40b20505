"""Anomaly detection by reconstruction error: a model trained without class K should reconstruct K's images worse
than the classes it has seen, so a threshold on the per-image MSE flags them.

The threshold is a quantile (95 % by default) of the errors on the training images of the other classes, which the
model was trained on: about 5 % of normal images are flagged whatever the held-out class. The scores are the
validation split's: images of class K against all others.
"""

from dataclasses import dataclass, replace

import numpy as np
from sklearn.metrics import precision_score, recall_score, roc_auc_score, roc_curve

from ae_core.figures.images import comparison_image
from ae_core.validation import Integer, Number, check

DEFAULT_NORMAL_QUANTILE = 0.95
WEAK_AUC = 0.7  # below: the held-out class is not caught in any useful way
GOOD_AUC = 0.9
QUANTILE = Number(0.0, 1.0)
QUANTILE_HINT = "The threshold is that quantile of the normal training images' errors, such as 0.95."


@dataclass(frozen=True)
class AnomalyReport:
    """errors : (n,) validation per-image MSE; is_anomalous : (n,) bool, the held-out class; false_positive_rate,
    true_positive_rate : the ROC curve's points."""

    anomalous_class: int
    class_name: str
    auc: float
    threshold: float
    precision: float
    recall: float
    errors: np.ndarray
    is_anomalous: np.ndarray
    false_positive_rate: np.ndarray
    true_positive_rate: np.ndarray
    verdict: str

    @property
    def n_anomalous(self) -> int:
        return int(self.is_anomalous.sum())

    @property
    def n_normal(self) -> int:
        return int(len(self.is_anomalous) - self.is_anomalous.sum())

    def to_dict(self) -> dict:
        return {
            "auc": self.auc,
            "n_normal": self.n_normal,
            "n_anomalous": self.n_anomalous,
            "threshold": self.threshold,
            "precision": self.precision,
            "recall": self.recall,
        }


def precision_recall(errors: np.ndarray, is_anomalous: np.ndarray, threshold: float) -> tuple[float, float]:
    """Images with an error above ``threshold`` are flagged. Precision: the share of flagged images that are
    anomalous (0 when none is flagged); recall: the share of anomalous images flagged (0 when there are none).
    Both in [0, 1], by scikit-learn's ``precision_score`` and ``recall_score``; errors, is_anomalous : (n,)."""
    flagged = np.asarray(errors) > threshold
    precision = precision_score(is_anomalous, flagged, zero_division=0.0)
    recall = recall_score(is_anomalous, flagged, zero_division=0.0)
    return float(precision), float(recall)


def detect_anomalies(
    val_errors: np.ndarray,
    val_labels: np.ndarray,
    anomalous_class: int,
    normal_train_errors: np.ndarray,
    quantile: float = DEFAULT_NORMAL_QUANTILE,
    class_name: str | None = None,
) -> AnomalyReport:
    """Score ``val_errors`` (n,) as anomaly scores for ``anomalous_class`` among ``val_labels`` (n,); the threshold
    is the ``quantile`` of ``normal_train_errors`` (errors of training images of the other classes)."""
    quantile = check("quantile", quantile, QUANTILE, QUANTILE_HINT)
    is_anomalous = np.asarray(val_labels) == anomalous_class
    if is_anomalous.all() or not is_anomalous.any():
        raise ValueError(
            f"the validation split needs images of class {anomalous_class} and of other classes; it has "
            f"{int(is_anomalous.sum())} of {len(is_anomalous)} in class {anomalous_class}."
        )
    auc = float(roc_auc_score(is_anomalous, val_errors))
    false_positive_rate, true_positive_rate, _ = roc_curve(is_anomalous, val_errors)
    threshold = float(np.quantile(normal_train_errors, quantile))
    precision, recall = precision_recall(val_errors, is_anomalous, threshold)
    name = str(anomalous_class) if class_name is None else class_name
    return AnomalyReport(
        anomalous_class,
        name,
        auc,
        threshold,
        precision,
        recall,
        np.asarray(val_errors),
        is_anomalous,
        false_positive_rate,
        true_positive_rate,
        anomaly_verdict(auc, precision, recall, name),
    )


def anomaly_verdict(auc: float, precision: float, recall: float, class_name: str) -> str:
    """A plain sentence on how well held-out images of ``class_name`` are caught."""
    at_threshold = (
        f"at the threshold it flags {recall:.0%} of them, and {precision:.0%} of what it flags are {class_name}s"
    )
    if auc < WEAK_AUC:
        return (
            f"AUC {auc:.2f}: held-out {class_name}s are reconstructed well and are not caught; reconstruction "
            f"error does not single them out ({at_threshold})."
        )
    quality = "well" if auc >= GOOD_AUC else "only in part"
    return f"AUC {auc:.2f}: reconstruction error singles out held-out {class_name}s {quality}; {at_threshold}."


def anomaly_report(
    context, anomalous_class: int | None = None, quantile: float = DEFAULT_NORMAL_QUANTILE
) -> AnomalyReport:
    """``detect_anomalies`` for a RunContext; the class defaults to the one the run was trained without.

    A run trained on every class may be scored too (its verdict says so); a run trained without another class
    than ``anomalous_class`` is refused, as its "normal" images would include an unseen class.
    """
    run, dataset = context.run, context.dataset
    anomalous_class = _class_to_score(run, dataset, anomalous_class)
    quantile = check("quantile", quantile, QUANTILE, QUANTILE_HINT)
    normal_train = dataset.y_train != anomalous_class
    report = context.cached(
        ("anomaly", anomalous_class, quantile),
        lambda: detect_anomalies(
            context.errors("validation"),
            dataset.y_val,
            anomalous_class,
            context.errors("training")[normal_train],
            quantile,
            dataset.class_names[anomalous_class],
        ),
    )
    if run.excluded_class is None:
        note = f" This run was trained on {report.class_name}s too, so they are not anomalies to it."
        return replace(report, verdict=report.verdict + note)
    return report


def _class_to_score(run, dataset, anomalous_class: int | None) -> int:
    """``anomalous_class``, or the class ``run`` was trained without when it is None; checked against the dataset's
    classes and the run."""
    excluded = run.excluded_class
    anomalous_class = excluded if anomalous_class is None else anomalous_class
    if dataset.y_val is None or anomalous_class is None:
        raise ValueError(
            "anomaly detection needs a labelled dataset and a class to hold out; train a run without "
            "one class (train --exclude-class K) and score that class."
        )
    last = len(dataset.class_names) - 1
    anomalous_class = check("anomalous_class", anomalous_class, Integer(0, last), "It is the class held out.")
    if excluded is not None and excluded != anomalous_class:
        raise ValueError(
            f"run {run.name} was trained without class {excluded}, not {anomalous_class}; score class "
            f"{excluded}, or train a run without class {anomalous_class}."
        )
    return anomalous_class


def extremes(report: AnomalyReport, count: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Validation indices of the ``count`` most anomalous images (highest error first) and the ``count`` least."""
    order = np.argsort(report.errors, kind="stable")
    return order[::-1][:count], order[:count]


def missed(report: AnomalyReport, threshold: float, count: int = 8) -> np.ndarray:
    """Validation indices of held-out images whose error is at or under ``threshold``, so they are not flagged:
    at most ``count``, the best reconstructed first."""
    under = np.flatnonzero(report.is_anomalous & (report.errors <= threshold))
    return under[np.argsort(report.errors[under], kind="stable")][:count]


def extremes_grid(report: AnomalyReport, images: np.ndarray, count: int = 8) -> np.ndarray:
    """One displayable uint8 image: the most anomalous validation ``images`` on top, the least below."""
    most, least = extremes(report, count)
    return comparison_image(images[most], images[least])
