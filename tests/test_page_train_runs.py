"""Runs on the Train page as a person expects them: a saved or renamed run takes its name everywhere at once, an opened
run shows what a just-finished one shows (curves, verdict, reconstructions, its settings in the form), an unfinished
run is not saved, messages name runs and never a server folder, and "Compare runs" puts settings and scores side by
side."""

import math
from dataclasses import replace

import pytest
from streamlit.testing.v1 import AppTest

from ae_core.runs.comparison import comparison_rows
from ae_core.runs.listing import list_runs
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.workspaces import store
from pages.shared import keys, workspace
from tests.test_pages import APP, TIMEOUT, app, button, chart, click, wait_for_batches


@pytest.fixture(scope="module")
def digits_run(digits):
    config = ModelConfig(preset="dense", latent_dim=6, hidden_units=(24,), activation="elu")
    training = TrainConfig(epochs=2, batch_size=48, learning_rate=0.002, seed=5)
    return train_run(digits.x_train, digits.x_val, "digits", config, training, name="r1", split=digits.split.to_dict())


def copy_of(run, **changes):
    """A copy of ``run`` (a session renames the runs it holds; the module's run stays as trained)."""
    return replace(run, **changes)


def texts(at: AppTest) -> list[str]:
    """Every message and caption the page shows."""
    shown = (*at.success, *at.info, *at.warning, *at.error, *at.caption, *at.markdown)
    return [element.value for element in shown]


def in_workspace(token: str, page: str = "pages/train.py") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params[workspace.QUERY_KEY] = token
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_saving_as_and_renaming_give_the_run_its_new_name_everywhere_at_once(digits_run, tmp_path):
    mine = store.create_workspace(tmp_path / "workspaces")
    save_run(copy_of(digits_run), mine.runs_dir, owner=mine.owner)  # trained in this workspace, kept for a reload
    at = in_workspace(mine.token)
    assert at.session_state[keys.CURRENT_RUN] == "r1"
    at.text_input(key=keys.SAVE_AS_PREFIX + digits_run.id).set_value("my-run").run()
    click(at, "Save run")
    assert not at.exception and list(at.session_state[keys.RUNS]) == ["my-run"]
    assert at.session_state[keys.CURRENT_RUN] == "my-run"
    assert "Saves **my-run**." in texts(at) and "(run my-run)" in at.success[0].value, "the current run's name"
    assert at.success[-1].value == "Saved my-run; everyone using this server can open it now."
    assert at.multiselect[0].options == ["my-run"] and at.selectbox(key=keys.SAVED_RUN).value == "my-run"
    assert [summary["name"] for summary in list_runs(mine.runs_dir).runs] == ["my-run"], "the workspace's copy too"

    at.text_input(key=keys.RENAME_TO_PREFIX + "my-run").set_value("renamed").run()
    click(at, "Rename")
    assert list(at.session_state[keys.RUNS]) == ["renamed"] and at.session_state[keys.CURRENT_RUN] == "renamed"
    assert "Saves **renamed**." in texts(at) and at.multiselect[0].options == ["renamed"]
    assert at.success[-1].value == "Renamed my-run to renamed."
    at.switch_page("pages/reconstructions.py").run()
    picker = at.selectbox(key=keys.CURRENT_RUN)
    assert picker.options == ["renamed"] and picker.value == "renamed", "the Run picker of every other page"

    reloaded = in_workspace(mine.token, "pages/reconstructions.py")
    assert list(reloaded.session_state[keys.RUNS]) == ["renamed"], "a reload finds the run under its new name"


def test_an_opened_run_shows_its_curves_verdict_reconstructions_and_settings_ready_to_train_again(digits_run, tmp_path):
    save_run(digits_run, tmp_path / "runs")
    at = app("pages/train.py")  # a new browser: MNIST and the recommended settings
    assert at.number_input(key=keys.LATENT).value != 6 and not at.get("plotly_chart")
    click(at, "Open run")
    assert at.success[0].value.startswith("Finished 2 epochs in") and "(run r1)" in at.success[0].value
    assert "validation MSE " + f"{digits_run.metrics['val_mse']:.4f}" in at.success[0].value, "its verdict"
    losses = chart(at, keys.LOSS_CHART)["data"]
    assert len(losses[0]["x"]) == len(digits_run.result.batch_losses), "every batch's loss, as after training"
    assert losses[1]["y"] == digits_run.result.history["val_loss"]
    captions = [caption for image in at.image for caption in image.captions]
    assert "Originals (top) and reconstructions (bottom), epoch 2" in captions
    assert "Opened r1; it is now the current run." in texts(at)
    assert "Dataset: **Digits" in " ".join(texts(at)), "the run's dataset"
    assert at.selectbox(key=keys.PRESET).value == "dense" and at.selectbox(key=keys.ACTIVATION).value == "elu"
    assert at.text_input(key=keys.HIDDEN_UNITS).value == "24"
    shown = [at.number_input(key=key).value for key in (keys.LATENT, keys.EPOCHS, keys.BATCH_SIZE, keys.SEED)]
    assert shown == [6, 2, 48, 5] and at.number_input(key=keys.LEARNING_RATE).value == 0.002

    click(at, "Start training")
    assert at.session_state[keys.JOB].join(timeout=120)
    at.run()
    again = at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]
    assert again.id != digits_run.id and again.model_config == digits_run.model_config
    assert again.train_config == digits_run.train_config and again.dataset_name == "digits"


def test_a_link_to_a_saved_run_opens_it_on_the_train_page_like_a_run_just_trained(digits_run, tmp_path):
    save_run(digits_run, tmp_path / "runs")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["run"] = digits_run.id
    at.switch_page("pages/train.py").run()
    assert not at.exception and at.success[0].value.startswith("Finished 2 epochs")
    assert chart(at, keys.LOSS_CHART)["data"][1]["y"] == digits_run.result.history["val_loss"]
    assert at.number_input(key=keys.LATENT).value == 6 and at.number_input(key=keys.BATCH_SIZE).value == 48


def test_an_unfinished_run_is_not_saved_and_the_button_says_why(digits_run, tmp_path):
    at = app("pages/data.py", **{keys.RUNS: {"r1": copy_of(digits_run)}, keys.CURRENT_RUN: "r1"})
    at.selectbox(key=keys.DATASET).set_value("digits").run()
    at.switch_page("pages/train.py").run()
    at.number_input(key=keys.EPOCHS).set_value(500)
    at.number_input(key=keys.BATCH_SIZE).set_value(32)
    click(at, "Start training")
    job = at.session_state[keys.JOB]
    try:
        wait_for_batches(job)
        click(at, "Pause")
        save = button(at, "Save run")
        assert save.disabled and "can be saved once it has finished or been stopped" in save.help
        assert any("The run training now can be saved once it has finished" in info.value for info in at.info)
        assert not [box for box in at.text_input if box.label == "Save as"], "no “Save as” before the run is there"
    finally:
        job.stop()
        assert job.join(timeout=120)
    at.run()
    assert not at.exception and not button(at, "Save run").disabled
    stopped = at.session_state[keys.RUNS][at.session_state[keys.CURRENT_RUN]]
    assert stopped.result.stopped and f"Saves **{stopped.name}**." in texts(at), "the run that was training"


def test_messages_name_runs_never_a_server_folder(digits_run, tmp_path):
    at = app("pages/train.py", **{keys.RUNS: {"r1": copy_of(digits_run)}, keys.CURRENT_RUN: "r1"})
    assert "No saved runs on this server yet." in texts(at)
    click(at, "Save run")
    assert at.success[-1].value == "Saved r1; everyone using this server can open it now."
    click(at, "Save run")
    assert "A run named 'r1' already exists" in at.error[0].value
    click(click(at, "Delete run"), "Delete for everyone")
    deleted = "Deleted r1 from the saved runs. Sessions that opened it keep it until they close."
    assert deleted in [message.value for message in at.success]
    shown = " ".join(texts(at))
    assert str(tmp_path) not in shown and "/runs" not in shown


def test_compare_runs_shows_each_runs_settings_and_scores_beside_the_curves(digits_run):
    other = copy_of(
        digits_run,
        name="r2",
        id="other",
        model_config=ModelConfig(preset="vae", latent_dim=3, hidden_units=(24,), beta=0.5),
        metrics={**digits_run.metrics, "val_mse": 0.5 * digits_run.metrics["pca_val_mse"]},
    )
    at = app("pages/train.py", **{keys.RUNS: {"r1": copy_of(digits_run), "r2": other}, keys.CURRENT_RUN: "r1"})
    assert [trace["name"] for trace in chart(at, keys.COMPARE_CHART)["data"]] == ["r1", "r2"]
    table = at.dataframe[0].value.to_dict("records")
    assert [row["run"] for row in table] == ["r1", "r2"]
    first, second = table
    assert (first["preset"], first["latent size"], first["layers"], first["activation"]) == ("dense", 6, "24", "elu")
    assert (first["learning rate"], first["batch size"], first["seed"], first["epochs"]) == (0.002, 48, 5, "2 of 2")
    assert first["validation MSE"] == pytest.approx(digits_run.metrics["val_mse"])
    assert first["MSE / PCA"] == pytest.approx(digits_run.metrics["val_mse"] / digits_run.metrics["pca_val_mse"])
    assert (second["preset"], second["latent size"], second["preset setting"]) == ("vae", 3, "beta 0.5")
    assert second["MSE / PCA"] == pytest.approx(0.5) and second["ended"] == "finished"
    at.multiselect[0].set_value(["r2"]).run()
    assert [row["run"] for row in at.dataframe[0].value.to_dict("records")] == ["r2"]


def test_comparison_rows_say_how_each_run_ended(digits_run):
    from ae_core.training.events import Divergence

    stopped = copy_of(digits_run, result=replace(digits_run.result, stopped=True, epochs_completed=1))
    diverged = copy_of(
        digits_run,
        metrics={},
        result=replace(digits_run.result, divergence=Divergence(epoch=2, batch=3, loss=math.inf)),
    )
    rows = comparison_rows([digits_run, stopped, diverged])
    assert [row["ended"] for row in rows] == ["finished", "stopped early", "diverged in epoch 2"]
    assert rows[1]["epochs"] == "1 of 2" and math.isnan(rows[2]["validation MSE"]) and math.isnan(rows[2]["MSE / PCA"])
    assert len({tuple(row) for row in rows}) == 1, "every row has the same columns in the same order"
