"""A dataset at a glance: a grid of sample images and the count of each class."""

import math

import numpy as np
import plotly.graph_objects as go

from ae_core import user_text
from ae_core.figures import palette
from ae_core.figures.images import image_grid, to_uint8


def sample_figure(images: np.ndarray, labels: list, cols: int = 10) -> go.Figure:
    """A grid of sample images as one Plotly image, each labelled above: images (n, height, width, channels)."""
    n, height, width, _ = images.shape
    rows = math.ceil(n / cols)
    gap = max(2, height // 2)  # room for a label above each row
    picture = to_uint8(image_grid(images, rows, cols, gap=gap))
    if picture.shape[-1] == 1:
        picture = np.repeat(picture, 3, axis=-1)  # go.Image needs RGB
    figure = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    for index, label in enumerate(labels):
        figure.add_annotation(
            x=(index % cols) * (width + gap) + (width - 1) / 2,
            y=(index // cols) * (height + gap) - 0.5,
            text=user_text.plotly(label),
            showarrow=False,
            yanchor="bottom",
            font={"size": 12},
        )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.update_layout(height=40 + 75 * rows, margin={"l": 0, "r": 0, "t": 24, "b": 0})
    return figure


def class_count_figure(counts: dict) -> go.Figure:
    """Bar chart of images per class; counts : class name (shown as typed) -> number of images."""
    names = [user_text.plotly(name) for name in counts]
    figure = go.Figure(go.Bar(x=names, y=list(counts.values()), marker_color=palette.colours(len(names))))
    figure.update_layout(
        xaxis_title="class",
        yaxis_title="images",
        height=300,
        xaxis_type="category",
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
    )
    return figure
