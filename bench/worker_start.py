"""Start to first batch: a training handed to a warm local worker process, against a training started on a thread of
the server's own process (how the server trained before it had workers), in the same run.

Both sides train the default digits run (the Convolutional preset's recommended settings, as the Train page starts
it) and are stopped at their first batch. The worker side is a ``TrainingJob`` on ``LocalWorkers(warm=1)``, its one
worker ready (TensorFlow imported) and a slot free: from just before the job is made, as the Train page makes it on
Start, to its first ``BatchProgress`` seen in ``snapshot()``. The thread side is ``runs.run.train_run`` on a thread
of this process, TensorFlow already imported: from just before the thread starts to its listener's first
``on_batch``. The two alternate, each round starting once the worker that replaces the last one is ready.

    PYTHONPATH=. .venv/bin/python bench/worker_start.py --rounds 5
"""

import argparse
import statistics
import threading
import time

from ae_core.data import load_dataset
from ae_core.runs.run import train_run
from ae_core.settings.model_config import DEFAULT_PRESET
from ae_core.settings.recommended import recommended_settings
from ae_core.training.events import TrainingControl, TrainingListener
from ae_core.training.jobs import TrainingJob
from ae_core.training.local_workers import LocalWorkers

POLL_S = 0.002
TARGET_S = 1.0


class _FirstBatch(TrainingListener):
    """Notes the time of the first batch and stops the training there."""

    def __init__(self, control: TrainingControl):
        self.control = control
        self.at: float | None = None

    def on_batch(self, progress) -> None:
        if self.at is None:
            self.at = time.monotonic()
            self.control.stop()


def in_thread(digits, model_config, train_config) -> float:
    """Seconds from starting a thread that trains in this process to its first batch."""
    control = TrainingControl()
    listener = _FirstBatch(control)
    started = time.monotonic()
    thread = threading.Thread(
        target=train_run,
        args=(digits.x_train, digits.x_val, "digits", model_config, train_config),
        kwargs={"listener": listener, "control": control, "split": digits.split.to_dict()},
    )
    thread.start()
    thread.join()
    return listener.at - started


def in_worker(digits, model_config, train_config, workers: LocalWorkers) -> float:
    """Seconds from making a job on the warm worker to its first batch reaching this process."""
    started = time.monotonic()
    job = TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        model_config,
        train_config,
        split=digits.split.to_dict(),
        executor=workers,
    ).start()
    while job.snapshot().progress is None:
        if job.snapshot().finished:
            raise RuntimeError(f"the job ended before its first batch: {job.snapshot().message}")
        time.sleep(POLL_S)
    first_batch = time.monotonic() - started
    job.stop()
    job.join()
    return first_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    digits = load_dataset("digits")
    model_config, train_config = recommended_settings("digits", digits.image_shape, DEFAULT_PRESET, digits.n_train)
    workers = LocalWorkers(warm=1)
    # Warm-up, as a server that has trained once: the thread side traces TensorFlow's first functions in this
    # process, the worker side starts its worker's replacement.
    in_thread(digits, model_config, train_config)
    workers.wait_warm()
    in_worker(digits, model_config, train_config, workers)
    print(f"default digits run ({model_config.preset}, batch {train_config.batch_size}); first batch after start, s")
    print("| round | thread in the server | warm local worker | worker - thread |")
    print("|---|---|---|---|")
    threads, local = [], []
    for round_number in range(1, arguments.rounds + 1):
        workers.wait_warm()
        threads.append(in_thread(digits, model_config, train_config))
        workers.wait_warm()
        local.append(in_worker(digits, model_config, train_config, workers))
        difference = local[-1] - threads[-1]
        print(f"| {round_number} | {threads[-1]:.3f} | {local[-1]:.3f} | {difference:+.3f} |", flush=True)
    thread_median, local_median = statistics.median(threads), statistics.median(local)
    print(
        f"| median | {thread_median:.3f} | {local_median:.3f} | {local_median - thread_median:+.3f} |\n"
        f"warm local worker, median {local_median:.3f} s to the first batch (target at most {TARGET_S:g} s): "
        f"{'met' if local_median <= TARGET_S else 'NOT met'}; max {max(local):.3f} s"
    )
    workers.close()


if __name__ == "__main__":
    main()
