"""Trainings in local worker processes: a process per training, replaced after it; a stop that is not answered, and a
worker that dies, end the job with the run of its last finished epoch while the server goes on. Real TensorFlow on
scikit-learn digits."""

import os
import signal
import time

import numpy as np
import pytest

from ae_core.training.jobs import DONE, FAILED, STOP_ANSWER_S, STOPPED
from ae_core.training.local_workers import LocalWorkers
from tests.test_jobs import LONG, SHORT, WAIT_S, job, training, wait_until


@pytest.fixture(scope="module")
def workers():
    pool = LocalWorkers(warm=1)
    yield pool
    pool.close()


def worker_pid(training_job) -> int:
    return training_job.worker.pid


def finished_epochs(training_job, count: int):
    wait_until(lambda: training_job.snapshot().epochs_completed >= count, f"{count} finished epochs")
    return training_job


def test_each_training_has_a_process_of_its_own_which_ends_with_it(digits, workers):
    first = training(job(digits, SHORT, executor=workers).start())
    pid = worker_pid(first)
    assert pid != os.getpid() and first.join(WAIT_S) and first.snapshot().status == DONE
    wait_until(lambda: not os.path.exists(f"/proc/{pid}"), "the worker process ending with its training")
    second = training(job(digits, SHORT, executor=workers).start())
    assert worker_pid(second) != pid
    assert second.join(WAIT_S)
    run = second.snapshot().run
    reconstructions = run.model.predict(digits.x_val[:8], verbose=0)
    assert reconstructions.shape == digits.x_val[:8].shape and np.isfinite(run.metrics["val_mse"])


def test_a_worker_killed_mid_training_fails_its_job_and_keeps_its_last_finished_epoch(digits, workers):
    victim = finished_epochs(job(digits, LONG, executor=workers).start(), 2)
    os.kill(worker_pid(victim), signal.SIGSTOP)  # frozen, so the epochs seen are all it finished
    time.sleep(0.5)  # for the messages already sent to arrive
    kept_epochs = victim.snapshot().epochs_completed
    os.kill(worker_pid(victim), signal.SIGKILL)
    killed_at = time.monotonic()
    assert victim.join(WAIT_S) and time.monotonic() - killed_at < 10
    snapshot = victim.snapshot()
    assert snapshot.status == FAILED
    assert "The training process ended unexpectedly: it was killed by signal SIGKILL" in snapshot.message
    assert f"last finished epoch, {kept_epochs}, is kept as run {snapshot.run.name}" in snapshot.message
    kept = snapshot.run
    assert kept.result.epochs_completed == kept_epochs == len(kept.result.history["val_loss"])
    assert kept.result.preview_timeline.shape[0] == kept_epochs and np.isfinite(kept.metrics["val_mse"])
    assert kept.result.history["val_loss"] == snapshot.history["val_loss"][:kept_epochs]
    after = job(digits, SHORT, executor=workers).start()
    assert after.join(WAIT_S) and after.snapshot().status == DONE, "the next training runs as usual"


def test_a_worker_that_does_not_answer_a_stop_is_ended_and_the_run_keeps_its_finished_epochs(digits, workers):
    frozen = finished_epochs(job(digits, LONG, executor=workers).start(), 1)
    pid = worker_pid(frozen)
    os.kill(pid, signal.SIGSTOP)  # as a training stuck inside an operation
    time.sleep(0.5)  # for the messages already sent to arrive
    kept_epochs = frozen.snapshot().epochs_completed
    stopped_at = time.monotonic()
    frozen.stop()
    assert frozen.join(WAIT_S)
    assert STOP_ANSWER_S <= time.monotonic() - stopped_at < STOP_ANSWER_S + 5
    snapshot = frozen.snapshot()
    assert snapshot.status == STOPPED and snapshot.run.result.epochs_completed == kept_epochs
    assert f"did not answer within {STOP_ANSWER_S:g} s" in snapshot.message
    assert not os.path.exists(f"/proc/{pid}"), "the worker was ended"


def test_a_worker_that_cannot_start_fails_the_job_with_what_happened(digits, monkeypatch):
    monkeypatch.setattr("ae_core.training.local_workers.START_TIMEOUT_S", 0.01)
    broken = job(digits, SHORT, executor=LocalWorkers(warm=0)).start()
    assert broken.join(WAIT_S)
    snapshot = broken.snapshot()
    assert snapshot.status == FAILED
    assert "A training process could not start: it was not ready within 0.01 s." in snapshot.message
    assert snapshot.run is None


def test_a_stop_unanswered_before_the_first_epoch_ends_the_job_stopped_with_nothing_kept(digits, workers):
    frozen = job(digits, LONG, executor=workers).start()
    wait_until(lambda: frozen.worker is not None, "a worker taking the training")
    os.kill(frozen.worker.pid, signal.SIGSTOP)  # as a worker stuck before its first epoch
    time.sleep(0.5)  # for the messages already sent to arrive
    assert frozen.snapshot().epochs_completed == 0
    frozen.stop()
    assert frozen.join(WAIT_S)
    snapshot = frozen.snapshot()
    assert snapshot.status == STOPPED and snapshot.run is None
    assert snapshot.message.endswith("it had not finished an epoch, so nothing was kept.")
