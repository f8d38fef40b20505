"""The Applications page driven through AppTest, on tiny digits models trained with real TensorFlow: each tab shows
what the library computes for the same run, seed and settings."""

import base64

import numpy as np
import pytest

from ae_core.applications.anomaly import anomaly_report
from ae_core.applications.classification import classification_report, classification_verdict
from ae_core.applications.compression import compression_grid, compression_report
from ae_core.applications.restoration import restoration_report, restoration_verdict
from ae_core.data import load_dataset
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run, training_images
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from pages.shared.applications.classification import CLASSIFIER_TITLES, FEATURE_TITLES
from tests.test_pages import app, button, chart, click, metrics, shown_image

PAGE = "pages/applications.py"
HELD_OUT_CLASS = 1


@pytest.fixture(scope="module")
def digits_data():
    return load_dataset("digits")


def _train(digits, name: str, excluded_class: int | None = None, preset: str = "dense"):
    config = ModelConfig(preset=preset, latent_dim=8, hidden_units=(32,))
    x_train = training_images(digits.x_train, digits.y_train, digits.class_names, excluded_class)
    return train_run(
        x_train,
        digits.x_val,
        "digits",
        config,
        TrainConfig(epochs=2, batch_size=64),
        name=name,
        split=digits.split.to_dict(),
        excluded_class=excluded_class,
    )


@pytest.fixture(scope="module")
def digits_run(digits_data):
    return _train(digits_data, "r1")


@pytest.fixture(scope="module")
def held_out_run(digits_data):
    return _train(digits_data, "without-1", excluded_class=HELD_OUT_CLASS)


def open_tab(tab: str, **runs):
    """The Applications page on ``runs`` (name -> Run; the last is current) with ``tab`` open."""
    return app(PAGE, **{keys.RUNS: runs, keys.APPLICATION_TAB: tab})


def plotly_array(value) -> np.ndarray:
    """A figure's array as numpy: Plotly's JSON writes numpy arrays as base64 {"dtype", "bdata", "shape"}."""
    if not isinstance(value, dict):
        return np.asarray(value)
    flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return flat.reshape([int(size) for size in str(value.get("shape", len(flat))).split(",")])


def info_texts(at) -> list[str]:
    """The info and warning boxes' text as a reader sees it: without the invisible word joiners that
    ae_core.user_text.markdown puts after a colon, so that no class name can start a Streamlit shortcode."""
    from ae_core.user_text import WORD_JOINER

    return [box.value.replace(WORD_JOINER, "") for box in (*at.info, *at.warning)]


def test_compression_shows_the_librarys_rows_chart_and_verdict(digits_run, digits_data):
    at = open_tab("Compression", r1=digits_run)
    report = compression_report(RunContext(digits_run, digits_data))
    assert metrics(at) == {"Code at float32": "32 bytes", "Code at float16": "16 bytes", "Code at int8": "8 bytes"}
    assert report.verdict in info_texts(at)
    table = at.dataframe[0].value
    assert list(table["method"]) == [row.method for row in report.rows]
    assert np.allclose(table["PSNR (dB)"], [row.psnr for row in report.rows])
    traces = {trace["name"]: trace for trace in chart(at, keys.RATE_DISTORTION_CHART)["data"]}
    assert set(traces) == {"autoencoder", "pca", "JPEG", "JPEG with shared tables", "WebP"}
    code_bits = sorted(row.bits_per_pixel for row in report.rows if row.method == "autoencoder")
    assert traces["autoencoder"]["x"] == code_bits and code_bits[1:] == [1, 2, 4]  # 8, 16, 32 bytes, 64 pixels
    shown = set(zip(table["method"], table["stored as"]))
    assert {("jpeg_shared_tables", ""), ("webp", ""), ("autoencoder", "int8+entropy"), ("pca", "int8+entropy")} <= shown
    assert any("autoencoder int8 (8 B)" in caption for image in at.image for caption in image.captions)


def test_the_budget_selector_shows_the_grid_of_the_budget_chosen(digits_run, digits_data, media):
    at = open_tab("Compression", r1=digits_run)
    report = compression_report(RunContext(digits_run, digits_data))
    assert at.selectbox(key=keys.COMPRESSION_PRECISION).value == "int8"
    for precision, code_bytes in (("float32", 32), ("float16", 16), ("int8", 8)):  # latent_dim 8, 4, 2 or 1 byte each
        at.selectbox(key=keys.COMPRESSION_PRECISION).set_value(precision).run()
        assert not at.exception
        expected, labels = compression_grid(report, precision)
        assert labels[1] == f"autoencoder {precision} ({code_bytes} B)" and labels[2].endswith(f"({code_bytes} B)")
        captions = [caption for image in at.image for caption in image.captions if caption.startswith("Rows: ")]
        assert captions == ["Rows: " + " · ".join(labels)]
        shown = shown_image(at, media, "Rows: ")
        np.testing.assert_allclose(shown.astype(int), expected.astype(int), atol=2)  # JPEG at quality 100


def test_restoration_scores_equal_the_librarys_for_the_same_seed_and_level(digits_run, digits_data):
    at = open_tab("Restoration", r1=digits_run)
    assert at.selectbox(key=keys.DEGRADATION).value == "gaussian" and at.slider(key=keys.DEGRADATION_LEVEL).value == 0.3
    at.selectbox(key=keys.DEGRADATION).set_value("salt_pepper")
    at.slider(key=keys.DEGRADATION_LEVEL).set_value(0.2).run()
    assert not at.exception
    report = restoration_report(RunContext(digits_run, digits_data), "salt_pepper", 0.2, seed=0)
    table = at.dataframe[0].value
    assert list(table["images"]) == ["degraded input", "autoencoder", "median", "gaussian filter"]
    assert np.allclose(table["PSNR (dB)"], [score["psnr"] for score in report.scores.values()])
    assert np.allclose(table["SSIM"], [score["ssim"] for score in report.scores.values()])
    assert report.verdict in info_texts(at)
    sweep = chart(at, keys.RESTORATION_SWEEP_CHART)["data"]
    assert [trace["name"] for trace in sweep] == ["noisy", "autoencoder", "median", "gaussian filter"]
    assert sweep[0]["y"][0] > sweep[0]["y"][-1], "stronger noise, lower PSNR of the noisy input"


def test_restoration_offers_a_denoising_run_of_the_session(digits_run, digits_data):
    denoiser = _train(digits_data, "denoiser", preset="denoising")
    at = open_tab("Restoration", denoiser=denoiser, r1=digits_run)
    assert at.selectbox(key=keys.DENOISER).value == "denoiser"
    assert "denoising autoencoder" in list(at.dataframe[0].value["images"])


def test_classification_runs_on_a_button_press_and_shows_the_accuracy_table(digits_run, digits_data):
    at = open_tab("Classification", r1=digits_run)
    assert not at.dataframe, "nothing is fitted before the button is pressed"
    # 4 classifiers, 3 feature sets, 4 label counts, with cross-validation: more than the default wait on a busy machine
    button(at, "Train the classifiers").click().run(timeout=600)
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "features",
        "classifier",
        "10 labels",
        "100 labels",
        "1,000 labels",
        f"{digits_data.n_train:,} labels",
    ]
    assert len(table) == 12 and table.iloc[:, 2:].to_numpy().min() > 0.1, "better than chance (10 classes)"
    assert "chosen by cross-validation" in list(table["classifier"])
    chosen = at.dataframe[1].value  # the pipeline cross-validation chose, per feature set and label count
    assert len(chosen) == 12 and "scikit-learn's defaults" in chosen["chosen"].iloc[0]
    confusion = plotly_array(chart(at, keys.CONFUSION_CHART)["data"][0]["z"])
    assert confusion.shape == (10, 10) and confusion.sum() == digits_data.n_val
    report = classification_report(RunContext(digits_run, digits_data), (100,))
    expected = {
        (FEATURE_TITLES[row["features"]], CLASSIFIER_TITLES[row["classifier"]]): row["accuracy"] for row in report.rows
    }
    assert dict(zip(zip(table["features"], table["classifier"]), table["100 labels"])) == expected
    assert classification_verdict(report.rows, 100) in info_texts(at)
    at.selectbox(key=keys.CONFUSION_LABELS).set_value(10).run()
    assert not at.exception and any(text.startswith("With 10 labels") for text in info_texts(at))


def test_anomaly_tab_shows_the_auc_of_a_run_trained_without_a_class(held_out_run, digits_data):
    at = open_tab("Anomaly detection", **{"without-1": held_out_run})
    report = anomaly_report(RunContext(held_out_run, digits_data))
    assert report.anomalous_class == HELD_OUT_CLASS
    shown = metrics(at)
    assert shown["ROC AUC"] == f"{report.auc:.3f}" and report.verdict in info_texts(at)
    assert shown["Recall"] == f"{report.recall:.1%}" and shown["Precision"] == f"{report.precision:.1%}"
    assert at.slider(key=keys.THRESHOLD_PREFIX + held_out_run.id).value == pytest.approx(report.threshold)
    at.slider(key=keys.THRESHOLD_PREFIX + held_out_run.id).set_value(float(report.errors.max())).run()
    assert not at.exception and metrics(at)["Recall"] == "0.0%", "nothing lies above the largest error"


def test_anomaly_tab_scores_a_held_out_run_of_the_session_beside_the_current_one(held_out_run, digits_run, digits_data):
    at = open_tab("Anomaly detection", **{"without-1": held_out_run, "r1": digits_run})
    assert at.selectbox(key=keys.CURRENT_RUN).value == "r1"
    assert at.selectbox(key=keys.ANOMALY_RUN).value == "without-1"
    assert metrics(at)["ROC AUC"] == f"{anomaly_report(RunContext(held_out_run, digits_data)).auc:.3f}"


def test_anomaly_tab_without_a_held_out_run_says_how_to_get_one(digits_run):
    at = open_tab("Anomaly detection", r1=digits_run)
    assert any("trained on every class" in text for text in info_texts(at))
    assert not at.metric
    at.selectbox(key=keys.ANOMALY_CLASS).set_value(3).run()
    click(at, "Train without class 3")
    assert not at.exception and at.title[0].value == "Train"
    assert at.selectbox(key=keys.HOLD_OUT).value == 3
    job = at.session_state[keys.JOB]  # the click started the run
    assert job.excluded_class == 3
    job.stop()
    assert job.join(timeout=120)


def test_the_train_page_holds_a_class_out(digits_data):
    at = app("pages/data.py")
    at.selectbox(key=keys.DATASET).set_value("digits").run()
    at.switch_page("pages/train.py").run()
    at.selectbox(key=keys.PRESET).set_value("dense").run()
    at.number_input(key=keys.EPOCHS).set_value(1)
    at.selectbox(key=keys.HOLD_OUT).set_value(HELD_OUT_CLASS)
    click(at, "Start training")
    assert at.session_state[keys.JOB].join(timeout=120)
    at.run()
    run = at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]
    assert run.excluded_class == HELD_OUT_CLASS
    held_out = int(np.sum(digits_data.y_train == HELD_OUT_CLASS))
    assert run.result.samples_seen == digits_data.n_train - held_out, "one epoch over the other classes only"


def test_the_restoration_verdict_says_when_every_restorer_makes_things_worse():
    scores = {
        "noisy": {"psnr": 20.0},
        "autoencoder": {"psnr": 12.0},
        "median": {"psnr": 14.5},
        "gaussian_filter": {"psnr": 13.0},
    }
    assert restoration_verdict(scores).startswith(
        "No restorer improves on the degraded input (20.00 dB): the best, median, loses 5.50 dB."
    )
    better = {**scores, "noisy": {"psnr": 10.0}}
    assert restoration_verdict(better).startswith("Best: median at 14.50 dB, +4.50 dB over the degraded input")


def test_a_finished_run_has_its_compression_rows_computed_before_the_page_opens(digits_data, monkeypatch):
    from ae_core.applications import compression
    from ae_core.training.jobs import TrainingJob
    from pages.shared import server

    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    job = TrainingJob(
        digits_data.x_train, digits_data.x_val, "digits", config, TrainConfig(epochs=1, batch_size=64), name="fresh"
    ).start()
    assert job.join(timeout=120)
    at = app(**{keys.JOB: job})  # any page collects the finished job, and the server's worker prepares its run
    server.background_worker().submit(lambda: None).result(timeout=120)  # runs after that preparation
    computed_by_the_page, original = [], compression.compare_compression

    def compare_compression(*args, **kwargs):
        computed_by_the_page.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(compression, "compare_compression", compare_compression)
    at.session_state[keys.APPLICATION_TAB] = "Compression"
    at.switch_page(PAGE).run()
    assert not at.exception
    assert not computed_by_the_page, "the page found the rows computed"
    report = compression_report(RunContext(job.snapshot().run, digits_data))
    assert report.verdict in info_texts(at)
    assert list(at.dataframe[0].value["bytes per image"]) == [row.bytes_per_image for row in report.rows]
