"""Figures, composite images and progress text for the app: numpy in, Plotly figures, uint8 arrays or text out.

Nothing here imports Streamlit or Keras, so pages that only show data stay fast to load.
"""

import math

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from skimage.util import montage
from tqdm import tqdm

PREVIEW_TILE_PIXELS = 56  # upscale small images until a tile is about this tall, so 8x8 digits stay readable
MAX_CURVE_POINTS = 2_000  # a live chart redraws often; more points than a chart is wide only cost time
# Inferno from pure black: its own first colour, #000004, is one of the placeholder colours Streamlit's chart
# theming swaps for a theme colour, which would paint every error-free pixel lavender.
ERROR_COLORSCALE = plotly.colors.make_colorscale(["#000000", *plotly.colors.sequential.Inferno[1:]])


def to_uint8(images: np.ndarray) -> np.ndarray:
    """images : float in [0, 1] (values outside are clipped) -> uint8 in 0..255, same shape."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


def image_grid(images: np.ndarray, rows: int, cols: int, gap: int = 1, gap_value: float = 1.0) -> np.ndarray:
    """Tile ``images`` row by row into one image, leaving unused cells at ``gap_value``.

    images : (n, height, width, channels) float in [0, 1], n <= rows * cols
    Returns (rows * height + (rows - 1) * gap, cols * width + (cols - 1) * gap, channels) float32.
    """
    n, height, width, channels = images.shape
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit a {rows}x{cols} grid; use more rows or columns.")
    # one fill value per channel: montage indexes its fill by channel and fails on a scalar with colour images
    grid = montage(np.asarray(images, np.float32), fill=(gap_value,) * channels, grid_shape=(rows, cols),
                   padding_width=gap, channel_axis=-1)  # fmt: skip
    # montage also pads the outer border; the grid keeps gaps between tiles only
    return grid[gap : gap + rows * (height + gap) - gap, gap : gap + cols * (width + gap) - gap]


def enlarge(picture: np.ndarray, height: int, target: int = PREVIEW_TILE_PIXELS) -> np.ndarray:
    """The one resize path for display: ``picture`` (rows, cols, channels) float in [0, 1] whose tiles are
    ``height`` pixels tall, upscaled with nearest neighbour by scale_for(height, target) so small images keep sharp
    pixels; uint8, and grey pictures lose their channel axis, as st.image expects."""
    factor = scale_for(height, target)
    picture = to_uint8(np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1))
    return picture[..., 0] if picture.shape[-1] == 1 else picture


def scale_for(height: int, target: int = PREVIEW_TILE_PIXELS) -> int:
    """The integer upscaling factor that brings a tile of ``height`` pixels near ``target`` (at least 1)."""
    return max(1, round(target / height))


def comparison_image(originals: np.ndarray, *others: np.ndarray, target: int = PREVIEW_TILE_PIXELS) -> np.ndarray:
    """One displayable image: originals in the top row, each array in ``others`` in a row below.

    originals and each of others : (k, height, width, channels) float in [0, 1].
    Returns uint8 (rows * height * s + gaps, k * width * s + gaps) for grey images, or with a last axis of 3 for
    colour ones, upscaled by s = scale_for(height) with nearest neighbour so small images keep sharp pixels.
    """
    stacked = np.concatenate([originals, *others])  # (rows * k, height, width, channels)
    return enlarge(image_grid(stacked, rows=1 + len(others), cols=len(originals), gap=1), originals.shape[1], target)


def _thin(points: list, max_points: int) -> list:
    """Every k-th point (always keeping the last) so at most about ``max_points`` remain."""
    if len(points) <= max_points:
        return points
    step = math.ceil(len(points) / max_points)
    return points[::step] if (len(points) - 1) % step == 0 else points[::step] + [points[-1]]


def loss_figure(batch_losses: list, history: dict, log_y: bool = False,
                max_points: int = MAX_CURVE_POINTS) -> go.Figure:  # fmt: skip
    """Training loss after every batch (a line over fractional epochs) and validation loss per epoch (markers).

    batch_losses : (fractional epoch, that batch's train loss) pairs; history : metric -> one value per epoch.
    Extra metrics (a VAE's reconstruction_loss and kl_loss) get their own per-epoch train line and val markers.
    """
    figure = go.Figure()
    points = _thin(list(batch_losses), max_points)
    figure.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
                                name="train loss (per batch)"))  # fmt: skip
    for metric in _epoch_metrics(history):
        values = history.get(metric, [])
        epochs = list(range(1, len(values) + 1))
        if metric == "val_loss":
            figure.add_trace(go.Scatter(x=epochs, y=values, mode="markers", name="validation loss",
                                        marker={"size": 9, "symbol": "diamond"}))  # fmt: skip
        elif metric.startswith("val_"):
            figure.add_trace(go.Scatter(x=epochs, y=values, mode="markers", name=f"validation {metric[4:]}"))
        else:
            figure.add_trace(go.Scatter(x=epochs, y=values, mode="lines+markers", name=f"train {metric}",
                                        line={"dash": "dot"}))  # fmt: skip
    figure.update_layout(
        xaxis_title="epoch", yaxis_title="loss", yaxis_type="log" if log_y else "linear",
        height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12},
        uirevision="keep",  # keeps the user's zoom while the live chart redraws
    )  # fmt: skip
    return figure


def _epoch_metrics(history: dict) -> list:
    """val_loss first, then the other metrics a model reports besides its plain train loss."""
    extra = [metric for metric in history if metric not in ("loss", "val_loss")]
    return (["val_loss"] if "val_loss" in history else []) + extra


def comparison_figure(histories: dict, metric: str = "val_loss", log_y: bool = False) -> go.Figure:
    """One line per run of ``metric`` per epoch; histories : run name -> history dict."""
    figure = go.Figure()
    for name, history in histories.items():
        values = history.get(metric, [])
        figure.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers", name=name))
    epochs = max((len(history.get(metric, [])) for history in histories.values()), default=1)
    figure.update_layout(
        xaxis={"dtick": max(1, math.ceil(epochs / 10))},  # whole epochs only: there is one point per epoch
        xaxis_title="epoch", yaxis_title=metric.replace("_", " "), yaxis_type="log" if log_y else "linear",
        height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
    )  # fmt: skip
    return figure


def squared_error(original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
    """Per-pixel squared error, averaged over channels: (height, width, channels) twice -> (height, width)."""
    return np.mean((original.astype(np.float64) - reconstruction.astype(np.float64)) ** 2, axis=-1)


def error_heatmap(original: np.ndarray, reconstruction: np.ndarray) -> go.Figure:
    """Heatmap of the per-pixel squared error of one image, row 0 at the top like the image itself."""
    figure = go.Figure(go.Heatmap(z=squared_error(original, reconstruction), colorscale=ERROR_COLORSCALE,
                                  colorbar={"title": "error²"}))  # fmt: skip
    figure.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    figure.update_xaxes(showticklabels=False, constrain="domain")
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="squared error per pixel")
    return figure


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
            x=(index % cols) * (width + gap) + (width - 1) / 2, y=(index // cols) * (height + gap) - 0.5,
            text=str(label), showarrow=False, yanchor="bottom", font={"size": 12},
        )  # fmt: skip
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    figure.update_layout(height=40 + 75 * rows, margin={"l": 0, "r": 0, "t": 24, "b": 0})
    return figure


def class_count_figure(counts: dict) -> go.Figure:
    """Bar chart of images per class; counts : class name -> number of images."""
    figure = go.Figure(go.Bar(x=[str(name) for name in counts], y=list(counts.values())))
    figure.update_layout(xaxis_title="class", yaxis_title="images", height=300, xaxis_type="category",
                         margin={"l": 10, "r": 10, "t": 10, "b": 10})  # fmt: skip
    return figure


def clock(seconds: float) -> str:
    """Seconds as mm:ss, or h:mm:ss from an hour on (tqdm's format); "–" when unknown (inf or nan)."""
    return tqdm.format_interval(seconds) if math.isfinite(seconds) else "–"


def progress_caption(progress, paused: bool = False, stopping: bool = False) -> str:
    """The text under a progress bar for a training.BatchProgress (None before the first batch)."""
    if stopping:
        return "Stopping after this batch, then scoring the model…"
    if progress is None:
        return "Building the model and compiling its training step…"
    if progress.samples_seen >= progress.samples_total:
        return f"Epoch {progress.epochs}/{progress.epochs} done · scoring the model against PCA…"
    text = (f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/{progress.batches_per_epoch} · "
            f"{progress.samples_per_second:,.0f} samples/s · ETA {clock(progress.eta_seconds)}")  # fmt: skip
    return f"Paused · {text}" if paused else text


def enlarged(image: np.ndarray, target: int = 3 * PREVIEW_TILE_PIXELS) -> np.ndarray:
    """One image (height, width, channels) in [0, 1] as uint8, about ``target`` pixels tall (see ``enlarge``)."""
    return enlarge(image, image.shape[0], target)
