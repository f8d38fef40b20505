"""The Reconstructions page's epoch timeline and per-image picker show the epoch and the image chosen."""

import numpy as np
import pytest

from ae_core.data import load_dataset
from ae_core.figures.images import comparison_image, enlarged
from ae_core.models.architectures import reconstruct
from ae_core.runs.run import train_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from tests.test_pages import app, shown_image

PAGE = "pages/reconstructions.py"
EPOCHS = 3
JPEG = 2  # Streamlit stores these images as JPEG at quality 100, a pixel or two off the array drawn


def assert_shows(shown: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(shown.astype(int), expected.astype(int), atol=JPEG)


@pytest.fixture(scope="module")
def digits_run():
    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    return train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=EPOCHS, batch_size=64))


def labelled(at, widgets: str, label: str):
    """The one widget of the kind ``widgets`` (e.g. "slider") labelled ``label``."""
    found = [widget for widget in getattr(at, widgets) if widget.label == label]
    assert len(found) == 1, f"expected one {widgets} labelled {label!r}, found {len(found)}"
    return found[0]


def test_the_timeline_shows_the_previews_of_the_epoch_chosen(digits_run, media):
    at = app(PAGE, **{keys.RUNS: {digits_run.name: digits_run}})
    result = digits_run.result
    assert labelled(at, "slider", "Epoch").value == EPOCHS, "the last epoch first"
    shown = {}
    for epoch in (1, EPOCHS):
        labelled(at, "slider", "Epoch").set_value(epoch).run()
        assert not at.exception
        shown[epoch] = shown_image(at, media, f"Originals (top) and reconstructions (bottom) after epoch {epoch}")
        expected = comparison_image(result.preview_images, result.preview_timeline[epoch - 1])
        assert_shows(shown[epoch], expected)
    assert np.abs(shown[1].astype(int) - shown[EPOCHS]).max() > 50, "the model changed between the epochs"


def test_the_picker_shows_the_chosen_image_and_its_reconstruction(digits_run, media):
    at = app(PAGE, **{keys.RUNS: {digits_run.name: digits_run}})
    x_val = load_dataset("digits").x_val
    order = at.dataframe[0].value["index"].to_numpy()  # the grid's images, worst first
    picker = labelled(at, "selectbox", "Image")
    assert picker.value == 0 and picker.format_func(0).startswith(f"#1 · index {order[0]} · MSE")
    assert np.abs(x_val[order[0]] - x_val[order[5]]).max() > 0.5, "two images that tell the picks apart"
    for rank in (0, 5):
        labelled(at, "selectbox", "Image").set_value(rank).run()
        assert not at.exception
        index = order[rank]
        assert_shows(shown_image(at, media, "original"), enlarged(x_val[index]))
        reconstruction = reconstruct(digits_run.model, x_val[index : index + 1])[0]
        assert_shows(shown_image(at, media, "reconstruction"), enlarged(reconstruction))
