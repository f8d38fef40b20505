"""Trainings shared by everyone on a server: a lesson step that a whole class runs with the same settings, data and
seed trains once, and every student gets that run.

A ``SharedTrainings`` keeps one ``TrainingJob`` per key: the dataset's name, split and content hash, the model and
training settings (the seed among them) and the class left out. Asking for a key that is training, or trained,
returns that job, so thirty simultaneous presses join one training and each watches its progress; a lock makes the
check and the start one step. A job that failed, was cancelled or stopped before its end is started again on the
next request. The lab's own Train page keeps training per person.
"""

import json
import threading

from ae_core.data import Dataset
from ae_core.runs.run import training_images
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.jobs import CANCELLED, FAILED, STOPPED, TrainingJob
from ae_core.training.queue import TrainingQueue

RETRIED = (FAILED, CANCELLED, STOPPED)  # ended without the full run: the next request trains again


def training_key(
    dataset: Dataset, model_config: ModelConfig, train_config: TrainConfig, excluded_class: int | None = None
) -> str:
    """The text two requests share exactly when they would train the same run: dataset, split and content hash,
    settings (the seed is in ``train_config``) and the class left out."""
    return json.dumps(
        {
            "dataset": dataset.name,
            "split": dataset.split.to_dict(),
            "model": model_config.to_dict(),
            "training": train_config.to_dict(),
            "excluded_class": excluded_class,
        },
        sort_keys=True,
    )


class SharedTrainings:
    """One training per key for a whole server; thread-safe. ``queue``: the server's training queue, whose turns
    the shared jobs take like anyone's (each key counts as one person); None trains at once."""

    def __init__(self, queue: TrainingQueue | None = None):
        self.queue = queue
        self.started = 0  # trainings started, for a server's log and the tests
        self._lock = threading.Lock()
        self._jobs: dict[str, TrainingJob] = {}

    def request(
        self,
        dataset: Dataset,
        model_config: ModelConfig,
        train_config: TrainConfig,
        excluded_class: int | None = None,
        name: str | None = None,
    ) -> TrainingJob:
        """The job that trains this run: the one already training or trained for the same key, else a new one,
        started. Settings are checked as ``TrainingJob`` checks them (ValueError at once)."""
        key = training_key(dataset, model_config, train_config, excluded_class)
        with self._lock:
            job = self._jobs.get(key)
            if job is None or job.snapshot().status in RETRIED:
                x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, excluded_class)
                job = TrainingJob(
                    x_train,
                    dataset.x_val,
                    dataset.name,
                    model_config,
                    train_config,
                    name=name,
                    split=dataset.split.to_dict(),
                    excluded_class=excluded_class,
                    queue=self.queue,
                    person=("shared", key),
                )
                self._jobs[key] = job.start()
                self.started += 1
            return job
