"""The command line's ``train --executor local|ray``: a training through the app's executor, its progress on the
command's progress bar, Ctrl-C a stop that keeps the run."""

import math
import signal
import sys

POLL_S = 0.2  # how often the progress bar follows a training in a worker


def train_in_worker(executor: str, arguments: tuple, options: dict, progress):
    """Train through the app's executor ``executor`` ("local" or "ray"), without its queue or time budget; the run,
    or the run of the last finished epoch when the worker ended abruptly (its message then printed)."""
    from ae_core.training import executors
    from ae_core.training.jobs import FAILED, TrainingJob

    job = TrainingJob(
        *arguments, executor=executors.executor(executor, one_training=True), time_budget_s=math.inf, **options
    ).start()
    signal.signal(signal.SIGINT, lambda *_: job.stop())  # Ctrl-C stops after this batch and keeps the run
    while not job.join(POLL_S):
        snapshot = job.snapshot()
        if snapshot.history.get("val_loss"):
            progress.last_epoch_logs = {"val_loss": f"{snapshot.history['val_loss'][-1]:.4f}"}
        if snapshot.progress is not None:
            progress.on_batch(snapshot.progress)
    snapshot = job.snapshot()
    if snapshot.run is None:
        raise ChildProcessError(snapshot.message)
    if snapshot.status == FAILED:
        print(snapshot.message, file=sys.stderr)
    return snapshot.run
