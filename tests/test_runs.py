import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from ae_core.models.architectures import reconstruct
from ae_core.models.keras_backend import keras
from ae_core.runs.listing import list_runs
from ae_core.runs.loading import load_run
from ae_core.runs.names import check_run_name, sanitize_run_name
from ae_core.runs.run import train_run, training_images
from ae_core.runs.saving import clean_staging, delete_run, save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.jobs import DONE, STOPPED, TrainingJob

# beta 0.05: with MSE on 8x8 digits and beta 1, the KL term wins and this VAE decodes every code to the mean image
# (measured: 0.075 after ten epochs, where the mean image scores 0.074); at 0.05 it reaches 0.037 in four.
SMALL_VAE = ModelConfig(preset="vae", latent_dim=4, hidden_units=(32,), beta=0.05)


@pytest.fixture(scope="module")
def vae_run(digits):
    train_config = TrainConfig(epochs=4, batch_size=32, learning_rate=1e-2)
    return train_run(digits.x_train, digits.x_val, "digits", SMALL_VAE, train_config, name="v1")


def mean_image_mse(dataset) -> float:
    """The validation MSE of a model that outputs the mean training image whatever it is shown: the bar any
    autoencoder worth its training must clear by a margin."""
    return float(np.mean((dataset.x_val - dataset.x_train.mean(axis=0)) ** 2))


def test_run_records_metrics_against_pca(vae_run, digits):
    bar = 0.7 * mean_image_mse(digits)  # the mean image scores 0.074 on digits; this VAE 0.037 and PCA-4 0.038
    assert vae_run.metrics["pca_components"] == 4
    assert vae_run.metrics["val_mse"] < bar and vae_run.metrics["pca_val_mse"] < bar
    scores_mse = np.mean((reconstruct(vae_run.model, digits.x_val) - digits.x_val) ** 2)
    assert vae_run.metrics["val_mse"] == pytest.approx(scores_mse, rel=1e-4)


def test_saved_run_loads_back_the_same(vae_run, digits, tmp_path):
    path = save_run(vae_run, tmp_path)
    loaded = load_run(path)
    images = digits.x_val[:8]
    np.testing.assert_allclose(reconstruct(loaded.model, images), reconstruct(vae_run.model, images))
    assert loaded.result.history == vae_run.result.history
    assert loaded.model_config == SMALL_VAE and loaded.metrics == vae_run.metrics
    np.testing.assert_array_equal(loaded.result.preview_timeline, vae_run.result.preview_timeline)
    assert [summary["name"] for summary in list_runs(tmp_path).runs] == ["v1"]


def test_run_names_cannot_leave_the_runs_folder():
    assert sanitize_run_name("../../etc/passwd") == "etc-passwd"
    assert sanitize_run_name("my run: conv #2") == "my-run-conv-2"
    with pytest.raises(ValueError, match="at least one letter or digit"):
        sanitize_run_name("../..")


def test_a_crash_mid_save_leaves_the_earlier_run_intact(vae_run, tmp_path, monkeypatch):
    path = save_run(vae_run, tmp_path)
    before = (path / "run.json").read_text()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", crash)
    with pytest.raises(OSError, match="disk full"):
        save_run(vae_run, tmp_path, overwrite=True)
    assert (path / "run.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1"]  # no half-written folder is left behind
    with pytest.raises(FileExistsError, match="already exists"):
        save_run(vae_run, tmp_path)


def test_loading_refuses_a_model_that_would_run_code(vae_run, tmp_path):
    run_dir = save_run(vae_run, tmp_path)
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(run_dir / "model.keras")
    with pytest.raises(ValueError, match=r"holds a `Lambda` layer \(Python code\)"):
        load_run(run_dir)


def test_job_trains_in_the_background_and_stop_keeps_the_model(digits):
    job = TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        ModelConfig(latent_dim=8, hidden_units=(32,)),
        TrainConfig(epochs=500, batch_size=16, learning_rate=1e-2),  # one epoch reaches 0.034; the mean image 0.074
    )
    job.start()
    while job.snapshot().epochs_completed < 1:
        assert job.snapshot().status == "running"
        job.join(0.05)
    job.stop()
    assert job.join(30)
    snapshot = job.snapshot()
    assert snapshot.status == STOPPED and "Stopped after" in snapshot.message
    assert snapshot.run is not None and snapshot.run.result.epochs_completed == snapshot.epochs_completed >= 1
    assert snapshot.run.metrics["val_mse"] < 0.7 * mean_image_mse(digits), "the kept model is the trained one"


def test_job_refuses_impossible_settings_before_starting(digits):
    with pytest.raises(ValueError, match="latent_dim must be an integer between 2 and 256; got 1."):
        TrainingJob(
            digits.x_train, digits.x_val, "digits", ModelConfig(latent_dim=1), TrainConfig(epochs=1, batch_size=32)
        )


def test_job_reports_done(digits):
    job = TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        ModelConfig(latent_dim=8, hidden_units=(32,)),
        TrainConfig(epochs=2, batch_size=128),
    ).start()
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == DONE and snapshot.epochs_completed == 2
    assert snapshot.preview_reconstructions.shape == snapshot.preview_images.shape


def test_two_jobs_at_once_stay_independent_and_reproducible(digits):
    settings = (
        digits.x_train,
        digits.x_val,
        "digits",
        ModelConfig(latent_dim=8, hidden_units=(64,)),
        TrainConfig(epochs=3, batch_size=64),
    )
    jobs = [TrainingJob(*settings).start() for _ in range(2)]
    assert all(job.join(120) for job in jobs)
    first, second = (job.snapshot() for job in jobs)
    assert first.status == second.status == DONE
    assert first.history == second.history  # same seed, same losses, even when built and trained side by side
    assert first.run.model is not second.run.model


def test_run_id_split_and_excluded_class_survive_saving(digits, tmp_path):
    x_train = training_images(digits.x_train, digits.y_train, digits.class_names, 3)
    assert len(x_train) == int(np.sum(digits.y_train != 3)) < digits.n_train
    train_config = TrainConfig(epochs=1, batch_size=64, map_sample_size=50)
    run = train_run(
        x_train,
        digits.x_val,
        "digits",
        SMALL_VAE,
        train_config,
        name="r",
        split=digits.split.to_dict(),
        excluded_class=3,
    )
    loaded = load_run(save_run(run, tmp_path))
    assert len(run.id) == 32 and loaded.id == run.id
    assert loaded.split == digits.split.to_dict() and loaded.excluded_class == 3
    assert loaded.result.map_codes.shape == (1, 50, SMALL_VAE.latent_dim)
    np.testing.assert_array_equal(loaded.result.map_codes, run.result.map_codes)
    other = train_run(x_train, digits.x_val, "digits", SMALL_VAE, TrainConfig(epochs=1, batch_size=64))
    assert other.id != run.id


@pytest.mark.parametrize("excluded_class", [10, -1, True])
def test_excluding_a_class_that_does_not_exist_is_refused(digits, excluded_class):
    with pytest.raises(ValueError, match=r"^excluded_class must be an integer between 0 and 9; got "):
        training_images(digits.x_train, digits.y_train, digits.class_names, excluded_class)
    with pytest.raises(ValueError, match="needs labeled images"):
        training_images(digits.x_train, None, (), 0)


def test_a_run_is_named_by_its_folder_not_by_its_run_json(vae_run, tmp_path):
    folder = save_run(vae_run, tmp_path)
    summary = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**summary, "name": "../../etc"}))
    assert load_run(folder).name == "v1"
    assert [run["name"] for run in list_runs(tmp_path).runs] == ["v1"]


def test_check_run_name_refuses_before_any_training(vae_run, tmp_path):
    save_run(vae_run, tmp_path)
    assert check_run_name(tmp_path, "new run") == "new-run"
    with pytest.raises(FileExistsError, match="'v1' already exists"):
        check_run_name(tmp_path, "v1")
    assert check_run_name(tmp_path, "v1", overwrite=True) == "v1"
    with pytest.raises(ValueError, match="at least one letter or digit"):
        check_run_name(tmp_path, "...")


def test_two_saves_of_one_name_at_once_give_one_run_and_one_refusal(vae_run, tmp_path):
    for attempt in range(4):
        runs = [replace(vae_run, name=f"race{attempt}", id=f"{side}{attempt}") for side in ("a", "b")]
        barrier, outcomes = threading.Barrier(2), {}

        def save(run, barrier, outcomes):
            barrier.wait()
            try:
                outcomes[run.id] = save_run(run, tmp_path)
            except FileExistsError as error:
                outcomes[run.id] = error

        threads = [threading.Thread(target=save, args=(run, barrier, outcomes)) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        errors = [outcome for outcome in outcomes.values() if isinstance(outcome, FileExistsError)]
        assert len(outcomes) == 2 and len(errors) == 1
        winner = next(run_id for run_id, outcome in outcomes.items() if not isinstance(outcome, FileExistsError))
        assert load_run(tmp_path / f"race{attempt}").id == winner
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"race{attempt}" for attempt in range(4)]


SAVE_LOOP = """
import sys
from dataclasses import replace
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.data import load_dataset
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run

digits = load_dataset("digits")
run = train_run(digits.x_train[:200], digits.x_val[:50], "digits", ModelConfig(latent_dim=4, hidden_units=(8,)),
                TrainConfig(epochs=1, batch_size=100))
print("ready", flush=True)
for attempt in range(10_000):
    save_run(replace(run, name=f"r{attempt % 3}"), sys.argv[1], overwrite=True)
"""


KILLED_SAVES = int(os.environ.get("AE_KILLED_SAVES", "3"))  # docs/reliability.md records a run of 20


def test_saves_killed_at_random_points_lose_no_run(tmp_path):
    """A process saving runs in a loop (overwriting r0, r1, r2 in turn) is killed at random moments: every run that
    was saved before a kill is still listed and loads after the clean-up, and nothing is listed twice or hidden."""
    rng, saved = np.random.default_rng(0), set()
    for _ in range(KILLED_SAVES):
        saver = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        assert saver.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.2, 1.5))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        listing = list_runs(tmp_path)
        names = [run["name"] for run in listing.runs]
        assert not listing.skipped and len(names) == len(set(names)) and set(names) <= {"r0", "r1", "r2"}
        clean_staging(tmp_path)
        assert not [path.name for path in tmp_path.iterdir() if path.name.startswith(".")]
        names = [run["name"] for run in list_runs(tmp_path).runs]
        assert saved <= set(names), "a run saved before the kill was lost"
        for name in names:
            assert load_run(tmp_path / name).dataset_name == "digits"
        saved = set(names)


def test_clean_staging_spares_live_saves_and_puts_back_a_moved_aside_run(vae_run, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    live = tmp_path / f".v2.saving-{os.getpid()}-0a1b"
    dead = tmp_path / f".v2.saving-{dead_pid}-0a1b"
    for folder in (live, dead):
        folder.mkdir()
    moved_aside = save_run(vae_run, tmp_path).rename(tmp_path / f".v1.replaced-{dead_pid}-0c1d")
    assert clean_staging(tmp_path) == [dead.name]
    assert live.is_dir() and not dead.exists() and not moved_aside.exists()
    assert load_run(tmp_path / "v1").id == vae_run.id
    assert [run["name"] for run in list_runs(tmp_path).runs] == ["v1"]  # the live staging folder is not listed


@pytest.mark.parametrize(
    "name", ["../outside", "..", ".", "", "v1/..", "/tmp", "v1/model.keras", ".v1.saving-1-ab", "..\\outside"]
)
def test_delete_refuses_anything_but_a_plain_run_folder_of_the_runs_folder(vae_run, tmp_path, name):
    runs_dir, outside = tmp_path / "runs", tmp_path / "outside"
    save_run(vae_run, runs_dir)
    save_run(vae_run, tmp_path, overwrite=True)  # a run beside the runs folder, which "../" would reach
    outside.mkdir()
    with pytest.raises(ValueError, match="not a plain folder name"):
        delete_run(runs_dir, name)
    assert (runs_dir / "v1" / "model.keras").is_file() and (tmp_path / "v1" / "run.json").is_file()
    assert outside.is_dir()


def test_delete_removes_the_run_whole_and_refuses_a_link_or_a_missing_run(vae_run, tmp_path):
    runs_dir = tmp_path / "runs"
    elsewhere = save_run(vae_run, tmp_path / "elsewhere")
    (runs_dir / "link").parent.mkdir()
    (runs_dir / "link").symlink_to(elsewhere, target_is_directory=True)
    save_run(replace(vae_run, name="v2"), runs_dir)
    with pytest.raises(ValueError, match="is a link"):
        delete_run(runs_dir, "link")
    assert (elsewhere / "run.json").is_file()
    delete_run(runs_dir, "v2")
    assert sorted(path.name for path in runs_dir.iterdir()) == ["link"], "no staging folder is left behind"
    listing = list_runs(runs_dir)
    assert listing.runs == [] and listing.skipped[0].startswith("link: link is a link, not a run folder saved here")
    with pytest.raises(FileNotFoundError, match="no saved run named 'v2'"):
        delete_run(runs_dir, "v2")


def test_a_delete_killed_midway_is_finished_by_clean_staging(vae_run, tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    retired = save_run(vae_run, tmp_path).rename(tmp_path / f".v1.deleting-{int(finished.stdout)}-0a1b")
    assert list_runs(tmp_path).runs == [], "a run being deleted is no longer listed"
    assert clean_staging(tmp_path) == [retired.name]
    assert list(tmp_path.iterdir()) == [], "a killed delete is finished, never undone"


def _break_json(folder):
    (folder / "run.json").write_text('{"name": "broken", ')


def _edit_summary(**changes):
    def edit(folder):
        summary = json.loads((folder / "run.json").read_text())
        summary.update(changes)
        for key in [key for key, value in changes.items() if value is _REMOVE]:
            del summary[key]
        (folder / "run.json").write_text(json.dumps(summary))

    return edit


_REMOVE = object()


def _invalid_utf8(folder):
    text = (folder / "run.json").read_bytes()
    (folder / "run.json").write_bytes(text.replace(b'"digits"', b'"dig\xff\xfeits"'))


def _lone_surrogate(folder):
    text = (folder / "run.json").read_text()
    (folder / "run.json").write_text(text.replace('"dataset": "digits"', '"dataset": "dig\\udc80its"'))


def _nest_deeply(folder):
    (folder / "run.json").write_text("[" * 100_000 + "]" * 100_000)


def _no_model(folder):
    (folder / "model.keras").unlink()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_break_json, "run.json is not valid JSON (Expecting property name enclosed in double quotes at line 1)"),
        (_edit_summary(metrics=_REMOVE), "run.json has no metrics; it must be an object of metric names to numbers."),
        (_edit_summary(colour="red"), "run.json has unknown settings ['colour']; expected only ['batch_losses', "),
        (_edit_summary(epochs_completed="2"), "run.json: epochs_completed must be an integer of at least 0; got '2'."),
        (_edit_summary(stopped=1), "run.json: stopped must be true or false; got 1."),
        (_edit_summary(history={"loss": [0.1, "x"]}), "run.json: history must be an object of metric names to lists"),
        (_edit_summary(batch_losses=[[1, 0.5, 2]]), "run.json: batch_losses must be a list of [epoch, loss] pairs"),
        (_edit_summary(model_config={"preset": "vae", "wings": 2}), "run.json: model_config has unknown settings"),
        (_edit_summary(train_config={"epochs": 0, "batch_size": 32}), "run.json: train_config: epochs must be an"),
        (_edit_summary(split={"kind": "random"}), "run.json: split: kind must be one of test_set, positional, seeded"),
        (_edit_summary(excluded_class=True), "run.json: excluded_class must be null or an integer between 0 and 999"),
        (_invalid_utf8, "run.json is not valid UTF-8 text (invalid start byte at byte "),
        (
            _lone_surrogate,
            "run.json: dataset must be valid UTF-8 text of at most 4,096 characters; got 'dig\\udc80its'.",
        ),
        (_no_model, "damaged/model.keras is missing."),
        (
            _edit_summary(divergence={"epoch": 1}),
            "run.json: divergence must be null or an object of epoch, batch and loss",
        ),
        (_nest_deeply, "run.json nests its values too deeply to be a saved run."),
    ],
)
def test_listing_skips_a_malformed_run_and_says_why(vae_run, tmp_path, damage, reason):
    save_run(vae_run, tmp_path)
    damage(save_run(replace(vae_run, name="damaged"), tmp_path))
    (tmp_path / "notes.txt").write_text("not a run")
    listing = list_runs(tmp_path)
    assert [run["name"] for run in listing.runs] == ["v1"]
    assert len(listing.skipped) == 1 and listing.skipped[0].startswith(f"damaged: {reason}")
