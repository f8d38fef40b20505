"""A training run in a worker, driven from a background thread, for user interfaces that must stay responsive.

The interface starts a ``TrainingJob``, keeps it (one per user session), and polls ``snapshot()`` to draw
progress; ``pause``, ``resume`` and ``stop`` act between batches. The job trains in a worker process (or on a Ray
cluster; see ``executors``), so the server never trains, and a worker that dies ends its job "failed", keeping the
run of its last finished epoch. Given a ``TrainingQueue``, a job waits its turn
first ("queued"); ``stop`` then cancels it. Once it trains, it shares its slot by the queue's rules: it yields the
slot to a waiting person after its fair share and is "queued" again until its next turn, and a paused job lets
others use the slot until it is resumed. A job paused longer than its pause timeout, or that has trained for its
time budget, stops by itself, keeping what it trained. Nothing here knows about any UI toolkit.
"""

import threading
import time
from dataclasses import dataclass

import numpy as np

from ae_core.models.training_cost import check_training_cost
from ae_core.runs.run import Run
from ae_core.settings import environment
from ae_core.settings.environment import ServerEnvironment
from ae_core.settings.model_config import ModelConfig, check_model_config
from ae_core.settings.train_config import TrainConfig, check_train_config
from ae_core.training import executors
from ae_core.training.events import BatchProgress
from ae_core.training.job_state import JobControl, JobState, stopped_message
from ae_core.training.queue import QueuePlace, TrainingQueue
from ae_core.training.worker_protocol import BATCH, FINISHED, PAUSE, RESUME, STARTED, STOP, TrainingTask

QUEUED, RUNNING, PAUSED = "queued", "running", "paused"
DONE, STOPPED, DIVERGED, FAILED, CANCELLED = "done", "stopped", "diverged", "failed", "cancelled"
UNFINISHED = (QUEUED, RUNNING, PAUSED)

PAUSE_TIMEOUT_ENV = ServerEnvironment.variable("pause_timeout_s")
RUN_TIME_BUDGET_ENV = ServerEnvironment.variable("run_time_budget_s")
POLL_S = 0.1  # how often a job's thread passes requests on while no message arrives
STOP_ANSWER_S = 5.0  # a worker that has not ended its training loop this long after a stop is ended


def configured_pause_timeout_s() -> float:
    """Seconds a job may stay paused before it stops: AE_PAUSE_TIMEOUT_S when set, else 600 (10 minutes)."""
    return environment.current().pause_timeout_s


def configured_run_time_budget_s() -> float:
    """Seconds of training a job may take before it stops: AE_RUN_TIME_BUDGET_S when set, else 600 (10 minutes)."""
    return environment.current().run_time_budget_s


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
    waiting: str = ""  # what a job queued by its executor (not by a queue) waits for, in words

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED

    @property
    def waits_for(self) -> str:
        """Where a queued job stands, in words: its place in the queue's line, or what its executor waits for."""
        return self.place.describe() if self.place is not None else self.waiting

    @property
    def epochs_completed(self) -> int:
        return len(next(iter(self.history.values()), []))


class TrainingJob:
    """Trains one model in a worker (``executors``), driven from a thread of its own. Settings are checked in the
    constructor, so a bad one fails at once."""

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
        executor=None,
    ):
        """Arguments as ``runs.train_run``: ``x_train`` already without ``excluded_class``, ``split`` the dataset's
        ``split.to_dict()``. ``queue``: wait for a slot of it before training, and share it by its rules (unused by
        an executor that schedules by itself, as Ray does). ``pause_timeout_s``: seconds a pause may last before the
        job stops (when None, ``configured_pause_timeout_s()``: 10 minutes unless configured). ``person``: who
        started it (hashable, e.g. a workspace's owner id); the queue runs one job per person at a time (None: the
        job is a person of its own). ``time_budget_s``: seconds of training (pauses and waits excluded) after which
        it stops, keeping its model (when None, ``configured_run_time_budget_s()``: 10 minutes unless configured).
        ``executor``: where it trains (None: ``executors.executor()``, the one AE_EXECUTOR chooses)."""
        check_model_config(model_config, x_train.shape[1:])
        check_train_config(train_config, len(x_train))
        check_training_cost(model_config, x_train.shape[1:], train_config.batch_size)
        self.executor = executor if executor is not None else executors.executor()
        self.queue = queue if self.executor.uses_queue else None
        self.name, self.split, self.excluded_class, self.person = name, split, excluded_class, person
        self.time_budget_s = configured_run_time_budget_s() if time_budget_s is None else time_budget_s
        timeout_s = configured_pause_timeout_s() if pause_timeout_s is None else pause_timeout_s
        self.control = JobControl(self, self.queue, timeout_s)
        self._lock = threading.Lock()
        self._state = JobState()
        self._worker = None  # the executor's end of the worker, once launched
        self._preview_images = np.array(x_val[: train_config.preview_size])  # a copy, as in training
        self._task = TrainingTask(x_train, x_val, dataset_name, model_config, train_config, name, split, excluded_class)
        self._thread = threading.Thread(target=self._work, daemon=True, name="training-job")

    @property
    def worker(self):
        """The executor's end of the job's worker (``local_workers.LocalTraining`` or ``ray_workers.RayTraining``),
        None before it is launched."""
        return self._worker

    def start(self) -> "TrainingJob":
        """Start the thread; with a queue, the job joins the end of the line now, in the caller's order."""
        if self.queue is not None:
            self.queue.enqueue(self, self.person)
        self._thread.start()
        return self

    def _work(self) -> None:
        try:
            admitted = self.control.wait_turn() if self.queue is not None else True
            with self._lock:
                self._state.cancelled = not admitted or self.control.stop_requested
            if not self._state.cancelled:
                worker = self.executor.launch(self._task)
                with self._lock:
                    self._worker = worker
                self._drive(worker)
        except Exception as error:  # e.g. a worker that could not start: reported, the interface keeps running
            if self._worker is not None:
                self._worker.kill()  # nobody reads it any more, and its slot is given back below
            with self._lock:
                self._state.error = f"Training failed: {type(error).__name__}: {error}"
        finally:
            if self.queue is not None:
                self.queue.release(self)  # its slot, or its place in line, and its person's turn
            self._task = None  # the job no longer needs its images

    def _drive(self, worker) -> None:
        """Pass the interface's requests and the queue's turns on to the worker, and its messages into the state,
        until the worker has sent its run or is gone."""
        paused_since = stop_sent_at = None
        last_message_at = time.monotonic()
        while True:
            for message in worker.receive(POLL_S):
                self._receive(message)
                last_message_at = time.monotonic()
            if self._state.ended:
                try:
                    worker.close()
                except Exception:  # noqa: BLE001 - the run has arrived; a worker that ends untidily changes nothing
                    pass
                return
            if worker.lost is not None:
                self._end_abruptly(f"the training process ended unexpectedly: {worker.lost}")
                return
            now = time.monotonic()
            if self.control.stop_requested:
                if not self._state.started and worker.waiting:  # its executor has not started it: nothing trained
                    worker.kill()
                    with self._lock:
                        self._state.cancelled = True
                    return
                if stop_sent_at is None:
                    worker.send(STOP)
                    stop_sent_at = now
                elif not self._state.trained and now - max(stop_sent_at, last_message_at) > STOP_ANSWER_S:
                    worker.kill()
                    self._end_abruptly(f"the training process did not answer within {STOP_ANSWER_S:g} s", STOPPED)
                    return
            elif self.control.paused:
                if paused_since is None:
                    worker.send(PAUSE)
                    paused_since = now
                    if self.queue is not None:
                        self.queue.step_aside(self)  # a paused run leaves its slot to others
                elif now - paused_since > self.control.timeout_s:
                    self.control.timed_out = True
                    self.control.stop()
            elif paused_since is not None:  # resumed
                paused_since = None
                if self.queue is None or self._back_in_line():
                    worker.send(RESUME)
            elif self.queue is not None and self.queue.should_yield(self):
                worker.send(PAUSE)  # between two batches, its model so far kept in the worker
                self.queue.yield_turn(self)
                if self.control.wait_turn() and not self.control.paused:  # a pause meanwhile holds
                    worker.send(RESUME)

    def _back_in_line(self) -> bool:
        """After a pause, wait in line for a slot again; False when stopped meanwhile."""
        self.queue.rejoin(self)
        return self.control.wait_turn()

    def _receive(self, message: tuple) -> None:
        if message[0] == STARTED and self.queue is not None:
            self.queue.restart_turn(self)  # the turn is for training, not for waiting on a worker to start
        if message[0] == FINISHED:
            message = (FINISHED, message[1].as_run())  # its model rebuilt before the lock: snapshots go on meanwhile
        with self._lock:
            self._state.apply(message)
            progress = self._state.progress
            if message[0] == BATCH and progress.elapsed_seconds >= self.time_budget_s:
                if not self.control.stop_requested:
                    self._state.out_of_time = True
                    self.control.stop()

    def _end_abruptly(self, how: str, status: str = FAILED) -> None:
        """The worker went without its run: keep the run of its last finished epoch and say what happened."""
        kept = self._state.kept_run(self._task)
        epochs = len(self._state.epochs)
        if kept is None:
            what = "it had not finished an epoch, so nothing was kept"
        else:
            what = f"the model of its last finished epoch, {epochs}, is kept as run {kept.name}"
        with self._lock:
            self._state.run = kept
            self._state.ended_abruptly = f"{how[0].upper()}{how[1:]}; {what}."
            if status == FAILED:
                self._state.error = f"{self._state.ended_abruptly} Other sessions go on; press Start to train again."

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        """Stop between batches, keeping the model so far; a job still waiting for its first turn leaves the queue
        untrained, one waiting for a later turn ends with the model it had. A worker that does not answer within
        ``STOP_ANSWER_S`` is ended, keeping its last finished epoch."""
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
        if state.run is None and state.ended_abruptly:  # stopped by ending its worker before its first epoch
            return STOPPED, state.ended_abruptly
        if state.run is None:
            if not state.started and self.queue is None and self._worker is not None and self._worker.waiting:
                return QUEUED, ""
            return (PAUSED if self.control.paused else RUNNING), ""
        result = state.run.result
        if result.divergence is not None:
            return DIVERGED, result.divergence.message
        if result.stopped:
            timeout = self.control.timeout_s if self.control.timed_out else None
            budget = self.time_budget_s if state.out_of_time else None
            message = stopped_message(result.epochs_completed, state.progress, timeout, budget)
            return STOPPED, f"{message} {state.ended_abruptly}".strip()
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
                waiting=self._worker.waiting if status == QUEUED and place is None else "",
            )
