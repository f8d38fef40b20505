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
from ae_core.runs.summary import check_summary, read_run_summary
from ae_core.settings.model_config import PRESET_TITLES

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the folder holding ae_core/, which the notebook imports from
GRID_SIDE = 8  # the generated grid: GRID_SIDE x GRID_SIDE images, as the Generate page opens
WORST_SHOWN = 12  # reconstructions shown, worst first, as the Reconstructions page opens

INTRODUCTION = """\
This notebook reopens a model trained in Autoencoder Lab and checks its results step by step: how well it
rebuilds images it never saw, against a simple classical method (PCA), what its codes look like on a map, and
what new images it makes. Run the cells from top to bottom (in Jupyter: *Run > Run All Cells*); the text above
each code cell says what it does.

Words used throughout:
- An **autoencoder** is a neural network in two halves. The **encoder** turns an image into a short list of
  numbers, its **code**; the **decoder** rebuilds the image from the code alone. The rebuilt image is the
  **reconstruction**. Training adjusts the network's **weights** (its numbers) until reconstructions look like
  the originals.
- A pixel is a number from 0 (black) to 1 (white). The **MSE** (mean squared error) of a reconstruction takes,
  for every pixel, the difference between original and reconstruction, squares it, and averages these over the
  image. 0 means a perfect copy; smaller is better."""

SETUP = """\
## Step 0: where the project, the run and the data are

The cell below names three folders. They were filled in when this notebook was written, on the computer that
wrote it:
- `PROJECT`: the Autoencoder Lab folder. It holds `ae_core`, the library the app itself runs on; the cell tells
  Python to look for it there, so Jupyter may be started in any folder.
- `RUN_DIR`: the run's folder: `run.json` (its settings and scores), `model.keras` (its learned weights) and
  `preview.npz` (a few of its images).
- `DATA_DIR`: where the MNIST or Fashion-MNIST files are, or `None` to use the `AE_DATA_DIR` environment
  variable or Keras's download folder. scikit-learn's digits come with scikit-learn and need none.

On another computer, copy the project and the run folder there and change these paths. The notebook needs a
Python with the project's requirements: the project's `.venv` has them (`make run` creates it). To open the
notebook with it, run in the project folder `.venv/bin/python -m pip install jupyterlab`, then
`.venv/bin/jupyter lab`."""

LOAD = """\
## Step 1: open the run

`load_run` reads the run's folder: it builds the model from the settings in `run.json`, then reads its learned
weights from `model.keras`. `run.metrics` holds the scores measured when training ended; the steps below measure
them again."""

SPLIT = """\
## Step 2: the same images as in training

A model is judged on images it never learned from. So the dataset is cut in two: the **training images**, which
the model learned from, and the **validation images**, kept apart to test it. To get the run's own scores back,
the cut must be exactly the same. `run.json` records how it was made (`run.split`): `kind` says how (`seeded`:
shuffled, then a share `val_fraction` of the images set apart; `test_set`: the test images that come with the
dataset; `positional`: the first images train and the last ones are set apart), and `n_train` and `n_val` say how
many images each part holds. A **seed** is a number that fixes random choices, such as the shuffle, so that they
come out the same every time.
`dataset_for` loads the dataset and cuts it the same way. It refuses data that is not what the run was trained on:
another number of images, or other pixels (it compares a fingerprint of all the images, the `content_hash`)."""

VALIDATION_MSE = """\
## Step 3: rebuild the validation images and measure the error

The model encodes every validation image into its code and decodes the code back into an image. The
**validation MSE** is the MSE averaged over all validation images. The cell compares it with the number in
`run.json`: the two must agree to within 0.000001. If they did not, the model or the images would not be the run's,
and the cell would stop with an error."""

PCA = """\
## Step 4: against PCA, a classical method with the same budget

Is that error small? Compare it with a simpler method that also describes each image with as many numbers as the
code has. **PCA** (principal component analysis) finds the directions in which the training images differ most,
and describes an image by how far it lies along each of them; it rebuilds the image from those numbers. PCA is
*linear*: it only adds up pixels times fixed weights, and no other linear method rebuilds the images better with
this many numbers. The autoencoder's layers can bend that rule (they are not linear), so it should do better. Does
it? PCA is fitted on the same training images, with the run's seed, so its score is the one in `run.json` too."""

LOSS_CURVE = """\
## Step 5: how the error fell while the model trained

An **epoch** is one pass over all training images. The **loss** is the number training makes smaller (for most
presets, the MSE of the training images' reconstructions). The line is the loss after every small group of
training images (a **batch**); the diamonds are the validation loss after each epoch. A validation loss that
rises while the training loss still falls means the model starts to learn its training images by heart
(**overfitting**)."""

RECONSTRUCTIONS = f"""\
## Step 6: the reconstruction grid

Top row: validation images; bottom row: their reconstructions. These are the {WORST_SHOWN} images the model
rebuilds worst (highest MSE first), as the app's Reconstructions page shows them. What do they have in common?
Change `"worst"` to `"best"` to see the easiest ones."""

LATENT_MAP = """\
## Step 7: the map of the codes

Each image's code is a list of numbers: a point in a space with one direction per number, too many to draw. PCA
helps again, now on the codes: it keeps the 2 directions in which the codes differ most, and each image becomes a
dot there, coloured by its class (here, the digit it shows). Images the model finds alike get codes close
together. Which classes form groups of their own, and which overlap? Point at a dot to see its class. The map
shows up to 5,000 images (validation first, then training), as the app's Latent space page opens.
**Trustworthiness** says how faithful a flat map is: 1 means each dot's nearest neighbours on the map are also
its nearest neighbours in the code."""

GENERATE_FITTED = """\
## Step 8: new images

The decoder turns any code into an image, so new codes give new images. But the codes of real images fill only a
small part of the code space (all possible codes), and a code far from them decodes to a smudge. So the new codes
are drawn from a **Gaussian** (a bell-shaped spread of values) fitted to the training images' codes: same centre
and same spread, so they land where real codes are. Then the decoder draws them. Set `SAMPLER = "normal"` to draw
codes from N(0, I) instead (each number a bell curve around 0 with spread 1, ignoring where the codes really are):
the wrong way for this kind of autoencoder."""

GENERATE_VAE = """\
## Step 8: new images

The decoder turns any code into an image, so new codes give new images. This is a **variational autoencoder**
(VAE): training also pushes its codes to follow N(0, I), a bell curve around 0 with spread 1 for every number of
the code. So codes drawn from N(0, I) land where real codes are, and decode to images like the real ones."""

NEXT = """\
## What to try next

- Change the seed in Step 8 (`seed=0`) to draw other codes, or `SAMPLER` to `"gmm"`: a mixture of Gaussians, one
  bell per group of codes, which usually gives clearer images.
- Train another run from the project folder, e.g.
  `.venv/bin/python -m ae_core train --dataset digits --model seed_dense --out runs/textbook`, write its
  notebook with `.venv/bin/python -m ae_core notebook runs/textbook --out textbook.ipynb`, and compare."""


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
