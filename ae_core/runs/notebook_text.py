"""The words of a saved run's notebook (``ae_core.runs.notebook``): a Markdown cell before each step, for a newcomer
to machine learning."""

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
