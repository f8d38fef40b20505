"""Training jobs on a real Ray cluster on this machine: a local cluster of 2 CPUs (and one GPU as Ray counts it), and
one of two 1-CPU nodes for placement. Real TensorFlow on scikit-learn digits; each training is a Ray actor in a worker
process of its own."""

import os
import signal
import time

import pytest
import ray
from ray.cluster_utils import Cluster

from ae_core.settings import environment
from ae_core.settings.environment import ServerEnvironment
from ae_core.settings.train_config import TrainConfig
from ae_core.training.jobs import CANCELLED, DONE, FAILED, PAUSED, QUEUED, RUNNING, STOPPED
from ae_core.training.ray_workers import RayWorkers, check_address
from tests.browser.conftest import free_port
from tests.test_jobs import WAIT_S, job, stop, training, wait_until

TWO_EPOCHS = TrainConfig(epochs=2, batch_size=64)
SLOW = TrainConfig(epochs=500, batch_size=8)  # small batches: many messages, runs until stopped
CPUS_ENV = ServerEnvironment.variable("ray_cpus_per_training")
GPUS_ENV = ServerEnvironment.variable("ray_gpus_per_training")


class RecordingRayWorkers(RayWorkers):
    """The Ray executor, keeping the handle of each training it launches so a test can find its actor."""

    def __init__(self):
        super().__init__()
        self.launched = []

    def launch(self, task):
        training = super().launch(task)
        self.launched.append(training)
        return training


@pytest.fixture(scope="module")
def local_cluster():
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("RAY_ADDRESS", raising=False)  # it would name the cluster to use, over ours
        # One GPU as Ray counts them: a resource to ask for and wait for (TensorFlow here is CPU-only and ignores it)
        ray.init(address="local", num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
        yield
        ray.shutdown()


@pytest.fixture
def workers(local_cluster) -> RecordingRayWorkers:
    return RecordingRayWorkers()


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_what_a_training_asks_of_ray_comes_from_the_environment_and_a_bad_value_says_what_to_do(monkeypatch):
    monkeypatch.setenv(CPUS_ENV, "0.5")
    monkeypatch.delenv(GPUS_ENV, raising=False)
    assert (environment.current().ray_cpus_per_training, environment.current().ray_gpus_per_training) == (0.5, 0)
    monkeypatch.setenv(CPUS_ENV, "0")
    with pytest.raises(ValueError, match=f"{CPUS_ENV} must be a number of CPUs above 0 .*; got '0'. .* default, 1 CPU"):
        environment.current()
    monkeypatch.delenv(CPUS_ENV)
    monkeypatch.setenv(GPUS_ENV, "one")
    with pytest.raises(ValueError, match=f"{GPUS_ENV} must be a number of GPUs of at least 0"):
        environment.current()


def test_an_address_where_no_cluster_answers_is_refused_at_once_saying_what_to_do():
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(ConnectionError, match=f"RAY_ADDRESS names, {address}, does not answer .*Start its head"):
        check_address(address)
    assert time.monotonic() - started < 10


def test_a_job_trains_on_ray_to_done_and_its_actor_goes_after(digits, workers):
    finished = job(digits, TWO_EPOCHS, executor=workers).start()
    assert finished.join(WAIT_S)
    snapshot = finished.snapshot()
    assert snapshot.status == DONE, snapshot.message
    run = snapshot.run
    assert run.result.epochs_completed == 2 and len(snapshot.history["val_loss"]) == 2
    reconstructions = run.model.predict(digits.x_val[:8], verbose=0)
    assert reconstructions.shape == digits.x_val[:8].shape
    error = float(((reconstructions - digits.x_val[:8]) ** 2).mean())
    assert 0 < run.metrics["val_mse"] < 1 and error < 1, "the weights that came back reconstruct"
    (training_handle,) = workers.launched
    assert training_handle.lost is None and training_handle.waiting == ""
    pid = training_handle.where().pid
    assert pid != os.getpid(), "the training ran in a worker, not in this process"
    wait_until(lambda: process_gone(pid), "the actor's process ending after its run came back", timeout_s=20)


def test_the_actor_trains_under_the_servers_limits(digits, workers, monkeypatch):
    refused = job(digits, TWO_EPOCHS, executor=workers)  # checked here under the default limits
    monkeypatch.setenv("AE_MAX_TRAINING_BYTES", "1000")  # the server's limit by the time its actor trains
    assert refused.start().join(WAIT_S)
    snapshot = refused.snapshot()
    assert snapshot.status == FAILED and "(AE_MAX_TRAINING_BYTES)" in snapshot.message and snapshot.run is None


def test_stop_keeps_the_model_so_far(digits, workers):
    stopped = training(job(digits, SLOW, executor=workers).start())
    wait_until(lambda: stopped.snapshot().epochs_completed >= 1, "a finished epoch")
    stop(stopped)
    snapshot = stopped.snapshot()
    assert snapshot.status == STOPPED and snapshot.message.startswith("Stopped after")
    assert snapshot.run is not None and snapshot.run.result.stopped and snapshot.run.result.epochs_completed >= 1


def test_pause_holds_the_batches_and_resume_goes_on(digits, workers):
    paused = training(job(digits, SLOW, executor=workers).start())
    paused.pause()
    wait_until(lambda: paused.snapshot().status == PAUSED, "the pause")
    time.sleep(1.0)  # the batches in flight when the pause was sent arrive
    held = paused.snapshot().progress
    time.sleep(2.0)
    assert paused.snapshot().progress == held, "no batch trained while paused"
    paused.resume()
    wait_until(lambda: paused.snapshot().status == RUNNING, "the resume")
    wait_until(lambda: paused.snapshot().progress != held, "a batch after the resume", timeout_s=30)
    stop(paused)
    assert paused.snapshot().status == STOPPED


def test_a_worker_killed_mid_training_fails_its_job_and_keeps_its_last_finished_epoch(digits, workers):
    killed = training(job(digits, SLOW, executor=workers).start())
    wait_until(lambda: killed.snapshot().epochs_completed >= 1, "a finished epoch")
    os.kill(workers.launched[0].where().pid, signal.SIGKILL)
    epochs_before = killed.snapshot().epochs_completed
    killed_at = time.monotonic()
    assert killed.join(10), "the job ended within 10 s of the kill"
    assert time.monotonic() - killed_at < 10
    snapshot = killed.snapshot()
    assert snapshot.status == FAILED
    assert snapshot.message.startswith("The training process ended unexpectedly: its Ray worker ended (ActorDiedError")
    assert "the model of its last finished epoch" in snapshot.message
    # An epoch may have finished between the look and the kill
    assert snapshot.run is not None and snapshot.run.result.epochs_completed in (epochs_before, epochs_before + 1)
    assert snapshot.run.result.epochs_completed == snapshot.epochs_completed and snapshot.run.result.stopped


def test_a_job_waits_while_the_cluster_has_no_free_cpu_and_gpu_for_it(digits, workers, monkeypatch):
    monkeypatch.setenv(CPUS_ENV, "2")  # each training takes the whole cluster
    monkeypatch.setenv(GPUS_ENV, "1")
    first = training(job(digits, executor=workers).start())
    second = job(digits, TWO_EPOCHS, executor=workers).start()
    time.sleep(3.0)  # time enough to start training, were there room
    snapshot = second.snapshot()
    assert snapshot.status == QUEUED and snapshot.progress is None and snapshot.place is None
    assert snapshot.waiting == (
        "the Ray cluster has no free CPU and GPU for it yet (it asks for 2 CPUs and 1 GPU); "
        "Ray starts it when one frees"
    )
    assert first.snapshot().status == RUNNING
    stop(first)
    assert second.join(WAIT_S)
    assert second.snapshot().status == DONE and second.snapshot().waiting == ""


def test_images_go_into_the_object_store_once_for_every_training_on_them(digits, workers):
    reference = workers.stored(digits.x_train)
    assert workers.stored(digits.x_train) == reference, "a second training on the same images shares them"
    copy = digits.x_train.copy()
    assert workers.stored(copy) != reference
    assert (ray.get(reference) == digits.x_train).all()


def test_a_waiting_job_that_is_stopped_is_cancelled_at_once(digits, workers, monkeypatch):
    monkeypatch.setenv(CPUS_ENV, "2")  # each training takes the whole cluster
    first = training(job(digits, executor=workers).start())
    waiting = job(digits, TWO_EPOCHS, executor=workers).start()
    wait_until(lambda: waiting.snapshot().waiting, "the second job waiting for the cluster")
    waiting.stop()
    assert waiting.join(2), "a job Ray has not started ends at once"
    snapshot = waiting.snapshot()
    assert snapshot.status == CANCELLED and "nothing was trained" in snapshot.message
    assert snapshot.run is None and snapshot.waiting == ""
    assert first.snapshot().status == RUNNING
    stop(first)


@pytest.fixture
def two_nodes(local_cluster):
    """A cluster of two nodes of 1 CPU each, in place of the module's local cluster (so this test comes last)."""
    ray.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_two_jobs_run_on_the_two_nodes_of_a_cluster_without_the_gpu_they_ask_for(digits, two_nodes, monkeypatch):
    monkeypatch.setenv(GPUS_ENV, "1")  # the cluster has none: they train on CPUs rather than wait for ever
    workers = RecordingRayWorkers()
    jobs = [training(job(digits, executor=workers).start()) for _ in range(2)]
    nodes = {training_handle.where().node_id for training_handle in workers.launched}
    assert nodes == {node["NodeID"] for node in ray.nodes() if node["Alive"]} and len(nodes) == 2
    stop(*jobs)
    assert all(each.snapshot().status == STOPPED for each in jobs)
