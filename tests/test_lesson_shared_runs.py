"""Shared trainings: requests for the same run, at the same moment, train it once and all get that run."""

import threading
from dataclasses import replace

import pytest

from ae_core.lesson.shared_runs import SharedTrainings, training_key
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.jobs import DONE
from ae_core.training.queue import TrainingQueue

MODEL = ModelConfig(preset="dense", latent_dim=4, hidden_units=(16,))
TRAINING = TrainConfig(epochs=1, batch_size=256)
STUDENTS = 10


def press_together(shared: SharedTrainings, dataset, count: int, **settings) -> list:
    """``count`` threads that request the same run at the same moment; the jobs they got, in thread order."""
    barrier, jobs = threading.Barrier(count), [None] * count

    def press(index: int) -> None:
        barrier.wait()
        jobs[index] = shared.request(dataset, MODEL, TRAINING, **settings)

    threads = [threading.Thread(target=press, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return jobs


def test_simultaneous_requests_for_one_run_train_it_once(digits):
    shared = SharedTrainings(TrainingQueue(2))
    jobs = press_together(shared, digits, STUDENTS)
    assert shared.started == 1
    assert all(job is jobs[0] for job in jobs)
    assert jobs[0].join(120)
    snapshots = [job.snapshot() for job in jobs]
    assert {snapshot.status for snapshot in snapshots} == {DONE}
    assert len({snapshot.run.id for snapshot in snapshots}) == 1
    later = shared.request(digits, MODEL, TRAINING)  # a student who comes once it has trained gets it at once
    assert later is jobs[0] and shared.started == 1


def test_another_seed_or_class_left_out_is_another_training(digits):
    shared = SharedTrainings()
    first = shared.request(digits, MODEL, TRAINING)
    reseeded = shared.request(digits, MODEL, replace(TRAINING, seed=1))
    without_zeros = shared.request(digits, MODEL, TRAINING, excluded_class=0)
    assert shared.started == 3 and len({id(first), id(reseeded), id(without_zeros)}) == 3
    for job in (first, reseeded, without_zeros):
        assert job.join(120)
    assert without_zeros.snapshot().run.excluded_class == 0
    assert reseeded.snapshot().run.train_config.seed == 1


def test_a_stopped_training_is_started_again_on_the_next_request(digits):
    shared = SharedTrainings()
    first = shared.request(digits, MODEL, replace(TRAINING, epochs=50))
    first.stop()
    assert first.join(120)
    again = shared.request(digits, MODEL, replace(TRAINING, epochs=50))
    assert again is not first and shared.started == 2
    again.stop()
    again.join(120)


def test_the_key_names_the_data_by_its_content(digits):
    other_images = replace(digits, split=replace(digits.split, content_hash="0" * 32))
    assert training_key(digits, MODEL, TRAINING) != training_key(other_images, MODEL, TRAINING)
    assert training_key(digits, MODEL, TRAINING) == training_key(digits, replace(MODEL), replace(TRAINING))


def test_impossible_settings_are_refused_at_once(digits):
    shared = SharedTrainings()
    with pytest.raises(ValueError, match="batch_size"):
        shared.request(digits, MODEL, replace(TRAINING, batch_size=100_000))
    assert shared.started == 0
