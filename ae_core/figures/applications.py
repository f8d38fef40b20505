"""The charts of the four applications: rate-distortion, restoration by strength, classification accuracy and
confusion, anomaly error histogram and ROC.
"""

import numpy as np
import plotly.graph_objects as go

from ae_core import user_text
from ae_core.applications.anomaly import AnomalyReport
from ae_core.applications.classification import CLASSIFIERS, FEATURES
from ae_core.applications.rate_distortion import CODECS, METHODS, RateDistortionRow
from ae_core.figures import palette


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
    return palette.colour_traces(figure)


def roc_figure(report: AnomalyReport) -> go.Figure:
    """The ROC curve of flagging the held-out class by reconstruction error, beside chance."""
    figure = go.Figure()
    figure.add_scatter(
        x=report.false_positive_rate, y=report.true_positive_rate, mode="lines", name=f"AUC {report.auc:.3f}"
    )
    figure.add_scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color=palette.SET_ASIDE), name="chance")
    figure.update_layout(
        xaxis_title="false positive rate (normal images flagged)",
        yaxis_title=f"true positive rate ({user_text.plotly(report.class_name)}s caught)",
        margin=dict(t=30, b=40, l=50, r=10),
    )
    return palette.colour_traces(figure, skip=("chance",))


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


CLASSIFIER_DASHES = {
    "cross_validated": "solid",
    "logistic_regression": "dashdot",
    "knn": "dot",
    "label_spreading": "dash",
}


def accuracy_figure(rows: list[dict]) -> go.Figure:
    """Validation accuracy against labelled images (log axis), one line per feature set and classifier."""
    figure = go.Figure()
    for name, hue in zip(FEATURES, palette.colours(len(FEATURES))):
        for classifier in CLASSIFIERS:
            points = [row for row in rows if row["features"] == name and row["classifier"] == classifier]
            if points:
                figure.add_scatter(
                    x=[row["n_labels"] for row in points],
                    y=[row["accuracy"] for row in points],
                    mode="lines+markers",
                    name=f"{name}, {classifier.replace('_', ' ')}",
                    # one colour per feature set, one dash per classifier
                    line=dict(dash=CLASSIFIER_DASHES[classifier], color=hue),
                    marker_color=hue,
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
    """``metric`` ("mse", "psnr" or "ssim") against bits per pixel on a log axis with 1-2-5 ticks, one line per
    method; each point is labelled by what it is: the code's storage, PCA's real component count and storage, or
    the codec's quality."""
    figure = go.Figure()
    for method in METHODS:
        points = sorted((row for row in rows if row.method == method), key=lambda row: row.bits_per_pixel)
        if points:
            figure.add_scatter(
                x=[row.bits_per_pixel for row in points],
                y=[getattr(row, metric) for row in points],
                text=[_point_label(row) for row in points],
                customdata=[row.bytes_per_image for row in points],
                hovertemplate="%{text}: %{x:.3g} bits per pixel (%{customdata:.1f} bytes), %{y:.4g}",
                mode="lines+markers+text",
                textposition="top center",
                textfont=dict(size=10),
                name=CODECS.get(method, method),
            )
    titles = {"mse": "MSE (lower is better)", "psnr": "PSNR dB (higher is better)", "ssim": "SSIM (higher is better)"}
    ticks = log_ticks([row.bits_per_pixel for row in rows])
    figure.update_layout(
        xaxis=dict(title="bits per pixel", type="log", tickvals=ticks, ticktext=[f"{tick:g}" for tick in ticks]),
        yaxis_title=titles[metric],
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
        margin=dict(t=30, b=40, l=50, r=10),
    )
    return palette.colour_traces(figure)


def _point_label(row: RateDistortionRow) -> str:
    if row.method == "autoencoder":
        return row.setting
    if row.method == "pca":
        return f"{row.setting.replace('components=', '')} comp. {row.precision}".strip()
    return row.setting.replace("quality=", "q")


def log_ticks(values) -> list[float]:
    """1, 2, 5 times the powers of ten that span ``values`` (positive numbers): clean ticks for a log axis."""
    low, high = np.floor(np.log10(min(values))), np.ceil(np.log10(max(values)))
    ticks = [mantissa * 10.0**power for power in np.arange(low, high + 1) for mantissa in (1, 2, 5)]
    kept = [float(tick) for tick in ticks if min(values) / 2 <= tick <= max(values) * 2]
    return kept or [float(min(values))]


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
    return palette.colour_traces(figure)
