"""The Latent space page driven through AppTest on a small dense autoencoder trained on digits."""

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from ae_core.data import load_dataset
from ae_core.figures.latent import SPOT_NAME, SPOT_ROW
from ae_core.latent.code_variance import code_spread
from ae_core.latent.maps import map_key, run_map, training_maps
from ae_core.latent.neighbours import inspect_row
from ae_core.latent.projection import map_trustworthiness
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from tests.test_pages import chart, metrics, shown_image

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/latent.py"
TIMEOUT = 120  # the first run imports TensorFlow; a t-SNE map of digits takes seconds on a busy machine
EPOCHS = 3
UMAP_COMPILE_TIMEOUT = 600  # UMAP's numba code compiles once per process: about a minute, minutes on a busy machine


@pytest.fixture(scope="module")
def digits_run():
    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    return train_run(
        digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=EPOCHS, batch_size=64), name="latent-run"
    )


@pytest.fixture(scope="module")
def context(digits_run):
    return RunContext(digits_run, load_dataset("digits"))


def latent_page(run, query: dict | None = None, timeout: float = TIMEOUT) -> AppTest:
    """The Latent space page on ``run`` (this session's only run), opened with ``query`` in the address."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state[keys.RUNS] = {run.name: run}
    at.session_state[keys.CURRENT_RUN] = run.name
    at.query_params.update(query or {})
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def plotted(values) -> np.ndarray:
    """A trace's x or y as numbers: plotly writes numpy arrays as {"dtype", "bdata"} (base64)."""
    if isinstance(values, dict):
        import base64

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values, dtype=np.float64)


def chart_points(spec: dict) -> np.ndarray:
    """(n, 2) coordinates of every point of a 2-D map, put back in map-row order through each point's customdata."""
    rows, coords = [], []
    for trace in spec["data"]:
        if trace.get("name") in ("spots", SPOT_NAME):  # the clickable spots and the decoded spot's cross
            continue
        rows.append(plotted(trace["customdata"]).astype(int))
        coords.append(np.column_stack([plotted(trace["x"]), plotted(trace["y"])]))
    rows, coords = np.concatenate(rows), np.concatenate(coords)
    return coords[np.argsort(rows)]


def test_the_pca_map_shows_the_librarys_projection_variance_and_trustworthiness(digits_run, context):
    at = latent_page(digits_run)
    expected = run_map(context, "pca")
    np.testing.assert_allclose(
        chart_points(chart(at, keys.LATENT_CHART)), expected.projection.coords, rtol=1e-5, atol=1e-5
    )
    shown = metrics(at)
    assert shown["Map's faith to the codes (trustworthiness, k=10)"] == f"{expected.projection.trustworthiness:.3f}"
    for axis, share in enumerate(expected.projection.explained_variance_ratio):
        assert shown[f"Variance on PC{axis + 1}"] == f"{share:.1%}"
    assert any(expected.sample.description in caption.value for caption in at.caption)
    assert at.query_params["method"] == "pca"
    assert at.slider(key=keys.LATENT_EPOCH).max == EPOCHS, "one step per epoch trained"
    epoch_traces = chart(at, keys.LATENT_EPOCH_CHART)["data"]
    assert sum(len(plotted(trace["customdata"])) for trace in epoch_traces) == digits_run.result.map_codes.shape[1]


def test_switching_to_tsne_maps_every_image_and_writes_the_link(digits_run):
    at = latent_page(digits_run)
    at.session_state[keys.LATENT_ITERATIONS] = 50  # the iterations input appears with t-SNE; fewer keep it quick
    at.segmented_control(key=keys.LATENT_METHOD).set_value("tsne").run()
    assert not at.exception, at.exception
    points = chart_points(chart(at, keys.LATENT_CHART))
    assert points.shape == (1797, 2) and np.isfinite(points).all(), "every digit is mapped"
    assert "t-SNE" in chart(at, keys.LATENT_CHART)["layout"]["title"]["text"]
    assert at.query_params["method"] == "tsne" and at.query_params["iterations"] == "50"
    assert any("cannot be inverted" in caption.value or "no inverse" in caption.value for caption in at.caption)


def test_a_link_with_method_and_points_reopens_that_view_with_the_inspector(digits_run, context):
    at = latent_page(digits_run, {"method": "tsne", "iterations": "50", "perplexity": "20", "points": "7"})
    assert at.segmented_control(key=keys.LATENT_METHOD).value == "tsne"
    assert at.slider(key=keys.LATENT_PERPLEXITY).value == 20.0
    latent_map = run_map(context, "pca")  # rows name the same images on every map of one sample
    split, index = latent_map.sample.splits[7], latent_map.sample.indices[7]
    captions = [caption for image in at.image for caption in image.captions]
    assert any(caption.startswith(f"original: {split} image {index}, label") for caption in captions), captions
    expected = inspect_row(context, latent_map, 7, 8)
    assert any(f"{expected.neighbours.overlap} are in both rows" in caption for caption in captions), captions


def test_a_link_with_values_the_page_cannot_use_opens_with_a_note_and_no_traceback(digits_run):
    at = latent_page(digits_run, {"method": "spectral", "samples": "99999", "points": "²,3"})
    assert at.segmented_control(key=keys.LATENT_METHOD).value == "pca"
    note = next(caption.value for caption in at.caption if caption.value.startswith("The link's"))
    assert "method='spectral': expected one of pca, tsne, umap, so pca was used" in note
    assert "samples='99999': expected a whole number from 100 to 20000, so 20000 was used" in note
    assert "points: expected map rows as whole numbers" in note


def test_a_selection_on_the_chart_opens_the_inspector_on_that_image(digits_run, context):
    at = latent_page(digits_run)
    row = context.dataset.n_val + 40  # a training image: the validation images come first
    select_on_chart(at, [row])
    assert not at.exception, at.exception
    captions = [caption for image in at.image for caption in image.captions]
    index = run_map(context, "pca").sample.indices[row]
    label = context.dataset.y_train[index]
    assert f"original: training image {index}, label {label} (left) and its reconstruction (right)" in captions
    assert at.query_params["points"] == str(row)


def select_on_chart(at: AppTest, rows: list[int], spot: tuple[float, float] | None = None) -> None:
    """Rerun with the chart's selection state holding ``rows``, or the clickable spot at ``spot``, as Streamlit's
    frontend sends it after a click."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    element = next(element for element in at.get("plotly_chart") if element.key == keys.LATENT_CHART)
    points = [{"curve_number": 0, "point_number": 0, "point_index": 0, "customdata": row} for row in rows]
    if spot is not None:
        points.append({"curve_number": 10, "point_index": 0, "customdata": SPOT_ROW, "x": spot[0], "y": spot[1]})
    state = WidgetState(
        id=element.proto.id,
        string_value=json.dumps(
            {"selection": {"points": points, "point_indices": list(range(len(rows))), "box": [], "lasso": []}}
        ),
    )
    widget_states = at._tree.get_widget_states()
    widget_states.widgets.append(state)
    at._run(widget_states)


def test_the_csv_download_holds_one_row_per_mapped_image(digits_run, context, monkeypatch):
    registered = []  # the download's data is made when it is clicked: Streamlit keeps the callable until then
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, *args, **kwargs):
        registered.append((mimetype, data_callable))
        return original(self, data_callable, mimetype, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    at = latent_page(digits_run, {"samples": "500"})
    downloads = [data_callable for mimetype, data_callable in registered if mimetype == "text/csv"]
    assert len(downloads) == 1
    rows = list(csv.reader(io.StringIO(downloads[0]())))
    assert rows[0][:5] == ["index", "split", "label", "x", "y"] and len(rows) == 1 + 500
    assert any(
        f"{context.dataset.n_val:,} validation and {500 - context.dataset.n_val} of" in caption.value
        for caption in at.caption
    )


def test_the_map_over_training_steps_through_aligned_epochs(digits_run, context):
    at = latent_page(digits_run)
    at.slider(key=keys.LATENT_EPOCH).set_value(1).run()
    assert not at.exception, at.exception
    maps, labels = training_maps(context)
    spec = chart(at, keys.LATENT_EPOCH_CHART)
    np.testing.assert_allclose(chart_points(spec), maps[0], rtol=1e-5, atol=1e-5)
    assert spec["layout"]["title"]["text"] == f"After epoch 1 of {EPOCHS}"
    score = map_trustworthiness(digits_run.result.map_codes[0], maps[0])[0]
    assert metrics(at)["This map's faith to the codes (trustworthiness, k=10)"] == f"{score:.3f}"
    total, first_axis = code_spread(digits_run.result.map_codes[0])
    assert metrics(at)["Codes' total variance"] == f"{total:.3g}"
    assert metrics(at)["Share on the codes' main axis"] == f"{first_axis:.0%}"


def test_a_finished_training_job_maps_its_run_and_fits_its_default_sampler_in_the_background(digits_run):
    from ae_core.generation.report import default_sampler_name
    from ae_core.runs.context import context_for
    from ae_core.training.jobs import TrainingJob
    from pages.shared import datasets, server

    digits = load_dataset("digits")
    job = TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        digits_run.model_config,
        TrainConfig(epochs=1, batch_size=64),
        name="background",
    ).start()
    assert job.join(timeout=120)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[keys.JOB] = job
    at.run()  # any page collects the finished job
    assert not at.exception, at.exception
    worker = server.background_worker()  # the server's one worker thread, shared by every session
    worker.submit(lambda: None).result(timeout=120)  # runs after the map, which was submitted first
    run = job.snapshot().run
    context = context_for(run, datasets.dataset_by_name("digits"))
    computed_again = []
    context.cached(map_key("pca"), lambda: computed_again.append("map"))
    context.cached(("sampler", default_sampler_name(context), None), lambda: computed_again.append("sampler"))
    assert not computed_again, "the default map and sampler were computed when the job was collected"


def test_a_3d_pca_map_draws_three_axes_and_three_spot_sliders(digits_run, context):
    at = latent_page(digits_run, {"dims": "3"})
    expected = run_map(context, "pca", dims=3)
    traces = chart(at, keys.LATENT_CHART)["data"]
    assert {trace["type"] for trace in traces} == {"scatter3d"}
    assert sum(len(plotted(trace["z"])) for trace in traces if trace["name"] != SPOT_NAME) == len(expected.codes)
    assert [metric.label for metric in at.metric][1:4] == ["Variance on PC1", "Variance on PC2", "Variance on PC3"]
    spots = [slider for slider in at.slider if slider.key and slider.key.startswith(keys.LATENT_SPOT_PREFIX)]
    assert [slider.label for slider in spots] == ["x", "y", "z"]


def test_a_umap_link_draws_the_librarys_map(digits_run, context):
    at = latent_page(digits_run, {"method": "umap", "samples": "300", "n_neighbors": "10"}, UMAP_COMPILE_TIMEOUT)
    expected = run_map(context, "umap", samples=300, n_neighbors=10, min_dist=0.1)
    np.testing.assert_allclose(chart_points(chart(at, keys.LATENT_CHART)), expected.projection.coords, atol=1e-5)
    assert at.slider(key=keys.LATENT_NEIGHBOURS).value == 10


def test_decode_any_spot_shows_the_decoding_of_the_pca_inverse_of_the_spot(digits_run, context, media):
    from sklearn.decomposition import PCA

    from ae_core.figures.images import enlarged
    from ae_core.models.architectures import decode

    at = latent_page(digits_run)
    drawn = chart_points(chart(at, keys.LATENT_CHART))  # (n, 2), the map as the page draws it
    codes = run_map(context, "pca").codes  # (n, latent_dim), the codes behind those points
    pca = PCA(n_components=2).fit(codes)
    np.testing.assert_allclose(pca.transform(codes), drawn, atol=1e-4, err_msg="the reference PCA is the map drawn")
    at_the_centre = shown_image(at, media, "decoded at (")
    spot = [np.quantile(drawn[:, 0], 0.98), np.quantile(drawn[:, 1], 0.02)]  # far off the centre of the map
    for axis, value in enumerate(spot):
        at.slider(key=f"{keys.LATENT_SPOT_PREFIX}pca.{axis}").set_value(float(value))
    at.run()
    assert not at.exception, at.exception
    point = [at.slider(key=f"{keys.LATENT_SPOT_PREFIX}pca.{axis}").value for axis in (0, 1)]
    np.testing.assert_allclose(point, spot, atol=0.01)
    shown = shown_image(at, media, f"decoded at ({point[0]:.2f}, {point[1]:.2f})")
    code = pca.inverse_transform(np.array([point])).astype(np.float32)  # (1, latent_dim)
    expected = enlarged(decode(digits_run.model, code)[0])
    np.testing.assert_allclose(shown.astype(int), expected.astype(int), atol=2)  # JPEG at quality 100: 1 or 2 off
    assert np.abs(shown.astype(int) - at_the_centre).max() > 10, "another spot, an image the tolerance tells apart"


def run_with_dead_dimensions(dimensions: list[int]):
    """A dense run on digits whose code ``dimensions`` are the same for every image: their weights are zeroed."""
    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    run = train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=1, batch_size=64), name="dead")
    code_layer = run.model.get_layer("encoder").get_layer("code")
    kernel, bias = code_layer.get_weights()  # (32, 8), (8,)
    kernel[:, dimensions] = 0.0
    bias[dimensions] = 0.5
    code_layer.set_weights([kernel, bias])
    return run


def code_variance_warnings(at: AppTest) -> list[str]:
    return [warning.value for warning in at.warning if warning.value.startswith("Code dimensions")]


def test_the_code_variance_warning_names_the_dimensions_that_never_vary(digits_run):
    from ae_core.latent.code_variance import unused_dimensions

    at = latent_page(digits_run)
    assert list(unused_dimensions(run_map(RunContext(digits_run, load_dataset("digits")), "pca").codes)) == []
    assert code_variance_warnings(at) == [], "every dimension of this run varies"
    at = latent_page(run_with_dead_dimensions([2, 5]))
    warnings = code_variance_warnings(at)
    assert len(warnings) == 1 and warnings[0].startswith("Code dimensions 2, 5 vary by under 1%"), warnings
    bars = {trace["name"]: trace for trace in chart(at, keys.LATENT_VARIANCE_CHART)["data"]}
    assert list(plotted(bars["almost unused"]["x"])) == [2, 5] and plotted(bars["almost unused"]["y"]).max() < 1e-9


def test_a_click_on_an_empty_spot_of_a_pca_map_decodes_it_and_marks_it(digits_run, context, media):
    from ae_core.figures.images import enlarged
    from ae_core.latent.decoding import pca_inverse
    from ae_core.models.architectures import decode

    at = latent_page(digits_run)
    drawn = chart_points(chart(at, keys.LATENT_CHART))
    spot = (float(np.quantile(drawn[:, 0], 0.9)), float(np.quantile(drawn[:, 1], 0.1)))
    select_on_chart(at, [], spot)
    assert not at.exception, at.exception
    cross = [trace for trace in chart(at, keys.LATENT_CHART)["data"] if trace.get("name") == SPOT_NAME]
    assert len(cross) == 1
    assert (plotted(cross[0]["x"])[0], plotted(cross[0]["y"])[0]) == pytest.approx(spot, abs=1e-4)
    shown = shown_image(at, media, f"decoded at the cross ({spot[0]:.2f}, {spot[1]:.2f})")
    code = pca_inverse(run_map(context, "pca").projection, np.array(spot, dtype=np.float32))
    expected = enlarged(decode(digits_run.model, code[None])[0])
    np.testing.assert_allclose(shown.astype(int), expected.astype(int), atol=2)
    assert [at.slider(key=f"{keys.LATENT_SPOT_PREFIX}pca.{axis}").value for axis in (0, 1)] == pytest.approx(spot)


def test_a_click_on_a_tsne_map_marks_the_nearest_codes_decode_with_its_caveat(digits_run):
    at = latent_page(digits_run, {"method": "tsne", "iterations": "50", "samples": "400"})
    drawn = chart_points(chart(at, keys.LATENT_CHART))
    spot = (float(drawn[:, 0].mean()), float(drawn[:, 1].mean()))
    select_on_chart(at, [], spot)
    assert not at.exception, at.exception
    assert any(trace.get("name") == SPOT_NAME for trace in chart(at, keys.LATENT_CHART)["data"])
    captions = [caption for image in at.image for caption in image.captions]
    assert any(caption.startswith("decoded at the cross") and "approximately" in caption for caption in captions)
    assert any("no inverse" in caption.value for caption in at.caption)


def test_a_selection_of_several_points_shows_as_one_grid_of_their_images(digits_run, context, media):
    from ae_core.figures.images import enlarge, image_grid

    at = latent_page(digits_run)
    rows = [3, 10, 25, 40, 41]
    select_on_chart(at, rows)
    assert not at.exception, at.exception
    shown = shown_image(at, media, "The 5 selected images")
    latent_map = run_map(context, "pca")
    images = np.stack([context.images(latent_map.sample.splits[r])[latent_map.sample.indices[r]] for r in rows])
    expected = enlarge(image_grid(images, 1, 5, gap=1), images.shape[1])
    np.testing.assert_allclose(shown.astype(int), expected.astype(int), atol=2)
    assert at.query_params["points"] == ",".join(map(str, rows))


def test_the_map_over_training_has_a_play_button(digits_run):
    at = latent_page(digits_run)
    layout = chart(at, keys.LATENT_EPOCH_CHART)
    buttons = layout["layout"]["updatemenus"][0]["buttons"]
    assert [button["label"] for button in buttons] == ["Play", "Pause"]
    assert [frame["name"] for frame in layout["frames"]] == [str(epoch) for epoch in range(1, EPOCHS + 1)]


def test_a_perplexity_chosen_on_one_run_starts_from_the_default_on_the_next(digits_run):
    import dataclasses

    other = dataclasses.replace(digits_run, name="latent-run-2", id="another-run")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[keys.RUNS] = {digits_run.name: digits_run, other.name: other}
    at.session_state[keys.CURRENT_RUN] = digits_run.name
    at.query_params.update({"method": "tsne", "iterations": "50", "perplexity": "12", "samples": "300"})
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert at.slider(key=keys.LATENT_PERPLEXITY).value == 12.0
    at.selectbox(key=keys.CURRENT_RUN).set_value(other.name).run()
    assert not at.exception, at.exception
    assert at.slider(key=keys.LATENT_PERPLEXITY).value == 30.0
    assert at.query_params["perplexity"] == "30.0"


def test_the_map_caption_names_its_own_drawing_time_and_how_to_click(digits_run, context):
    at = latent_page(digits_run)
    seconds = run_map(context, "pca").projection.seconds
    caption = next(caption.value for caption in at.caption if caption.value.startswith("Mapped:"))
    assert f"Drawn in {seconds:.1f} s" in caption and "click an empty spot to decode it" in caption
