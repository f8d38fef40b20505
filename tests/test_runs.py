import json

import numpy as np
import pytest

from ae_core.backend import keras
from ae_core.config import ModelConfig, TrainConfig
from ae_core.jobs import DONE, STOPPED, TrainingJob
from ae_core.models import reconstruct
from ae_core.runs import list_runs, load_run, sanitize_run_name, save_run, train_run

SMALL_VAE = ModelConfig(preset="vae", latent_dim=4, hidden_units=(32,))


@pytest.fixture(scope="module")
def vae_run(digits):
    return train_run(digits.x_train, digits.x_val, "digits", SMALL_VAE, TrainConfig(epochs=2, batch_size=64), name="v1")


def test_run_records_metrics_against_pca(vae_run, digits):
    assert vae_run.metrics["pca_components"] == 4
    assert 0 < vae_run.metrics["val_mse"] < 1 and 0 < vae_run.metrics["pca_val_mse"] < 1
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
    with pytest.raises(ValueError, match="safe_mode"):
        load_run(run_dir)


def test_job_trains_in_the_background_and_stop_keeps_the_model(digits):
    job = TrainingJob(digits.x_train, digits.x_val, "digits", ModelConfig(latent_dim=8, hidden_units=(32,)),
                      TrainConfig(epochs=500, batch_size=32))  # fmt: skip
    job.start()
    while job.snapshot().epochs_completed < 1:
        assert job.snapshot().status == "running"
        job.join(0.05)
    job.stop()
    assert job.join(30)
    snapshot = job.snapshot()
    assert snapshot.status == STOPPED and "Stopped after" in snapshot.message
    assert snapshot.run is not None and snapshot.run.result.epochs_completed == snapshot.epochs_completed >= 1
    assert snapshot.run.metrics["val_mse"] < 0.2


def test_job_refuses_impossible_settings_before_starting(digits):
    with pytest.raises(ValueError, match="latent_dim must be an integer between 2 and 256; got 1."):
        TrainingJob(digits.x_train, digits.x_val, "digits", ModelConfig(latent_dim=1), TrainConfig(epochs=1, batch_size=32))


def test_job_reports_done(digits):
    job = TrainingJob(digits.x_train, digits.x_val, "digits", ModelConfig(latent_dim=8, hidden_units=(32,)),
                      TrainConfig(epochs=2, batch_size=128)).start()  # fmt: skip
    assert job.join(120)
    snapshot = job.snapshot()
    assert snapshot.status == DONE and snapshot.epochs_completed == 2
    assert snapshot.preview_reconstructions.shape == snapshot.preview_images.shape


def test_two_jobs_at_once_stay_independent_and_reproducible(digits):
    settings = (digits.x_train, digits.x_val, "digits", ModelConfig(latent_dim=8, hidden_units=(64,)),
                TrainConfig(epochs=3, batch_size=64))  # fmt: skip
    jobs = [TrainingJob(*settings).start() for _ in range(2)]
    assert all(job.join(120) for job in jobs)
    first, second = (job.snapshot() for job in jobs)
    assert first.status == second.status == DONE
    assert first.history == second.history  # same seed, same losses, even when built and trained side by side
    assert first.run.model is not second.run.model
