"""The runs folder on disk: histories kept compact, files read within their limits and never through links, and
saves within a run's size, a workspace's quota and the folder's total."""

import json
import os
import threading
import tracemalloc
import zipfile
from dataclasses import replace

import numpy as np
import pytest

from ae_core.runs.disk_budget import folder_bytes, saved_model_bytes, saved_run_sizes
from ae_core.runs.history import MAX_SAVED_BATCH_LOSSES
from ae_core.runs.listing import list_runs
from ae_core.runs.loading import load_run
from ae_core.runs.run import train_run
from ae_core.runs.run_files import run_owner
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.units import human_size

SMALL_DENSE = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))


@pytest.fixture(scope="module")
def small_run(digits):
    """A dense run of two epochs at a batch of 1 on 1,100 digits: 2,200 batch losses, more than a run keeps."""
    config = TrainConfig(epochs=2, batch_size=1, learning_rate=1e-3)
    return train_run(digits.x_train[:1100], digits.x_val, "digits", SMALL_DENSE, config, name="small")


def _no_path(message: str, *folders) -> None:
    for folder in folders:
        assert str(folder) not in message, f"a server path in: {message}"


def test_batch_losses_are_decimated_on_save_and_an_old_full_history_still_loads(small_run, tmp_path):
    recorded = small_run.result.batch_losses
    assert len(recorded) == 2 * 1100
    folder = save_run(small_run, tmp_path)
    saved = json.loads((folder / "run.json").read_text())["batch_losses"]
    assert len(saved) == MAX_SAVED_BATCH_LOSSES
    assert tuple(saved[0]) == recorded[0] and tuple(saved[-1]) == recorded[-1]
    assert set(map(tuple, saved)) <= set(recorded), "decimation keeps recorded points, never makes new ones"
    assert np.all(np.diff([point[0] for point in saved]) > 0)
    assert (folder / "run.json").stat().st_size < 200_000
    assert load_run(folder).result.batch_losses == [tuple(point) for point in saved]

    # A run.json saved with every batch's loss (60,586 of them, as batch 1 wrote before) still lists and loads.
    summary = json.loads((folder / "run.json").read_text())
    full = [[index / 1437, float(loss)] for index, loss in enumerate(np.linspace(1, 0.01, 60_586))]
    (folder / "run.json").write_text(json.dumps({**summary, "batch_losses": full}, indent=1))
    assert [run["name"] for run in list_runs(tmp_path).runs] == ["small"]
    loaded = load_run(folder).result.batch_losses
    assert len(loaded) == MAX_SAVED_BATCH_LOSSES and loaded[0] == tuple(full[0]) and loaded[-1] == tuple(full[-1])


def test_listing_holds_the_small_summary_and_follows_changes(small_run, tmp_path):
    folder = save_run(small_run, tmp_path)
    listed = list_runs(tmp_path).runs[0]
    assert "history" not in listed and "batch_losses" not in listed
    assert listed["id"] == small_run.id and ModelConfig.from_dict(listed["model_config"]) == SMALL_DENSE
    (folder / "run.json").write_text('{"name": "broken", ')  # a run rewritten after it was listed is read again
    assert list_runs(tmp_path).skipped == [
        "small: run.json is not valid JSON (Expecting property name enclosed in double quotes at line 1)."
    ]
    save_run(replace(small_run, id="another"), tmp_path, overwrite=True)
    assert [run["id"] for run in list_runs(tmp_path).runs] == ["another"]


def _peak_bytes(call) -> tuple[int, Exception | None]:
    """Peak Python and numpy memory while ``call`` runs, and what it raised."""
    tracemalloc.start()
    try:
        call()
        raised = None
    except (ValueError, OSError) as error:
        raised = error
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, raised


def test_an_oversized_run_json_is_refused_from_its_size_unread(small_run, tmp_path):
    save_run(small_run, tmp_path)
    folder = save_run(replace(small_run, name="grown"), tmp_path)
    with open(folder / "run.json", "a") as file:  # still valid JSON: trailing spaces
        file.write(" " * (5 * 2**20))
    peak, _ = _peak_bytes(lambda: list_runs(tmp_path))
    assert peak < 2**20, "the 5 MiB run.json was read"
    listing, size = list_runs(tmp_path), human_size((folder / "run.json").stat().st_size)
    assert [run["name"] for run in listing.runs] == ["small"]
    assert listing.skipped == [
        f"grown: grown/run.json is {size}; a saved run's run.json may be at most 4 MiB (AE_MAX_RUN_JSON_BYTES), far "
        "more than the lab writes, so it was not read. Train the run again, or remove its folder."
    ]
    with pytest.raises(ValueError, match=f"grown/run.json is {size}") as refusal:
        load_run(folder)
    _no_path(str(refusal.value), tmp_path)


def _write_zeros_npz(path, n_bytes: int) -> None:
    """A .npz of one float32 array of ``n_bytes`` zeros, written a chunk at a time (small on disk, large unpacked)."""
    header = {"descr": "<f4", "fortran_order": False, "shape": (n_bytes // 4,)}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("images.npy", "w") as member:
        np.lib.format.write_array_header_1_0(member, header)
        chunk = bytes(2**20)
        for _ in range(n_bytes // len(chunk)):
            member.write(chunk)


def test_an_oversized_preview_is_refused_from_its_size_or_its_directory(small_run, tmp_path):
    folder = save_run(small_run, tmp_path)
    preview = folder / "preview.npz"
    _write_zeros_npz(preview, 200 * 2**20)
    assert preview.stat().st_size < 2**20
    peak, refusal = _peak_bytes(lambda: load_run(folder))
    assert peak < 8 * 2**20, "the arrays were unpacked"
    assert str(refusal).startswith(
        "small/preview.npz unpacks to 200 MiB; a saved run's preview.npz may hold at most 128 MiB "
        "(AE_MAX_PREVIEW_BYTES)"
    )
    os.truncate(preview, 1000 * 2**20)  # a 1000 MiB file (sparse: only its size is read)
    peak, refusal = _peak_bytes(lambda: load_run(folder))
    assert peak < 8 * 2**20 and "small/preview.npz is 1,000 MiB" in str(refusal)
    _no_path(str(refusal), tmp_path)


def test_links_in_a_runs_folder_are_never_followed(small_run, tmp_path):
    runs_dir, elsewhere = tmp_path / "runs", save_run(small_run, tmp_path / "elsewhere")
    runs_dir.mkdir()
    (runs_dir / "linked").symlink_to(elsewhere, target_is_directory=True)
    listing = list_runs(runs_dir)
    assert listing.runs == [] and listing.skipped == [
        "linked: linked is a link, not a run folder saved here; links in a runs folder are never followed. Remove "
        "the link, or copy the run's folder in its place."
    ]
    with pytest.raises(ValueError, match="linked is a link"):
        load_run(runs_dir / "linked")
    for file_name in ("run.json", "preview.npz", "model.keras"):
        folder = save_run(replace(small_run, name=file_name.split(".")[0]), runs_dir)
        (folder / file_name).unlink()
        (folder / file_name).symlink_to(elsewhere / file_name)
        with pytest.raises(ValueError, match="link") as refusal:
            load_run(folder)
        assert str(refusal.value).startswith(f"{folder.name}/{file_name}")
        _no_path(str(refusal.value), tmp_path)
    assert sorted(line.split(":")[0] for line in list_runs(runs_dir).skipped) == ["linked", "model", "run"]
    owned = save_run(replace(small_run, name="owned"), runs_dir, owner="a" * 32)
    assert run_owner(owned) == "a" * 32
    (owned / "owner").unlink()
    (owned / "owner").symlink_to("/dev/zero")  # endless if read through the link
    assert run_owner(owned) is None


def test_a_model_over_its_limit_is_refused_at_save_before_anything_is_written(small_run, tmp_path, monkeypatch):
    model_bytes = saved_model_bytes(small_run.model)
    folder = save_run(small_run, tmp_path / "sized")
    assert folder_bytes(folder) > model_bytes
    assert (folder / "model.keras").stat().st_size == pytest.approx(model_bytes, rel=0.5, abs=60_000)
    monkeypatch.setenv("AE_MAX_SAVED_MODEL_BYTES", str(model_bytes - 1))
    runs_dir = tmp_path / "runs"
    with pytest.raises(ValueError) as refusal:
        save_run(small_run, runs_dir)
    assert str(refusal.value).startswith(f"small was not saved: its model is {human_size(model_bytes)} (its weights")
    assert "over the " in str(refusal.value) and "(AE_MAX_SAVED_MODEL_BYTES)" in str(refusal.value)
    assert not runs_dir.exists(), "nothing was written"


def test_a_preview_over_its_limit_is_refused_at_save(small_run, tmp_path, monkeypatch):
    monkeypatch.setenv("AE_MAX_PREVIEW_BYTES", "1000")
    with pytest.raises(ValueError, match=r"small was not saved: its preview .* after each of its 2 epochs\) is "):
        save_run(small_run, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_saving_from_one_workspace_stops_at_its_quota(small_run, tmp_path, monkeypatch):
    run_bytes = folder_bytes(save_run(small_run, tmp_path / "measure"))
    quota = int(3.5 * run_bytes)
    monkeypatch.setenv("AE_MAX_WORKSPACE_RUNS_BYTES", str(quota))
    runs_dir, mine = tmp_path / "runs", "a" * 32
    saved = []
    for attempt in range(10):
        try:
            saved.append(save_run(replace(small_run, name=f"mine-{attempt}"), runs_dir, owner=mine).name)
        except ValueError as error:
            refusal = str(error)
            break
    assert saved == ["mine-0", "mine-1", "mine-2"]
    assert sum(run.size for run in saved_run_sizes(runs_dir) if run.owner == mine) <= quota
    assert (
        refusal.startswith("mine-3 (") and "over its quota of" in refusal and "AE_MAX_WORKSPACE_RUNS_BYTES" in refusal
    )
    assert "Delete some of its saved runs first; the largest: mine-" in refusal
    _no_path(refusal, tmp_path)
    assert not [path.name for path in runs_dir.iterdir() if path.name.startswith(".")], "no staging folder is left"
    save_run(replace(small_run, name="theirs"), runs_dir, owner="b" * 32)  # another workspace has its own quota
    save_run(replace(small_run, name="no-workspace"), runs_dir)  # the command line's runs have none


def test_saves_at_once_never_pass_the_runs_folder_total(small_run, tmp_path, monkeypatch):
    run_bytes = folder_bytes(save_run(small_run, tmp_path / "measure"))
    total = int(5.5 * run_bytes)
    monkeypatch.setenv("AE_MAX_RUNS_DIR_BYTES", str(total))
    runs_dir, barrier, refusals, lock = tmp_path / "runs", threading.Barrier(8), [], threading.Lock()

    def save(index: int) -> None:
        barrier.wait()
        try:
            save_run(replace(small_run, name=f"run-{index}"), runs_dir, owner=f"{index % 4:032d}")
        except ValueError as error:
            with lock:
                refusals.append(str(error))

    threads = [threading.Thread(target=save, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(list_runs(runs_dir).runs) == 5 and len(refusals) == 3
    assert sum(run.size for run in saved_run_sizes(runs_dir)) <= total
    for refusal in refusals:
        assert "the runs folder, shared by everyone on this server, would hold" in refusal
        assert "(AE_MAX_RUNS_DIR_BYTES)" in refusal and "; the largest: run-" in refusal
        _no_path(refusal, tmp_path)


def test_errors_from_the_disk_name_the_run_and_its_files_never_a_server_path(small_run, tmp_path, monkeypatch):
    folder = save_run(small_run, tmp_path / "runs")
    real_zip_file = zipfile.ZipFile

    def unreadable_model(file, *args, **kwargs):  # what a model.keras the server may not read raises
        if getattr(file, "name", "") == "model.keras":
            raise PermissionError(13, "Permission denied", str(file))
        return real_zip_file(file, *args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", unreadable_model)
    with pytest.raises(ValueError, match="small/model.keras is damaged .*: .*Permission denied") as refusal:
        load_run(folder)
    _no_path(str(refusal.value), tmp_path)
    monkeypatch.undo()

    def full_disk(path, **arrays):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(np, "savez_compressed", full_disk)
    with pytest.raises(OSError, match="^another could not be written: No space left on device.$"):
        save_run(replace(small_run, name="another"), tmp_path / "runs")
    assert [path.name for path in (tmp_path / "runs").iterdir()] == ["small"], "no staging folder is left"
