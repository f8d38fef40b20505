"""The judge's scores of generated images beside real ones: the share of each class and the distance to the
nearest training image, relative to real images'; and the traversal of code dimensions, its rows and columns
labelled.
"""

import numpy as np
import plotly.graph_objects as go

from ae_core import user_text
from ae_core.figures import palette
from ae_core.figures.images import image_grid, to_uint8
from ae_core.generation.judge import Scores


def class_share_figure(batches: dict[str, Scores], class_names) -> go.Figure:
    """Grouped bars, one trace per batch (title -> its Scores): the share of the batch's images confidently given
    each of ``class_names``; a trace's bars sum to its confident_share, so batches of any size compare. Titles and
    class names are shown as typed."""
    names = [user_text.plotly(name) for name in class_names]
    figure = go.Figure()
    for title, scores in batches.items():
        shares = scores.class_histogram / len(scores.nearest_distances)
        entropy = "nothing recognised" if scores.class_entropy is None else f"entropy {scores.class_entropy:.2f}"
        name = f"{user_text.plotly(title)} ({entropy})"
        figure.add_bar(x=names, y=shares.tolist(), name=name)
    figure.update_layout(
        barmode="group",
        title="Confidently predicted classes",
        xaxis_title="class",
        xaxis_type="category",
        yaxis_title="share of the batch",
        yaxis_tickformat=".0%",
        legend_orientation="h",
        legend_y=-0.25,
        margin={"t": 40},
    )
    return palette.colour_traces(figure)


def distance_figure(batches: dict[str, Scores]) -> go.Figure:
    """Overlaid histograms, one per batch (title -> its Scores), of each image's distance to its nearest training
    image over the typical (median) one of real validation images, with a line at 1, where unseen real images sit:
    a batch far left of it lies nearer the training images than new real images do (a copy, or a blur near
    everything). Scores without relative distances show pixel distances. Titles are shown as typed."""
    figure = go.Figure()
    relative = all(scores.relative_distances is not None for scores in batches.values())
    for title, scores in batches.items():
        distances = scores.relative_distances if relative else scores.nearest_distances
        figure.add_histogram(x=distances, name=user_text.plotly(title), histnorm="probability", opacity=0.6, nbinsx=30)
    if relative:
        figure.add_vline(x=1.0, line_dash="dash", annotation_text="typical real image")
    figure.update_layout(
        barmode="overlay",
        title="Distance to the nearest training image, against real images'",
        xaxis_title="nearest distance / real images' median" if relative else "pixel L2 distance",
        yaxis_title="share of the batch",
        yaxis_tickformat=".0%",
        legend_orientation="h",
        legend_y=-0.25,
        margin={"t": 40},
    )
    return palette.colour_traces(figure)


TRAVERSAL_ROW_PIXELS = 64  # the figure's height per row of images, beside its margins


def traversal_figure(rows: np.ndarray, dims, offsets: np.ndarray) -> go.Figure:
    """A traversal as one image: ``rows`` (len(dims), steps, height, width, channels) in [0, 1], row i moving code
    dimension ``dims[i]`` by ``offsets`` (steps,) standard deviations, 1 pixel apart. Rows are labelled by their
    dimension, columns by their offset; the column of offset 0 is the image's own code."""
    n_rows, steps, height, width, _ = rows.shape
    picture = to_uint8(image_grid(rows.reshape(-1, *rows.shape[2:]), n_rows, steps))  # (h', w', channels)
    if picture.shape[-1] == 1:
        picture = np.repeat(picture, 3, axis=-1)  # go.Image needs RGB
    figure = go.Figure(go.Image(z=picture, hoverinfo="skip"))
    figure.update_xaxes(
        tickvals=[column * (width + 1) + (width - 1) / 2 for column in range(steps)],
        ticktext=["own code" if abs(offset) < 1e-9 else f"{offset:+.2g} sd" for offset in offsets],
        side="top",
        showgrid=False,
    )
    figure.update_yaxes(
        tickvals=[row * (height + 1) + (height - 1) / 2 for row in range(n_rows)],
        ticktext=[f"dim {dim}" for dim in dims],
        showgrid=False,
    )
    return figure.update_layout(height=40 + TRAVERSAL_ROW_PIXELS * n_rows, margin={"l": 10, "r": 10, "t": 30, "b": 10})
