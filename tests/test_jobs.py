"""Training jobs on one server: the queue that caps concurrent trainings, the pause timeout, and the watchdog that
stops the training of a session whose browser has gone. Real TensorFlow on scikit-learn digits."""

import threading
import time
from types import SimpleNamespace

import pytest
from streamlit.runtime.state import SafeSessionState, SessionState
from streamlit.testing.v1 import AppTest

from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.job_state import stopped_message
from ae_core.training.jobs import (
    CANCELLED,
    DONE,
    PAUSED,
    QUEUED,
    RUNNING,
    STOPPED,
    TrainingJob,
    configured_pause_timeout_s,
)
from ae_core.training.queue import MAX_CONCURRENT_ENV, QueuePlace, TrainingQueue, max_concurrent_trainings
from pages.shared import keys, server
from pages.shared.server import SessionWatchdog

SMALL = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
LONG = TrainConfig(epochs=500, batch_size=32)  # runs until stopped
SHORT = TrainConfig(epochs=1, batch_size=64)
WAIT_S = 120  # generous: the machine is shared


def job(digits, train_config=LONG, **options) -> TrainingJob:
    return TrainingJob(digits.x_train, digits.x_val, "digits", SMALL, train_config, **options)


def wait_until(condition, what: str, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout_s} s")


def training(job: TrainingJob) -> TrainingJob:
    """``job`` once it has trained its first batch."""
    wait_until(lambda: job.snapshot().progress is not None, "a first batch")
    return job


def stop(*jobs: TrainingJob) -> None:
    for each in jobs:
        each.stop()
    assert all(each.join(WAIT_S) for each in jobs)


def test_with_a_cap_of_one_a_second_job_waits_then_runs_when_the_first_is_stopped(digits):
    queue = TrainingQueue(1)
    first = training(job(digits, queue=queue).start())
    second = job(digits, SHORT, queue=queue).start()
    time.sleep(1.0)  # time enough to start training, were it allowed to
    snapshot = second.snapshot()
    assert snapshot.status == QUEUED and not snapshot.finished and snapshot.progress is None
    assert (snapshot.place.position, snapshot.place.running, snapshot.place.max_concurrent) == (1, 1, 1)
    assert snapshot.place.describe().startswith("1st in line; 1 training running; the server runs at most 1 at once")
    stop(first)
    assert first.snapshot().status == STOPPED and first.snapshot().run is not None, "the stop freed the slot"
    assert second.join(WAIT_S)
    assert second.snapshot().status == DONE and second.snapshot().run.result.epochs_completed == 1
    assert queue.place(second) == QueuePlace(position=0, running=0, max_concurrent=1, fair_share_s=queue.fair_share_s)


def test_cancelling_a_queued_job_removes_it_and_it_never_trains(digits):
    queue = TrainingQueue(1)
    first = training(job(digits, queue=queue).start())
    second, third = job(digits, SHORT, queue=queue).start(), job(digits, SHORT, queue=queue).start()
    assert third.snapshot().place.position == 2
    second.stop()
    assert second.join(10), "a cancelled job ends at once, without waiting for the running one"
    snapshot = second.snapshot()
    assert snapshot.status == CANCELLED and snapshot.finished and "nothing was trained" in snapshot.message
    assert snapshot.progress is None and snapshot.run is None and not snapshot.history
    assert third.snapshot().place.position == 1, "the next in line moved up"
    assert first.snapshot().status == RUNNING
    stop(first, third)


def test_the_queue_admits_in_the_order_jobs_arrived_and_up_to_its_cap():
    queue, admitted, finish = TrainingQueue(2), [], threading.Event()
    names = ["a", "b", "c", "d", "e"]
    for name in names:
        queue.enqueue(name)

    def take_turn(name):
        assert queue.wait_turn(name)
        admitted.append(name)
        finish.wait()
        queue.release(name)

    threads = [threading.Thread(target=take_turn, args=(name,)) for name in reversed(names)]  # start out of order
    for thread in threads:
        thread.start()
    wait_until(lambda: len(admitted) == 2, "two admissions")
    time.sleep(0.2)
    assert sorted(admitted) == ["a", "b"], "only the first two, up to the cap of 2"
    assert (queue.place("c").position, queue.place("c").running, queue.place("c").max_concurrent) == (1, 2, 2)
    assert queue.place("e").position == 3
    finish.set()
    for thread in threads:
        thread.join(10)
    assert admitted[2:] == ["c", "d", "e"] and queue.place("e").running == 0


def test_the_cap_comes_from_the_environment_and_a_bad_value_says_what_to_do(monkeypatch):
    import os

    monkeypatch.delenv(MAX_CONCURRENT_ENV, raising=False)
    assert max_concurrent_trainings() == max(2, os.cpu_count() // 2)
    monkeypatch.setenv(MAX_CONCURRENT_ENV, "3")
    assert max_concurrent_trainings() == 3
    for bad in ("0", "two"):
        monkeypatch.setenv(MAX_CONCURRENT_ENV, bad)
        with pytest.raises(ValueError, match=f"{MAX_CONCURRENT_ENV} must be a whole number of at least 1; got '{bad}'"):
            max_concurrent_trainings()
    with pytest.raises(ValueError, match="at least 1"):
        TrainingQueue(0)


def test_a_paused_job_stops_after_its_pause_timeout_and_keeps_its_model(digits, monkeypatch):
    monkeypatch.delenv("AE_PAUSE_TIMEOUT_S", raising=False)
    assert configured_pause_timeout_s() == 600
    monkeypatch.setenv("AE_PAUSE_TIMEOUT_S", "1.5")
    paused = training(job(digits, TrainConfig(epochs=500, batch_size=512)).start())
    wait_until(lambda: paused.snapshot().epochs_completed >= 1, "a finished epoch")
    paused.pause()
    wait_until(lambda: paused.snapshot().status == PAUSED, "the pause")
    assert paused.join(WAIT_S), "the pause timed out"
    snapshot = paused.snapshot()
    assert snapshot.status == STOPPED and snapshot.message.startswith("Paused for more than 1.5 s, so training stopped")
    assert snapshot.run is not None and snapshot.run.result.stopped and snapshot.run.result.epochs_completed >= 1


def test_the_stop_message_counts_one_epoch_in_the_singular_and_more_in_the_plural():
    assert stopped_message(1, None, None) == "Stopped after 1 finished epoch; the model so far is kept."
    assert stopped_message(0, None, None).startswith("Stopped after 0 finished epochs;")
    assert stopped_message(2, None, 3.0).endswith("stopped after 2 finished epochs; the model so far is kept.")


def test_a_resumed_job_does_not_time_out(digits):
    resumed = training(job(digits, pause_timeout_s=1.0).start())
    resumed.pause()
    time.sleep(0.3)
    resumed.resume()
    time.sleep(1.5)
    assert resumed.snapshot().status == RUNNING
    stop(resumed)
    assert not resumed.snapshot().message.startswith("Paused")


def test_the_watchdog_stops_a_job_whose_session_stays_gone_past_the_grace(digits):
    active = {"gone": True, "blip": True}
    watchdog = SessionWatchdog(lambda session: active[session], poll_s=0.1)
    abandoned, kept = training(job(digits).start()), job(digits).start()
    for watched, session in ((abandoned, "gone"), (kept, "blip")):  # 3 s of grace: 2.5 s of slack
        watchdog.watch(watched, session, 3.0, watched.stop, ended=lambda watched=watched: watched.snapshot().finished)
    active["gone"] = active["blip"] = False
    time.sleep(0.5)
    active["blip"] = True  # a reload: the session came back within the grace
    assert abandoned.join(WAIT_S), "the abandoned job stopped"
    assert abandoned.snapshot().status == STOPPED and abandoned.snapshot().run is not None, "its model is kept"
    time.sleep(1.0)
    assert kept.snapshot().status == RUNNING and watchdog.watched() == 1
    stop(kept)
    wait_until(lambda: watchdog.watched() == 0, "the ended job being forgotten", timeout_s=5)


def test_a_session_gone_past_its_time_to_live_lets_go_of_its_state(digits, monkeypatch):
    """What a session holds (runs, upload, job) is freed once Streamlit no longer lets it reconnect, even on a
    server no other session connects to afterwards (Streamlit itself drops an expired session only then)."""
    active = {"tab": True}
    watchdog = SessionWatchdog(lambda session: active[session], poll_s=0.05)
    session_state = SafeSessionState(SessionState(), lambda: None)
    session_state[keys.RUNS] = {"a run": object()}
    session_state[keys.UPLOADS] = {"upload": digits}
    context = SimpleNamespace(session_id="tab", session_state=session_state)
    monkeypatch.setattr(server, "_watchdog", watchdog)
    monkeypatch.setattr(server, "_connected_context", lambda: context)
    monkeypatch.setattr(server.st, "get_option", {"server.disconnectedSessionTTL": 0.5}.get)
    server.release_state_when_expired()
    server.release_state_when_expired()  # every page run asks; the session is watched once
    assert watchdog.watched() == 1
    time.sleep(1.0)
    assert keys.RUNS in session_state and keys.UPLOADS in session_state, "a connected session keeps its state"
    active["tab"] = False
    wait_until(lambda: not session_state.filtered_state, "the closed session's state being let go", timeout_s=5)
    assert watchdog.watched() == 0


def test_a_finished_job_leaves_no_training_graph_behind(digits):
    """A trace of Keras' training step registers a custom gradient holding the step's graph, for the life of the
    process; a job trains in a worker process, so the server's registry and memory do not grow with each training."""
    import gc

    from tensorflow.python.framework import ops
    from tensorflow.python.framework.func_graph import FuncGraph

    def custom_gradients() -> set:
        return {name for name in ops._gradient_registry.list() if name.startswith("CustomGradient-")}

    def graphs_alive() -> int:
        gc.collect()
        return sum(isinstance(thing, FuncGraph) for thing in gc.get_objects())

    registered, graphs = custom_gradients(), graphs_alive()
    for _ in range(3):
        stop(training(job(digits).start()))
    assert custom_gradients() == registered
    assert graphs_alive() <= graphs, "each job's traced steps were freed with it"


def test_the_train_page_shows_a_queued_jobs_place_and_cancels_it(digits, shared_data_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("AE_DATA_DIR", str(shared_data_dir))
    monkeypatch.setenv("AE_RUNS_DIR", str(tmp_path))
    monkeypatch.setenv(MAX_CONCURRENT_ENV, "1")
    server.training_queue.clear()
    blocker = training(job(digits, queue=server.training_queue()).start())
    try:
        at = AppTest.from_file("../app.py", default_timeout=60)
        at.session_state[keys.DATASET] = "digits"
        at.run()
        at.switch_page("pages/train.py").run()
        next(button for button in at.button if button.label == "Start training").click().run()
        assert not at.exception and at.session_state[keys.JOB].snapshot().status == QUEUED
        assert "1st in line; 1 training running; the server runs at most 1 at once" in at.info[0].value
        cancel = next(button for button in at.button if button.label == "Cancel")
        assert not cancel.disabled and not at.progress, "no progress bar before its turn"
        cancel.click().run()
        assert at.session_state[keys.JOB].join(10)
        at.run()
        assert not at.exception and "Cancelled before its turn came" in at.info[0].value
        assert not at.session_state[keys.RUNS] and blocker.snapshot().status == RUNNING
    finally:
        stop(blocker)
        server.training_queue.clear()
