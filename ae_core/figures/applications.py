"""The charts of the four applications: rate-distortion, restoration by strength, classification accuracy and
confusion, anomaly error histogram and ROC.
"""

import numpy as np
import plotly.graph_objects as go

from ae_core import user_text
from ae_core.applications.anomaly import AnomalyReport
from ae_core.applications.classification import CLASSIFIERS, FEATURES
from ae_core.applications.compression import METHODS, RateDistortionRow


def error_histogram(report: AnomalyReport) -> go.Figure:
    """Per-image validation errors of normal and held-out images, with the threshold as a vertical line."""
    figure = go.Figure()
    for name, chosen in (
        ("other classes", ~report.is_anomalous),
        (f"held-out {user_text.plotly(report.class_name)}s", report.is_anomalous),
    ):
        figure.add_histogram(x=report.errors[chosen], name=name, opacity=0.6, histnorm="probability density")
    figure.add_vline(x=report.threshold, line_dash="dash", annotation_text="threshold")
    figure.update_layout(
        barmode="overlay", xaxis_title="reconstruction MSE", yaxis_title="density", margin=dict(t=30, b=40, l=50, r=10)
    )
    return figure


def roc_figure(report: AnomalyReport) -> go.Figure:
    """The ROC curve of flagging the held-out class by reconstruction error, beside chance."""
    figure = go.Figure()
    figure.add_scatter(
        x=report.false_positive_rate, y=report.true_positive_rate, mode="lines", name=f"AUC {report.auc:.3f}"
    )
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot"), name="chance")
    figure.update_layout(
        xaxis_title="false positive rate (normal images flagged)",
        yaxis_title=f"true positive rate ({user_text.plotly(report.class_name)}s caught)",
        margin=dict(t=30, b=40, l=50, r=10),
    )
    return figure


def confusion_figure(matrix: np.ndarray, class_names) -> go.Figure:
    """Heat map of ``matrix`` (n_classes, n_classes): row = true class, column = predicted, both labelled by
    ``class_names`` (shown as typed)."""
    names = [user_text.plotly(name) for name in class_names]
    figure = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            hovertemplate="true %{y}, predicted %{x}: %{z}",
        )
    )
    figure.update_layout(
        xaxis_title="predicted",
        yaxis_title="true",
        yaxis_autorange="reversed",
        xaxis_type="category",
        yaxis_type="category",  # class names such as "3" are labels
        margin=dict(t=30, b=40, l=50, r=10),
    )
    return figure


def accuracy_figure(rows: list[dict]) -> go.Figure:
    """Validation accuracy against labelled images (log axis), one line per feature set and classifier."""
    figure = go.Figure()
    for name in FEATURES:
        for classifier in CLASSIFIERS:
            points = [row for row in rows if row["features"] == name and row["classifier"] == classifier]
            if points:
                figure.add_scatter(
                    x=[row["n_labels"] for row in points],
                    y=[row["accuracy"] for row in points],
                    mode="lines+markers",
                    name=f"{name}, {classifier.replace('_', ' ')}",
                    line=dict(dash="solid" if classifier == "logistic_regression" else "dot"),
                )
    figure.update_layout(
        xaxis_title="labelled training images",
        yaxis_title="validation accuracy",
        xaxis_type="log",
        yaxis_range=[0, 1],
        margin=dict(t=30, b=40, l=50, r=10),
    )
    return figure


def rate_distortion_figure(rows: list[RateDistortionRow], metric: str = "psnr") -> go.Figure:
    """``metric`` ("mse", "psnr" or "ssim") against bytes per image on a log axis, one line per method."""
    figure = go.Figure()
    for method in METHODS:
        points = sorted((row for row in rows if row.method == method), key=lambda row: row.bytes_per_image)
        if points:
            figure.add_scatter(
                x=[row.bytes_per_image for row in points],
                y=[getattr(row, metric) for row in points],
                text=[row.setting for row in points],
                mode="lines+markers+text",
                textposition="top center",
                name=method,
            )
    titles = {"mse": "MSE (lower is better)", "psnr": "PSNR dB (higher is better)", "ssim": "SSIM (higher is better)"}
    figure.update_layout(
        xaxis_title="bytes per image", yaxis_title=titles[metric], xaxis_type="log", margin=dict(t=30, b=40, l=50, r=10)
    )
    return figure


def sweep_figure(rows: list[dict], kind: str) -> go.Figure:
    """PSNR against degradation strength, one line per method (rows from ``strength_sweep``)."""
    figure = go.Figure()
    for method in dict.fromkeys(row["method"] for row in rows):
        points = [row for row in rows if row["method"] == method]
        figure.add_scatter(
            x=[row["level"] for row in points],
            y=[row["psnr"] for row in points],
            mode="lines+markers",
            name=method.replace("_", " "),
            line=dict(dash="dot") if method == "noisy" else None,
        )
    figure.update_layout(
        xaxis_title=f"{kind.replace('_', ' ')} level",
        yaxis_title="PSNR dB (higher is better)",
        margin=dict(t=30, b=40, l=50, r=10),
    )
    return figure
