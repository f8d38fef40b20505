"""The Train page's loss charts on a finished job: the log scale toggle."""

import pytest

from ae_core.data import load_dataset
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from tests.test_pages import app, chart


@pytest.fixture(scope="module")
def finished_job():
    from ae_core.training.jobs import TrainingJob

    digits = load_dataset("digits")
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    job = TrainingJob(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=2, batch_size=64)).start()
    assert job.join(timeout=120)
    return job


def test_the_log_scale_toggle_puts_both_loss_charts_on_a_log_axis_with_the_same_losses(finished_job):
    at = app("pages/train.py", **{keys.JOB: finished_job})
    linear_losses, linear_comparison = chart(at, keys.LOSS_CHART), chart(at, keys.COMPARE_CHART)
    assert linear_losses["layout"]["yaxis"]["type"] == "linear"
    assert linear_comparison["layout"]["yaxis"]["type"] == "linear"
    at.toggle(key=keys.LOG_SCALE).set_value(True).run()
    assert not at.exception
    log_losses, log_comparison = chart(at, keys.LOSS_CHART), chart(at, keys.COMPARE_CHART)
    assert log_losses["layout"]["yaxis"]["type"] == "log"
    assert log_comparison["layout"]["yaxis"]["type"] == "log"
    assert log_losses["data"] == linear_losses["data"], "the scale changes, the losses drawn do not"
    assert [trace["y"] for trace in log_comparison["data"]] == [finished_job.snapshot().history["val_loss"]]
    at.switch_page("pages/data.py").run()
    at.switch_page("pages/train.py").run()
    assert chart(at, keys.LOSS_CHART)["layout"]["yaxis"]["type"] == "log", "the choice outlives a page switch"
