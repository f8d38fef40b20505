"""Signs, read at the end of an epoch, that a model has died or is blowing up even though its loss is still a finite
number: outputs that no longer depend on the input, codes or a loss grown by orders of magnitude. Each is named
with its likely cause and the learning rate to try instead.
"""

import numpy as np

# A model whose reconstructions of different images differ by less than this share of how much the images
# themselves differ gives every input the same output, to float precision: ReLUs that never fire, a saturated
# sigmoid. A slow but live model can come close to the mean image (SGD at 0.001 on digits after one epoch keeps
# 3e-4 of the spread), so only outputs identical to rounding count.
CONSTANT_SPREAD = 1e-6
# Codes of a healthy model stay within tens or hundreds (ReLU and linear codes of [0, 1] images); ten thousand is
# far beyond any of them and far below the 1e7 a learning rate of 5 gives.
EXPLODED_CODE = 1e4
# An epoch's mean training loss this many times its first batch's: the optimizer climbs instead of descending.
EXPLODED_LOSS = 100.0
RECOMMENDED_LEARNING_RATE = 1e-3  # Adam's default, which the recommended settings use


def suggested_learning_rate(learning_rate: float, optimizer: str) -> float:
    """The learning rate to try after a run at ``learning_rate`` died or diverged: a tenth of it, and for Adam and
    RMSprop no more than their default 0.001."""
    lower = learning_rate / 10
    return lower if optimizer == "sgd" else min(lower, RECOMMENDED_LEARNING_RATE)


def learning_rate_advice(learning_rate: float, optimizer: str) -> str:
    """One sentence naming the likely cause, a learning rate too high, and the value to try."""
    suggested = suggested_learning_rate(learning_rate, optimizer)
    return (
        f"The likely cause is a learning rate too high for this model: {learning_rate:g} with {optimizer}. "
        f"Try a lower learning rate, such as {suggested:g}."
    )


def output_spread(images: np.ndarray) -> float:
    """How much ``images`` (n, ...) differ from one another: the mean over pixels of the standard deviation across
    the n images; 0.0 when every image is the same."""
    flat = np.asarray(images, dtype=np.float64).reshape(len(images), -1)  # (n, pixels)
    return float(flat.std(axis=0).mean())


def sickness(
    originals: np.ndarray,
    reconstructions: np.ndarray,
    codes: np.ndarray,
    epoch_loss: float,
    first_loss: float,
) -> str | None:
    """What is wrong with a model after an epoch, in words; None when nothing is.

    originals, reconstructions : (n, height, width, channels) float32, n >= 2: a fixed batch of validation images
        and the model's reconstructions of them. codes : (m, latent_dim) codes of validation images.
    epoch_loss : the epoch's mean training loss. first_loss : the loss of the run's first batch.
    """
    problems = []
    spread, real_spread = output_spread(reconstructions), output_spread(originals)
    if len(originals) > 1 and real_spread > 0 and spread < CONSTANT_SPREAD * real_spread:
        problems.append(
            f"every reconstruction is the same image whatever the input (spread {spread:.2g} against the "
            f"images' {real_spread:.2g}), so the model has stopped learning"
        )
    largest_code = float(np.max(np.abs(codes))) if np.size(codes) else 0.0
    if not np.isfinite(largest_code) or largest_code > EXPLODED_CODE:
        problems.append(
            f"the codes have exploded, reaching {largest_code:.3g} (a healthy model's stay below {EXPLODED_CODE:g})"
        )
    if first_loss > 0 and epoch_loss > EXPLODED_LOSS * first_loss:
        problems.append(f"the loss has exploded to {epoch_loss:.3g}, {epoch_loss / first_loss:.0f}x its first batch's")
    return "; ".join(problems) or None
