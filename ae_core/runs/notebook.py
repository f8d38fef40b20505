"""A saved run's Jupyter notebook: it reopens the run with ``ae_core`` and measures its numbers and draws its main
figures again, each step explained for a newcomer to machine learning.

The notebook is only written here, never run: its cells call the library's own functions and figures, so it shows
what the app shows. Its first code cell names the project folder, the run folder and the data folder, so it runs
from any working directory; a reader who moves them changes those three lines.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ae_core import user_text
from ae_core.data import DATASETS
from ae_core.runs.notebook_text import (
    GENERATE_FITTED,
    GENERATE_VAE,
    INTRODUCTION,
    LATENT_MAP,
    LOAD,
    LOSS_CURVE,
    NEXT,
    PCA,
    RECONSTRUCTIONS,
    SETUP,
    SPLIT,
    VALIDATION_MSE,
    WORST_SHOWN,
)
from ae_core.runs.summary import check_summary, read_run_summary
from ae_core.settings.model_config import PRESET_TITLES

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the folder holding ae_core/, which the notebook imports from
GRID_SIDE = 8  # the generated grid: GRID_SIDE x GRID_SIDE images, as the Generate page opens


def _python_path(path: str | os.PathLike | None) -> str:
    """A Python expression for ``path``, absolute, that reads back exactly whatever characters it holds."""
    return "None" if path is None else f"Path({str(Path(path).resolve())!r})"


def _setup_source(run_dir: Path, data_dir: str | os.PathLike | None, project_dir: Path) -> str:
    return f"""\
import sys
from pathlib import Path

PROJECT = {_python_path(project_dir)}
RUN_DIR = {_python_path(run_dir)}
DATA_DIR = {_python_path(data_dir)}

if not (PROJECT / "ae_core").is_dir():
    raise FileNotFoundError(f"{{PROJECT}} holds no ae_core folder; set PROJECT to the Autoencoder Lab folder.")
sys.path.insert(0, str(PROJECT))  # so that `import ae_core` finds the project's library"""


IMPORTS = """\
import numpy as np
from PIL import Image  # shows an image array as a picture

from ae_core.figures.images import comparison_image, enlarge, image_grid
from ae_core.figures.latent import latent_figure
from ae_core.figures.training import loss_figure
from ae_core.generation.report import generate_for_run
from ae_core.latent.maps import default_run_map
from ae_core.quality.ordering import order_by_error
from ae_core.quality.pca_baseline import pca_baseline, verdict
from ae_core.quality.scores import score_images
from ae_core.runs.context import RunContext, dataset_for
from ae_core.runs.loading import load_run
from ae_core.settings.model_config import PRESET_TITLES"""

LOAD_SOURCE = """\
run = load_run(RUN_DIR)
config = run.model_config
print(f"{run.name}: {PRESET_TITLES[config.preset]} model, a code of {config.latent_dim} numbers")
print(f"trained on {run.dataset_name} for {run.result.epochs_completed} epochs")
print("scores in run.json:", {name: round(value, 6) for name, value in run.metrics.items()})"""

SPLIT_SOURCE = """\
print("the split recorded in run.json:", run.split)
dataset = dataset_for(run, DATA_DIR)
context = RunContext(run, dataset)  # the run and its images together; keeps what it computes, such as the codes
x_train = context.trained_images()  # (n_train, height, width, channels), pixels from 0 to 1
x_val = dataset.x_val  # (n_val, height, width, channels)
print(f"{len(x_train):,} training images, {len(x_val):,} validation images of {x_val.shape[1]}x{x_val.shape[2]} pixels")
if run.excluded_class is not None:
    print(f"class {run.excluded_class} was left out of the training images; the validation images keep it")"""

VALIDATION_MSE_SOURCE = """\
reconstructions = context.reconstructions("validation")  # encoded, then decoded: same shape as x_val
scores = score_images(x_val, reconstructions)  # each image's MSE (scores.mse), and two scores the app shows too
val_mse = float(scores.mse.mean())
recorded = run.metrics["val_mse"]
print(f"validation MSE, measured now: {val_mse:.9f}")
print(f"validation MSE in run.json:   {recorded:.9f}")
if abs(val_mse - recorded) > 1e-6:
    raise ValueError("The validation MSE differs from run.json's: these are not the run's model or images.")"""

PCA_SOURCE = """\
pca = pca_baseline(x_train, x_val, config.latent_dim, seed=run.train_config.seed)
pca_mse = float(pca.scores.mse.mean())
print(f"PCA with {pca.n_components} numbers per image, validation MSE: {pca_mse:.6f}")
print(f"the same in run.json:                          {run.metrics['pca_val_mse']:.6f}")
print(verdict(val_mse, pca_mse, pca.n_components, config.preset))"""

LOSS_CURVE_SOURCE = "loss_figure(run.result.batch_losses, run.result.history)"

RECONSTRUCTIONS_SOURCE = f"""\
shown = order_by_error(scores.mse, "worst")[:{WORST_SHOWN}]  # the indices of the highest errors
print("their MSE:", np.round(scores.mse[shown], 4))
Image.fromarray(comparison_image(x_val[shown], reconstructions[shown]))"""

TWO_NUMBER_CODE = """
This run's code has only 2 numbers, so the map shows them as they are, with no PCA."""


def _latent_map_source(title: str) -> str:
    return f"""\
latent_map = default_run_map(context)  # the codes of up to 5,000 images, each mapped to 2 numbers
projection = latent_map.projection
print(f"{{len(projection.coords):,}} images mapped; trustworthiness {{projection.trustworthiness:.3f}}")
latent_figure(projection.coords, latent_map.labels, dataset.class_names, title="{title}")"""


def _generate_source(sampler: str) -> str:
    return f"""\
SAMPLER = "{sampler}"
# scored=False: the app also scores new images with a separate classifier, which would have to be trained first
generated = generate_for_run(context, SAMPLER, n={GRID_SIDE * GRID_SIDE}, seed=0, scored=False)
images = generated.generation.images  # ({GRID_SIDE * GRID_SIDE}, height, width, channels)
Image.fromarray(enlarge(image_grid(images, {GRID_SIDE}, {GRID_SIDE}), images.shape[1]))"""


def _code(source: str, tag: str | None = None):
    return new_code_cell(source, metadata={"tags": [tag]} if tag else {})


def _title(summary: dict) -> str:
    """The notebook's heading and one line on the run, its names shown as typed."""
    dataset, config = summary["dataset"], summary["model_config"]
    dataset_title = DATASETS[dataset].title if dataset in DATASETS else user_text.markdown(dataset)
    return (
        f"# What the run {user_text.markdown(summary['name'])} learned\n\n"
        f"The run: the {PRESET_TITLES[config['preset']]} preset on {dataset_title}, with a code of "
        f"{config['latent_dim']} numbers, trained for {summary['epochs_completed']} epochs."
    )


def _cells(summary: dict, run_dir: Path, data_dir: str | os.PathLike | None, project_dir: Path) -> list:
    """The notebook's cells, each step's explanation above its code."""
    is_vae = summary["model_config"]["preset"] == "vae"
    two_numbers = summary["model_config"]["latent_dim"] <= 2  # mapped as it is (ae_core.latent.projection)
    return [
        new_markdown_cell(_title(summary) + "\n\n" + INTRODUCTION),
        new_markdown_cell(SETUP),
        _code(_setup_source(run_dir, data_dir, project_dir), "setup"),
        _code(IMPORTS, "imports"),
        new_markdown_cell(LOAD),
        _code(LOAD_SOURCE, "load-run"),
        new_markdown_cell(SPLIT),
        _code(SPLIT_SOURCE, "split"),
        new_markdown_cell(VALIDATION_MSE),
        _code(VALIDATION_MSE_SOURCE, "validation-mse"),
        new_markdown_cell(PCA),
        _code(PCA_SOURCE, "pca-baseline"),
        new_markdown_cell(LOSS_CURVE),
        _code(LOSS_CURVE_SOURCE, "loss-curve"),
        new_markdown_cell(RECONSTRUCTIONS),
        _code(RECONSTRUCTIONS_SOURCE, "reconstruction-grid"),
        new_markdown_cell(LATENT_MAP + (TWO_NUMBER_CODE if two_numbers else "")),
        _code(_latent_map_source("The codes" if two_numbers else "PCA map of the codes"), "latent-map"),
        new_markdown_cell(GENERATE_VAE if is_vae else GENERATE_FITTED),
        _code(_generate_source("normal" if is_vae else "gaussian"), "generated-grid"),
        new_markdown_cell(NEXT),
    ]


def run_notebook(
    run_dir: str | os.PathLike, data_dir: str | os.PathLike | None = None, project_dir: str | os.PathLike = PROJECT_DIR
) -> str:
    """The notebook of the run saved in ``run_dir``, as .ipynb JSON text checked against the notebook format:
    markdown cells that explain, code cells that reopen the run with ``ae_core`` and measure and draw again.

    data_dir : where the notebook looks for MNIST and Fashion-MNIST (None: ``AE_DATA_DIR`` or Keras's cache where it
    runs). project_dir : the folder holding ``ae_core``, which the notebook imports from. FileNotFoundError or
    ValueError when ``run_dir`` is not a readable run. Each code cell carries a tag naming what it does
    (``validation-mse``, ``reconstruction-grid``, ``latent-map``, ``generated-grid``, ...).
    """
    run_dir = Path(run_dir)
    summary = check_summary(read_run_summary(run_dir))
    summary["name"] = Path(os.path.abspath(run_dir)).name  # a run is named by its folder, as load_run names it
    cells = _cells(summary, run_dir, data_dir, Path(project_dir))
    metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    notebook = new_notebook(cells=cells, metadata=metadata)
    nbformat.validate(notebook)
    return nbformat.writes(notebook)
