"""The Latent space page's "Draw a digit" section through AppTest: a drawing (the canvas's value, as the browser
sends it) is shown as the run sees it, rebuilt, scored, placed on the map and matched to training images."""

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ae_core.data import load_dataset
from ae_core.data.drawing import drawing_to_image
from ae_core.latent.maps import default_run_map
from ae_core.lesson.drawn_digit import inspect_drawing
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from pages.shared.drawn_digit import LATENT_CANVAS
from tests.test_page_latent import plotted
from tests.test_pages import chart, metrics, shown_image

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120


@pytest.fixture(scope="module")
def digits_run():
    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    return train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=3, batch_size=64), name="drawn")


def a_one() -> np.ndarray:
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 120:150, :3] = 255
    return rgba


def canvas_value(rgba: np.ndarray) -> dict:
    """What the canvas sends once drawn on: its drawing as a PNG data URL."""
    png = io.BytesIO()
    Image.fromarray(rgba).save(png, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    return {"drawing": {"raw": {"objects": []}, "data": url}, "backgroundFit": None}


def test_a_drawing_is_shown_rebuilt_scored_and_placed_on_the_map(digits_run, media):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[keys.RUNS] = {digits_run.name: digits_run}
    at.session_state[keys.CURRENT_RUN] = digits_run.name
    at.switch_page("pages/latent.py").run()
    assert not at.exception, at.exception
    assert "Draw a digit" in [header.value for header in at.subheader]
    assert any(caption.value == "Draw a digit: the model will see it at 8 × 8 pixels." for caption in at.caption)

    at.session_state[f"{LATENT_CANVAS}_0"] = canvas_value(a_one())
    at.run()
    assert not at.exception, at.exception
    context = RunContext(digits_run, load_dataset("digits"))
    expected = inspect_drawing(context, drawing_to_image(a_one(), (8, 8, 1), "digits"), default_run_map(context))
    assert metrics(at)["Reconstruction error (MSE)"] == f"{expected.error:.4f}"
    assert "Anomaly threshold" not in metrics(at)
    assert any("trained on every digit, so it has no anomaly threshold" in caption.value for caption in at.caption)
    seen = shown_image(at, media, "What the model sees: 8 × 8 pixels")
    assert seen.shape[0] == seen.shape[1] >= 8 * 8  # the 8x8 image, enlarged with sharp pixels
    cross = next(trace for trace in chart(at, f"{LATENT_CANVAS}.map")["data"] if trace["name"] == "your drawing")
    assert np.allclose([plotted(cross["x"])[0], plotted(cross["y"])[0]], expected.map_point, atol=1e-4)
    nearest = shown_image(at, media, "The training images whose codes are nearest")
    assert nearest.shape[1] > 7 * nearest.shape[0]  # a row of the 8 nearest

    next(button for button in at.button if button.label == "Clear the drawing").click().run()
    assert any(caption.value.startswith("Draw a digit: the model will see it") for caption in at.caption)
    assert "Reconstruction error (MSE)" not in metrics(at)
