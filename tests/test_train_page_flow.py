"""The Train page's flow around a run: "Train without class K" on Applications starts that run, the previous run's
"Finished" banner gives way to it, the hold-out is cleared once it ends; the textbook model's loss to PCA is
explained, with a button to the preset that wins."""

from ae_core.quality.pca_baseline import TEXTBOOK_LOSS, verdict
from pages.shared import keys
from tests.test_pages import app, button, click


def test_the_verdict_explains_the_textbook_models_loss_to_pca():
    lost = verdict(0.03, 0.02, 32, "seed_dense")
    assert lost.startswith("PCA-32 wins: the textbook model's error is 1.50x PCA's") and TEXTBOOK_LOSS in lost
    assert "convolutional preset (conv)" in lost and "more epochs" not in lost
    assert "more epochs" in verdict(0.03, 0.02, 32, "dense") and TEXTBOOK_LOSS not in verdict(0.01, 0.02, 32)


def _train_one_epoch(at, preset: str):
    at.selectbox(key=keys.PRESET).set_value(preset).run()
    at.number_input(key=keys.EPOCHS).set_value(1)
    click(at, "Start training")
    assert at.session_state[keys.JOB].join(timeout=120)
    at.run()
    assert not at.exception
    return at


def test_train_without_class_k_starts_that_run_and_the_hold_out_clears_after_it():
    at = app("pages/data.py")
    at.selectbox(key=keys.DATASET).set_value("digits").run()
    at.switch_page("pages/train.py").run()
    _train_one_epoch(at, "seed_dense")
    first_job = at.session_state[keys.JOB]
    assert at.success[0].value.startswith("Finished 1 epoch")
    assert "textbook model" in at.success[0].value  # PCA-32 of 64-pixel digits wins after one epoch
    at.switch_page("pages/applications.py").run()
    at.session_state[keys.APPLICATION_TAB] = "Anomaly detection"
    at.run()
    at.selectbox(key=keys.ANOMALY_CLASS).set_value(3).run()
    click(at, "Train without class 3")
    assert not at.exception and at.title[0].value == "Train"
    job = at.session_state[keys.JOB]
    assert job is not first_job and job.excluded_class == 3, "the click started the run without class 3"
    assert button(at, "Start training").disabled
    assert not any(box.value.startswith("Finished") for box in at.success), "no banner of the previous run"
    job.stop()
    assert job.join(timeout=120)
    at.switch_page("pages/train.py").run()  # AppTest reruns the page it last switched to, not st.switch_page's
    assert not at.exception
    run = at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]
    assert run.excluded_class == 3
    assert at.selectbox(key=keys.HOLD_OUT).value is None, "the next run trains on every class"


def test_the_textbook_models_loss_offers_the_conv_preset():
    at = app("pages/data.py")
    at.selectbox(key=keys.DATASET).set_value("digits").run()
    at.switch_page("pages/train.py").run()
    _train_one_epoch(at, "seed_dense")
    assert TEXTBOOK_LOSS.split(":")[0] in at.success[0].value
    click(at, "Try the conv preset")
    assert not at.exception and at.selectbox(key=keys.PRESET).value == "conv"
