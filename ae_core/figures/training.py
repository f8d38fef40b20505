"""Loss curves of one run while it trains, and the comparison of several runs."""

import math

import plotly.graph_objects as go

from ae_core import user_text
from ae_core.figures import palette

MAX_CURVE_POINTS = 2_000  # a live chart redraws often; more points than a chart is wide only cost time


def _thin(points: list, max_points: int) -> list:
    """Every k-th point (always keeping the last) so at most about ``max_points`` remain."""
    if len(points) <= max_points:
        return points
    step = math.ceil(len(points) / max_points)
    return points[::step] if (len(points) - 1) % step == 0 else points[::step] + [points[-1]]


def loss_figure(
    batch_losses: list, history: dict, log_y: bool = False, max_points: int = MAX_CURVE_POINTS
) -> go.Figure:
    """Training loss after every batch (a line over fractional epochs) and validation loss per epoch (markers).

    batch_losses : (fractional epoch, that batch's train loss) pairs; history : metric -> one value per epoch.
    Extra metrics (a VAE's reconstruction_loss and kl_loss) get their own per-epoch train line and val markers.
    """
    figure = go.Figure()
    points = _thin(list(batch_losses), max_points)
    figure.add_trace(
        go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines", name="train loss (per batch)")
    )
    for metric in _epoch_metrics(history):
        values = history.get(metric, [])
        epochs = list(range(1, len(values) + 1))
        if metric == "val_loss":
            figure.add_trace(
                go.Scatter(
                    x=epochs, y=values, mode="markers", name="validation loss", marker={"size": 9, "symbol": "diamond"}
                )
            )
        elif metric.startswith("val_"):
            figure.add_trace(go.Scatter(x=epochs, y=values, mode="markers", name=f"validation {metric[4:]}"))
        else:
            figure.add_trace(
                go.Scatter(x=epochs, y=values, mode="lines+markers", name=f"train {metric}", line={"dash": "dot"})
            )
    figure.update_layout(
        xaxis_title="epoch",
        yaxis_title="loss",
        yaxis_type="log" if log_y else "linear",
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12},
        uirevision="keep",  # keeps the user's zoom while the live chart redraws
    )
    return palette.colour_traces(figure)


def _epoch_metrics(history: dict) -> list:
    """val_loss first, then the other metrics a model reports besides its plain train loss."""
    extra = [metric for metric in history if metric not in ("loss", "val_loss")]
    return (["val_loss"] if "val_loss" in history else []) + extra


def comparison_figure(histories: dict, metric: str = "val_loss", log_y: bool = False) -> go.Figure:
    """One line per run of ``metric`` per epoch; histories : run name (shown as typed) -> history dict."""
    figure = go.Figure()
    for name, history in histories.items():
        values = history.get(metric, [])
        figure.add_trace(
            go.Scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", name=user_text.plotly(name))
        )
    epochs = max((len(history.get(metric, [])) for history in histories.values()), default=1)
    figure.update_layout(
        xaxis={"dtick": max(1, math.ceil(epochs / 10))},  # whole epochs only: there is one point per epoch
        xaxis_title="epoch",
        yaxis_title=metric.replace("_", " "),
        yaxis_type="log" if log_y else "linear",
        height=360,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )
    return palette.colour_traces(figure)
