"""Progress in words: a clock, a running training's caption, a duration."""

import math

from tqdm import tqdm


def duration_text(seconds: float) -> str:
    """600 -> "10 min", 90 -> "90 s": how the pause timeout is written to users."""
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def clock(seconds: float) -> str:
    """Seconds as mm:ss, or h:mm:ss from an hour on (tqdm's format); "–" when unknown (inf or nan)."""
    return tqdm.format_interval(seconds) if math.isfinite(seconds) else "–"


def progress_caption(progress, paused: bool = False, stopping: bool = False) -> str:
    """The text under a progress bar for a training.BatchProgress (None before the first batch)."""
    if stopping:
        return "Stopping after this batch, then scoring the model…"
    if progress is None:
        return "Building the model and compiling its training step…"
    if progress.samples_seen >= progress.samples_total:
        return f"Epoch {progress.epochs}/{progress.epochs} done · scoring the model against PCA…"
    text = (
        f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/{progress.batches_per_epoch} · "
        f"{progress.samples_per_second:,.0f} samples/s · ETA {clock(progress.eta_seconds)}"
    )
    return f"Paused · {text}" if paused else text
