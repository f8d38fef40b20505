"""A run's notebook, written by the command line and the Reconstructions page, run top to bottom with nbclient."""

import base64
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from PIL import Image

from ae_core.data import load_dataset
from ae_core.figures.images import comparison_image, enlarge, image_grid
from ae_core.latent.maps import default_run_map
from ae_core.runs.context import RunContext, dataset_for
from ae_core.runs.notebook import GRID_SIDE, WORST_SHOWN
from ae_core.runs.run import train_run
from ae_core.runs.saving import save_run
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from pages.shared import keys
from tests.test_page_generate import _two_epochs
from tests.test_pages import app

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PAGE = "pages/reconstructions.py"
PLOTLY = "application/vnd.plotly.v1+json"


@pytest.fixture(scope="module")
def digits_run():
    """Trained on a split of its own (not the default one), which the notebook must find in run.json."""
    return _two_epochs(load_dataset("digits", val_fraction=0.25, seed=7), "dense", 8, "digits-notebook")


@pytest.fixture(scope="module")
def vae_run(digits):
    """A VAE with a code of 2 numbers: sampled from N(0, I), and mapped as it is."""
    return _two_epochs(digits, "vae", 2, "vae-notebook")


@pytest.fixture(scope="module")
def saved_digits_run(digits_run, tmp_path_factory) -> Path:
    return save_run(digits_run, tmp_path_factory.mktemp("runs"))


def write_notebook(run_dir: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ae_core", "notebook", str(run_dir), "--out", str(out), *options],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def execute(path: Path, folder: Path, monkeypatch) -> nbformat.NotebookNode:
    """The notebook at ``path`` run top to bottom in ``folder``, outside the project and without PYTHONPATH, so only
    its own first cell can make ae_core importable. The kernel "python3" is started with this interpreter (the
    venv's): jupyter_client replaces the kernel spec's "python" with sys.executable."""
    monkeypatch.delenv("PYTHONPATH", raising=False)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return notebook


def cell(notebook, tag: str):
    found = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(found) == 1, f"expected one cell tagged {tag!r}, found {len(found)}"
    return found[0]


def printed(notebook, tag: str) -> str:
    return "".join(output.text for output in cell(notebook, tag).outputs if output.output_type == "stream")


def number_after(text: str, label: str) -> float:
    found = re.search(re.escape(label) + r"\s*([0-9.]+)", text)
    assert found, f"{label!r} not in {text!r}"
    return float(found.group(1))


def picture(notebook, tag: str) -> np.ndarray:
    """The pixels of the one PNG the cell tagged ``tag`` showed."""
    pngs = [output.data["image/png"] for output in cell(notebook, tag).outputs if "image/png" in output.get("data", {})]
    assert len(pngs) == 1, f"expected one PNG from {tag!r}, found {len(pngs)}"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(pngs[0]))))


def plotly_figure(notebook, tag: str) -> dict:
    figures = [output.data[PLOTLY] for output in cell(notebook, tag).outputs if PLOTLY in output.get("data", {})]
    assert len(figures) == 1, f"expected one Plotly figure from {tag!r}, found {len(figures)}"
    return figures[0]


def values(array) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array {"dtype": ..., "bdata": base64}."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"])
    return np.asarray(array)


def measured_val_mse(notebook) -> float:
    return number_after(printed(notebook, "validation-mse"), "validation MSE, measured now:")


@pytest.mark.parametrize("trained", ["digits_run", "vae_run"])
def test_the_notebook_measures_the_runs_validation_mse_and_draws_its_figures(trained, request, tmp_path, monkeypatch):
    run = request.getfixturevalue(trained)
    digits = dataset_for(run)
    saved = save_run(run, tmp_path / "runs")
    out = tmp_path / "digits.ipynb"
    written = write_notebook(saved, out)
    assert written.returncode == 0, written.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    notebook = execute(out, elsewhere, monkeypatch)

    metrics = json.loads((saved / "run.json").read_text())["metrics"]
    assert measured_val_mse(notebook) == pytest.approx(metrics["val_mse"], abs=1e-6)
    assert f"{digits.n_train:,} training images, {digits.n_val:,} validation images" in printed(notebook, "split")
    pca_text = printed(notebook, "pca-baseline")
    assert number_after(pca_text, "validation MSE:") == pytest.approx(metrics["pca_val_mse"], abs=1e-6)
    assert f"PCA-{run.model_config.latent_dim}" in pca_text, "the verdict names PCA at the code's size"

    shown = picture(notebook, "reconstruction-grid")
    two_rows = comparison_image(digits.x_val[:WORST_SHOWN], digits.x_val[:WORST_SHOWN])
    assert shown.shape == two_rows.shape, "originals above reconstructions, worst first"
    grid = enlarge(image_grid(digits.x_val[: GRID_SIDE**2], GRID_SIDE, GRID_SIDE), 8)
    assert picture(notebook, "generated-grid").shape == grid.shape
    latent_map = plotly_figure(notebook, "latent-map")
    assert sorted(trace["name"] for trace in latent_map["data"]) == sorted(digits.class_names), "one trace per class"
    drawn_x = np.sort(np.concatenate([values(trace["x"]) for trace in latent_map["data"]]))
    expected = default_run_map(RunContext(run, digits)).projection.coords
    np.testing.assert_allclose(drawn_x, np.sort(expected[:, 0]), atol=1e-5)
    loss_curve = plotly_figure(notebook, "loss-curve")
    batches = values(loss_curve["data"][0]["y"])
    np.testing.assert_allclose(batches, [loss for _, loss in run.result.batch_losses], rtol=1e-6)


def test_the_notebook_of_an_mnist_run_reads_mnist_from_the_data_dir_it_names(shared_data_dir, tmp_path, monkeypatch):
    mnist = load_dataset("mnist", data_dir=shared_data_dir, allow_download=False)
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))
    run = train_run(
        mnist.x_train,
        mnist.x_val,
        "mnist",
        config,
        TrainConfig(epochs=1, batch_size=256),
        name="mnist-notebook",
        split=mnist.split.to_dict(),
    )
    saved = save_run(run, tmp_path / "runs")
    out = tmp_path / "mnist.ipynb"
    written = write_notebook(saved, out, "--data-dir", str(shared_data_dir))
    assert written.returncode == 0, written.stderr
    monkeypatch.delenv("AE_DATA_DIR")  # the notebook finds MNIST through the folder it names, nothing else
    notebook = execute(out, tmp_path, monkeypatch)
    assert measured_val_mse(notebook) == pytest.approx(run.metrics["val_mse"], abs=1e-6)
    assert f"{mnist.n_train:,} training images, {mnist.n_val:,} validation images of 28x28" in printed(
        notebook, "split"
    )


@pytest.mark.parametrize(
    ("out", "message"),
    [("run.txt", "--out must name a .ipynb file"), ("missing/run.ipynb", "does not exist; create it")],
)
def test_a_bad_out_is_refused_with_what_to_do(saved_digits_run, tmp_path, out, message):
    written = write_notebook(saved_digits_run, tmp_path / out)
    assert written.returncode == 2 and message in written.stderr
    assert not (tmp_path / out).exists()


def test_a_folder_that_is_no_run_is_refused(tmp_path):
    written = write_notebook(tmp_path, tmp_path / "run.ipynb")
    assert written.returncode == 2 and "is not a saved run" in written.stderr
    assert not (tmp_path / "run.ipynb").exists()


def download_buttons(at) -> list:
    return [element for element in at.get("download_button") if element.proto.label == "Download notebook"]


def test_the_page_downloads_a_valid_notebook_of_a_saved_run(digits_run, tmp_path, media):
    at = app(PAGE, **{keys.RUNS: {digits_run.name: digits_run}})
    assert not download_buttons(at), "an unsaved run has no notebook"
    assert any(caption.value.startswith("Save this run (Train page)") for caption in at.caption)

    saved = save_run(digits_run, tmp_path / "runs")  # AE_RUNS_DIR, the shared runs folder (tests/conftest.py)
    at.run()
    assert not at.exception
    buttons = download_buttons(at)
    assert len(buttons) == 1
    data = media[buttons[0].proto.url.rsplit("/", 1)[-1].split(".")[0]]
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert f"RUN_DIR = Path({str(saved.resolve())!r})" in cell(notebook, "setup").source
