"""Latent maps as Plotly figures: the map coloured by class, the map over training, and each code dimension's
variance.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ae_core import user_text
from ae_core.latent.code_variance import code_variance, unused_dimensions


def latent_figure(
    coords: np.ndarray, labels: np.ndarray | None, class_names: tuple[str, ...] = (), dims: int = 2, title: str = ""
) -> go.Figure:
    """Points coloured by label: Scattergl for 2-D, Scatter3d for 3-D, one trace per class.

    coords : (n, 2 or 3); labels : (n,) int indices into class_names (names default to the numbers), or None.
    Each point's customdata is its row in ``coords``, so a page maps a selection back to its image. Class names are
    shown as typed; ``title`` is the app's own text.
    """
    dims = min(dims, coords.shape[1])
    rows = np.arange(len(coords))
    groups = [(None, rows)] if labels is None else [(label, rows[labels == label]) for label in np.unique(labels)]
    figure = go.Figure()
    for label, members in groups:
        name = "codes" if label is None else (class_names[label] if label < len(class_names) else label)
        common = {
            "name": user_text.plotly(name),
            "mode": "markers",
            "customdata": members,
            # the name comes from the trace, not the template, where a name's "%{...}" would be filled in
            "hovertemplate": "%{fullData.name}<br>image %{customdata}<extra></extra>",
        }
        if dims == 3:
            x, y, z = coords[members].T
            figure.add_trace(go.Scatter3d(x=x, y=y, z=z, marker={"size": 2}, **common))
        else:
            x, y = coords[members, 0], coords[members, 1]
            figure.add_trace(go.Scattergl(x=x, y=y, marker={"size": 4, "opacity": 0.8}, **common))
    figure.update_layout(
        title=title,
        legend={"itemsizing": "constant"},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        dragmode="lasso" if dims == 2 else "orbit",
    )
    return figure


AXIS_MARGIN = 0.05  # share of each axis' span left around the map over training


def epoch_figure(
    maps: np.ndarray, labels: np.ndarray | None, epoch: int, class_names: tuple[str, ...] = ()
) -> go.Figure:
    """The map after ``epoch`` (1-based) of ``maps`` (epochs, n, 2), on axes fixed over every epoch so that what
    moves between epochs is the codes, not the axes."""
    figure = latent_figure(maps[epoch - 1], labels, class_names, title=f"After epoch {epoch} of {len(maps)}")
    low, high = maps.reshape(-1, maps.shape[2]).min(axis=0), maps.reshape(-1, maps.shape[2]).max(axis=0)
    margin = AXIS_MARGIN * np.maximum(high - low, 1e-6)
    figure.update_xaxes(range=[float(low[0] - margin[0]), float(high[0] + margin[0])])
    if maps.shape[2] > 1:
        figure.update_yaxes(range=[float(low[1] - margin[1]), float(high[1] + margin[1])])
    return figure.update_layout(dragmode="pan")


def variance_figure(codes: np.ndarray) -> go.Figure:
    """Bar chart of each code dimension's variance over ``codes`` (n, latent_dim); unused dimensions (see
    ``latent_map.unused_dimensions``) are drawn grey and named in the legend."""
    variance = code_variance(codes)
    unused = set(unused_dimensions(codes).tolist())
    used_rows = [dim for dim in range(len(variance)) if dim not in unused]
    figure = go.Figure()
    for name, rows, colour in (("used", used_rows, "#1f77b4"), ("almost unused", sorted(unused), "#bbbbbb")):
        if rows:
            figure.add_trace(go.Bar(x=rows, y=variance[rows], name=name, marker_color=colour))
    figure.update_xaxes(title="code dimension", dtick=1 if len(variance) <= 32 else None)
    figure.update_yaxes(title="variance over the mapped images")
    return figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, barmode="overlay")
