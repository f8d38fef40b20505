"""What has reached the server of one training: its progress, finished epochs and, at the end, its run. A training
whose worker ended abruptly still leaves a run behind, made here from its last finished epoch. And what the interface
asks of a job (``JobControl``), and why a run that stopped early stopped, in words."""

from dataclasses import dataclass, field, replace

import numpy as np

from ae_core.training.events import BatchProgress, TrainingControl, TrainingResult
from ae_core.training.progress_text import duration_text
from ae_core.training.queue import TrainingQueue
from ae_core.training.worker_protocol import (
    BATCH,
    EPOCH,
    FAILED,
    FINISHED,
    STARTED,
    TRAINED,
    TrainingTask,
    model_with_weights,
)


class JobControl(TrainingControl):
    """What the interface asks of a job (pause, resume, stop), which the job's thread passes on to its worker. A pause
    that lasts ``timeout_s`` ends in a stop; a stop takes a job waiting in the queue out of the line."""

    def __init__(self, job, queue: TrainingQueue | None, timeout_s: float):
        super().__init__()
        self.job, self.queue, self.timeout_s = job, queue, timeout_s
        self.timed_out = False

    def wait_turn(self) -> bool:
        """Wait in the queue's line until the job holds a slot (True) or is stopped (False)."""
        if self.stop_requested:  # a stop that came before the job joined the line found nothing to cancel
            self.queue.cancel(self.job)
        return self.queue.wait_turn(self.job)

    def stop(self) -> None:
        super().stop()
        if self.queue is not None:
            self.queue.cancel(self.job)  # a job waiting for its turn leaves the line


def stopped_message(
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


@dataclass
class JobState:
    progress: BatchProgress | None = None
    history: dict = field(default_factory=dict)
    batch_losses: list = field(default_factory=list)
    preview_reconstructions: np.ndarray | None = None
    run: object = None  # the Run, once the job has ended with a model
    error: str = ""
    cancelled: bool = False  # stopped before its turn came: it never trained
    out_of_time: bool = False  # stopped once it had trained for its time budget
    started: bool = False  # a worker has the task
    trained: bool = False  # the training loop has ended; the worker evaluates the run
    ended_abruptly: str = ""  # how the worker ended without sending its run, when it did
    # Each finished epoch without its weights, and the weights of the last: the run kept if the worker goes
    epochs: list = field(default_factory=list)
    last_weights: list | None = None

    @property
    def ended(self) -> bool:
        return self.run is not None or bool(self.error)

    def apply(self, message: tuple) -> None:
        """Record one message from the worker (``worker_protocol``)."""
        kind = message[0]
        if kind == STARTED:
            self.started = True
        elif kind == BATCH:
            self.progress = message[1]
            self.batch_losses.append((self.progress.epochs_done, self.progress.logs["loss"]))
        elif kind == EPOCH:
            epoch = message[1]
            for metric, value in epoch.logs.items():
                self.history.setdefault(metric, []).append(value)
            self.preview_reconstructions = epoch.preview_reconstructions
            self.last_weights = epoch.weights
            self.epochs.append(replace(epoch, weights=[]))
        elif kind == TRAINED:
            self.trained = True
        elif kind == FINISHED:
            self.run = message[1]  # the Run, its model rebuilt from the FinishedRun by the receiver
            self.epochs, self.last_weights = [], None  # the run holds them now
        elif kind == FAILED:
            self.error = message[1]

    def kept_result(self, task: TrainingTask) -> TrainingResult:
        """The training's result up to its last finished epoch, as a stopped run's."""
        finished = len(self.epochs)
        return TrainingResult(
            history={metric: values[:finished] for metric, values in self.history.items()},
            batch_losses=[(x, loss) for x, loss in self.batch_losses if x <= finished],
            epochs_completed=finished,
            samples_seen=finished * len(task.x_train),
            train_seconds=self.epochs[-1].elapsed_seconds,
            preview_images=np.array(task.x_val[: task.train_config.preview_size], dtype=np.float32),
            preview_timeline=np.stack([epoch.preview_reconstructions for epoch in self.epochs]),
            preview_codes=np.stack([epoch.preview_codes for epoch in self.epochs]),
            map_codes=np.stack([epoch.map_codes for epoch in self.epochs]),
            stopped=True,
        )

    def kept_run(self, task: TrainingTask):
        """The run of the last finished epoch, scored as any run is; None before the first epoch finished."""
        from ae_core.runs.run import finished_run

        if not self.epochs:
            return None
        model = model_with_weights(task.model_config, task.image_shape, self.last_weights)
        return finished_run(
            model,
            self.kept_result(task),
            task.x_train,
            task.x_val,
            task.dataset_name,
            task.model_config,
            task.train_config,
            task.name,
            task.split,
            task.excluded_class,
        )
