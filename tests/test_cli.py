import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from ae_core.data import load_dataset
from ae_core.settings.recommended import recommended_settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_cli(*arguments, data_dir):
    return subprocess.run(
        [sys.executable, "-m", "ae_core", *arguments, "--data-dir", str(data_dir)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_datasets_lists_each_with_its_availability(shared_data_dir):
    listing = run_cli("datasets", "--json", data_dir=shared_data_dir)
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)["datasets"]}
    assert rows["digits"]["available"] and rows["digits"]["shape"] == [8, 8, 1]
    assert rows["mnist"]["available"]
    assert not rows["fashion_mnist"]["available"] and "t10k-images-idx3-ubyte" in rows["fashion_mnist"]["where"]


@pytest.fixture(scope="module")
def default_digits_run(shared_data_dir, tmp_path_factory):
    """The default digits run, every setting from recommended_settings except the training seed."""
    out = tmp_path_factory.mktemp("runs") / "digits-default"
    trained = run_cli(
        "train", "--dataset", "digits", "--seed", "3", "--out", str(out), "--json", data_dir=shared_data_dir
    )
    assert trained.returncode == 0, trained.stderr
    return out, json.loads(trained.stdout)


def test_the_default_digits_run_beats_pca_by_a_margin(default_digits_run, digits):
    _, report = default_digits_run
    model_config, train_config = recommended_settings("digits", digits.image_shape)
    assert report["model"] == model_config.preset and report["latent_dim"] == model_config.latent_dim == 8
    assert report["epochs"] == train_config.epochs and report["batch_size"] == train_config.batch_size
    assert report["val_mse"] <= 0.7 * report["pca_val_mse"]


def test_evaluate_scores_the_run_on_its_own_validation_images(default_digits_run, shared_data_dir):
    out, report = default_digits_run
    assert report["seed"] == 3 and report["split"] == load_dataset("digits").split.to_dict()
    evaluated = run_cli("evaluate", str(out), "--json", data_dir=shared_data_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["val_mse"] == pytest.approx(report["val_mse"], abs=1e-6)
    assert json.loads(evaluated.stdout)["id"] == report["id"]


def test_evaluate_refuses_a_run_whose_data_has_changed(default_digits_run, shared_data_dir, tmp_path):
    out, _ = default_digits_run
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    summary = json.loads((moved / "run.json").read_text())
    summary["split"]["n_val"] += 1
    (moved / "run.json").write_text(json.dumps(summary))
    evaluated = run_cli("evaluate", str(moved), data_dir=shared_data_dir)
    assert evaluated.returncode == 2 and "validation images of digits, but it now gives" in evaluated.stderr


@pytest.mark.parametrize(("out", "message"), [("taken", "'taken' already exists"), ("...", "at least one letter")])
def test_a_bad_run_name_is_refused_before_any_training(shared_data_dir, tmp_path, out, message):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "run.json").write_text("{}")
    result = run_cli("train", "--dataset", "digits", "--out", str(tmp_path / out), data_dir=shared_data_dir)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert "epoch 1" not in result.stderr  # the progress bar never started
    assert sorted(path.name for path in tmp_path.iterdir()) == ["taken"]
    assert (tmp_path / "taken" / "run.json").read_text() == "{}"


def test_exclude_class_leaves_it_out_of_training_only(shared_data_dir, digits, tmp_path):
    out = tmp_path / "without-3"
    trained = run_cli(
        "train",
        "--dataset",
        "digits",
        "--model",
        "dense",
        "--epochs",
        "1",
        "--exclude-class",
        "3",
        "--out",
        str(out),
        "--json",
        data_dir=shared_data_dir,
    )
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["samples"] == int(np.sum(digits.y_train != 3)) < digits.n_train
    assert report["excluded_class"] == 3 and json.loads((out / "run.json").read_text())["excluded_class"] == 3
    assert report["split"]["n_val"] == digits.n_val  # validation keeps every class

    refused = run_cli("train", "--dataset", "digits", "--exclude-class", "10", data_dir=shared_data_dir)
    assert refused.returncode == 2 and "between 0 and 9; got 10." in refused.stderr  # the classes of digits
    unlabeled = tmp_path / "unlabeled.npz"
    np.savez(unlabeled, images=digits.x_train[:40, ..., 0])
    refused = run_cli("train", "--dataset", str(unlabeled), "--exclude-class", "0", data_dir=shared_data_dir)
    assert refused.returncode == 2 and "needs labeled images" in refused.stderr


def test_a_small_image_set_trains_in_one_batch_by_default(shared_data_dir, digits, tmp_path):
    images = tmp_path / "forty.npz"
    np.savez(images, images=digits.x_train[:40, ..., 0])  # 32 training images, fewer than the batch of 64
    trained = run_cli(
        "train",
        "--dataset",
        str(images),
        "--epochs",
        "1",
        "--out",
        str(tmp_path / "run"),
        "--json",
        data_dir=shared_data_dir,
    )
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert report["batch_size"] == report["split"]["n_train"] == report["samples"] == 32


def test_train_then_evaluate_gives_the_same_metrics(shared_data_dir, digits, tmp_path):
    out = tmp_path / "runs" / "digits-dense"
    trained = run_cli(
        "train",
        "--dataset",
        "digits",
        "--model",
        "dense",
        "--epochs",
        "2",
        "--batch-size",
        "64",
        "--out",
        str(out),
        "--json",
        data_dir=shared_data_dir,
    )
    assert trained.returncode == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert {"val_mse", "pca_val_mse", "seconds_per_epoch", "epochs", "samples"} <= set(report)
    assert report["epochs"] == 2 and report["samples"] == 2 * digits.n_train
    assert report["pca_components"] == 8  # no --latent-dim: 8x8 digits get the recommended code of 8
    assert (out / "model.keras").is_file()
    assert "oneDNN" not in trained.stderr and "absl" not in trained.stderr  # TensorFlow's start-up lines are hidden
    assert "epoch 2/2" in trained.stderr  # the progress bar

    evaluated = run_cli("evaluate", str(out), "--json", data_dir=shared_data_dir)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["val_mse"] == pytest.approx(report["val_mse"], rel=1e-5)


def test_train_through_a_local_worker_gives_the_run_training_here_gives(shared_data_dir, tmp_path):
    reports = {}
    for where in ("here", "local"):
        executor = () if where == "here" else ("--executor", where)
        options = ("--model", "dense", "--epochs", "2", "--batch-size", "64", "--json", *executor)
        trained = run_cli(
            "train", "--dataset", "digits", *options, "--out", str(tmp_path / where), data_dir=shared_data_dir
        )
        assert trained.returncode == 0, trained.stderr
        assert "epoch 2/2" in trained.stderr  # the progress bar follows the worker
        reports[where] = json.loads(trained.stdout)
    assert reports["local"]["epochs"] == 2 and (tmp_path / "local" / "model.keras").is_file()
    assert reports["local"]["val_mse"] == pytest.approx(reports["here"]["val_mse"], rel=1e-4), (
        "the same engine and seed"
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("train", "--dataset", "nope"), "'nope' is neither a built-in dataset"),
        (("train", "--dataset", "digits", "--latent-dim", "0"), "latent_dim must be an integer between 2 and 256"),
        (("train", "--dataset", "digits", "--model", "huge"), "invalid choice: 'huge'"),
        (("train", "--dataset", "digits", "--hidden-units", "64,x"), "--hidden-units must be whole numbers"),
        (("evaluate", "no/such/run"), "is not a saved run"),
    ],
)
def test_user_errors_exit_non_zero_with_one_line_and_no_traceback(shared_data_dir, arguments, message):
    result = run_cli(*arguments, data_dir=shared_data_dir)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("error") or "error:" in line]) == 1


def _dense_digits(out, *options) -> tuple[str, ...]:
    return ("train", "--dataset", "digits", "--model", "dense", "--out", str(out), "--json", *options)


def test_overwrite_replaces_a_run_and_without_it_the_first_run_is_untouched(shared_data_dir, tmp_path):
    out = tmp_path / "runs" / "same-name"
    first = run_cli(*_dense_digits(out, "--epochs", "1"), data_dir=shared_data_dir)
    assert first.returncode == 0, first.stderr
    saved = {path.name: path.read_bytes() for path in out.iterdir()}
    assert set(saved) == {"model.keras", "run.json", "preview.npz"}

    refused = run_cli(*_dense_digits(out, "--epochs", "2"), data_dir=shared_data_dir)
    assert refused.returncode == 2 and refused.stderr.startswith("error: A run named 'same-name' already exists")
    assert "epoch 1" not in refused.stderr, "refused before training"
    assert {path.name: path.read_bytes() for path in out.iterdir()} == saved
    assert sorted(path.name for path in out.parent.iterdir()) == ["same-name"]

    replaced = run_cli(*_dense_digits(out, "--epochs", "2", "--overwrite"), data_dir=shared_data_dir)
    assert replaced.returncode == 0, replaced.stderr
    summary = json.loads((out / "run.json").read_text())
    assert summary["epochs_completed"] == 2 and summary["id"] == json.loads(replaced.stdout)["id"]
    assert summary["id"] != json.loads(first.stdout)["id"]
    assert sorted(path.name for path in out.parent.iterdir()) == ["same-name"], "no staging folder left behind"


def test_train_without_out_saves_in_the_runs_folder_of_the_environment(shared_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("AE_RUNS_DIR", str(tmp_path / "shared-runs"))
    trained = run_cli("train", "--dataset", "digits", "--model", "dense", "--epochs", "1", data_dir=shared_data_dir)
    assert trained.returncode == 0, trained.stderr
    (run,) = (tmp_path / "shared-runs").iterdir()
    assert run.name.startswith("dense-digits-") and (run / "run.json").is_file()


def _read_into(stream, chunks: list) -> None:
    """Collect what ``stream`` gives, chunk by chunk: the progress bar rewrites its line without a newline."""
    while chunk := stream.read1(4096):
        chunks.append(chunk.decode(errors="replace"))


def test_ctrl_c_stops_training_soon_and_saves_the_run_so_far(shared_data_dir, tmp_path):
    out = tmp_path / "interrupted"
    command = [
        sys.executable,
        "-m",
        "ae_core",
        *_dense_digits(out, "--epochs", "500"),
        "--data-dir",
        str(shared_data_dir),
    ]
    training = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    progress: list[str] = []
    reader = threading.Thread(target=_read_into, args=(training.stderr, progress), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    while "epoch 3/500" not in "".join(progress) and training.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "epoch 3/500" in "".join(progress), "".join(progress)[-2000:]
    training.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    stdout, _ = training.communicate(timeout=120)
    seconds_to_exit = time.monotonic() - interrupted
    reader.join(10)
    assert training.returncode == 0, "".join(progress)[-2000:]
    assert seconds_to_exit < 30, f"{seconds_to_exit:.1f} s from Ctrl-C to exit"
    report = json.loads(stdout)
    assert report["stopped"] and 2 <= report["epochs"] < 500
    summary = json.loads((out / "run.json").read_text())
    assert summary["stopped"] and summary["epochs_completed"] == report["epochs"]
    assert len(summary["history"]["val_loss"]) == report["epochs"] and (out / "model.keras").is_file()
    assert "Traceback" not in "".join(progress) and "KeyboardInterrupt" not in "".join(progress)
