"""Trainings in worker processes on this machine: the lab's default executor.

``LocalWorkers`` keeps ``warm`` processes started, each with TensorFlow imported, so a training handed to one starts
at once. Each worker trains one ``TrainingTask`` and exits; a new one is started in its place once that training has
its first batch. ``launch``
returns a ``LocalTraining``: the server's end of that worker, to send commands to and read messages from. How many
train at once is the caller's to decide (``TrainingJob`` asks the ``TrainingQueue`` first).
"""

import atexit
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from ae_core.training.worker_process import READY
from ae_core.training.worker_protocol import BATCH

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# How long a worker may take to import TensorFlow and say it is ready (a loaded 2-core machine takes about 10 s).
START_TIMEOUT_S = 120.0
EXIT_WAIT_S = 10.0  # a worker that sent its run exits within a second


class WorkerStartError(RuntimeError):
    """A worker process ended or stayed silent before it was ready to train."""


def ended_how(returncode: int) -> str:
    """How a process ended, in words: "it was killed by signal SIGKILL", "it exited with code 1"."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"it was killed by signal {name}"
    return f"it exited with code {returncode}"


def start_child(module: str, *arguments: str) -> tuple[subprocess.Popen, Connection]:
    """``python -m module FD *arguments`` started in the project's folder, and this process's end of the socket whose
    other end the child has as file descriptor FD."""
    parent_end, child_end = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", module, str(child_end.fileno()), *arguments],
        pass_fds=(child_end.fileno(),),
        cwd=PROJECT_ROOT,
        stdin=subprocess.DEVNULL,
    )
    child_end.close()
    return process, Connection(parent_end.detach())


def wait_or_end(process: subprocess.Popen) -> int | None:
    """Wait EXIT_WAIT_S for a child to exit by itself, and end one still running then. Its exit code; None when it
    had to be ended."""
    try:
        return process.wait(EXIT_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def ended_after_closing(process: subprocess.Popen) -> str:
    """How a child whose socket closed ended (``ended_how``); one still running after EXIT_WAIT_S is ended."""
    returncode = wait_or_end(process)
    return "it closed its connection and hung" if returncode is None else ended_how(returncode)


class _WorkerProcess:
    """One worker process and the server's end of its socket."""

    def __init__(self):
        self.process, self.connection = start_child("ae_core.training.worker_process")
        self.ready = False  # it has said so

    def wait_ready(self) -> None:
        """Block until the worker has imported TensorFlow; WorkerStartError if it ends or stays silent first."""
        if self.ready:
            return
        try:
            if self.connection.poll(START_TIMEOUT_S) and self.connection.recv() == (READY,):
                self.ready = True
                return
        except (EOFError, OSError):
            pass
        returncode = self.process.poll()
        how = f"it was not ready within {START_TIMEOUT_S:g} s" if returncode is None else ended_how(returncode)
        self.kill()
        raise WorkerStartError(f"A training process could not start: {how}. Press Start to try again.")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.connection.close()


class LocalTraining:
    """The server's end of one worker that trains one task: ``send`` commands, ``receive`` messages (see
    ``worker_protocol``), ``kill`` it. ``lost`` says how the worker ended once it has gone without its last
    message; ``waiting`` is empty: a local worker starts at once. ``on_first_batch`` is called once, at the
    training's first batch or its end if sooner."""

    waiting = ""

    def __init__(self, worker: _WorkerProcess, on_first_batch):
        self._worker = worker
        self._on_first_batch = on_first_batch
        self.lost: str | None = None

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self._worker.process.pid

    def _first_batch_done(self) -> None:
        if self._on_first_batch is not None:
            self._on_first_batch, call = None, self._on_first_batch
            try:
                call()
            except OSError:
                pass  # no replacement now (out of memory, say); the next launch starts its own worker

    def send(self, command: str) -> None:
        try:
            self._worker.connection.send(command)
        except OSError:
            pass  # it has gone; receive says how

    def receive(self, timeout_s: float) -> list:
        """The messages that arrived, waiting up to ``timeout_s`` for the first; sets ``lost`` when the worker went."""
        messages = []
        connection = self._worker.connection
        try:
            if connection.poll(timeout_s):
                while connection.poll(0):
                    messages.append(connection.recv())
        except (EOFError, OSError):
            self.lost = ended_after_closing(self._worker.process)
            self._worker.connection.close()
        if self.lost is not None or any(message[0] == BATCH for message in messages):
            self._first_batch_done()
        return messages

    def kill(self) -> None:
        self._worker.kill()
        self._first_batch_done()

    def close(self) -> None:
        """Let the worker go once its last message is read: it exits by itself, or is ended after EXIT_WAIT_S."""
        self._worker.connection.close()
        wait_or_end(self._worker.process)
        self._first_batch_done()


class LocalWorkers:
    """Worker processes on this machine, ``warm`` of them kept ready. Thread-safe."""

    uses_queue = True  # the server's TrainingQueue says when a training may start

    def __init__(self, warm: int):
        self.warm = warm
        self._lock = threading.Lock()
        self._ready: list[_WorkerProcess] = []
        self._closed = False
        self._top_up()
        atexit.register(self.close)

    def _top_up(self) -> None:
        with self._lock:
            while not self._closed and len(self._ready) < self.warm:
                self._ready.append(_WorkerProcess())

    def launch(self, task) -> LocalTraining:
        """Hand ``task`` (a ``TrainingTask``) to a warm worker, starting one when none is left; its replacement
        starts once the training has its first batch, so that loading TensorFlow does not slow that first batch.
        WorkerStartError when the worker could not start."""
        with self._lock:
            worker = self._ready.pop(0) if self._ready else None
        if worker is None or worker.process.poll() is not None:
            worker = _WorkerProcess()
        try:
            worker.wait_ready()
        except WorkerStartError:
            self._top_up()
            raise
        worker.connection.send(task)
        return LocalTraining(worker, on_first_batch=self._top_up)

    def wait_warm(self) -> None:
        """Block until every warm worker is ready to train (WorkerStartError if one could not start)."""
        with self._lock:
            ready = list(self._ready)
        for worker in ready:
            if not worker.ready:
                worker.wait_ready()

    def close(self) -> None:
        """End the warm workers; trainings already launched are their callers' to end."""
        with self._lock:
            self._closed = True
            ready, self._ready = self._ready, []
        for worker in ready:
            worker.kill()
