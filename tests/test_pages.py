"""Each page driven through Streamlit's AppTest with real data and real TensorFlow training."""

import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ae_core.data import load_dataset
from ae_core.models.architectures import reconstruct
from ae_core.quality.scores import score_images
from ae_core.runs.run import train_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.recommended import recommended_settings
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from pages.shared.streamlit_patches import private_name

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60  # the first run of a page that imports TensorFlow takes seconds


@pytest.fixture(scope="module")
def digits_run():
    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    return train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=2, batch_size=64), name="r1")


def app(page: str | None = None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    return at


def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure (as JSON) of the chart drawn with ``key``."""
    specs = [json.loads(element.proto.spec) for element in at.get("plotly_chart") if element.key == key]
    assert len(specs) == 1, f"expected one chart with key {key!r}, found {len(specs)}"
    return specs[0]


def picture(media: dict, url: str) -> np.ndarray:
    """The pixels behind an st.image or download URL such as /mock/media/<file id>.png (``media``: the conftest
    fixture that records them)."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(media[url.rsplit("/", 1)[-1].split(".")[0]])))


def shown_image(at, media: dict, caption_start: str) -> np.ndarray:
    """The pixels of the one image whose caption starts with ``caption_start``."""
    found = [image for image in at.image if image.captions and image.captions[0].startswith(caption_start)]
    assert len(found) == 1, f"expected one image captioned {caption_start!r}, found {len(found)}"
    return picture(media, found[0].value[0])


def metrics(at: AppTest) -> dict:
    return {metric.label: metric.value for metric in at.metric}


def choose_digits(at: AppTest) -> AppTest:
    at.selectbox(key=keys.DATASET).set_value("digits").run()
    assert not at.exception
    return at


def test_data_page_shows_the_default_dataset_then_the_chosen_one(shared_data_dir):
    at = app()
    mnist = load_dataset("mnist", data_dir=shared_data_dir, allow_download=False)
    assert at.title[0].value == "Data" and at.selectbox(key=keys.DATASET).value == "mnist"
    assert metrics(at) == {
        "Image size": "28×28×1",
        "Training images": f"{mnist.n_train:,}",
        "Validation images": f"{mnist.n_val:,}",
        "Classes": "10",
    }
    assert any("Fashion-MNIST** is not available" in caption.value for caption in at.caption)
    digits = load_dataset("digits")
    choose_digits(at)
    assert metrics(at)["Image size"] == "8×8×1" and metrics(at)["Training images"] == f"{digits.n_train:,}"
    assert "Digits (scikit-learn)" in at.selectbox(key=keys.DATASET).options
    counts = chart(at, "class_counts")["data"][0]
    assert sum(counts["y"]) == digits.n_train + digits.n_val


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_bad_upload_says_why_and_keeps_the_dataset_a_good_one_is_selected():
    at = choose_digits(app())
    at.file_uploader(key=keys.UPLOADER).set_value(("broken.npz", b"not a zip archive", "application/zip")).run()
    assert not at.exception and "broken.npz" in at.error[0].value
    assert at.selectbox(key=keys.DATASET).value == "digits" and metrics(at)["Image size"] == "8×8×1"
    images = np.random.default_rng(0).integers(0, 256, (50, 12, 10), dtype=np.uint8)
    at.file_uploader(key=keys.UPLOADER).set_value(("mine.npz", _npz(images=images), "application/zip")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key=keys.DATASET).value == "mine.npz"
    assert metrics(at)["Image size"] == "12×10×1" and metrics(at)["Classes"] == "unlabeled"


def button(at: AppTest, label: str):
    return next(button for button in at.button if button.label == label)


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click().run()
    return at


def captions(at: AppTest) -> list[str]:
    return [caption for image in at.image for caption in image.captions]


def train_page(numbers: dict | None = None) -> AppTest:
    """The Train page on digits with the number inputs of ``numbers`` (session-state key -> value) set."""
    at = choose_digits(app())
    at.switch_page("pages/train.py").run()
    assert not at.exception
    for key, value in (numbers or {}).items():
        at.number_input(key=key).set_value(value)
    return at


def finish(at: AppTest) -> AppTest:
    """Wait for the session's training job to end, then rerun the page."""
    assert at.session_state[keys.JOB].join(timeout=300)
    at.run()
    assert not at.exception
    return at


def current_run(at: AppTest):
    return at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]


def test_training_runs_live_then_shows_the_result_with_every_batch_on_the_chart():
    at = train_page()
    assert at.selectbox(key=keys.PRESET).value == "conv", "the default preset"
    assert at.number_input(key=keys.LATENT).value == 8, "digits' recommended code size"
    at.number_input(key=keys.EPOCHS).set_value(2)
    at.number_input(key=keys.BATCH_SIZE).set_value(64)
    click(at, "Start training")
    assert not at.exception and at.progress, "the live view shows a progress bar while the job runs"
    assert button(at, "Start training").disabled and not button(at, "Stop").disabled
    assert at.session_state[keys.JOB].join(timeout=120)
    at.run()
    assert not at.exception and at.success[0].value.startswith("Finished 2 epochs")
    batches = math.ceil(load_dataset("digits").n_train / 64)
    train_trace, validation_trace = chart(at, "loss_chart")["data"][:2]
    assert len(train_trace["x"]) == 2 * batches and len(validation_trace["y"]) == 2
    assert "Originals (top) and reconstructions (bottom), epoch 2" in captions(at)
    assert list(at.session_state[keys.RUNS]) == [at.session_state[keys.CURRENT_RUN]]
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key=keys.EPOCHS).value == 2, "settings outlive a visit to another page"
    assert at.success[0].value.startswith("Finished 2 epochs")


@pytest.mark.parametrize("preset", ["seed_dense", "dense", "denoising", "sparse", "vae"])
def test_every_preset_trains_from_its_own_settings(preset):
    at = train_page()
    at.selectbox(key=keys.PRESET).set_value(preset).run()
    at.number_input(key=keys.EPOCHS).set_value(1)
    expected = {
        "seed_dense": [],
        "dense": ["Hidden units"],
        "denoising": ["Noise type", "Noise level"],
        "sparse": ["L1 weight"],
        "vae": ["Beta"],
    }[preset]
    labels = {widget.label for widget in (*at.selectbox, *at.number_input, *at.slider, *at.text_input)}
    assert set(expected) <= labels and ("Latent size" in labels) == (preset != "seed_dense")
    click(at, "Start training")
    assert at.session_state[keys.JOB].join(timeout=120)
    at.run()
    assert not at.exception and at.success[0].value.startswith("Finished 1 epoch in"), at.error
    run = at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]
    assert run.model_config.preset == preset
    if preset == "vae":
        assert {trace["name"] for trace in chart(at, "loss_chart")["data"]} >= {"train kl_loss", "validation kl_loss"}


def widget_values(at: AppTest) -> tuple:
    """Latent size, epochs and batch size as the Train page shows them."""
    return tuple(at.number_input(key=key).value for key in (keys.LATENT, keys.EPOCHS, keys.BATCH_SIZE))


def recommended(dataset, preset: str) -> tuple:
    model_config, train_config = recommended_settings(dataset.name, dataset.image_shape, preset)
    return model_config.latent_dim, train_config.epochs, train_config.batch_size


def test_settings_follow_the_recommendation_when_the_dataset_or_preset_changes(shared_data_dir):
    digits, mnist = load_dataset("digits"), load_dataset("mnist", data_dir=shared_data_dir, allow_download=False)
    at = app("pages/train.py")
    assert at.selectbox(key=keys.PRESET).value == "conv" and widget_values(at) == recommended(mnist, "conv")
    at.number_input(key=keys.EPOCHS).set_value(3).run()
    at.selectbox(key=keys.ACTIVATION).set_value("elu").run()
    assert widget_values(at)[1] == 3, "the user's edit stays while dataset and preset stay"
    at.selectbox(key=keys.PRESET).set_value("dense").run()
    assert widget_values(at) == recommended(mnist, "dense") and at.text_input(key=keys.HIDDEN_UNITS).value
    assert recommended(mnist, "dense")[2] != recommended(mnist, "conv")[2], "the check needs batches that differ"
    at.selectbox(key=keys.PRESET).set_value("denoising").run()
    at.selectbox(key=keys.ARCHITECTURE).set_value("conv").run()
    assert widget_values(at) == recommended(mnist, "denoising"), "another architecture keeps the settings"
    at.switch_page("pages/data.py").run()
    choose_digits(at).switch_page("pages/train.py").run()
    assert not at.exception and at.selectbox(key=keys.PRESET).value == "denoising"
    assert widget_values(at) == recommended(digits, "denoising")
    click(at, "Start training")
    assert at.session_state[keys.JOB].join(timeout=300)
    assert current_run_of_job(at).split == digits.split.to_dict(), "the run records the split it was trained on"
    assert current_run_of_job(at).train_config.batch_size == recommended(digits, "denoising")[2]


def current_run_of_job(at: AppTest):
    return at.session_state[keys.JOB].snapshot().run


def test_a_first_default_run_on_digits_beats_pca():
    at = train_page()
    click(at, "Start training")
    finish(at)
    run = current_run(at)
    assert "The autoencoder beats PCA" in at.success[0].value
    assert run.metrics["val_mse"] <= 0.7 * run.metrics["pca_val_mse"], run.metrics


def wait_for_batches(job, timeout_s: float = 120.0) -> None:
    """Poll until the job has run a batch (the model is built and training)."""
    import time

    deadline = time.monotonic() + timeout_s
    while job.snapshot().progress is None:
        assert time.monotonic() < deadline, "no batch finished"
        time.sleep(0.2)


def test_pause_and_resume_through_the_buttons_then_training_finishes():
    from ae_core.training.jobs import PAUSED, RUNNING

    at = train_page({keys.EPOCHS: 4, keys.BATCH_SIZE: 32})
    click(at, "Start training")
    job = at.session_state[keys.JOB]
    wait_for_batches(job)
    click(at, "Pause")
    assert not at.exception and job.snapshot().status == PAUSED
    assert at.progress[0].text.startswith("Paused · Epoch"), at.progress[0].text
    assert button(at, "Pause").disabled and not button(at, "Resume").disabled
    assert not job.join(timeout=1.0), "a paused job does not finish"
    click(at, "Resume")
    assert job.snapshot().status in (RUNNING, "done") and not at.progress[0].text.startswith("Paused")
    finish(at)
    assert at.success[0].value.startswith("Finished 4 epochs")


def test_a_diverged_run_says_so_and_keeps_a_finite_model():
    at = train_page({keys.EPOCHS: 2, keys.BATCH_SIZE: 64, keys.LEARNING_RATE: 10.0})
    at.selectbox(key=keys.PRESET).set_value("vae").run()
    at.selectbox(key=keys.OPTIMIZER).set_value("sgd").run()
    at.number_input(key=keys.LEARNING_RATE).set_value(10.0).run()
    click(at, "Start training")
    finish(at)
    assert "Training diverged" in at.error[0].value and "lower learning rate" in at.error[0].value
    run = current_run(at)
    assert all(np.isfinite(weight).all() for weight in run.model.get_weights())
    assert np.isfinite(reconstruct(run.model, load_dataset("digits").x_val[:16])).all()


def test_a_job_whose_training_raises_shows_why_and_the_page_keeps_working():
    """Validation images of another size than the training images: TensorFlow refuses them mid-training."""
    from ae_core.training.jobs import TrainingJob

    digits = load_dataset("digits")
    other_size = np.zeros((10, 9, 9, 1), np.float32)
    small = ModelConfig(preset="dense", latent_dim=4, hidden_units=(8,))
    job = TrainingJob(digits.x_train, other_size, "digits", small, TrainConfig(epochs=1, batch_size=64)).start()
    assert job.join(timeout=120)
    at = app("pages/train.py", **{keys.JOB: job})
    assert at.error[0].value.startswith("Training failed:"), at.error
    assert not button(at, "Start training").disabled and not at.session_state[keys.RUNS], "no run is kept"


def test_the_comparison_chart_draws_the_chosen_runs_val_loss(digits_run):
    from dataclasses import replace

    other = replace(
        digits_run,
        name="r2",
        id="other",
        result=replace(digits_run.result, history={**digits_run.result.history, "val_loss": [0.9, 0.5, 0.25]}),
    )
    at = app("pages/train.py", **{keys.RUNS: {"r1": digits_run, "r2": other}})
    traces = chart(at, keys.COMPARE_CHART)["data"]
    assert [(trace["name"], trace["y"]) for trace in traces] == [
        ("r1", digits_run.result.history["val_loss"]),
        ("r2", [0.9, 0.5, 0.25]),
    ]
    at.multiselect[0].set_value(["r2"]).run()
    assert [trace["name"] for trace in chart(at, keys.COMPARE_CHART)["data"]] == ["r2"]


@pytest.mark.parametrize("order", ["worst", "best", "dataset"])
def test_the_grid_sort_orders(digits_run, order):
    at = app("pages/reconstructions.py", **{keys.RUNS: {"r1": digits_run}})
    at.selectbox(key=keys.ORDER).set_value(order).run()
    table = at.dataframe[0].value
    mse, index = table["MSE"].to_numpy(), table["index"].to_numpy()
    if order == "worst":
        assert np.all(np.diff(mse) <= 1e-12) and mse[0] > mse[-1]
    elif order == "best":
        assert np.all(np.diff(mse) >= -1e-12) and mse[0] < mse[-1]
    else:
        assert list(index) == list(range(len(index)))


def test_reconstructions_say_a_run_is_training_and_link_to_train():
    at = train_page({keys.EPOCHS: 500, keys.BATCH_SIZE: 32})
    click(at, "Start training")
    wait_for_batches(at.session_state[keys.JOB])
    at.switch_page("pages/reconstructions.py").run()
    try:
        assert not at.exception and "A run is training, in epoch" in at.info[0].value
        assert " of 500" in at.info[0].value and at.page_link[0].value == "Watch it on Train"
    finally:
        at.session_state[keys.JOB].stop()
        at.session_state[keys.JOB].join(timeout=120)


def test_a_malformed_saved_run_is_named_and_the_others_open(digits_run, tmp_path):
    from ae_core.runs.saving import save_run

    save_run(digits_run, tmp_path / "runs")
    (tmp_path / "runs" / "broken").mkdir()
    (tmp_path / "runs" / "broken" / "run.json").write_text("{not json")
    at = app("pages/train.py")
    assert any("broken" in caption.value for caption in at.caption if caption.value.startswith("Skipped"))
    saved = at.selectbox(key=keys.SAVED_RUN)
    assert saved.value == "r1" and len(saved.options) == 1, "the malformed folder is not offered"
    click(at, "Open run")
    assert not at.exception and list(at.session_state[keys.RUNS]) == ["r1"]


def test_an_impossible_setting_is_refused_and_nothing_starts():
    at = train_page({keys.BATCH_SIZE: 5_000})
    click(at, "Start training")
    assert not at.exception
    assert "batch_size must be at most the number of training images" in at.error[0].value
    assert keys.JOB not in at.session_state and at.number_input(key=keys.BATCH_SIZE).value == 5_000


def test_unreadable_layer_sizes_are_refused_and_nothing_starts():
    at = train_page()
    at.text_input(key=keys.FILTERS).set_value("32,x").run()
    click(at, "Start training")
    assert not at.exception
    assert "Filters must be whole numbers separated by commas" in at.error[0].value
    assert keys.JOB not in at.session_state


def test_stop_keeps_the_partial_run_which_can_be_saved_once(tmp_path):
    at = train_page({keys.EPOCHS: 500, keys.BATCH_SIZE: 32})
    click(click(at, "Start training"), "Stop")
    assert at.session_state[keys.JOB].join(timeout=120)
    at.run()
    assert not at.exception and "Stopped after" in at.warning[0].value
    run = at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]
    assert run.result.stopped and run.result.epochs_completed < 500
    click(at, "Save run")
    assert not at.exception and at.success[-1].value.startswith(f"Saved {run.name};")
    assert (tmp_path / "runs" / run.name / "run.json").is_file()
    click(at, "Save run")
    assert "already exists" in at.error[0].value


def test_a_saved_run_opens_once_in_a_new_session_and_can_be_inspected(digits_run, tmp_path):
    from ae_core.runs.saving import save_run

    save_run(digits_run, tmp_path / "runs")
    at = app("pages/train.py")
    click(click(at, "Open run"), "Open run")
    assert not at.exception and list(at.session_state[keys.RUNS]) == ["r1"], "opening twice keeps one run"
    at = app("pages/reconstructions.py")
    assert at.info and not at.dataframe
    click(at, "Open run")
    assert not at.exception and not at.info and len(at.dataframe[0].value) == 12


def test_reconstructions_scores_match_score_images(digits_run):
    at = app("pages/reconstructions.py", **{keys.RUNS: {"r1": digits_run}})
    x_val = load_dataset("digits").x_val
    everything = score_images(x_val, reconstruct(digits_run.model, x_val))
    assert metrics(at)[f"Mean MSE over all {len(x_val)} validation images"] == f"{everything.mse.mean():.4f}"
    table = at.dataframe[0].value
    shown = table["index"].to_numpy()
    scores = score_images(x_val[shown], reconstruct(digits_run.model, x_val[shown]))
    np.testing.assert_allclose(table["MSE"], scores.mse, rtol=1e-5)
    np.testing.assert_allclose(table["PSNR (dB)"], scores.psnr, rtol=1e-5)
    np.testing.assert_allclose(table["SSIM"], scores.ssim, rtol=1e-4, atol=1e-6)
    assert np.all(np.diff(table["MSE"]) <= 1e-12), "worst first"
    assert np.isclose(table["MSE"].iloc[0], everything.mse.max(), rtol=1e-5)
    assert metrics(at)["PCA-8 MSE"] == f"{digits_run.metrics['pca_val_mse']:.4f}"
    assert "Originals (top) and reconstructions (bottom) after epoch 2" in captions(at)


def test_reconstructions_without_a_run_points_to_the_train_page():
    at = app("pages/reconstructions.py")
    assert "no run yet" in at.info[0].value and at.page_link[0].value == "Go to Train"
    assert not at.dataframe


def test_a_run_whose_dataset_is_missing_says_so_and_still_shows_what_it_holds(digits_run):
    from dataclasses import replace

    orphan = replace(digits_run, dataset_name="someone-elses-upload.npz")
    at = app("pages/reconstructions.py", **{keys.RUNS: {"r1": orphan}})
    assert "not loaded in this session" in at.warning[0].value and not at.dataframe
    assert [link.value for link in at.page_link] == ["Go to Data"]
    assert "Originals (top) and reconstructions (bottom) after epoch 2" in captions(at)
    assert metrics(at)["PCA-8 MSE"] == f"{digits_run.metrics['pca_val_mse']:.4f}"


def test_the_data_page_loads_without_tensorflow(shared_data_dir):
    """The first page must appear fast, so neither it nor what it imports may load TensorFlow or Keras."""
    script = (
        f"from streamlit.testing.v1 import AppTest; import sys; at = AppTest.from_file({APP!r}).run(timeout=60); "
        "assert not at.exception and at.metric; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "AE_DATA_DIR": str(shared_data_dir)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_script_run_leaves_keras_global_state_alone():
    """Streamlit calls keras.backend.clear_session() after every script run, which resets Keras' layer-name counters
    for every thread at once, a training thread's too; pages/shared/streamlit_patches.py turns that off."""
    import keras

    sentinel = "script-run-sentinel"
    before = keras.backend.get_uid(sentinel)  # counts 1, 2, ... until Keras' global state is cleared
    app("pages/reconstructions.py")  # two script runs, each on Streamlit's script thread
    assert keras.backend.get_uid(sentinel) == before + 1, "a script run cleared Keras' global state"
    keras.backend.clear_session()  # what Streamlit's own hook does: the counter starts again
    assert keras.backend.get_uid(sentinel) == 1


APP_PAGES = [  # app.py's navigation: page file, title
    ("pages/data.py", "Data"),
    ("pages/lesson.py", "Lesson"),
    ("pages/train.py", "Train"),
    ("pages/reconstructions.py", "Reconstructions"),
    ("pages/latent.py", "Latent space"),
    ("pages/generate.py", "Generate"),
    ("pages/applications.py", "Applications"),
]


def test_a_deep_link_runs_through_the_apps_navigation():
    """A new session's first request for a page (a link to /train): Streamlit would run pages/train.py alone as an
    old-style multipage app, with app.py and every file in pages/ as its pages. The app reruns it through app.py,
    whose navigation then holds its own seven pages under their titles."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("pages/train.py").run()  # no run before: the first request is the page's
    assert not at.exception and at.title[0].value == "Train"
    registered = at._registered_pages.values()  # what st.navigation registered in this run; AppTest has no public view
    root = Path(APP).parent
    assert [(Path(info["script_path"]), info["page_name"]) for info in registered] == [
        (root / path, title) for path, title in APP_PAGES
    ]


def test_a_missing_private_streamlit_name_fails_at_import_with_what_breaks():
    import types

    with pytest.raises(RuntimeError, match=r"has no nowhere\.gone.*written for streamlit 1\.67.*Without it X"):
        private_name(types.ModuleType("nowhere"), "gone", "X")
