"""Figures and composite images, checked against the numbers they are drawn from."""

import html
import math
import re

import numpy as np
import pytest

from ae_core import user_text
from ae_core.applications.anomaly import AnomalyReport
from ae_core.applications.rate_distortion import RateDistortionRow
from ae_core.figures import palette
from ae_core.figures.applications import (
    accuracy_figure,
    confusion_figure,
    error_histogram,
    rate_distortion_figure,
    roc_figure,
    sweep_figure,
)
from ae_core.figures.data import class_count_figure, sample_figure
from ae_core.figures.generation import class_share_figure, distance_figure
from ae_core.figures.images import PREVIEW_TILE_PIXELS, comparison_image, enlarged, image_grid, scale_for, to_uint8
from ae_core.figures.latent import epoch_figure, latent_figure, variance_figure
from ae_core.figures.reconstructions import error_heatmap
from ae_core.figures.training import comparison_figure, loss_figure
from ae_core.generation.judge import Scores
from ae_core.training.events import BatchProgress
from ae_core.training.progress_text import clock, progress_caption


def _tiles(n: int, height: int = 2, width: int = 3, channels: int = 1) -> np.ndarray:
    """n constant tiles: tile i is filled with (i + 1) / 10."""
    return np.stack([np.full((height, width, channels), (i + 1) / 10, np.float32) for i in range(n)])


def test_a_2x3_grid_puts_each_tile_in_its_cell_and_gaps_between():
    grid = image_grid(_tiles(5), rows=2, cols=3, gap=1, gap_value=1.0)
    assert grid.shape == (2 * 2 + 1, 3 * 3 + 2, 1)
    for index in range(5):
        top, left = (index // 3) * 3, (index % 3) * 4
        np.testing.assert_allclose(grid[top : top + 2, left : left + 3], (index + 1) / 10)
    assert np.all(grid[2, :] == 1.0) and np.all(grid[:, 3] == 1.0) and np.all(grid[:, 7] == 1.0)  # the gaps
    assert np.all(grid[3:, 8:] == 1.0)  # the sixth cell has no image


def test_a_grid_without_gaps_is_the_tiles_side_by_side():
    tiles = _tiles(4, 2, 3, 3)
    grid = image_grid(tiles, rows=2, cols=2, gap=0)
    rows = [np.concatenate([tiles[0], tiles[1]], axis=1), np.concatenate([tiles[2], tiles[3]], axis=1)]
    np.testing.assert_array_equal(grid, np.concatenate(rows, axis=0))


def test_a_grid_refuses_more_images_than_cells():
    with pytest.raises(ValueError, match="do not fit a 1x2 grid"):
        image_grid(_tiles(3), rows=1, cols=2)


def test_comparison_image_stacks_originals_over_reconstructions_with_sharp_upscaling():
    originals = np.random.default_rng(0).random((16, 8, 8, 1), dtype=np.float32)
    reconstructions = 1.0 - originals
    picture = comparison_image(originals, reconstructions)
    scale = scale_for(8)
    assert scale == 7 and picture.dtype == np.uint8
    assert picture.shape == ((2 * 8 + 1) * scale, (16 * 8 + 15) * scale)  # grey images lose the channel axis
    first = picture[: 8 * scale, : 8 * scale]
    np.testing.assert_array_equal(first, np.kron(to_uint8(originals[0, :, :, 0]), np.ones((scale, scale))))
    below = picture[9 * scale : 17 * scale, 9 * scale : 17 * scale]  # second reconstruction, under its original
    np.testing.assert_array_equal(below[::scale, ::scale], to_uint8(reconstructions[1, :, :, 0]))


def test_colour_images_keep_three_channels():
    picture = comparison_image(_tiles(4, 28, 28, 3))
    assert picture.shape == (28 * 2, (4 * 28 + 3) * 2, 3)


def test_an_enlarged_image_is_each_pixel_as_a_block():
    image = np.random.default_rng(2).random((8, 8, 1))
    picture = enlarged(image)
    scale = scale_for(8, 3 * PREVIEW_TILE_PIXELS)
    assert scale == 21 and picture.shape == (8 * 21, 8 * 21) and picture.dtype == np.uint8
    np.testing.assert_array_equal(picture, np.kron(to_uint8(image[:, :, 0]), np.ones((21, 21), np.uint8)))


def test_loss_figure_has_a_point_per_batch_and_per_epoch():
    batch_losses = [(epoch - 1 + batch / 23, 1.0 / (epoch * batch)) for epoch in (1, 2) for batch in range(1, 24)]
    history = {"loss": [0.5, 0.3], "val_loss": [0.6, 0.4]}
    figure = loss_figure(batch_losses, history)
    train, validation = figure.data
    assert len(train.x) == 46 and list(train.y) == [loss for _, loss in batch_losses]
    assert list(validation.x) == [1, 2] and list(validation.y) == [0.6, 0.4] and validation.mode == "markers"
    assert figure.layout.yaxis.type == "linear"
    assert loss_figure(batch_losses, history, log_y=True).layout.yaxis.type == "log"


def test_a_vae_also_gets_reconstruction_and_kl_curves():
    history = {
        name: [1.0, 0.5]
        for name in ("loss", "reconstruction_loss", "kl_loss", "val_loss", "val_reconstruction_loss", "val_kl_loss")
    }
    names = [trace.name for trace in loss_figure([(0.5, 2.0), (1.0, 1.0)], history).data]
    assert names[1:] == [
        "validation loss",
        "train reconstruction_loss",
        "train kl_loss",
        "validation reconstruction_loss",
        "validation kl_loss",
    ]
    assert names[0].startswith("train loss")


def test_long_curves_are_thinned_but_keep_their_last_point():
    batch_losses = [(i / 1000, float(i)) for i in range(1, 10_001)]
    train = loss_figure(batch_losses, {}, max_points=2_000).data[0]
    assert len(train.x) <= 2_001 and train.x[-1] == 10.0 and train.y[0] == 1.0


def test_comparison_figure_has_one_line_per_run():
    figure = comparison_figure({"a": {"val_loss": [3, 2, 1]}, "b": {"val_loss": [2, 1]}}, log_y=True)
    assert [(trace.name, len(trace.y)) for trace in figure.data] == [("a", 3), ("b", 2)]
    assert figure.layout.yaxis.type == "log"


def test_heatmap_values_are_the_squared_error_per_pixel():
    rng = np.random.default_rng(1)
    original, reconstruction = rng.random((5, 7, 3)), rng.random((5, 7, 3))
    heatmap = error_heatmap(original, reconstruction).data[0]
    z = np.asarray(heatmap.z)
    expected = sum((original[:, :, c] - reconstruction[:, :, c]) ** 2 for c in range(3)) / 3
    np.testing.assert_allclose(z, expected)
    assert heatmap.colorscale[0][1] == "#000000", "no error is black (Inferno's #000004 is a Streamlit placeholder)"


def test_sample_figure_labels_every_image():
    figure = sample_figure(_tiles(12, 8, 8), labels=[str(i % 10) for i in range(12)], cols=10)
    assert [annotation.text for annotation in figure.layout.annotations] == [str(i % 10) for i in range(12)]
    assert np.asarray(figure.data[0].z).shape == (2 * 8 + 4, 10 * 8 + 9 * 4, 3)


def test_progress_caption_reads_like_a_sentence():
    progress = BatchProgress(
        epoch=2,
        batch=12,
        batches_per_epoch=32,
        epochs=5,
        samples_seen=14_808,
        samples_total=40_000,
        elapsed_seconds=12.0,
        logs={"loss": 0.1},
    )
    assert progress_caption(progress) == "Epoch 2/5 · batch 12/32 · 1,234 samples/s · ETA 00:20"
    assert progress_caption(progress, paused=True).startswith("Paused · Epoch 2/5")
    assert progress_caption(None).startswith("Building the model")
    assert clock(3725) == "1:02:05" and clock(65) == "01:05"
    assert clock(math.inf) == "–" and clock(math.nan) == "–"


# Class, run and batch names a user typed, each of which Plotly would draw as HTML if it got them raw
HOSTILE_NAMES = ('<span style="font-size:70px">big</span>', '<a href="http://x">a</a>', "x<br>y &amp; %{customdata}")
APP_TAGS = re.compile(r"<br>|</?extra>")  # the figures' own markup in hover templates


def _strings(value) -> list[str]:
    """Every string anywhere in a figure's JSON (keys apart)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [text for item in value for text in _strings(item)]
    return []


def _assert_names_shown_as_typed(figure, names=HOSTILE_NAMES) -> None:
    """No label holds a tag but the figure's own; each name is in some label, escaped, and reads as typed."""
    texts = _strings(figure.to_plotly_json())
    tagged = [text for text in texts if "<" in APP_TAGS.sub("", text)]
    assert tagged == [], "a user's name reached Plotly as HTML"
    for name in names:
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert any(escaped in text for text in texts), f"{name!r} is not shown"
        assert any(name in html.unescape(text) for text in texts)
    templates = [trace.hovertemplate for trace in figure.data if getattr(trace, "hovertemplate", None)]
    assert not any("%{customdata}" in template.replace("image %{customdata}", "") for template in templates)


def _labels_and_coords(n_per_class: int = 4):
    labels = np.repeat(np.arange(len(HOSTILE_NAMES)), n_per_class)
    return labels, np.random.default_rng(0).random((len(labels), 2))


def test_latent_maps_show_class_names_as_typed():
    labels, coords = _labels_and_coords()
    for dims in (2, 3):
        figure = latent_figure(np.c_[coords, coords[:, 0]], labels, HOSTILE_NAMES, dims=dims)
        _assert_names_shown_as_typed(figure)
        # the class name comes from the trace's escaped name, never pasted into the template
        templates = [trace.hovertemplate for trace in figure.data if trace.name in map(user_text.plotly, HOSTILE_NAMES)]
        assert len(templates) == 3
        assert all(template.startswith("%{fullData.name}<br>image %{customdata}") for template in templates)
    maps = np.stack([coords, coords * 2])  # (epochs, n, 2)
    _assert_names_shown_as_typed(epoch_figure(maps, labels, 2, HOSTILE_NAMES))


def test_data_figures_show_class_names_as_typed():
    _assert_names_shown_as_typed(class_count_figure(dict.fromkeys(HOSTILE_NAMES, 5)))
    labels = list(HOSTILE_NAMES) * 2
    _assert_names_shown_as_typed(sample_figure(_tiles(len(labels), 8, 8), labels))


def test_confusion_matrix_shows_class_names_as_typed():
    figure = confusion_figure(np.eye(len(HOSTILE_NAMES), dtype=int), HOSTILE_NAMES)
    _assert_names_shown_as_typed(figure)
    assert len(set(figure.data[0].x)) == len(HOSTILE_NAMES), "distinct names stay distinct categories"


def _anomaly_report(class_name: str) -> AnomalyReport:
    """A held-out class of 10 errors, the last three anomalous, with a fixed ROC."""
    return AnomalyReport(
        anomalous_class=0,
        class_name=class_name,
        auc=0.9,
        threshold=0.05,
        precision=0.5,
        recall=0.5,
        errors=np.linspace(0, 0.1, 10),
        is_anomalous=np.arange(10) > 6,
        false_positive_rate=np.array([0.0, 0.5, 1.0]),
        true_positive_rate=np.array([0.0, 0.8, 1.0]),
        verdict="",
    )


def test_anomaly_figures_show_the_held_out_class_as_typed():
    for name in HOSTILE_NAMES:
        report = _anomaly_report(name)
        _assert_names_shown_as_typed(error_histogram(report), (name,))
        _assert_names_shown_as_typed(roc_figure(report), (name,))


def test_generation_figures_show_class_names_and_batch_titles_as_typed():
    scores = Scores(
        confident_share=0.5,
        class_histogram=np.array([1, 2, 1]),
        class_entropy=0.9,
        nearest_distances=np.linspace(1, 2, 8),
    )
    batches = {name: scores for name in HOSTILE_NAMES}
    _assert_names_shown_as_typed(class_share_figure(batches, HOSTILE_NAMES))
    _assert_names_shown_as_typed(distance_figure(batches))


def test_the_comparison_of_runs_shows_run_names_as_typed():
    figure = comparison_figure({name: {"val_loss": [0.3, 0.2]} for name in HOSTILE_NAMES})
    _assert_names_shown_as_typed(figure)


def _relative_luminance(colour: str) -> float:
    """WCAG 2.1's relative luminance of "#rrggbb"."""
    channels = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def _cielab(colour: str) -> np.ndarray:
    """CIELAB (D65) of "#rrggbb", by scikit-image."""
    from skimage.color import rgb2lab

    return rgb2lab(np.array([[[int(colour[i : i + 2], 16) for i in (1, 3, 5)]]], np.uint8))[0, 0]


def test_the_palette_has_ten_colours_apart_and_none_pale_on_white():
    colours = palette.colours(10)
    assert len(set(colours)) == 10 and palette.colour(10) == colours[0], "ten, then again in order"
    for colour in colours:
        contrast = 1.05 / (_relative_luminance(colour) + 0.05)
        assert contrast >= 3.0, f"{colour} has {contrast:.2f}:1 against white, under WCAG's 3:1 for graphics"
    labs = [_cielab(colour) for colour in colours]
    closest = min(np.linalg.norm(a - b) for i, a in enumerate(labs) for b in labs[i + 1 :])
    assert closest >= 30, f"two colours only {closest:.1f} apart in CIELAB (2.3 is just noticeable)"
    blues = [colour for colour, lab in zip(colours, labs) if 240 <= np.degrees(np.arctan2(lab[2], lab[1])) % 360 < 300]
    assert blues == [colours[0]], "one blue, the first series"
    assert _relative_luminance(palette.SET_ASIDE) > max(map(_relative_luminance, colours)), "set aside: lightest"


def _colours_of(figure) -> list:
    """The colour of each trace: its markers' colour, else its line's."""
    return [trace.marker.color if trace.marker.color is not None else trace.line.color for trace in figure.data]


def test_every_figure_of_classes_or_series_takes_its_colours_from_the_palette():
    labels, coords = _labels_and_coords()
    labels = labels + 2  # classes 2, 3 and 4: each keeps its own colour, whichever classes a map shows
    assert _colours_of(latent_figure(coords, labels, dims=2)) == palette.colours(5)[2:]
    assert _colours_of(latent_figure(np.c_[coords, coords[:, 0]], labels, dims=3)) == palette.colours(5)[2:]
    assert list(class_count_figure(dict.fromkeys("abcd", 5)).data[0].marker.color) == palette.colours(4)
    scores = Scores(0.5, np.array([1, 2, 1]), 0.9, np.linspace(1, 2, 8))
    three = {"a": scores, "b": scores, "c": scores}
    assert _colours_of(class_share_figure(three, ("x", "y", "z"))) == palette.colours(3)
    assert _colours_of(distance_figure(three)) == palette.colours(3)
    assert _colours_of(comparison_figure({name: {"val_loss": [0.3, 0.2]} for name in "abc"})) == palette.colours(3)
    history = {"loss": [0.5, 0.3], "val_loss": [0.6, 0.4]}
    assert _colours_of(loss_figure([(0.5, 1.0), (1.0, 0.5)], history)) == palette.colours(2)
    report = _anomaly_report("3")
    assert _colours_of(error_histogram(report)) == palette.colours(2), "other classes blue, the held-out orange"
    assert _colours_of(roc_figure(report)) == [palette.colour(0), palette.SET_ASIDE]
    rows = [
        {"features": features, "classifier": classifier, "n_labels": n, "accuracy": 0.5}
        for features in ("pixels", "codes")
        for classifier in ("logistic_regression", "knn")
        for n in (10, 100)
    ]
    by_features = [palette.colour(0)] * 2 + [palette.colour(2)] * 2  # pixels, codes: one colour each
    assert _colours_of(accuracy_figure(rows)) == by_features
    sweep = [{"method": method, "level": level, "psnr": 20.0} for method in ("noisy", "model") for level in (0.1, 0.2)]
    assert _colours_of(sweep_figure(sweep, "gaussian")) == palette.colours(2)
    points = [RateDistortionRow(method, "s", 10.0, 0.1, 20.0, 0.5, 2.0, 1.0) for method in ("autoencoder", "pca")]
    assert _colours_of(rate_distortion_figure(points)) == palette.colours(2)
    codes = np.random.default_rng(0).normal(size=(50, 4)) * [1, 1, 1, 0]  # dimension 3 never varies
    assert _colours_of(variance_figure(codes)) == [palette.colour(0), palette.SET_ASIDE]
