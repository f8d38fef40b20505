"""Sharing the training slots fairly: one training per person, turns of a fair share while others wait, the bound
on a wait, a paused run leaving its slot, and a run's time budget. The queue alone on plain names, then real
TensorFlow jobs on scikit-learn digits, then two tabs of one workspace on the Train page (AppTest)."""

import threading
import time

import pytest

from ae_core.settings.train_config import TrainConfig
from ae_core.training.jobs import (
    DONE,
    PAUSED,
    QUEUED,
    RUN_TIME_BUDGET_ENV,
    RUNNING,
    STOPPED,
    TrainingJob,
    configured_run_time_budget_s,
)
from ae_core.training.queue import FAIR_SHARE_ENV, MAX_CONCURRENT_ENV, TrainingQueue, configured_fair_share_s
from pages.shared import keys, server
from tests.test_jobs import WAIT_S, job, wait_until
from tests.test_workspaces import opened

LONG = TrainConfig(epochs=2000, batch_size=32)  # runs until stopped
SHORT = TrainConfig(epochs=2, batch_size=64)


def admitted_on_thread(queue: TrainingQueue, name: str) -> threading.Event:
    """Wait for ``name``'s turn on a thread of its own; the event is set once it holds a slot."""
    admitted = threading.Event()
    threading.Thread(target=lambda: queue.wait_turn(name) and admitted.set(), daemon=True).start()
    return admitted


def test_a_persons_second_job_waits_behind_their_first_though_a_slot_is_free():
    queue = TrainingQueue(3, fair_share_s=30)
    queue.enqueue("ann-1", person="ann")
    assert queue.wait_turn("ann-1")
    queue.enqueue("ann-2", person="ann")
    queue.enqueue("bob-1", person="bob")
    bob, ann_second = admitted_on_thread(queue, "bob-1"), admitted_on_thread(queue, "ann-2")
    assert bob.wait(5), "another person's job passes the one waiting behind its own"
    assert not ann_second.wait(0.3), "a person trains one job at a time, with a slot free"
    place = queue.place("ann-2")
    assert place.position == 1 and place.behind_own and place.starts_within_s is None
    assert place.describe().endswith("so it starts once your other training has ended")
    queue.release("ann-1")
    assert ann_second.wait(5), "the person's next job starts once the first has ended"


def test_after_its_fair_share_a_running_job_yields_to_a_waiting_person_and_resumes_in_turn():
    queue = TrainingQueue(1, fair_share_s=0.3)
    queue.enqueue("long", person="ann")
    assert queue.wait_turn("long")
    time.sleep(0.4)
    assert not queue.should_yield("long"), "nobody waits: it keeps its slot past its share"
    queue.enqueue("short", person="bob")
    short = admitted_on_thread(queue, "short")
    assert queue.should_yield("long"), "someone waits and its share is used up"
    queue.yield_turn("long")
    assert short.wait(5), "the waiting person took the slot"
    place = queue.place("long")
    assert place.position == 1 and place.resuming and 0 < place.starts_within_s <= 1
    assert "to resume, its training so far kept" in place.describe() and "it resumes within 1 s" in place.describe()
    resumed = admitted_on_thread(queue, "long")
    assert not queue.should_yield("short"), "a fresh turn is not cut short"
    time.sleep(0.35)
    assert queue.should_yield("short"), "round robin: the yielded job waits, so the next turn ends too"
    queue.release("short")
    assert resumed.wait(5)


def test_the_wait_bound_counts_a_turn_per_slot_for_each_job_ahead():
    queue = TrainingQueue(2, fair_share_s=30)
    for name in ("a", "b"):
        queue.enqueue(name)
        assert queue.wait_turn(name)
    for name in ("c", "d", "e"):
        queue.enqueue(name)
    bounds = [queue.place(name).starts_within_s for name in ("c", "d", "e")]
    assert bounds == [30, 30, 60], "c and d take the two slots when a and b have had their turns, e after c"
    text = queue.place("c").describe()
    assert text == (
        "1st in line; 2 trainings running; the server runs at most 2 at once; it starts within 30 s, as each "
        "training takes turns of 30 s while others wait"
    )


def test_the_fair_share_and_the_time_budget_come_from_the_environment(monkeypatch):
    monkeypatch.delenv(FAIR_SHARE_ENV, raising=False)
    monkeypatch.delenv(RUN_TIME_BUDGET_ENV, raising=False)
    assert configured_fair_share_s() == 30 and configured_run_time_budget_s() == 600
    assert TrainingQueue(2).fair_share_s == 30
    monkeypatch.setenv(FAIR_SHARE_ENV, "5")
    monkeypatch.setenv(RUN_TIME_BUDGET_ENV, "120")
    assert TrainingQueue(2).fair_share_s == 5 and configured_run_time_budget_s() == 120
    monkeypatch.setenv(RUN_TIME_BUDGET_ENV, "ten minutes")
    with pytest.raises(ValueError, match="AE_RUN_TIME_BUDGET_S must be a number of seconds above 0; got 'ten minutes'"):
        configured_run_time_budget_s()


def stop(*jobs: TrainingJob) -> None:
    for each in jobs:
        each.stop()
    assert all(each.join(WAIT_S) for each in jobs)


def test_a_long_run_yields_its_slot_so_another_persons_run_finishes_then_it_trains_on(digits):
    queue = TrainingQueue(1, fair_share_s=3.0)
    long = job(digits, LONG, queue=queue, person="ann").start()
    wait_until(lambda: long.snapshot().progress is not None, "the long run's first batch")
    short = job(digits, SHORT, queue=queue, person="bob").start()
    assert short.snapshot().status == QUEUED
    wait_until(lambda: long.snapshot().status == QUEUED, "the long run yielding its slot")
    yielded = long.snapshot()
    assert yielded.place.resuming and yielded.progress is not None, "it waits with what it trained"
    assert short.join(WAIT_S) and short.snapshot().status == DONE, "the other person's run finished"
    batches_then = len(long.snapshot().batch_losses)
    wait_until(lambda: len(long.snapshot().batch_losses) > batches_then + 5, "the long run training on")
    assert long.snapshot().status == RUNNING
    stop(long)
    assert long.snapshot().status == STOPPED and long.snapshot().run.result.epochs_completed >= 1


def test_a_second_start_by_the_same_person_queues_behind_their_first(digits):
    queue = TrainingQueue(2, fair_share_s=30)
    first = job(digits, LONG, queue=queue, person="ann").start()
    second = job(digits, SHORT, queue=queue, person="ann").start()
    wait_until(lambda: first.snapshot().progress is not None, "the first run's first batch")
    time.sleep(1.0)  # time enough for the second to start, were it allowed to
    snapshot = second.snapshot()
    assert snapshot.status == QUEUED and snapshot.place.behind_own and snapshot.place.running == 1
    stop(first)
    assert second.join(WAIT_S) and second.snapshot().status == DONE


def test_a_paused_run_leaves_its_slot_to_others_and_waits_for_one_when_resumed(digits):
    queue = TrainingQueue(1, fair_share_s=30)
    paused = job(digits, LONG, queue=queue, person="ann").start()
    wait_until(lambda: paused.snapshot().progress is not None, "the first batch")
    other = job(digits, LONG, queue=queue, person="bob").start()
    paused.pause()
    wait_until(lambda: other.snapshot().progress is not None, "the other person training while it is paused")
    assert paused.snapshot().status == PAUSED
    paused.resume()
    wait_until(lambda: paused.snapshot().status == QUEUED, "the resumed run waiting for the slot")
    stop(other)
    wait_until(lambda: paused.snapshot().status == RUNNING, "the resumed run taking the freed slot")
    stop(paused)


def test_a_run_past_its_time_budget_stops_keeps_its_model_and_says_why(digits):
    ended = job(digits, LONG, time_budget_s=1.5).start()
    assert ended.join(WAIT_S), "the run stopped by itself"
    snapshot = ended.snapshot()
    assert snapshot.status == STOPPED and snapshot.run is not None and snapshot.run.result.stopped
    assert snapshot.message.startswith("Trained for this server's time budget of 1.5 s per run, so training stopped")
    assert snapshot.message.endswith("the model so far is kept. For a run that finishes, ask for fewer epochs.")
    assert 1.5 <= snapshot.run.result.train_seconds < 10


def test_two_tabs_of_one_workspace_train_one_at_a_time_and_the_page_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("AE_WORKSPACES_DIR", str(tmp_path / "workspaces"))
    monkeypatch.setenv(MAX_CONCURRENT_ENV, "2")
    server.training_queue.clear()
    first = opened()
    tabs = (first, opened(first.session_state[keys.WORKSPACE].token))  # the same workspace in a second tab
    try:
        for tab, epochs in zip(tabs, (500, 1)):
            tab.session_state[keys.DATASET] = "digits"
            tab.switch_page("pages/train.py").run()
            tab.number_input(key=keys.EPOCHS).set_value(epochs).run()
            next(button for button in tab.button if button.label == "Start training").click().run()
            assert not tab.exception
        jobs = [tab.session_state[keys.JOB] for tab in tabs]
        assert jobs[1].snapshot().status == QUEUED and jobs[1].snapshot().place.behind_own
        assert "so it starts once your other training has ended" in tabs[1].info[0].value
        stop(jobs[0])
        assert jobs[1].join(WAIT_S) and jobs[1].snapshot().status == DONE
    finally:
        stop(*(tab.session_state[keys.JOB] for tab in tabs if keys.JOB in tab.session_state))
        server.training_queue.clear()
