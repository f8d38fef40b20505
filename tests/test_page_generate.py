"""The Generate page through AppTest, on autoencoders trained for real on scikit-learn's digits."""

import base64
import io
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ae_core.data import load_dataset, load_upload
from ae_core.figures.generation import class_share_figure, distance_figure
from ae_core.figures.images import enlarge, scale_for
from ae_core.generation import judge as judge_module
from ae_core.generation.judge import Scores, judge_for, judge_progress, judge_ready, normalised_entropy
from ae_core.generation.judge_process import URGENCY_POLL_S
from ae_core.generation.report import FRECHET, RECOGNISABLE, RELATIVE_DISTANCE, generate_for_run, scores_table
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys, server
from tests.test_pages import picture

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/generate.py"
TIMEOUT = 240  # the first open trains the judge and fits the mixtures on a busy 2-core machine
SCALE = scale_for(8)  # digits' 8x8 tiles are shown SCALE times larger, a 1-pixel gap between tiles


@pytest.fixture(scope="module", autouse=True)
def trained_judge(digits):
    """The digits judge, trained before the pages open, as the server trains it when it starts."""
    return judge_for(digits)


def _two_epochs(digits, preset: str, latent_dim: int, name: str):
    config = ModelConfig(preset=preset, latent_dim=latent_dim, hidden_units=(32,))
    training = TrainConfig(epochs=2, batch_size=64)
    return train_run(digits.x_train, digits.x_val, "digits", config, training, name=name, split=digits.split.to_dict())


@pytest.fixture(scope="module")
def autoencoder_run(digits):
    return _two_epochs(digits, "dense", 8, "plain")


@pytest.fixture(scope="module")
def vae_run(digits):
    return _two_epochs(digits, "vae", 2, "vae")


def side(tiles: int, tile: int = 8) -> int:
    """Pixels across ``tiles`` digits tiles as the page shows them."""
    return (tiles * tile + tiles - 1) * SCALE


def generate_page(run, **widgets) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[keys.RUNS] = {run.name: run}
    at.session_state[keys.DATASET] = "digits"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    for key, value in widgets.items():
        at.session_state[key] = value
    if widgets:
        at.run()
        assert not at.exception
    return at


def tab(at: AppTest, label: str):
    return next(tab for tab in at.tabs if tab.label == label)


def test_a_plain_autoencoder_shows_noise_beside_a_fitted_sampler_scored_as_the_library_scores(
    autoencoder_run, digits, media
):
    at = generate_page(autoencoder_run)
    sample = tab(at, "Sample")
    titles = [markdown.value for markdown in sample.markdown]
    assert "**N(0, I) noise: the wrong way for a plain autoencoder**" in titles
    assert "**Gaussian mixture fitted to the training codes: the right way**" in titles
    grids = [picture(media, image.value[0]) for image in sample.image]
    assert [grid.shape for grid in grids] == [(side(8), side(8))] * 2, "two 8x8 grids side by side"

    context = RunContext(autoencoder_run, digits)
    expected = [generate_for_run(context, name, 64, seed=0, temperature=1.0) for name in ("normal", "gmm")]
    shown = [metric.value for metric in sample.metric]
    assert shown == [f"{report.scores.confident_share:.1%}" for report in expected]
    table = sample.dataframe[0].value
    assert list(table["images"]) == ["N(0, I)", "fitted mixture", "real validation images"]
    assert list(table[RECOGNISABLE]) == [report.scores.confident_share for report in expected] + [
        expected[0].reference.confident_share
    ]
    chart = next(chart for chart in sample.get("plotly_chart") if chart.key == keys.CLASS_SHARE_CHART)
    bars = json.loads(chart.proto.spec)["data"]
    assert len(bars) == 3, "one trace per batch and one for the real images"
    for trace, report in zip(bars, expected):
        assert sum(trace["y"]) == pytest.approx(report.scores.confident_share), "bars sum to the confident share"

    png = media[sample.get("download_button")[1].proto.url.rsplit("/", 1)[-1].split(".")[0]]
    assert png.startswith(b"\x89PNG"), "the download holds PNG bytes"
    downloaded = np.asarray(Image.open(io.BytesIO(png)))
    assert downloaded.shape == (8 * 8 + 7 * 2,) * 2, "8x8 digits at their own size, 2 pixels apart"

    at.slider(key=keys.GRID_SIDE).set_value(4).run()
    at.selectbox(key=keys.MIXTURE_COMPONENTS).set_value(3).run()
    assert not at.exception
    assert [picture(media, image.value[0]).shape for image in tab(at, "Sample").image] == [(side(4), side(4))] * 2
    three = generate_for_run(context, "gmm", 16, seed=0, temperature=1.0, n_components=3)
    assert tab(at, "Sample").metric[1].value == f"{three.scores.confident_share:.1%}", "a mixture of 3 components"
    assert not tab(at, "Manifold grid").image and "2 numbers" in tab(at, "Manifold grid").info[0].value


def test_the_samples_show_before_the_judge_is_trained_and_its_scores_after(autoencoder_run, digits, media):
    judge_module._JUDGES.pop(judge_module.judge_key(digits))  # as on a server that has not trained it yet
    release = threading.Event()
    busy = server.judge_worker().submit(release.wait, TIMEOUT)  # the judges' worker busy: the judge waits its turn
    try:
        at = generate_page(autoencoder_run)
        sample = tab(at, "Sample")
        unscored = [picture(media, image.value[0]) for image in sample.image]
        assert [grid.shape for grid in unscored] == [(side(8), side(8))] * 2, "both grids, before any score"
        assert not sample.metric and not sample.dataframe and not judge_ready(digits)
        progress = sample.get("progress")
        assert len(progress) == 1 and "waits to train on 1,438 training images" in progress[0].proto.text
    finally:
        release.set()
    busy.result(TIMEOUT)
    shares = []
    training = server.judge_in_background(digits)
    while not training.done():
        shares.append(judge_progress(digits))
        time.sleep(0.05)
    training.result(TIMEOUT)
    seen = [share for share in shares if share is not None]
    assert seen and seen == sorted(seen) and 0 <= seen[0] and seen[-1] <= 1, "progress only grows, within [0, 1]"
    assert judge_ready(digits) and judge_progress(digits) is None

    at.run()
    assert not at.exception
    sample = tab(at, "Sample")
    assert not sample.get("progress") and len(sample.metric) == 2
    assert list(sample.dataframe[0].value["images"]) == ["N(0, I)", "fitted mixture", "real validation images"]
    scored = [picture(media, image.value[0]) for image in sample.image]
    for before, after in zip(unscored, scored):
        np.testing.assert_array_equal(before, after, "the same samples, now scored")
    assert any(caption.value.startswith("The judge classifies") for caption in sample.caption)


def test_each_grid_shows_once_decoded_before_the_next_samplers_fit_and_the_scores(autoencoder_run, monkeypatch):
    import streamlit as st

    from ae_core.generation.samplers import MixtureSampler
    from pages.shared import sampling_panel

    order = []

    def logged(event: str, original):
        def call(*args, **kwargs):
            order.append(event)
            return original(*args, **kwargs)

        return call

    monkeypatch.setattr(st, "image", logged("grid", st.image))
    monkeypatch.setattr(MixtureSampler, "fit", logged("mixture fitted", MixtureSampler.fit))
    monkeypatch.setattr(sampling_panel, "scored_report", logged("scored", sampling_panel.scored_report))
    at = generate_page(autoencoder_run)
    order.clear()
    at.selectbox(key=keys.MIXTURE_COMPONENTS).set_value(2).run()  # a mixture not fitted yet; N(0, I) as before
    assert not at.exception
    assert order[:4] == ["grid", "mixture fitted", "grid", "scored"], "N(0, I)'s grid waits for no fit or score"
    assert len(tab(at, "Sample").metric) == 2, "both batches' scores, once they came"


def sampled_digits(at: AppTest, media: dict, side_count: int = 8) -> np.ndarray:
    """Each Sample grid's digits as shown, one pixel per digit pixel: (grids, side_count**2, 8, 8) uint8."""
    step = 9 * SCALE  # a tile and the gap after it
    grids = []
    for image in tab(at, "Sample").image:
        grid = picture(media, image.value[0])
        grids.append(
            [
                grid[row * step : row * step + 8 * SCALE : SCALE, column * step : column * step + 8 * SCALE : SCALE]
                for row in range(side_count)
                for column in range(side_count)
            ]
        )
    return np.asarray(grids)


def spread(digits_shown: np.ndarray) -> float:
    """How much the images of one grid (n, 8, 8) differ: each pixel's standard deviation over them, averaged."""
    return float(digits_shown.astype(float).std(axis=0).mean())


def test_the_seed_picks_the_images_and_the_temperature_their_spread(autoencoder_run, digits, media):
    at = generate_page(autoencoder_run)
    first = sampled_digits(at, media)  # (2, 64, 8, 8): N(0, I), then the fitted mixture
    fresh = RunContext(autoencoder_run, digits)  # no cached batches: everything is drawn again
    for shown, sampler in zip(first, ("normal", "gmm")):
        images = generate_for_run(fresh, sampler, 64, seed=0, temperature=1.0).generation.images  # (64, 8, 8, 1)
        np.testing.assert_allclose(shown, np.round(images[..., 0] * 255), atol=1, err_msg=f"{sampler}, seed 0")
    at.number_input(key=keys.SAMPLE_SEED).set_value(1).run()
    assert not at.exception
    other_seed = sampled_digits(at, media)
    assert all(np.abs(a.astype(int) - b).mean() > 5 for a, b in zip(first, other_seed)), "another seed, other images"
    at.number_input(key=keys.SAMPLE_SEED).set_value(0).run()
    spreads = {}
    for temperature in (0.2, 1.0, 2.0):
        at.slider(key=keys.TEMPERATURE).set_value(temperature).run()
        assert not at.exception
        spreads[temperature] = [spread(grid) for grid in sampled_digits(at, media)]
        if temperature == 1.0:
            np.testing.assert_array_equal(sampled_digits(at, media), first, "seed 0 again, the same images")
    for sampler in range(2):
        low, middle, high = (spreads[temperature][sampler] for temperature in (0.2, 1.0, 2.0))
        assert low < middle < high, spreads


def test_interpolation_shows_both_images_and_traversal_one_row_per_dimension(autoencoder_run, digits, media):
    run_id = autoencoder_run.id
    at = generate_page(
        autoencoder_run,
        **{
            keys.INTERPOLATE_FROM_PREFIX + run_id: 3,
            keys.INTERPOLATE_TO_PREFIX + run_id: 10,
            keys.INTERPOLATION_STEPS: 5,
            keys.TRAVERSE_DIMS_PREFIX + run_id: [0, 2, 5],
        },
    )
    walk = picture(media, tab(at, "Interpolate").image[0].value[0])
    assert walk.shape == (side(2), side(5)), "two rows (latent walk, cross-fade) of 5 steps"
    tile, bottom = 8 * SCALE, (8 + 1) * SCALE
    np.testing.assert_array_equal(walk[bottom : bottom + tile, :tile], enlarge(digits.x_val[3], 8))
    np.testing.assert_array_equal(walk[bottom : bottom + tile, -tile:], enlarge(digits.x_val[10], 8))
    assert "from #3 to #10" in tab(at, "Interpolate").image[0].proto.imgs[0].caption

    traversal = json.loads(tab(at, "Traverse").get("plotly_chart")[0].proto.spec)
    z = traversal["data"][0]["z"]  # Plotly's typed-array form: base64 bytes, a dtype and a shape
    shape = tuple(int(n) for n in z["shape"].split(","))
    pixels = np.frombuffer(base64.b64decode(z["bdata"]), z["dtype"]).reshape(shape)
    assert pixels.shape == (3 * 9 - 1, 9 * 9 - 1, 3), "3 rows of 9 digits, 1 pixel apart"
    assert traversal["layout"]["yaxis"]["ticktext"] == ["dim 0", "dim 2", "dim 5"], "each row names its dimension"
    columns = traversal["layout"]["xaxis"]["ticktext"]
    assert columns[0] == "-3 sd" and columns[4] == "own code" and columns[-1] == "+3 sd"


def test_the_traversal_starts_on_the_four_dimensions_that_vary_most(autoencoder_run, digits):
    at = generate_page(autoencoder_run)
    spread = RunContext(autoencoder_run, digits).codes("training").std(axis=0)  # (8,)
    widest = sorted(range(8), key=lambda dim: -spread[dim])[:4]
    assert widest != [0, 1, 2, 3], "a run whose first dimensions are not its widest, or the test shows nothing"
    assert at.multiselect(key=keys.TRAVERSE_DIMS_PREFIX + autoencoder_run.id).value == widest
    traversal = json.loads(tab(at, "Traverse").get("plotly_chart")[0].proto.spec)
    assert traversal["layout"]["yaxis"]["ticktext"] == [f"dim {dim}" for dim in widest]


def test_a_two_dimensional_vae_samples_n01_alone_and_shows_the_manifold_grid(vae_run, media):
    at = generate_page(vae_run, **{keys.MANIFOLD_SIZE: 6})
    sample = tab(at, "Sample")
    assert [markdown.value for markdown in sample.markdown if markdown.value.startswith("**")] == [
        "**N(0, I): right for a VAE**"
    ]
    assert any("right way here" in caption.value for caption in sample.caption)
    assert len(sample.image) == 1 and len(sample.metric) == 1
    manifold = tab(at, "Manifold grid")
    assert not manifold.info and picture(media, manifold.image[0].value[0]).shape == (side(6), side(6))


def test_an_unlabeled_upload_generates_without_a_judge_and_says_why(digits, media):
    pixels = np.round(digits.x_train[:400, ..., 0] * 255).astype(np.uint8)  # (400, 8, 8), no labels
    buffer = io.BytesIO()
    np.savez(buffer, images=pixels)
    upload = load_upload([("mine.npz", buffer.getvalue())])
    config = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
    run = train_run(
        upload.x_train,
        upload.x_val,
        upload.name,
        config,
        TrainConfig(epochs=1, batch_size=64),
        name="mine",
        split=upload.split.to_dict(),
    )
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[keys.UPLOADS] = {upload.name: upload}
    at.session_state[keys.RUNS] = {run.name: run}
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    sample = tab(at, "Sample")
    assert len(sample.image) == 2 and not sample.metric and not sample.dataframe
    assert "has no labels, so no judge can score the images" in sample.info[0].value
    assert tab(at, "Interpolate").selectbox[0].options[:2] == ["#0", "#1"], "images named by index alone"


def test_the_score_table_and_figures_hold_every_batchs_scores():
    def scores(share, histogram, distances):
        distances = np.array(distances)  # relative distances: half of them, as if real images' median were 2
        entropy = normalised_entropy(np.array(histogram))
        return Scores(share, np.array(histogram), entropy, distances, distances / 2, frechet_distance=1.5)

    batches = {"noise": scores(0.25, [1, 0, 0], [3.0, 2.0, 2.5, 4.0]), "real": scores(1.0, [1, 1, 0], [1.0, 0.5])}
    table = scores_table(batches)
    assert table["images"] == ["noise", "real"] and table[RECOGNISABLE] == [0.25, 1.0]
    assert table["class entropy (1 = all classes alike)"] == [0.0, round(np.log(2) / np.log(3), 3)]
    assert table[RELATIVE_DISTANCE] == [1.375, 0.375] and table[FRECHET] == [1.5, 1.5]
    bars = class_share_figure(batches, ("a", "b", "c")).data
    assert [list(bar.y) for bar in bars] == [[0.25, 0.0, 0.0], [0.5, 0.5, 0.0]], "shares of each batch's images"
    histograms = distance_figure(batches).data
    assert [list(histogram.x) for histogram in histograms] == [[1.5, 1.0, 1.25, 2.0], [0.5, 0.25]]


def test_the_server_pretrains_the_builtin_judges_beside_its_background_work_and_after_judges_asked_for(digits):
    judges, order = server.judge_worker(), []
    release = threading.Event()
    busy = judges.submit(release.wait, TIMEOUT)  # a judge training when the server starts
    judge_module._JUDGES.pop(judge_module.judge_key(digits))
    judges.submit(server._when_idle, lambda: order.append("pretraining"))
    judges.submit(order.append, "an upload's judge")  # asked for later, but waits in line
    server.background_worker().submit(order.append, "a run's latent map").result(TIMEOUT)
    assert order == ["a run's latent map"], "a run's map does not wait for the judges"
    release.set()
    busy.result(TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while len(order) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert order == ["a run's latent map", "an upload's judge", "pretraining"], "the pretraining yields"

    server._pretrain_judges(["digits", "fashion_mnist"])  # not in this data folder: skipped, nothing raised
    assert judge_ready(digits), "the digits judge is trained, as the pages then find it"


def test_a_pretraining_gives_way_to_another_judge_a_page_waits_for_and_then_goes_on(digits):
    other = load_dataset("digits", seed=1)  # another split, so another judge
    assert judge_module.judge_key(other) != judge_module.judge_key(digits)
    judge_module._JUDGES.pop(judge_module.judge_key(digits))
    pretraining = server.judge_worker().submit(server._pretrain_judges, ["digits"])
    deadline = time.monotonic() + TIMEOUT
    while not judge_progress(digits) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert judge_progress(digits), "the pretraining has begun"
    server.judge_in_background(other).result(TIMEOUT)
    assert judge_ready(other) and not judge_ready(digits), "the judge a page waits for comes first"
    pretraining.result(TIMEOUT)
    while not judge_progress(digits) and not judge_ready(digits) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert judge_for(other) and judge_progress(digits), "a judge that is ready is handed out while another trains"
    before = judge_progress(digits)
    assert server.judge_in_background(other).done(), "a trained judge asked for again: nothing to train"
    time.sleep(2 * URGENCY_POLL_S)
    assert judge_ready(digits) or (judge_progress(digits) or 0) >= before, "the pretraining did not give way for it"
    while not judge_ready(digits) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert judge_ready(digits), "the pretraining went on after it"
