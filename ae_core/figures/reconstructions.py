"""Per-pixel squared error of a reconstruction, as an image and a heat map."""

import numpy as np
import plotly.colors
import plotly.graph_objects as go

# Inferno from pure black: its own first colour, #000004, is one of the placeholder colours Streamlit's chart
# theming swaps for a theme colour, which would paint every error-free pixel lavender.
ERROR_COLORSCALE = plotly.colors.make_colorscale(["#000000", *plotly.colors.sequential.Inferno[1:]])


def squared_error(original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Per-pixel squared error, averaged over channels: (height, width, channels) twice -> (height, width)."""
    return np.mean((original.astype(np.float64) - reconstruction.astype(np.float64)) ** 2, axis=-1)


def error_heatmap(original: np.ndarray, reconstruction: np.ndarray) -> go.Figure:
    """Heatmap of the per-pixel squared error of one image, row 0 at the top like the image itself."""
    figure = go.Figure(
        go.Heatmap(z=squared_error(original, reconstruction), colorscale=ERROR_COLORSCALE, colorbar={"title": "error²"})
    )
    figure.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    figure.update_xaxes(showticklabels=False, constrain="domain")
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="squared error per pixel")
    return figure
