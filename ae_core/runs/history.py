"""A run's history kept compact: the per-batch losses a run saves are decimated to a fixed bound.

Training records one loss per batch: a batch of 1 over many epochs records hundreds of thousands, which would make
``run.json`` hundreds of MB. A saved run keeps at most ``MAX_SAVED_BATCH_LOSSES`` of them, evenly spaced over the
run, the first and the last always among them; the per-epoch history (one value per metric and epoch) is kept
whole. A run.json saved before the bound, with every batch's loss, is decimated the same way when it is loaded.
"""

import numpy as np

# As many points as the loss chart draws (ae_core.figures.training.MAX_CURVE_POINTS): a saved run's chart shows
# what its live chart showed. 2,000 [epoch, loss] pairs take about 100 KB of run.json.
MAX_SAVED_BATCH_LOSSES = 2_000


def decimate_batch_losses(batch_losses: list, most: int = MAX_SAVED_BATCH_LOSSES) -> list[tuple[float, float]]:
    """At most ``most`` of the (fractional epoch, loss) pairs ``batch_losses``, evenly spaced by position, the
    first and the last kept; all of them, as tuples, when there are no more than ``most``."""
    if len(batch_losses) <= most:
        return [tuple(point) for point in batch_losses]
    kept = np.linspace(0, len(batch_losses) - 1, most).round().astype(np.int64)  # spaced over 1 apart: distinct
    return [tuple(batch_losses[index]) for index in kept]
