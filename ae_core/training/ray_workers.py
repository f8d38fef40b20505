"""Trainings on a Ray cluster: the executor for more than one machine.

``ray_workers()`` connects this process to the cluster that Ray's own ``RAY_ADDRESS`` names (``ray start --head``
prints it); an address where nothing answers is refused at once, saying what to do. With ``AE_EXECUTOR=ray`` and no
``RAY_ADDRESS``, Ray starts a local cluster of this machine's cores instead, which ends with this process.

Each training is one Ray actor that asks for ``AE_RAY_CPUS_PER_TRAINING`` CPUs, and ``AE_RAY_GPUS_PER_TRAINING`` GPUs
when the cluster has that many. Ray's scheduler decides where and when it starts; until then its job waits, and
``waiting`` says for what. The images reach the actor through Ray's object store, put there once per array. The
actor trains with ``worker_protocol.train_task`` and keeps its messages until the server has read them; the finished
run comes back to the server in the FINISHED message and the server saves it, so the cluster's nodes need no shared
storage. The actor reads the server's ``AE_*`` settings (its limits), not the node's. Once the last message is read,
the actor is killed, and its memory goes with its process.

The nodes run the same code as the server: the project at the same path, with the same Python packages (Ray adds
the server's working directory to its workers' import path).
"""

import logging
import os
import socket
import threading
import weakref
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import ray
from ray.exceptions import ActorUnavailableError, RayError

from ae_core.settings import environment
from ae_core.settings.environment import ServerEnvironment
from ae_core.training.events import TrainingControl
from ae_core.training.worker_protocol import STARTED, STOP, TrainingTask, obey, train_task

# How long the actor holds a request for messages open when none is new: the server asks again after that.
MESSAGES_WAIT_S = 1.0
# How long the head's address may take to answer before the cluster counts as not running.
CONNECT_TIMEOUT_S = 5.0
# Training, a request for messages and a command run at once in the actor, each in a thread of its own.
ACTOR_THREADS = 3
# A server setting the actors are not given: a secret stays on the server
SECRET_SETTINGS = {ServerEnvironment.variable("admin_token")}


def _amount(count: float, unit: str) -> str:
    """ "1 CPU", "2 CPUs", "0.5 GPU"."""
    return f"{count:g} {unit}" + ("s" if count > 1 else "")


@ray.remote
class TrainingActor:
    """One training on a node of the cluster: it trains in one of its threads and answers the server's requests for
    messages and its commands in the others."""

    def __init__(self):
        self._control = TrainingControl()
        self._arrived = threading.Condition()
        self._unread: list = []  # the messages the server has not confirmed reading
        self._read = 0  # how many messages the server has read: those before ``_unread``
        self._last_command = 0

    def train(self, task: TrainingTask, x_train, x_val) -> None:
        """Train ``task``, its images given apart (Ray fetches them from its object store)."""
        self._send(train_task(replace(task, x_train=x_train, x_val=x_val), self._send, self._control))

    def _send(self, message: tuple) -> None:
        with self._arrived:
            self._unread.append(message)
            self._arrived.notify_all()

    def messages(self, read: int, wait_s: float) -> list:
        """The messages after the first ``read``, which are let go; waits up to ``wait_s`` for one when none is new."""
        with self._arrived:
            del self._unread[: read - self._read]
            self._read = read
            self._arrived.wait_for(lambda: self._unread, wait_s)
            return list(self._unread)

    def obey(self, number: int, command: str) -> None:
        """Apply the server's command ``number``. Calls to a threaded actor may run out of order: a command older than
        one applied is dropped, and a stop always holds."""
        with self._arrived:
            if command != STOP and (number < self._last_command or self._control.stop_requested):
                return
            self._last_command = max(number, self._last_command)
            obey(self._control, command)

    def where(self) -> "WorkerPlace":
        return WorkerPlace(os.getpid(), ray.get_runtime_context().get_node_id())


@dataclass(frozen=True)
class WorkerPlace:
    """Where a training's actor runs: its process on its node."""

    pid: int
    node_id: str


def ended_how(error: RayError) -> str:
    """How an actor ended, in words, from Ray's error: its type and the sentences that say why, without Ray's
    identifiers and advice."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip() and not line.startswith("\t")]
    why = " ".join(lines[1:] or lines)
    sentences = why.split(". ")
    return f"its Ray worker ended ({type(error).__name__}: {'. '.join(sentences[:2]).rstrip('.')}.)"


class RayTraining:
    """The server's end of one training's actor: ``send`` commands, ``receive`` messages, ``kill`` it; the same
    interface as ``local_workers.LocalTraining``."""

    def __init__(self, actor, training, resources: str, asks: str):
        self._actor = actor
        self._training = training  # the actor's train call: an error there ends the training
        self._placed = actor.where.remote()  # answered once Ray has started the actor
        self._resources, self._asks = resources, asks
        self._read = 0
        self._request = None  # the request for messages in flight
        self._commands = 0
        self._started = False
        self._ended = False  # killed or closed by the server
        self.lost: str | None = None

    @property
    def waiting(self) -> str:
        """What the training waits for before it starts, in words; "" once Ray has started its actor."""
        if self._started or self._ended or self.lost is not None or ray.wait([self._placed], timeout=0)[0]:
            return ""
        return (
            f"the Ray cluster has no free {self._resources} for it yet (it asks for {self._asks}); "
            "Ray starts it when one frees"
        )

    def send(self, command: str) -> None:
        self._commands += 1
        self._actor.obey.remote(self._commands, command)  # to a gone actor: receive says how it went

    def receive(self, timeout_s: float) -> list:
        """The messages that arrived, waiting up to ``timeout_s`` for the first; sets ``lost`` when the actor went."""
        if self._request is None:
            self._request = self._actor.messages.remote(self._read, MESSAGES_WAIT_S)
        try:
            if not ray.wait([self._request], timeout=timeout_s)[0]:
                if ray.wait([self._training], timeout=0)[0]:
                    ray.get(self._training)  # a train call that ended without its last message raises how
                return []
            request, self._request = self._request, None
            messages = ray.get(request)
        except ActorUnavailableError:
            return []  # unreachable for now: Ray retries it, and the next request asks again
        except RayError as error:
            self.lost = ended_how(error)
            return []
        self._read += len(messages)
        self._started = self._started or any(message[0] == STARTED for message in messages)
        return messages

    def where(self, timeout_s: float = 60.0) -> WorkerPlace:
        """Where the actor runs (once Ray has started it)."""
        return ray.get(self._placed, timeout=timeout_s)

    def kill(self) -> None:
        self._ended = True
        ray.kill(self._actor)

    def close(self) -> None:
        """End the actor once its last message is read, so its memory goes."""
        self.kill()


def check_address(address: str) -> None:
    """ConnectionError, saying what to do, when ``address`` ("HOST:PORT", as ``ray start --head`` prints it) does not
    answer: ``ray.init`` would keep trying for minutes. Other forms (``auto``, ``ray://...``) are Ray's to read."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise ConnectionError(
            f"The Ray cluster that RAY_ADDRESS names, {address}, does not answer ({error}). Start its head "
            "(ray start --head, see docs/deploy.md) or correct RAY_ADDRESS; unset it to train on this machine."
        ) from None


class RayWorkers:
    """Trainings as actors on the Ray cluster this process connects to. Thread-safe."""

    uses_queue = False  # Ray's scheduler says when a training starts

    def __init__(self):
        self._lock = threading.Lock()
        self._stored: dict[int, tuple] = {}  # id(images) -> (a weak reference to them, their object reference)

    def _connect(self) -> None:
        with self._lock:
            if ray.is_initialized():
                return
            self._stored.clear()  # references into the object store of a cluster left behind
            address = os.environ.get("RAY_ADDRESS")
            if address:
                check_address(address)
            # Without RAY_ADDRESS, a cluster of our own for this process ("local"), never one found running here
            options = {"address": address} if address else {"address": "local", "include_dashboard": False}
            ray.init(log_to_driver=False, logging_level=logging.ERROR, **options)

    def stored(self, images: np.ndarray) -> ray.ObjectRef:
        """``images`` in Ray's object store, put there once for as long as the array lives here: a class training on
        one dataset shares one copy of it."""
        self._connect()
        key = id(images)
        with self._lock:
            if key in self._stored and self._stored[key][0]() is images:
                return self._stored[key][1]
            reference = ray.put(images)
            self._stored[key] = (weakref.ref(images, lambda _: self._stored.pop(key, None)), reference)
            return reference

    def launch(self, task: TrainingTask) -> RayTraining:
        """Ask Ray for an actor that trains ``task``; it starts when the cluster has room for it."""
        self._connect()
        settings = environment.current()
        cpus, gpus = settings.ray_cpus_per_training, settings.ray_gpus_per_training
        if gpus > ray.cluster_resources().get("GPU", 0):
            gpus = 0  # asked for, but the cluster has none to give
        resources, asks = (
            ("CPU and GPU", f"{_amount(cpus, 'CPU')} and {_amount(gpus, 'GPU')}")
            if gpus
            else ("CPU", _amount(cpus, "CPU"))
        )
        # The server's settings (AE_*: its limits) hold in the actor too, whatever the node's environment
        shared = {name: value for name, value in os.environ.items() if name.startswith("AE_")}
        settings_here = {"env_vars": {name: value for name, value in shared.items() if name not in SECRET_SETTINGS}}
        actor = TrainingActor.options(
            num_cpus=cpus, num_gpus=gpus, max_concurrency=ACTOR_THREADS, runtime_env=settings_here
        ).remote()
        without_images = replace(task, x_train=None, x_val=None)  # the images travel through the object store
        training = actor.train.remote(without_images, self.stored(task.x_train), self.stored(task.x_val))
        return RayTraining(actor, training, resources, asks)


@cache
def ray_workers() -> RayWorkers:
    """This process's Ray executor; it connects to the cluster at its first training."""
    return RayWorkers()
