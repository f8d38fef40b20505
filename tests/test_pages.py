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

from ae_core.config import ModelConfig, TrainConfig
from ae_core.data import load_dataset
from ae_core.metrics import score_images
from ae_core.models import reconstruct
from ae_core.runs import train_run
from pages import common

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 60  # the first run of a page that imports TensorFlow takes seconds


@pytest.fixture(autouse=True)
def environment(shared_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("AE_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("AE_RUNS_DIR", str(tmp_path / "runs"))


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


def metrics(at: AppTest) -> dict:
    return {metric.label: metric.value for metric in at.metric}


def choose_digits(at: AppTest) -> AppTest:
    at.selectbox(key=common.DATASET).set_value("digits").run()
    assert not at.exception
    return at


def test_data_page_shows_the_default_dataset_then_the_chosen_one(shared_data_dir):
    at = app()
    mnist = load_dataset("mnist", data_dir=shared_data_dir, allow_download=False)
    assert at.title[0].value == "Data" and at.selectbox(key=common.DATASET).value == "mnist"
    assert metrics(at) == {"Image size": "28×28×1", "Training images": f"{mnist.n_train:,}",
                           "Validation images": f"{mnist.n_val:,}", "Classes": "10"}  # fmt: skip
    assert any("Fashion-MNIST** is not available" in caption.value for caption in at.caption)
    digits = load_dataset("digits")
    choose_digits(at)
    assert metrics(at)["Image size"] == "8×8×1" and metrics(at)["Training images"] == f"{digits.n_train:,}"
    assert "Digits (scikit-learn)" in at.selectbox(key=common.DATASET).options
    counts = chart(at, "class_counts")["data"][0]
    assert sum(counts["y"]) == digits.n_train + digits.n_val


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_a_bad_upload_says_why_and_keeps_the_dataset_a_good_one_is_selected():
    at = choose_digits(app())
    at.file_uploader(key=common.UPLOADER).set_value(("broken.npz", b"not a zip archive", "application/zip")).run()
    assert not at.exception and "broken.npz" in at.error[0].value
    assert at.selectbox(key=common.DATASET).value == "digits" and metrics(at)["Image size"] == "8×8×1"
    images = np.random.default_rng(0).integers(0, 256, (50, 12, 10), dtype=np.uint8)
    at.file_uploader(key=common.UPLOADER).set_value(("mine.npz", _npz(images=images), "application/zip")).run()
    assert not at.exception and not at.error
    assert at.selectbox(key=common.DATASET).value == "mine.npz"
    assert metrics(at)["Image size"] == "12×10×1" and metrics(at)["Classes"] == "unlabeled"


def button(at: AppTest, label: str):
    return next(button for button in at.button if button.label == label)


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click().run()
    return at


def captions(at: AppTest) -> list[str]:
    return [caption for image in at.image for caption in image.captions]


def train_page(**numbers) -> AppTest:
    """The Train page on digits with the given number inputs set (keys without the "setting." prefix)."""
    at = choose_digits(app())
    at.switch_page("pages/train.py").run()
    assert not at.exception
    for name, value in numbers.items():
        at.number_input(key=common.SETTING_PREFIX + name).set_value(value)
    return at


def test_training_runs_live_then_shows_the_result_with_every_batch_on_the_chart():
    at = train_page(epochs=2, batch_size=64)
    assert at.selectbox(key="setting.preset").value == "conv", "the default preset"
    assert at.number_input(key="setting.latent").value == 8, "digits' recommended code size"
    click(at, "Start training")
    assert not at.exception and at.progress, "the live view shows a progress bar while the job runs"
    assert button(at, "Start training").disabled and not button(at, "Stop").disabled
    assert at.session_state[common.JOB].join(timeout=120)
    at.run()
    assert not at.exception and at.success[0].value.startswith("Finished 2 epochs")
    batches = math.ceil(load_dataset("digits").n_train / 64)
    train_trace, validation_trace = chart(at, "loss_chart")["data"][:2]
    assert len(train_trace["x"]) == 2 * batches and len(validation_trace["y"]) == 2
    assert "Originals (top) and reconstructions (bottom), epoch 2" in captions(at)
    assert list(at.session_state[common.RUNS]) == [at.session_state[common.CURRENT_RUN]]
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="setting.epochs").value == 2, "settings outlive a visit to another page"
    assert at.success[0].value.startswith("Finished 2 epochs")


@pytest.mark.parametrize("preset", ["seed_dense", "dense", "denoising", "sparse", "vae"])
def test_every_preset_trains_from_its_own_settings(preset):
    at = train_page(epochs=1, batch_size=256)
    at.selectbox(key="setting.preset").set_value(preset).run()
    expected = {"seed_dense": [], "dense": ["Hidden units"], "denoising": ["Noise type", "Noise level"],
                "sparse": ["L1 weight"], "vae": ["Beta"]}[preset]  # fmt: skip
    labels = {widget.label for widget in (*at.selectbox, *at.number_input, *at.slider, *at.text_input)}
    assert set(expected) <= labels and ("Latent size" in labels) == (preset != "seed_dense")
    assert at.number_input(key="setting.batch_size").value == (64 if preset == "conv" else 256), "recommended batch"
    click(at, "Start training")
    assert at.session_state[common.JOB].join(timeout=120)
    at.run()
    assert not at.exception and at.success[0].value.startswith("Finished 1 epoch in"), at.error
    run = at.session_state[common.RUNS][at.session_state[common.CURRENT_RUN]]
    assert run.model_config.preset == preset
    if preset == "vae":
        assert {trace["name"] for trace in chart(at, "loss_chart")["data"]} >= {"train kl_loss", "validation kl_loss"}


def test_an_impossible_setting_is_refused_and_nothing_starts():
    at = train_page(batch_size=5_000)
    click(at, "Start training")
    assert not at.exception
    assert "batch_size must be at most the number of training images" in at.error[0].value
    assert common.JOB not in at.session_state and at.number_input(key="setting.batch_size").value == 5_000


def test_unreadable_layer_sizes_are_refused_and_nothing_starts():
    at = train_page()
    at.text_input(key=common.SETTING_PREFIX + "filters").set_value("32,x").run()
    click(at, "Start training")
    assert not at.exception
    assert "Filters must be whole numbers separated by commas" in at.error[0].value
    assert common.JOB not in at.session_state


def test_stop_keeps_the_partial_run_which_can_be_saved_once(tmp_path):
    at = train_page(epochs=500, batch_size=32)
    click(click(at, "Start training"), "Stop")
    assert at.session_state[common.JOB].join(timeout=120)
    at.run()
    assert not at.exception and "Stopped after" in at.warning[0].value
    run = at.session_state[common.RUNS][at.session_state[common.CURRENT_RUN]]
    assert run.result.stopped and run.result.epochs_completed < 500
    click(at, "Save run")
    assert not at.exception and at.success[-1].value.startswith("Saved to")
    assert (tmp_path / "runs" / run.name / "run.json").is_file()
    click(at, "Save run")
    assert "already exists" in at.error[0].value


def test_a_saved_run_opens_once_in_a_new_session_and_can_be_inspected(digits_run, tmp_path):
    from ae_core.runs import save_run

    save_run(digits_run, tmp_path / "runs")
    at = app("pages/train.py")
    click(click(at, "Open run"), "Open run")
    assert not at.exception and list(at.session_state[common.RUNS]) == ["r1"], "opening twice keeps one run"
    at = app("pages/reconstructions.py")
    assert at.info and not at.dataframe
    click(at, "Open run")
    assert not at.exception and not at.info and len(at.dataframe[0].value) == 12


def test_reconstructions_scores_match_score_images(digits_run):
    at = app("pages/reconstructions.py", **{common.RUNS: {"r1": digits_run}})
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


def test_a_run_whose_dataset_is_missing_still_shows_what_it_holds(digits_run):
    from dataclasses import replace

    orphan = replace(digits_run, dataset_name="someone-elses-upload.npz")
    at = app("pages/reconstructions.py", **{common.RUNS: {"r1": orphan}})
    assert "not loaded in this session" in at.warning[0].value
    assert len(chart(at, "run_losses")["data"][0]["x"]) == len(digits_run.result.batch_losses)
    assert "Originals (top) and reconstructions (bottom) after epoch 2" in captions(at)


def test_the_data_page_loads_without_tensorflow(shared_data_dir):
    """The first page must appear fast, so neither it nor what it imports may load TensorFlow or Keras."""
    script = (f"from streamlit.testing.v1 import AppTest; import sys; at = AppTest.from_file({APP!r}).run(timeout=60); "
              "assert not at.exception and at.metric; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "AE_DATA_DIR": str(shared_data_dir)})  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_streamlit_still_clears_keras_state_through_the_hook_the_app_replaces():
    """pages/common.py replaces script_runner._clean_problem_modules; an upgrade that renames it must fail here."""
    import inspect

    from streamlit.runtime.scriptrunner import script_runner

    assert hasattr(script_runner, "_clean_problem_modules")
    assert "_clean_problem_modules" in inspect.getsource(script_runner.ScriptRunner._run_script)


def test_streamlit_still_runs_a_pages_folder_alone_by_the_flag_the_app_turns_off():
    """pages/common.py turns off PagesManager.uses_pages_directory; an upgrade that renames it must fail here."""
    import inspect

    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    assert "uses_pages_directory" in vars(PagesManager)
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner.ScriptRunner._run_script)


def test_a_missing_private_streamlit_name_fails_at_import_with_what_breaks():
    import types

    with pytest.raises(RuntimeError, match=r"has no nowhere\.gone.*written for streamlit 1\.67.*Without it X"):
        common._private(types.ModuleType("nowhere"), "gone", "X")
