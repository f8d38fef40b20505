"""A worker killed with SIGKILL at a random moment of its training, again and again: does its job end "failed" in
time, keep its finished epochs, and does the same executor serve the next training?

Each round starts the default digits run (the Convolutional preset's recommended settings, as the Train page starts
it) as a ``TrainingJob`` on local workers behind a ``TrainingQueue`` of one slot, as the server has, draws a moment
of its training at random (a number of finished epochs, 0 to ``--max-epochs``, then a delay of 0 to ``--max-delay``
s after the server has seen them; with 0 epochs, after its first batch) and kills its worker process with SIGKILL
then. The moment is drawn in epochs, not seconds, so that it falls across the training however loaded the machine
is. It checks that:

- the job ends "failed" within ``--deadline`` s of the kill, its message saying the training process ended;
- the run it keeps holds every epoch that reached the server: ``snapshot().run.result.epochs_completed`` equals the
  epochs in its history, at least those seen just before the kill, and the kept model reconstructs the validation
  images with the last finished epoch's validation loss (no run kept only when no epoch had finished);
- the next training on the same executor and queue (the same run, 2 epochs) ends "done".

    PYTHONPATH=. .venv/bin/python bench/worker_kill.py --rounds 20
"""

import argparse
import os
import random
import signal
import statistics
import sys
import time
from dataclasses import replace

import numpy as np

from ae_core.data import load_dataset
from ae_core.settings.model_config import DEFAULT_PRESET
from ae_core.settings.recommended import recommended_settings
from ae_core.training.jobs import DONE, FAILED, TrainingJob
from ae_core.training.local_workers import LocalWorkers
from ae_core.training.queue import TrainingQueue

POLL_S = 0.01
NEXT_EPOCHS = 2
LOSS_TOLERANCE = 1e-3  # relative: the kept model's validation MSE against its last epoch's validation loss


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


def worker_pid(job: TrainingJob) -> int:
    """The process id of the local worker that trains ``job`` (the job's handle, ``LocalTraining``)."""
    return job.worker.pid


def kept_run_checks(snapshot, seen_before_kill: int, x_val: np.ndarray) -> tuple[int, bool, str]:
    """(epochs kept, whether the kept run is right, a note)."""
    epochs_in_history = snapshot.epochs_completed
    run = snapshot.run
    if run is None:
        return 0, epochs_in_history == 0 == seen_before_kill, "no epoch had finished: nothing kept"
    kept = run.result.epochs_completed
    if kept != epochs_in_history or kept < max(seen_before_kill, 1):
        return kept, False, f"history holds {epochs_in_history}, {seen_before_kill} seen before the kill"
    reconstructions = run.model.predict(x_val, verbose=0)
    val_mse = float(np.mean((reconstructions - x_val) ** 2))
    last_val_loss = snapshot.history["val_loss"][-1]
    right = reconstructions.shape == x_val.shape and abs(val_mse - last_val_loss) <= LOSS_TOLERANCE * last_val_loss
    return kept, right, f"val MSE {val_mse:.5f}, epoch {kept}'s val loss {last_val_loss:.5f}"


def one_round(digits, model_config, train_config, queue, workers, epochs: int, delay_s: float, deadline_s: float):
    job = TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        model_config,
        train_config,
        split=digits.split.to_dict(),
        queue=queue,
        person="student",
        executor=workers,
    ).start()
    if not wait_for(lambda: job.snapshot().progress is not None and job.snapshot().epochs_completed >= epochs, 300):
        raise RuntimeError(f"not {epochs} epochs: {job.snapshot().status} {job.snapshot().message}")
    time.sleep(delay_s)
    before = job.snapshot()
    if before.finished:
        raise RuntimeError("the training finished before the kill; choose fewer --max-epochs")
    os.kill(worker_pid(job), signal.SIGKILL)
    killed_at = time.monotonic()
    ended = wait_for(lambda: job.snapshot().finished, deadline_s)
    ended_after = time.monotonic() - killed_at
    job.join(300)
    after = job.snapshot()
    kept, kept_right, note = kept_run_checks(after, before.epochs_completed, digits.x_val)
    next_job = TrainingJob(
        digits.x_train,
        digits.x_val,
        "digits",
        model_config,
        replace(train_config, epochs=NEXT_EPOCHS),
        split=digits.split.to_dict(),
        queue=queue,
        person="student",
        executor=workers,
    ).start()
    next_job.join(600)
    return {
        "epochs": epochs,
        "delay_s": delay_s,
        "epoch_at_kill": before.progress.epoch,
        "seen": before.epochs_completed,
        "status": after.status,
        "ended_s": ended_after if ended else None,
        "said": "training process ended unexpectedly" in after.message and "SIGKILL" in after.message,
        "kept": kept,
        "kept_right": kept_right,
        "note": note,
        "next": next_job.snapshot().status,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--max-epochs", type=int, default=20, help="the kill comes after 0 to this many epochs")
    parser.add_argument("--max-delay", type=float, default=1.0, help="and 0 to this many s after them")
    parser.add_argument("--deadline", type=float, default=10.0, help="s after the kill by which the job must fail")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args()
    digits = load_dataset("digits")
    model_config, train_config = recommended_settings("digits", digits.image_shape, DEFAULT_PRESET, digits.n_train)
    workers, queue = LocalWorkers(warm=1), TrainingQueue(1)
    draw = random.Random(arguments.seed)
    print(
        f"default digits run ({model_config.preset}, {train_config.epochs} epochs, batch {train_config.batch_size}), "
        f"SIGKILL 0 to {arguments.max_delay:g} s after 0 to {arguments.max_epochs} finished epochs; next training "
        f"{NEXT_EPOCHS} epochs"
    )
    print("| round | kill after | in epoch | epochs seen | status | failed after | epochs kept | kept run | next |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for number in range(1, arguments.rounds + 1):
        row = one_round(
            digits,
            model_config,
            train_config,
            queue,
            workers,
            draw.randint(0, arguments.max_epochs),
            draw.uniform(0, arguments.max_delay),
            arguments.deadline,
        )
        row["ok"] = (
            row["status"] == FAILED and row["ended_s"] is not None and row["said"] and row["kept_right"]
        ) and row["next"] == DONE
        rows.append(row)
        ended = "NOT within the deadline" if row["ended_s"] is None else f"{row['ended_s']:.2f} s"
        print(
            f"| {number} | {row['epochs']} epochs + {row['delay_s']:.2f} s | {row['epoch_at_kill']} | {row['seen']} | "
            f"{row['status']} | "
            f"{ended} | {row['kept']} | {'right' if row['kept_right'] else 'WRONG'} ({row['note']}) | {row['next']} |",
            flush=True,
        )
    workers.close()
    ended = [row["ended_s"] for row in rows if row["ended_s"] is not None]
    kept = [row["kept"] for row in rows]
    passed, next_done = sum(row["ok"] for row in rows), sum(row["next"] == DONE for row in rows)
    print(
        f"{passed} of {len(rows)} rounds passed every check; failed after the kill: median "
        f"{statistics.median(ended):.2f} s, max {max(ended):.2f} s (deadline {arguments.deadline:g} s); "
        f"epochs kept {min(kept)} to {max(kept)}; the next training done in {next_done} of {len(rows)}"
    )
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
