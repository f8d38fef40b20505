"""Latent maps as Plotly figures: the map coloured by class, the map over training, and each code dimension's
variance.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ae_core import user_text
from ae_core.figures import palette
from ae_core.latent.code_variance import code_variance, unused_dimensions


def latent_figure(
    coords: np.ndarray,
    labels: np.ndarray | None,
    class_names: tuple[str, ...] = (),
    dims: int = 2,
    title: str = "",
    spot: np.ndarray | None = None,
    clickable: bool = False,
) -> go.Figure:
    """Points coloured by label: Scattergl for 2-D, Scatter3d for 3-D, one trace per class.

    coords : (n, 2 or 3); labels : (n,) int indices into class_names (names default to the numbers), or None.
    Each point's customdata is its row in ``coords``, so a page maps a selection back to its image. Class names are
    shown as typed; ``title`` is the app's own text. spot : (dims,) a decoded spot, marked with a cross.
    clickable : the page turns a click into a selection: the points' hover text says so, and a 2-D map gets a
    SPOT_GRID x SPOT_GRID grid of invisible points (customdata SPOT_ROW) over its range, so a click on an empty spot
    selects the grid point there (Plotly reports clicks on points only).
    The drag mode is pan, where Streamlit turns a click into a selection; box and lasso stay in the mode bar.
    """
    dims = min(dims, coords.shape[1])
    rows = np.arange(len(coords))
    groups = [(None, rows)] if labels is None else [(label, rows[labels == label]) for label in np.unique(labels)]
    figure = go.Figure()
    click = ": click to see it" if clickable else ""
    for label, members in groups:
        name = "codes" if label is None else (class_names[label] if label < len(class_names) else label)
        hue = palette.colour(0 if label is None else label)  # a class keeps its colour on every map
        common = {
            "name": user_text.plotly(name),
            "mode": "markers",
            "customdata": members,
            # the name comes from the trace, not the template, where a name's "%{...}" would be filled in
            "hovertemplate": f"%{{fullData.name}}<br>image %{{customdata}}{click}<extra></extra>",
        }
        if dims == 3:
            x, y, z = coords[members].T
            figure.add_trace(go.Scatter3d(x=x, y=y, z=z, marker={"size": 2, "color": hue}, **common))
        else:
            x, y = coords[members, 0], coords[members, 1]
            figure.add_trace(go.Scattergl(x=x, y=y, marker={"size": 4, "opacity": 0.8, "color": hue}, **common))
    if clickable and dims == 2:
        figure.add_trace(_spot_grid(coords))
    if spot is not None:
        figure.add_trace(_spot_marker(np.asarray(spot, dtype=np.float32), dims))
    figure.update_layout(
        title=title,
        legend={"itemsizing": "constant"},
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        dragmode="pan" if dims == 2 else "orbit",
    )
    return figure


SPOT_GRID = 40  # invisible clickable points per side of a 2-D map
SPOT_ROW = -1  # the customdata of those points: not a map row
SPOT_NAME = "decoded spot"


def _spot_grid(coords: np.ndarray) -> go.Scattergl:
    low, high = coords[:, :2].min(axis=0), coords[:, :2].max(axis=0)
    x, y = np.meshgrid(*(np.linspace(low[axis], high[axis], SPOT_GRID) for axis in (0, 1)))
    return go.Scattergl(
        x=x.ravel(),
        y=y.ravel(),
        mode="markers",
        marker={"size": 6, "opacity": 0},
        customdata=np.full(x.size, SPOT_ROW),
        hovertemplate="click to decode (%{x:.2f}, %{y:.2f})<extra></extra>",
        showlegend=False,
        name="spots",
    )


def _spot_marker(spot: np.ndarray, dims: int) -> go.Scatter | go.Scatter3d:
    common = {
        "mode": "markers",
        "name": SPOT_NAME,
        "hoverinfo": "skip",
        "marker": {"symbol": "x", "size": 14, "color": "black", "line": {"width": 2, "color": "white"}},
    }
    if dims == 3:
        return go.Scatter3d(x=spot[:1], y=spot[1:2], z=spot[2:3], **{**common, "marker": {"size": 6, "color": "black"}})
    return go.Scatter(x=spot[:1], y=spot[1:2], **common)


AXIS_MARGIN = 0.05  # share of each axis' span left around the map over training


def epoch_figure(
    maps: np.ndarray, labels: np.ndarray | None, epoch: int, class_names: tuple[str, ...] = ()
) -> go.Figure:
    """The map after ``epoch`` (1-based) of ``maps`` (epochs, n, 2), on axes fixed over every epoch so that what
    moves between epochs is the codes, not the axes; a Play button and an epoch slider under it step through
    every epoch's map (Plotly animation frames, one per epoch, named by its number)."""
    figure = latent_figure(maps[epoch - 1], labels, class_names, title=f"After epoch {epoch} of {len(maps)}")
    _add_epoch_frames(figure, maps, labels, epoch)
    low, high = maps.reshape(-1, maps.shape[2]).min(axis=0), maps.reshape(-1, maps.shape[2]).max(axis=0)
    margin = AXIS_MARGIN * np.maximum(high - low, 1e-6)
    figure.update_xaxes(range=[float(low[0] - margin[0]), float(high[0] + margin[0])])
    if maps.shape[2] > 1:
        figure.update_yaxes(range=[float(low[1] - margin[1]), float(high[1] + margin[1])])
    return figure.update_layout(dragmode="pan")


FRAME_MS = 600  # how long each epoch stays on screen while playing


def _add_epoch_frames(figure: go.Figure, maps: np.ndarray, labels: np.ndarray | None, epoch: int) -> None:
    rows = np.arange(maps.shape[1])
    groups = [rows] if labels is None else [rows[labels == label] for label in np.unique(labels)]
    figure.frames = [
        go.Frame(
            name=str(shown),
            data=[{"x": maps[shown - 1, members, 0], "y": maps[shown - 1, members, 1]} for members in groups],
            layout={"title": {"text": f"After epoch {shown} of {len(maps)}"}},
        )
        for shown in range(1, len(maps) + 1)
    ]
    step = {"mode": "immediate", "frame": {"duration": FRAME_MS, "redraw": True}, "transition": {"duration": 0}}
    figure.update_layout(
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0,
                "y": -0.08,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {"label": "Play", "method": "animate", "args": [None, {**step, "fromcurrent": True}]},
                    {"label": "Pause", "method": "animate", "args": [[None], {**step, "frame": {"duration": 0}}]},
                ],
            }
        ],
        sliders=[
            {
                "active": epoch - 1,
                "x": 0.15,
                "y": -0.04,
                "len": 0.85,
                "currentvalue": {"prefix": "epoch "},
                "steps": [
                    {"label": frame.name, "method": "animate", "args": [[frame.name], step]} for frame in figure.frames
                ],
            }
        ],
        margin={"b": 90},
    )


def variance_figure(codes: np.ndarray) -> go.Figure:
    """Bar chart of each code dimension's variance over ``codes`` (n, latent_dim); unused dimensions (see
    ``latent_map.unused_dimensions``) are drawn grey and named in the legend."""
    variance = code_variance(codes)
    unused = set(unused_dimensions(codes).tolist())
    used_rows = [dim for dim in range(len(variance)) if dim not in unused]
    figure = go.Figure()
    parts = (("used", used_rows, palette.colour(0)), ("almost unused", sorted(unused), palette.SET_ASIDE))
    for name, rows, colour in parts:
        if rows:
            figure.add_trace(go.Bar(x=rows, y=variance[rows], name=name, marker_color=colour))
    figure.update_xaxes(title="code dimension", dtick=1 if len(variance) <= 32 else None)
    figure.update_yaxes(title="variance over the mapped images")
    return figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, barmode="overlay")
