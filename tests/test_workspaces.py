"""Workspaces: a browser's runs and upload kept on disk under the token in its address, read back by a new session
(a reload, a reopened tab, a restarted server), and removed whole once nobody opened them for the expiry time."""

import io
import os
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ae_core.data import load_upload
from ae_core.runs.listing import list_runs
from ae_core.workspaces import store, uploads
from pages.shared import keys, workspace
from tests.test_pages import APP, TIMEOUT, finish, train_page


def _npz(images: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, images=images, **({} if labels is None else {"labels": labels}))
    return buffer.getvalue()


def _upload():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (50, 8, 8), dtype=np.uint8)
    return load_upload([("mine.npz", _npz(images, rng.integers(0, 3, 50)))])


def opened(token: str | None = None, page: str | None = None) -> AppTest:
    """A new browser session opening the app, with ``token`` in its address when given."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if token is not None:
        at.query_params[workspace.QUERY_KEY] = token
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception
    return at


def files_under(folder) -> list[str]:
    found = (os.path.join(path, name) for path, _, names in os.walk(folder) for name in names)
    return sorted(os.path.relpath(path, folder) for path in found)


def test_a_token_is_long_random_and_never_a_path(tmp_path):
    tokens = {store.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(store.is_token(token) and len(token) == 43 for token in tokens)
    for bad in ("..", "../" + "a" * 40, "a" * 42, "a" * 44, None, 5):
        assert not store.is_token(bad) and store.open_workspace(tmp_path, bad) is None
    assert store.open_workspace(tmp_path, store.new_token()) is None, "an unknown token opens nothing"
    token = store.create_workspace(tmp_path).token
    assert store.open_workspace(tmp_path, token).folder == tmp_path / token
    assert token not in store.owner_id(token) and store.owner_id(token) == store.owner_id(token)


def test_an_upload_comes_back_exactly_with_its_split(tmp_path):
    dataset = _upload()
    uploads.save_upload(tmp_path / "upload", dataset)
    assert np.load(tmp_path / "upload" / uploads.ARRAYS)["x_train"].dtype == np.uint8, "8-bit images kept as 8 bits"
    back = uploads.load_upload(tmp_path / "upload")
    assert back.name == dataset.name and back.split == dataset.split and back.class_names == dataset.class_names
    for field in ("x_train", "x_val", "y_train", "y_val"):
        assert np.array_equal(getattr(back, field), getattr(dataset, field)), field
    assert back.x_train.dtype == np.float32
    assert uploads.load_upload(tmp_path / "none") is None


def test_an_expired_workspace_is_removed_with_nothing_left_on_disk(tmp_path, digits_run):
    from ae_core.runs.saving import save_run

    root = tmp_path / "workspaces"
    old = store.create_workspace(root)
    save_run(digits_run, old.runs_dir, owner=old.owner)
    uploads.save_upload(old.upload_dir, _upload())
    assert "upload/arrays.npz" in files_under(old.folder) and "runs/r1/model.keras" in files_under(old.folder)
    two_days_ago = time.time() - 2 * 86_400
    os.utime(old.folder / store.OPENED_FILE, (two_days_ago, two_days_ago))
    fresh = store.create_workspace(root)
    assert store.remove_expired(root, max_idle_s=86_400) == 1
    assert sorted(os.listdir(root)) == [fresh.token], "only the workspace opened within a day is left"
    assert not old.folder.exists() and files_under(root) == [f"{fresh.token}/{store.OPENED_FILE}"]


def test_the_app_removes_expired_workspaces_when_a_browser_opens_it(tmp_path, monkeypatch, digits_run):
    from ae_core.runs.saving import save_run

    monkeypatch.setenv("AE_WORKSPACE_EXPIRY_S", "1")
    monkeypatch.setattr(workspace, "SWEEP_EVERY_S", 0.0)  # a look at every opening, not once a minute
    first = opened()
    old = first.session_state[keys.WORKSPACE]
    save_run(digits_run, old.runs_dir, owner=old.owner)
    time.sleep(1.2)
    second = opened()
    assert second.session_state[keys.WORKSPACE].token != old.token
    assert not old.folder.exists() and os.listdir(tmp_path / "workspaces") == [second.query_params["ws"]]
    again = opened(old.token)
    assert again.query_params["ws"] != old.token, "an expired link starts a new workspace"
    assert keys.RUNS not in again.session_state, "nothing of the removed workspace comes back"


@pytest.fixture(scope="module")
def digits_run(digits):
    from ae_core.runs.run import train_run
    from ae_core.settings.model_config import ModelConfig
    from ae_core.settings.train_config import TrainConfig

    config = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
    return train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=1, batch_size=64), name="r1")


def test_a_trained_run_and_the_upload_are_there_after_a_reload(tmp_path):
    at = train_page({keys.EPOCHS: 1, keys.BATCH_SIZE: 64})
    token = at.query_params["ws"]
    assert store.is_token(token), "a first visit gets a workspace token in its address"
    [start] = [button for button in at.button if button.label == "Start training"]
    start.click().run()
    finish(at)
    name = at.session_state[keys.CURRENT_RUN]
    kept = at.session_state[keys.WORKSPACE].runs_dir
    assert [summary["name"] for summary in list_runs(kept).runs] == [name], "the finished run is kept on disk"
    at.switch_page("pages/data.py").run()
    at.file_uploader(key=keys.UPLOADER).set_value(("mine.npz", _npz(_upload().x_train[:, :, :, 0]), "x")).run()
    assert not at.exception and list(at.session_state[keys.UPLOADS]) == ["mine.npz"]
    assert at.query_params["ws"] == token, "the token stays in the address on every page"

    reloaded = opened(token, "pages/reconstructions.py")  # a new session on the same address
    assert reloaded.query_params["ws"] == token
    assert list(reloaded.session_state[keys.RUNS]) == [name] and reloaded.session_state[keys.CURRENT_RUN] == name
    assert reloaded.dataframe, "the run's scores show, as before the reload"
    assert list(reloaded.session_state[keys.UPLOADS]) == ["mine.npz"]
    original = at.session_state[keys.RUNS][name]
    assert reloaded.session_state[keys.RUNS][name].result.history == original.result.history

    stranger = opened(None, "pages/reconstructions.py")
    assert stranger.query_params["ws"] != token and "no run yet" in stranger.info[0].value
    assert keys.UPLOADS not in stranger.session_state or not stranger.session_state[keys.UPLOADS]


def test_a_link_names_its_run_and_opens_it_in_another_browser_only_when_saved(tmp_path, digits_run):
    from ae_core.runs.saving import save_run

    mine = store.create_workspace(tmp_path / "workspaces")
    save_run(digits_run, mine.runs_dir, owner=mine.owner)  # trained in this workspace, not saved for others
    at = opened(mine.token, "pages/reconstructions.py")
    assert at.query_params["run"] == digits_run.id, "the address names the page's run"

    stranger = AppTest.from_file(APP, default_timeout=TIMEOUT)
    stranger.query_params["run"] = digits_run.id  # another browser opens the link without the workspace's token
    stranger.run()
    assert not stranger.exception and "private to its workspace" in stranger.warning[0].value
    assert keys.RUNS not in stranger.session_state or not stranger.session_state[keys.RUNS]

    save_run(digits_run, tmp_path / "runs", owner=mine.owner)  # saved: now everyone may open it
    other = AppTest.from_file(APP, default_timeout=TIMEOUT)
    other.query_params["run"] = digits_run.id
    other.run()
    other.switch_page("pages/reconstructions.py").run()
    assert not other.exception and not other.warning
    assert other.session_state[keys.RUNS][other.session_state[keys.CURRENT_RUN]].id == digits_run.id
    assert other.query_params["ws"] != mine.token and other.dataframe, "its scores show, in the other's workspace"
