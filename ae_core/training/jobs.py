"""A training run in a background thread, for user interfaces that must stay responsive while it trains.

The interface starts a ``TrainingJob``, keeps it (one per user session), and polls ``snapshot()`` to draw
progress; ``pause``, ``resume`` and ``stop`` act between batches. Given a ``TrainingQueue``, a job waits its turn
first ("queued"); ``stop`` then cancels it. Once it trains, it shares its slot by the queue's rules: it yields the
slot to a waiting person after its fair share and is "queued" again until its next turn, and a paused job lets
others use the slot until it is resumed. A job paused longer than its pause timeout, or that has trained for its
time budget, stops by itself, keeping what it trained. Nothing here knows about any UI toolkit.
"""

import threading
from dataclasses import dataclass, field

import numpy as np

from ae_core.models.training_cost import check_training_cost
from ae_core.runs.run import Run, train_run
from ae_core.settings import environment
from ae_core.settings.environment import ServerEnvironment
from ae_core.settings.model_config import ModelConfig, check_model_config
from ae_core.settings.train_config import TrainConfig, check_train_config
from ae_core.training.events import BatchProgress, EpochEnd, TrainingControl, TrainingListener
from ae_core.training.gradient_registry import forget_custom_gradients, registered_gradients
from ae_core.training.native_memory import release_free_memory
from ae_core.training.progress_text import duration_text
from ae_core.training.queue import QueuePlace, TrainingQueue

QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
DONE, STOPPED, DIVERGED, FAILED, CANCELLED = "done", "stopped", "diverged", "failed", "cancelled"
UNFINISHED = (QUEUED, RUNNING, PAUSED)

PAUSE_TIMEOUT_ENV = ServerEnvironment.variable("pause_timeout_s")
RUN_TIME_BUDGET_ENV = ServerEnvironment.variable("run_time_budget_s")


def configured_pause_timeout_s() -> float:
    """Seconds a job may stay paused before it stops: AE_PAUSE_TIMEOUT_S when set, else 600 (10 minutes)."""
    return environment.current().pause_timeout_s


def configured_run_time_budget_s() -> float:
    """Seconds of training a job may take before it stops: AE_RUN_TIME_BUDGET_S when set, else 600 (10 minutes)."""
    return environment.current().run_time_budget_s


def _stopped_message(
    epochs_completed: int,
    progress: BatchProgress | None,
    paused_too_long_s: float | None,
    time_budget_s: float | None = None,
) -> str:
    """Why a run stopped and how far it got. ``paused_too_long_s``: the pause timeout it passed; ``time_budget_s``:
    the time budget it used up; both None for a stop asked for."""
    partial = ""
    if progress is not None and progress.batch < progress.batches_per_epoch and progress.epoch > epochs_completed:
        partial = f" and {progress.batch} of {progress.batches_per_epoch} batches of epoch {progress.epoch}"
    epochs = f"{epochs_completed} finished epoch" + ("" if epochs_completed == 1 else "s")
    if time_budget_s is not None:
        return (
            f"Trained for this server's time budget of {duration_text(time_budget_s)} per run, so training stopped "
            f"after {epochs}{partial}; the model so far is kept. For a run that finishes, ask for fewer epochs."
        )
    cause = (
        "Stopped"
        if paused_too_long_s is None
        else (f"Paused for more than {duration_text(paused_too_long_s)}, so training stopped")
    )
    return f"{cause} after {epochs}{partial}; the model so far is kept."


class _JobControl(TrainingControl):
    """A job's TrainingControl: a pause ends in a stop once it has lasted ``timeout_s``; with a queue, the slot is
    freed while paused, yielded after a fair share while others wait, and waited for again before training on."""

    def __init__(self, job, queue: TrainingQueue | None, timeout_s: float):
        super().__init__()
        self.job, self.queue, self.timeout_s = job, queue, timeout_s
        self.timed_out = False

    @property
    def interrupted(self) -> bool:
        return super().interrupted or (self.queue is not None and self.queue.should_yield(self.job))

    def wait_while_paused(self) -> None:
        if self.paused:
            if self.queue is not None:
                self.queue.step_aside(self.job)  # a paused run leaves its slot to others
            if not self._running.wait(self.timeout_s):
                self.timed_out = True
                self.stop()
            if self.queue is not None and not self.stop_requested:
                self.queue.rejoin(self.job)
                self.wait_turn()
        elif self.queue is not None and self.queue.should_yield(self.job):
            self.queue.yield_turn(self.job)
            self.wait_turn()

    def wait_turn(self) -> bool:
        """Wait in the queue's line until the job holds a slot (True) or is stopped (False)."""
        if self.stop_requested:  # a stop that came before the job joined the line found nothing to cancel
            self.queue.cancel(self.job)
        return self.queue.wait_turn(self.job)

    def stop(self) -> None:
        super().stop()
        if self.queue is not None:
            self.queue.cancel(self.job)  # a job waiting for its turn leaves the line


@dataclass(frozen=True)
class JobSnapshot:
    """A consistent copy of a job's state at one moment."""

    status: str  # one of QUEUED, RUNNING, PAUSED, DONE, STOPPED, DIVERGED, FAILED, CANCELLED
    progress: BatchProgress | None  # latest batch, None before the first
    history: dict  # metric -> one value per finished epoch
    batch_losses: list  # (fractional epoch, that batch's train loss)
    preview_images: np.ndarray  # (k, height, width, channels)
    preview_reconstructions: np.ndarray | None  # from the latest finished epoch
    run: Run | None  # set once the job has ended with a model (done, stopped or diverged)
    message: str = ""  # what went wrong, for STOPPED / DIVERGED / FAILED / CANCELLED
    place: QueuePlace | None = None  # where a queued job stands; None without a queue

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED

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
    cancelled: bool = False  # stopped before its turn came: it never trained
    out_of_time: bool = False  # stopped once it had trained for its time budget


class TrainingJob(TrainingListener):
    """Trains one model on its own thread. Settings are checked in the constructor, so a bad one fails at once."""

    def __init__(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray,
        dataset_name: str,
        model_config: ModelConfig,
        train_config: TrainConfig,
        name: str | None = None,
        split: dict | None = None,
        excluded_class: int | None = None,
        queue: TrainingQueue | None = None,
        pause_timeout_s: float | None = None,
        person=None,
        time_budget_s: float | None = None,
    ):
        """Arguments as ``runs.train_run``: ``x_train`` already without ``excluded_class``, ``split`` the dataset's
        ``split.to_dict()``. ``queue``: wait for a slot of it before training, and share it by its rules.
        ``pause_timeout_s``: seconds a pause may last before the job stops (when None,
        ``configured_pause_timeout_s()``: 10 minutes unless configured). ``person``: who started it (hashable, e.g.
        a workspace's owner id); the queue runs one job per person at a time (None: the job is a person of its own).
        ``time_budget_s``: seconds of training (pauses and waits excluded) after which it stops, keeping its model
        (when None, ``configured_run_time_budget_s()``: 10 minutes unless configured)."""
        check_model_config(model_config, x_train.shape[1:])
        check_train_config(train_config, len(x_train))
        check_training_cost(model_config, x_train.shape[1:], train_config.batch_size)
        self.name, self.split, self.excluded_class, self.queue = name, split, excluded_class, queue
        self.person = person
        self.time_budget_s = configured_run_time_budget_s() if time_budget_s is None else time_budget_s
        timeout_s = configured_pause_timeout_s() if pause_timeout_s is None else pause_timeout_s
        self.control = _JobControl(self, queue, timeout_s)
        self._lock = threading.Lock()
        self._state = _JobState()
        self._preview_images = np.array(x_val[: train_config.preview_size])  # a copy, as in training
        arguments = (x_train, x_val, dataset_name, model_config, train_config)
        self._thread = threading.Thread(target=self._work, args=arguments, daemon=True, name="training-job")

    def start(self) -> "TrainingJob":
        """Start the thread; with a queue, the job joins the end of the line now, in the caller's order."""
        if self.queue is not None:
            self.queue.enqueue(self, self.person)
        self._thread.start()
        return self

    def _work(self, *arguments) -> None:
        if self.queue is None:
            self._train(*arguments)
            return
        try:
            admitted = self.control.wait_turn()
            with self._lock:
                self._state.cancelled = not admitted or self.control.stop_requested
            if not self._state.cancelled:
                self._train(*arguments)
        finally:
            self.queue.release(self)  # its slot, or its place in line, and its person's turn

    def _train(self, x_train, x_val, dataset_name, model_config, train_config) -> None:
        registered = registered_gradients()
        try:
            run = train_run(
                x_train,
                x_val,
                dataset_name,
                model_config,
                train_config,
                listener=self,
                control=self.control,
                name=self.name,
                split=self.split,
                excluded_class=self.excluded_class,
            )
        except Exception as error:  # reported to the user through the snapshot; the interface keeps running
            with self._lock:
                self._state.error = f"Training failed: {type(error).__name__}: {error}"
            return
        finally:
            forget_custom_gradients(registered)
            release_free_memory()  # the training's graphs and batches; a server trains again and again
        with self._lock:
            self._state.run = run

    def on_batch(self, progress: BatchProgress) -> None:
        with self._lock:
            self._state.progress = progress
            self._state.batch_losses.append((progress.epochs_done, progress.logs["loss"]))
            if progress.elapsed_seconds >= self.time_budget_s and not self.control.stop_requested:
                self._state.out_of_time = True
                self.control.stop()

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
        """Stop between batches, keeping the model so far; a job still waiting for its first turn leaves the queue
        untrained, one waiting for a later turn ends with the model it had."""
        self.control.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; True when it has."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _status(self, place: QueuePlace | None) -> tuple[str, str]:
        state = self._state
        if state.error:
            return FAILED, state.error
        if state.cancelled:
            return CANCELLED, "Cancelled before its turn came; nothing was trained."
        if place is not None and place.position > 0:
            return QUEUED, ""
        if state.run is None:
            return (PAUSED if self.control.paused else RUNNING), ""
        result = state.run.result
        if result.divergence is not None:
            return DIVERGED, result.divergence.message
        if result.stopped:
            timeout = self.control.timeout_s if self.control.timed_out else None
            budget = self.time_budget_s if state.out_of_time else None
            return STOPPED, _stopped_message(result.epochs_completed, state.progress, timeout, budget)
        return DONE, ""

    def snapshot(self) -> JobSnapshot:
        place = self.queue.place(self) if self.queue is not None else None
        with self._lock:
            status, message = self._status(place)
            state = self._state
            return JobSnapshot(
                status=status,
                progress=state.progress,
                message=message,
                history={metric: list(values) for metric, values in state.history.items()},
                batch_losses=list(state.batch_losses),
                preview_images=self._preview_images,
                preview_reconstructions=state.preview_reconstructions,
                run=state.run,
                place=place,
            )
