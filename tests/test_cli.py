import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def run_cli(*arguments, data_dir):
    return subprocess.run(
        [sys.executable, "-m", "ae_core", *arguments, "--data-dir", str(data_dir)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_datasets_lists_each_with_its_availability(shared_data_dir):
    listing = run_cli("datasets", "--json", data_dir=shared_data_dir)
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)["datasets"]}
    assert rows["digits"]["available"] and rows["digits"]["shape"] == [8, 8, 1]
    assert rows["mnist"]["available"]
    assert not rows["fashion_mnist"]["available"] and "t10k-images-idx3-ubyte" in rows["fashion_mnist"]["where"]


def test_train_then_evaluate_gives_the_same_metrics(shared_data_dir, digits, tmp_path):
    out = tmp_path / "runs" / "digits-dense"
    trained = run_cli("train", "--dataset", "digits", "--model", "dense", "--epochs", "2", "--batch-size", "64",
                      "--out", str(out), "--json", data_dir=shared_data_dir)  # fmt: skip
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
