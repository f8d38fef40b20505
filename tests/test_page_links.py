"""Every view a link: the Generate and Applications pages read their settings from the address of a fresh browser
session, show that view of the linked saved run, keep the address in step with the widgets, and leave out a value
the address gets wrong with a short note."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ae_core.generation.judge import judge_for
from ae_core.generation.report import generate_for_run
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from tests.test_page_generate import sampled_digits, tab

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 240  # a fresh session imports TensorFlow and fits the samplers on a busy 2-core machine


@pytest.fixture(scope="module", autouse=True)
def trained_judge(digits):
    """The digits judge, trained before the pages open, as the server trains it when it starts."""
    return judge_for(digits)


@pytest.fixture(scope="module")
def saved_run(digits, tmp_path_factory):
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    return train_run(
        digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=2, batch_size=64), name="linked"
    )


def opened_link(page: str, query: dict, runs_dir: Path, run) -> AppTest:
    """A fresh browser session (no workspace token) opening ``page`` at an address holding ``query`` and the id of
    ``run``, saved in ``runs_dir`` so that any browser may open it."""
    if not (runs_dir / run.name).is_dir():
        save_run(run, runs_dir)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"run": run.id, **query})
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def notes(at: AppTest) -> list[str]:
    return [caption.value for caption in at.caption if caption.value.startswith("The link's")]


def test_a_generate_link_shows_its_sampler_temperature_seed_and_grid_in_a_fresh_browser(
    saved_run, digits, media, tmp_path
):
    query = {"sampler": "gaussian", "temperature": "0.5", "seed": "7", "side": "4", "steps": "5"}
    at = opened_link("pages/generate.py", query, tmp_path / "runs", saved_run)
    assert at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]].id == saved_run.id
    assert at.selectbox(key=keys.FITTED_SAMPLER).value == "gaussian" and at.slider(key=keys.TEMPERATURE).value == 0.5
    assert at.number_input(key=keys.SAMPLE_SEED).value == 7 and at.slider(key=keys.GRID_SIDE).value == 4
    assert at.slider(key=keys.INTERPOLATION_STEPS).value == 5 and not notes(at)
    fresh = RunContext(saved_run, digits)
    shown = sampled_digits(at, media, 4)  # (2, 16, 8, 8): N(0, I), then the fitted Gaussian
    for grid, sampler in zip(shown, ("normal", "gaussian")):
        images = generate_for_run(fresh, sampler, 16, seed=7, temperature=0.5).generation.images
        np.testing.assert_allclose(grid, np.round(images[..., 0] * 255), atol=1, err_msg=sampler)
    assert {name: at.query_params[name] for name in query} == query, "the address keeps the view"
    assert at.query_params["run"] == saved_run.id and at.query_params["ws"]

    at.number_input(key=keys.SAMPLE_SEED).set_value(8).run()
    at.slider(key=keys.TEMPERATURE).set_value(1.5).run()
    assert not at.exception and at.query_params["seed"] == "8" and at.query_params["temperature"] == "1.5"
    assert len(tab(at, "Sample").image) == 2


def test_a_generate_link_with_bad_values_says_so_and_shows_the_defaults(saved_run, tmp_path):
    query = {"sampler": "normal", "temperature": "hot", "seed": "-3", "side": "nan", "extent": "1.5"}
    at = opened_link("pages/generate.py", query, tmp_path / "runs", saved_run)
    [note] = notes(at)
    for wrong in ("sampler='normal': expected one of gaussian, gmm", "temperature='hot'", "seed='-3'", "side='nan'"):
        assert wrong in note, note
    assert "extent=" not in note, "a good value is taken"
    assert at.selectbox(key=keys.FITTED_SAMPLER).value == "gmm" and at.slider(key=keys.TEMPERATURE).value == 1.0
    assert at.number_input(key=keys.SAMPLE_SEED).value == 0 and at.slider(key=keys.GRID_SIDE).value == 8
    assert at.slider(key=keys.TRAVERSAL_EXTENT).value == 1.5
    assert at.query_params["temperature"] == "1" and at.query_params["sampler"] == "gmm", "the address is corrected"


def test_an_applications_link_opens_its_tab_with_its_settings_and_bad_values_are_left_out(saved_run, tmp_path):
    query = {"tab": "restoration", "degradation": "blur", "strength": "0.5", "precision": "float16"}
    at = opened_link("pages/applications.py", query, tmp_path / "runs", saved_run)
    assert at.session_state[keys.APPLICATION_TAB] == "Restoration"
    assert at.selectbox(key=keys.DEGRADATION).value == "blur" and at.slider(key=keys.DEGRADATION_LEVEL).value == 0.5
    assert any(row["images"] == "degraded input" for row in at.dataframe[0].value.to_dict("records"))
    assert {name: at.query_params[name] for name in query} == query and not notes(at)

    at.slider(key=keys.DEGRADATION_LEVEL).set_value(0.2).run()
    assert not at.exception and at.query_params["strength"] == "0.2"

    wrong = opened_link("pages/applications.py", {"tab": "restoration", "strength": "7"}, tmp_path / "runs", saved_run)
    assert wrong.session_state[keys.APPLICATION_TAB] == "Restoration"
    assert notes(wrong) == ["The link's strength='7': expected a number from 0 to 1. Left at the defaults."]
    assert wrong.slider(key=keys.DEGRADATION_LEVEL).value == 0.3 and wrong.query_params["strength"] == "0.3"


def test_an_applications_link_to_classification_keeps_its_features_and_classifier(saved_run, tmp_path):
    query = {"tab": "classification", "features": "pixels", "classifier": "knn"}
    at = opened_link("pages/applications.py", query, tmp_path / "runs", saved_run)
    assert at.session_state[keys.APPLICATION_TAB] == "Classification" and not notes(at)
    next(button for button in at.button if button.label == "Train the classifiers").click().run(timeout=600)
    assert not at.exception, at.exception
    assert at.selectbox(key=keys.CONFUSION_FEATURES).value == "pixels"
    assert at.selectbox(key=keys.CONFUSION_CLASSIFIER).value == "knn"
    assert at.query_params["features"] == "pixels" and at.query_params["classifier"] == "knn"
