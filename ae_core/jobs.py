"""A training run in a background thread, for user interfaces that must stay responsive while it trains.

The interface starts a ``TrainingJob``, keeps it (one per user session), and polls ``snapshot()`` to draw
progress; ``pause``, ``resume`` and ``stop`` act between batches. Nothing here knows about any UI toolkit.
"""

import threading
from dataclasses import dataclass, field

import numpy as np

from ae_core.config import ModelConfig, TrainConfig, check_model_config, check_train_config
from ae_core.models import check_training_cost
from ae_core.runs import Run, train_run
from ae_core.training import BatchProgress, EpochEnd, TrainingControl, TrainingListener

RUNNING, PAUSED, DONE, STOPPED, DIVERGED, FAILED = "running", "paused", "done", "stopped", "diverged", "failed"


def _stopped_message(epochs_completed: int, progress: BatchProgress | None) -> str:
    partial = ""
    if progress is not None and progress.batch < progress.batches_per_epoch and progress.epoch > epochs_completed:
        partial = f" and {progress.batch} of {progress.batches_per_epoch} batches of epoch {progress.epoch}"
    return f"Stopped after {epochs_completed} finished epochs{partial}; the model so far is kept."


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state at one moment."""

    status: str  # one of RUNNING, PAUSED, DONE, STOPPED, DIVERGED, FAILED
    progress: BatchProgress | None  # latest batch, None before the first
    history: dict  # metric -> one value per finished epoch
    batch_losses: list  # (fractional epoch, that batch's train loss)
    preview_images: np.ndarray  # (k, height, width, channels)
    preview_reconstructions: np.ndarray | None  # from the latest finished epoch
    run: Run | None  # set once the job has ended with a model (done, stopped or diverged)
    message: str = ""  # what went wrong, for STOPPED / DIVERGED / FAILED

    @property
    def finished(self) -> bool:
        return self.status not in (RUNNING, PAUSED)

    @property
    def epochs_completed(self) -> int:
        return len(next(iter(self.history.values()), []))


@dataclass
class _JobState:
    progress: BatchProgress | None = None
    history: dict = field(default_factory=dict)
    batch_losses: list = field(default_factory=list)
    preview_reconstructions: np.ndarray | None = None
    run: Run | None = None
    error: str = ""


class TrainingJob(TrainingListener):
    """Trains one model on its own thread. Settings are checked in the constructor, so a bad one fails at once."""

    def __init__(self, x_train: np.ndarray, x_val: np.ndarray, dataset_name: str, model_config: ModelConfig,
                 train_config: TrainConfig, name: str | None = None, split: dict | None = None,
                 excluded_class: int | None = None):  # fmt: skip
        """Arguments as ``runs.train_run``: ``x_train`` already without ``excluded_class``, ``split`` the dataset's
        ``split.to_dict()``."""
        check_model_config(model_config, x_train.shape[1:])
        check_train_config(train_config, len(x_train))
        check_training_cost(model_config, x_train.shape[1:], train_config.batch_size)
        self.name, self.split, self.excluded_class = name, split, excluded_class
        self.control = TrainingControl()
        self._lock = threading.Lock()
        self._state = _JobState()
        self._preview_images = np.asarray(x_val[: train_config.preview_size])
        arguments = (x_train, x_val, dataset_name, model_config, train_config)
        self._thread = threading.Thread(target=self._work, args=arguments, daemon=True, name="training-job")

    def start(self) -> "TrainingJob":
        self._thread.start()
        return self

    def _work(self, x_train, x_val, dataset_name, model_config, train_config) -> None:
        try:
            run = train_run(x_train, x_val, dataset_name, model_config, train_config, listener=self,
                            control=self.control, name=self.name, split=self.split,
                            excluded_class=self.excluded_class)  # fmt: skip
        except Exception as error:  # reported to the user through the snapshot; the interface keeps running
            with self._lock:
                self._state.error = f"Training failed: {type(error).__name__}: {error}"
            return
        with self._lock:
            self._state.run = run

    def on_batch(self, progress: BatchProgress) -> None:
        with self._lock:
            self._state.progress = progress
            self._state.batch_losses.append((progress.epochs_done, progress.logs["loss"]))

    def on_epoch_end(self, epoch: EpochEnd) -> None:
        with self._lock:
            for metric, value in epoch.logs.items():
                self._state.history.setdefault(metric, []).append(value)
            self._state.preview_reconstructions = epoch.preview_reconstructions

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _status(self) -> tuple[str, str]:
        state = self._state
        if state.error:
            return FAILED, state.error
        if state.run is None:
            return (PAUSED if self.control.paused else RUNNING), ""
        result = state.run.result
        if result.divergence is not None:
            return DIVERGED, result.divergence.message
        if result.stopped:
            return STOPPED, _stopped_message(result.epochs_completed, state.progress)
        return DONE, ""

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            status, message = self._status()
            state = self._state
            return JobSnapshot(
                status=status, progress=state.progress, message=message,
                history={metric: list(values) for metric, values in state.history.items()},
                batch_losses=list(state.batch_losses), preview_images=self._preview_images,
                preview_reconstructions=state.preview_reconstructions, run=state.run,
            )  # fmt: skip
