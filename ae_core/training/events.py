"""What a training tells its listeners and how it is steered: batch progress, epoch ends, divergence, the result,
and the control that pauses, resumes or stops it. Kept free of Keras, so pages can read a job's progress without it.
"""

import math
import threading
from dataclasses import dataclass, field

import numpy as np

from ae_core.training.health import learning_rate_advice


@dataclass(frozen=True)
class BatchProgress:
    """Where training stands after one batch. ``logs`` hold that batch's losses."""

    epoch: int  # 1-based
    batch: int  # 1-based, within the epoch
    batches_per_epoch: int
    epochs: int
    samples_seen: int
    samples_total: int
    elapsed_seconds: float  # training time, pauses excluded
    logs: dict

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float:
        rate = self.samples_per_second
        return (self.samples_total - self.samples_seen) / rate if rate > 0 else math.inf

    @property
    def fraction_done(self) -> float:
        return self.samples_seen / self.samples_total

    @property
    def epochs_done(self) -> float:
        """Epochs trained so far, counting this one's batches as a fraction: the x of a per-batch loss curve."""
        return self.epoch - 1 + self.batch / self.batches_per_epoch


@dataclass(frozen=True)
class EpochEnd:
    """One finished epoch: train and ``val_`` logs, and the fixed preview batch seen through the model."""

    epoch: int  # 1-based
    logs: dict
    preview_reconstructions: np.ndarray  # (preview_size, height, width, channels) in [0, 1]
    preview_codes: np.ndarray  # (preview_size, latent_dim)
    elapsed_seconds: float
    map_codes: np.ndarray  # (n_map, latent_dim): the codes of the map's validation images after this epoch
    weights: list  # the model's weights after this epoch (model.get_weights()), kept should training end abruptly


class TrainingListener:
    """Receives progress from ``train``, on the training thread. Override what you need."""

    def on_batch(self, progress: BatchProgress) -> None:
        pass

    def on_epoch_end(self, epoch: EpochEnd) -> None:
        pass

    def on_trained(self) -> None:
        """The training loop has ended (finished, stopped or diverged); the run's evaluation follows."""


class TrainingControl:
    """Pause, resume and stop requests from another thread; ``train`` honours them between batches."""

    def __init__(self):
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()  # a paused loop must wake up to see the stop

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def interrupted(self) -> bool:
        """Whether the loop must stop before its next batch: for good, or to ``wait_while_paused``."""
        return self.paused or self.stop_requested

    def wait_while_paused(self) -> None:
        self._running.wait()


@dataclass(frozen=True)
class Divergence:
    """Where and why a run went wrong. cause : None for a loss that became NaN or infinite (the weights of the last
    finished epoch are then restored); else what ``health.sickness`` found at the end of epoch ``epoch`` (a dead
    model or exploding codes or loss, whose weights are kept, to be seen). learning_rate and optimizer: the run's,
    for the advice (None in runs saved before they were recorded)."""

    epoch: int
    batch: int
    loss: float
    cause: str | None = None
    learning_rate: float | None = None
    optimizer: str | None = None

    @property
    def message(self) -> str:
        if self.learning_rate is None:
            advice = "Try a lower learning rate."
        else:
            advice = learning_rate_advice(self.learning_rate, self.optimizer or "adam")
        if self.cause is not None:
            return f"Training diverged: after epoch {self.epoch}, {self.cause}. Training stopped. {advice}"
        restored = f"the weights from the end of epoch {self.epoch - 1}" if self.epoch > 1 else "the initial weights"
        return (
            f"Training diverged: the loss became {self.loss} at epoch {self.epoch}, batch {self.batch}. "
            f"Training stopped and {restored} were restored. {advice}"
        )


@dataclass
class TrainingResult:
    history: dict  # metric name -> one value per completed epoch
    batch_losses: list  # (fractional epoch, that batch's train loss) after every batch
    epochs_completed: int
    samples_seen: int
    train_seconds: float  # pauses excluded
    preview_images: np.ndarray  # (preview_size, height, width, channels): the fixed validation images
    preview_timeline: np.ndarray  # (epochs_completed, preview_size, height, width, channels)
    preview_codes: np.ndarray  # (epochs_completed, preview_size, latent_dim)
    # (epochs_completed, n_map, latent_dim) float32: codes of the first n_map = min(map_sample_size, n_val)
    # validation images after every epoch, the latent map over training
    map_codes: np.ndarray
    stopped: bool = False
    divergence: Divergence | None = None
    notes: list = field(default_factory=list)

    @property
    def seconds_per_epoch(self) -> float:
        if self.samples_seen == 0:
            return math.nan
        samples_per_epoch = self.samples_seen / max(self.epochs_completed, 1)
        return self.train_seconds / self.samples_seen * samples_per_epoch
