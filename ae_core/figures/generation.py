"""The judge's scores of generated images beside real ones: the share of each class and the distance to the
nearest training image.
"""

import plotly.graph_objects as go

from ae_core import user_text
from ae_core.generation.judge import Scores


def class_share_figure(batches: dict[str, Scores], class_names) -> go.Figure:
    """Grouped bars, one trace per batch (title -> its Scores): the share of the batch's images confidently given
    each of ``class_names``; a trace's bars sum to its confident_share, so batches of any size compare. Titles and
    class names are shown as typed."""
    names = [user_text.plotly(name) for name in class_names]
    figure = go.Figure()
    for title, scores in batches.items():
        shares = scores.class_histogram / len(scores.nearest_distances)
        name = f"{user_text.plotly(title)} (entropy {scores.class_entropy:.2f})"
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
    return figure


def distance_figure(batches: dict[str, Scores]) -> go.Figure:
    """Overlaid histograms, one per batch (title -> its Scores), of each image's pixel distance to its nearest
    training image: a generated batch far left of the real images copies training images. Titles are shown as
    typed."""
    figure = go.Figure()
    for title, scores in batches.items():
        figure.add_histogram(
            x=scores.nearest_distances, name=user_text.plotly(title), histnorm="probability", opacity=0.6, nbinsx=30
        )
    figure.update_layout(
        barmode="overlay",
        title="Distance to the nearest training image (0: a copy)",
        xaxis_title="pixel L2 distance",
        yaxis_title="share of the batch",
        yaxis_tickformat=".0%",
        legend_orientation="h",
        legend_y=-0.25,
        margin={"t": 40},
    )
    return figure
