"""The Lesson page driven through AppTest: the step in the address, the prediction's reveal, Run this step (a
shared training, then the lab's result and a link to the run), Next step, and a reload of the same workspace."""

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from ae_core.lesson.steps import step
from pages.shared import keys
from pages.shared.lesson_runs import shared_trainings

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/lesson.py"
TIMEOUT = 120  # the first run imports TensorFlow
WAIT_S = 120  # a shared training of the textbook model takes seconds; a busy machine, more


def lesson(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def button(at: AppTest, label: str):
    return next(found for found in at.button if found.label == label)


def header(at: AppTest) -> str:
    return at.header[0].value


def result_text(at: AppTest) -> str | None:
    return next((info.value for info in at.info if info.value.startswith("**Result.**")), None)


def run_step_and_wait(at: AppTest) -> str:
    """Press Run this step and redraw until the result shows (the progress fragment collects the run)."""
    button(at, "Run this step").click().run()
    deadline = time.monotonic() + WAIT_S
    while result_text(at) is None and time.monotonic() < deadline:
        assert not at.exception, at.exception
        time.sleep(0.5)
        at.run()
    assert result_text(at) is not None, [element.value for element in at.error]
    return result_text(at)


def test_the_address_names_the_step():
    at = lesson({"step": "4"})
    assert header(at) == "Step 4 of 8: The latent map"
    assert at.radio[0].label.endswith(step(4).prediction.question)
    wrong = lesson({"step": "nine"})
    assert header(wrong) == "Step 1 of 8: The data" and wrong.query_params["step"] == "1"
    assert any("not a step from 1 to 8" in caption.value for caption in wrong.caption)


def test_the_answer_shows_once_a_prediction_is_made():
    at = lesson({"step": "2"})
    assert at.radio[0].value is None and not at.success and not at.warning
    at.radio[0].set_value(0).run()  # "Yes: a neural network beats ...": wrong
    assert "the answer is “No: PCA's error is smaller”" in at.warning[0].value
    at.radio[0].set_value(1).run()
    assert at.success[0].value.startswith("**Right.**") and "PCA wins" in at.success[0].value


def test_next_step_moves_the_address_on():
    at = lesson({"step": "2"})
    button(at, "Next step").click().run()
    assert header(at) == "Step 3 of 8: A convolutional model" and at.query_params["step"] == "3"
    last = lesson({"step": "8"})
    assert not [found for found in last.button if found.label == "Next step"]


def test_run_this_step_trains_once_for_everyone_and_survives_a_reload():
    first = lesson({"step": "2"})
    assert result_text(first) is None
    text = run_step_and_wait(first)
    assert "PCA wins" in text and "32 numbers" in text
    run = first.session_state[keys.RUNS][first.session_state[keys.CURRENT_RUN]]
    assert run.model_config.preset == "seed_dense" and run.metrics["val_mse"] > run.metrics["pca_val_mse"]
    link = first.get("page_link")[0].proto  # opens the run on the lab's page, in this workspace
    assert link.page == "reconstructions" and link.label.startswith("Open this run")
    assert f"run={run.id}" in link.query_string and f"ws={first.query_params['ws']}" in link.query_string
    started = shared_trainings().started

    second = lesson({"step": "2"})  # another student, same step: the same run, no second training
    assert "PCA wins" in run_step_and_wait(second)
    second_run = second.session_state[keys.RUNS][second.session_state[keys.CURRENT_RUN]]
    assert second_run.id == run.id and second_run is not run and shared_trainings().started == started

    reloaded = lesson({"step": "2", "ws": first.query_params["ws"]})  # a reload: a new session, same workspace
    assert "PCA wins" in (result_text(reloaded) or "")
    assert not [found for found in reloaded.button if found.label == "Run this step"]
