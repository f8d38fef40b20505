"""Many users on one server: one upload per session, saving as publishing (with a confirmation for a run trained on
an upload), deleting a saved run after a confirmation, only by the workspace that saved it or the admin token, and
server settings that agree with the lab's limits."""

import gc
import io
import tomllib
import weakref
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from ae_core.data import load_upload
from ae_core.runs.disk_budget import folder_bytes
from ae_core.runs.listing import list_runs
from ae_core.runs.run import train_run
from ae_core.runs.saving import delete_run, rename_run, save_run
from ae_core.settings.limits import Limits
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.units import human_size
from ae_core.workspaces import store
from pages.shared import keys, workspace
from tests.test_pages import app

ROOT = Path(__file__).resolve().parents[1]
SMALL = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))


def _npz(images: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, images=images)
    return buffer.getvalue()


def _images(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (60, 8, 8), dtype=np.uint8)


def _trained_on(dataset, name: str):
    return train_run(
        dataset.x_train,
        dataset.x_val,
        dataset.name,
        SMALL,
        TrainConfig(epochs=1, batch_size=16),
        name=name,
        split=dataset.split.to_dict(),
    )


@pytest.fixture(scope="module")
def digits_run(digits):
    return _trained_on(digits, "r1")


@pytest.fixture(scope="module")
def upload_run():
    return _trained_on(load_upload([("mine.npz", _npz(_images(0)))]), "on-upload")


def button(at: AppTest, label: str):
    matches = [button for button in at.button if button.label == label]
    assert len(matches) == 1, f"expected one button {label!r}, found {[button.label for button in at.button]}"
    return matches[0]


def click(at: AppTest, label: str) -> AppTest:
    button(at, label).click().run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, images: np.ndarray) -> AppTest:
    at.file_uploader(key=keys.UPLOADER).set_value((name, _npz(images), "application/zip")).run()
    assert not at.exception and not at.error
    return at


def test_the_server_settings_agree_with_the_limits():
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxUploadSize"] * 2**20 == Limits().max_upload_bytes, "Streamlit counts maxUploadSize in MiB"
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert server["fileWatcherType"] == "none" and server["runOnSave"] is False


def test_a_second_upload_replaces_the_first_and_its_run_still_shows_what_it_holds():
    at = upload(app(), "mine.npz", _images(1))
    assert "One upload at a time" in " ".join(caption.value for caption in at.caption)
    first = at.session_state[keys.UPLOADS]["mine.npz"]
    run = _trained_on(first, "on-first")
    at.session_state[keys.RUNS] = {run.name: run}
    at.session_state[keys.CURRENT_RUN] = run.name
    at.switch_page("pages/reconstructions.py").run()
    assert not at.exception and not at.warning and at.dataframe, "the run's upload is loaded: its scores show"
    dataset_alive, pixels_alive = weakref.ref(first), weakref.ref(first.x_val)
    del first
    at.switch_page("pages/data.py").run()
    upload(at, "mine.npz", _images(2))  # the same file name, other images: numbered, never mistaken for the first
    assert list(at.session_state[keys.UPLOADS]) == ["mine.npz #2"]
    assert at.selectbox(key=keys.DATASET).value == "mine.npz #2"
    assert "mine.npz" not in at.selectbox(key=keys.DATASET).options
    at.switch_page("pages/reconstructions.py").run()  # session state drops a replaced value at the next run
    gc.collect()
    assert dataset_alive() is None, "the replaced upload is still referenced"
    assert pixels_alive() is None, "the replaced upload's validation images are still referenced"
    assert not at.exception and "not loaded in this session" in at.warning[0].value and not at.dataframe
    assert [link.value for link in at.page_link] == ["Go to Data"]
    captions = [caption for image in at.image for caption in image.captions]
    assert "Originals (top) and reconstructions (bottom) after epoch 1" in captions


def test_a_run_trained_on_an_upload_is_saved_only_once_publishing_is_confirmed(upload_run, tmp_path):
    at = app("pages/train.py", **{keys.RUNS: {upload_run.name: upload_run}, keys.CURRENT_RUN: upload_run.name})
    assert any("visible to everyone using this server" in caption.value for caption in at.caption)
    assert button(at, "Save run").disabled
    confirm = at.checkbox(key=keys.PUBLISH_UPLOAD_PREFIX + upload_run.id)
    assert confirm.label == f"Publish {len(upload_run.result.preview_images)} of my uploaded images with this run"
    confirm.check().run()
    assert not button(at, "Save run").disabled
    click(at, "Save run")
    assert "everyone using this server can open it now" in at.success[-1].value
    assert [summary["name"] for summary in list_runs(tmp_path / "runs").runs] == ["on-upload"]


def test_a_run_on_a_built_in_dataset_saves_at_once_and_unsaved_runs_stay_in_their_session(digits_run, tmp_path):
    at = app("pages/train.py", **{keys.RUNS: {"r1": digits_run}, keys.CURRENT_RUN: "r1"})
    assert not at.checkbox and not button(at, "Save run").disabled
    assert any("No saved runs" in caption.value for caption in at.caption)
    other = app("pages/reconstructions.py")  # another browser tab: its own session
    assert "no run yet" in other.info[0].value and not other.dataframe
    assert not (tmp_path / "runs").exists(), "nothing is published before Save run"
    click(at, "Save run")
    other.switch_page("pages/train.py").run()
    assert other.selectbox(key=keys.SAVED_RUN).options == ["r1 · digits · " + digits_run.created]


def in_workspace(token: str, page: str = "pages/train.py") -> AppTest:
    """A new browser session on the address of workspace ``token``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params[workspace.QUERY_KEY] = token
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_a_saved_run_is_deleted_after_a_confirmation(digits_run, upload_run, tmp_path):
    runs_dir = tmp_path / "runs"
    mine = store.create_workspace(tmp_path / "workspaces")
    save_run(digits_run, runs_dir, owner=mine.owner)
    save_run(upload_run, runs_dir, owner=mine.owner)
    at = in_workspace(mine.token)
    at.selectbox(key=keys.SAVED_RUN).set_value("r1").run()
    click(at, "Delete run")
    assert "Delete r1 for everyone using this server?" in at.warning[0].value
    assert (runs_dir / "r1").is_dir(), "nothing is deleted before the confirmation"
    click(at, "Keep it")
    assert not at.warning and (runs_dir / "r1").is_dir()
    click(click(at, "Delete run"), "Delete for everyone")
    assert not (runs_dir / "r1").exists() and sorted(
        path.name for path in runs_dir.iterdir() if not path.name.startswith(".")
    ) == ["on-upload"]
    assert at.success[0].value.startswith("Deleted r1 from")
    assert [option.split(" · ")[0] for option in at.selectbox(key=keys.SAVED_RUN).options] == ["on-upload"]


def test_a_run_deleted_meanwhile_by_someone_else_is_reported_not_raised(digits_run, tmp_path):
    from ae_core.runs.saving import delete_run

    mine = store.create_workspace(tmp_path / "workspaces")
    save_run(digits_run, tmp_path / "runs", owner=mine.owner)
    at = click(in_workspace(mine.token), "Delete run")
    delete_run(tmp_path / "runs", "r1")  # another user, between the two clicks
    click(at, "Delete for everyone")
    assert "Could not delete r1" in at.error[0].value and "deleted already" in at.error[0].value


def test_only_the_workspace_that_saved_a_run_renames_or_deletes_it(digits_run, tmp_path, monkeypatch):
    runs_dir = tmp_path / "runs"
    first = app("pages/train.py", **{keys.RUNS: {"r1": digits_run}, keys.CURRENT_RUN: "r1"})
    click(first, "Save run")
    owner = first.session_state[keys.WORKSPACE].owner
    assert [summary["owner"] for summary in list_runs(runs_dir).runs] == [owner]

    second = app("pages/train.py")  # another browser: another workspace
    assert second.session_state[keys.WORKSPACE].owner != owner
    assert second.selectbox(key=keys.SAVED_RUN).options == ["r1 · digits · " + digits_run.created]
    assert button(second, "Delete run").disabled and button(second, "Open run").disabled is False
    assert "Only the workspace that saved this run" in button(second, "Delete run").help
    for change in (lambda by: delete_run(runs_dir, "r1", by=by), lambda by: rename_run(runs_dir, "r1", "x", by=by)):
        with pytest.raises(PermissionError, match="belongs to another workspace"):
            change(second.session_state[keys.WORKSPACE].owner)
    assert (runs_dir / "r1" / "model.keras").is_file(), "the refused changes left the run whole"
    click(second, "Open run")
    assert second.session_state[keys.CURRENT_RUN] == "r1", "everyone can open it"

    first.run()
    assert first.selectbox(key=keys.SAVED_RUN).options == ["r1 · digits · " + digits_run.created + " · mine"]
    assert not button(first, "Delete run").disabled
    first.text_input(key=keys.RENAME_TO_PREFIX + "r1").set_value("renamed").run()
    click(first, "Rename")
    assert [summary["name"] for summary in list_runs(runs_dir).runs] == ["renamed"]
    click(click(first, "Delete run"), "Delete for everyone")
    assert list_runs(runs_dir).runs == []

    save_run(digits_run, runs_dir)  # saved by the command line: no workspace owns it, so it is read-only here
    monkeypatch.setenv("AE_ADMIN_TOKEN", "teacher-0123456789abcdef")
    admin = app("pages/train.py")
    assert button(admin, "Delete run").disabled
    admin.text_input(key=keys.ADMIN_TOKEN_INPUT).set_value("wrong-token-0123456789").run()
    assert button(admin, "Delete run").disabled and "not the server's admin token" in admin.error[0].value
    admin.text_input(key=keys.ADMIN_TOKEN_INPUT).set_value("teacher-0123456789abcdef").run()
    assert not button(admin, "Delete run").disabled, "the admin token may delete any run"
    click(click(admin, "Delete run"), "Delete for everyone")
    assert list_runs(runs_dir).runs == []


def test_a_workspace_deletes_its_own_kept_runs_after_a_confirmation_freeing_its_quota(digits_run, upload_run, tmp_path):
    mine, other = (store.create_workspace(tmp_path / "workspaces") for _ in range(2))
    # as the workspace keeps a run it trained; earlier tests may have renamed the runs, so their names are read back
    first, second = (
        save_run(run, mine.runs_dir, overwrite=True, owner=mine.owner).name for run in (digits_run, upload_run)
    )
    save_run(digits_run, other.runs_dir, overwrite=True, owner=other.owner)
    kept = {name: folder_bytes(mine.runs_dir / name) for name in (first, second)}
    at = in_workspace(mine.token)
    assert set(at.session_state[keys.RUNS]) == {first, second}, "the kept runs joined the session"
    picker = at.selectbox(key=keys.KEPT_RUN)
    assert sorted(picker.options) == sorted(f"{name} · {human_size(size)}" for name, size in kept.items())
    assert any(
        f"Runs kept in this workspace ({human_size(sum(kept.values()))} of 256 MiB)" in e.label for e in at.expander
    )
    picker.set_value(first).run()
    click(at, "Delete kept run")
    assert f"Delete {first} ({human_size(kept[first])}) from this workspace?" in at.warning[0].value
    assert (mine.runs_dir / first).is_dir(), "nothing is deleted before the confirmation"
    click(at, "Keep the run")
    assert not at.warning and (mine.runs_dir / first).is_dir()
    click(click(at, "Delete kept run"), "Delete it from this workspace")
    assert not (mine.runs_dir / first).exists() and (mine.runs_dir / second).is_dir()
    assert (other.runs_dir / first).is_dir(), "another workspace's run of that name is its own"
    deleted = f"Deleted {first} from this workspace: {human_size(kept[first])} of its quota is free again"
    assert any(success.value.startswith(deleted) for success in at.success)
    assert list(at.session_state[keys.RUNS]) == [second], "this tab let go of it too"
    assert at.selectbox(key=keys.KEPT_RUN).options == [f"{second} · {human_size(kept[second])}"]
    assert first not in in_workspace(mine.token).session_state[keys.RUNS], "a reload no longer finds it"
