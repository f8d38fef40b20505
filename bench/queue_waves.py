"""Waves of trainings through the server's queue without Streamlit or a browser: the library's share of what many
users leave behind. Each wave starts ten jobs at once (Dense on scikit-learn's digits, 2 epochs) through a queue
of two, computes each run's default latent map on one reused thread, as the app does when a run finishes (with
--thread-per-map, on a new thread each), then lets the runs go, as the server does with a closed session's state,
and prints the process's resident memory (from /proc).

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/queue_waves.py --waves 8
"""

import argparse
import threading
from concurrent.futures import ThreadPoolExecutor

from ae_core.data import load_dataset
from ae_core.latent.maps import default_run_map
from ae_core.runs.context import context_for
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training import native_memory
from ae_core.training.jobs import TrainingJob
from ae_core.training.queue import TrainingQueue

JOBS_PER_WAVE, QUEUE_CAP = 10, 2
MODEL = ModelConfig(preset="dense", latent_dim=8, hidden_units=(256, 128))
TRAINING = TrainConfig(epochs=2, batch_size=64)


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS:"))


def default_map(run, digits) -> None:
    default_run_map(context_for(run, digits))


def wave(digits, queue: TrainingQueue, worker: ThreadPoolExecutor | None) -> None:
    """One wave; the maps on ``worker``, or on a new thread each when it is None."""
    jobs = [
        TrainingJob(
            digits.x_train, digits.x_val, "digits", MODEL, TRAINING, queue=queue, split=digits.split.to_dict()
        ).start()
        for _ in range(JOBS_PER_WAVE)
    ]
    for job in jobs:
        job.join()
    if worker is not None:
        for done in [worker.submit(default_map, job.snapshot().run, digits) for job in jobs]:
            done.result()
        return
    maps = [threading.Thread(target=default_map, args=(job.snapshot().run, digits)) for job in jobs]
    for thread in maps:
        thread.start()
    for thread in maps:
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=8)
    parser.add_argument("--thread-per-map", action="store_true", help="a new thread for each run's map")
    arguments = parser.parse_args()
    digits, queue = load_dataset("digits"), TrainingQueue(QUEUE_CAP)
    worker = None if arguments.thread_per_map else ThreadPoolExecutor(max_workers=1)
    for number in range(1, arguments.waves + 1):
        wave(digits, queue, worker)
        native_memory.release_free_memory()  # as the server does once a session's state is emptied
        print(f"wave {number}: {resident_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    main()
