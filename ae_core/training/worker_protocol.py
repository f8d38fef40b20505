"""What the web server and a training worker (a local process or a Ray actor) say to each other.

The server sends a ``TrainingTask``, then commands (``PAUSE``, ``RESUME``, ``STOP``). The worker trains with
``train_task`` and answers with messages, each a tuple whose first item names it:

- ``("started",)``: the worker has the task and builds its model;
- ``("batch", BatchProgress)`` after every batch;
- ``("epoch", EpochEnd)`` after every finished epoch, with the model's weights then, so a worker that dies later
  still leaves its last finished epoch behind;
- ``("trained",)``: the training loop has ended (finished, or honoured a stop); the run's evaluation follows;
- ``("finished", FinishedRun)``: the run, whose model travels as its weights;
- ``("failed", text)``: training raised; the text says what.
"""

from dataclasses import dataclass, replace

import numpy as np

from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.events import BatchProgress, EpochEnd, TrainingControl, TrainingListener

PAUSE, RESUME, STOP = "pause", "resume", "stop"
STARTED, BATCH, EPOCH, TRAINED, FINISHED, FAILED = "started", "batch", "epoch", "trained", "finished", "failed"


@dataclass(frozen=True)
class TrainingTask:
    """One training, as ``runs.train_run`` takes it: ``x_train`` already without ``excluded_class``."""

    x_train: np.ndarray
    x_val: np.ndarray
    dataset_name: str
    model_config: ModelConfig
    train_config: TrainConfig
    name: str | None = None
    split: dict | None = None
    excluded_class: int | None = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])


@dataclass(frozen=True)
class FinishedRun:
    """A run on its way from a worker: ``run`` without its model, which ``weights`` rebuild (``as_run``)."""

    run: object  # ae_core.runs.run.Run, its model None
    weights: list

    def as_run(self):
        return replace(self.run, model=model_with_weights(self.run.model_config, self.run.image_shape, self.weights))


def model_with_weights(model_config: ModelConfig, image_shape: tuple, weights: list):
    """The lab's model for ``model_config`` holding ``weights``: how a trained model crosses between processes."""
    from ae_core.models.architectures import build_autoencoder

    model = build_autoencoder(model_config, image_shape)
    model.set_weights(weights)
    return model


class _SendingListener(TrainingListener):
    def __init__(self, send):
        self.send = send

    def on_batch(self, progress: BatchProgress) -> None:
        self.send((BATCH, progress))

    def on_epoch_end(self, epoch: EpochEnd) -> None:
        self.send((EPOCH, epoch))

    def on_trained(self) -> None:
        self.send((TRAINED,))


def obey(control: TrainingControl, command: str) -> None:
    """Apply a command from the server to the worker's control."""
    {PAUSE: control.pause, RESUME: control.resume, STOP: control.stop}[command]()


def train_task(task: TrainingTask, send, control: TrainingControl) -> tuple:
    """Train ``task`` in this process, telling ``send`` (a callable taking one message) how it goes; returns the last
    message, FINISHED or FAILED, for the caller to send. ``control`` is steered by ``obey``."""
    from ae_core.runs.run import train_run

    send((STARTED,))
    try:
        run = train_run(
            task.x_train,
            task.x_val,
            task.dataset_name,
            task.model_config,
            task.train_config,
            listener=_SendingListener(send),
            control=control,
            name=task.name,
            split=task.split,
            excluded_class=task.excluded_class,
        )
    except Exception as error:  # the server reports it; the worker ends either way
        return (FAILED, f"Training failed: {type(error).__name__}: {error}")
    return (FINISHED, FinishedRun(replace(run, model=None, context=None), run.model.get_weights()))
