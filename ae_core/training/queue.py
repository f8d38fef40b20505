"""A first-come, first-served queue that caps how many trainings one server runs at once.

Training is CPU-bound: two trainings on one core take twice as long each, so beyond the cap a job waits its turn
rather than slowing everyone down. ``TrainingJob`` takes a queue; the command line trains directly, unqueued.
"""

import threading
from collections import deque
from dataclasses import dataclass

from ae_core.settings import environment
from ae_core.settings.environment import ServerEnvironment
from ae_core.validation import Integer, check

MAX_CONCURRENT_ENV = ServerEnvironment.variable("max_concurrent_trainings")


def max_concurrent_trainings() -> int:
    """The cap in force: the AE_MAX_CONCURRENT_TRAININGS environment variable when set, else
    ``environment.default_max_concurrent()``, half the machine's cores and at least 2."""
    return environment.current().max_concurrent_trainings


@dataclass(frozen=True)
class QueuePlace:
    """Where one job stands: ``position`` 1 for the next in line, 0 once it runs (or has left the queue)."""

    position: int
    running: int  # trainings running now
    max_concurrent: int

    def describe(self) -> str:
        """E.g. "2nd in line; 1 training running; the server runs at most 1 at once"."""
        running = f"{self.running} training{'s' * (self.running != 1)} running"
        return f"{_ordinal(self.position)} in line; {running}; the server runs at most {self.max_concurrent} at once"


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


class TrainingQueue:
    """Admits at most ``max_concurrent`` jobs at once, in the order they were enqueued. Thread-safe.

    A job is any hashable object: ``enqueue`` it, block in ``wait_turn`` on its own thread, ``release`` it when
    its training ends; ``cancel`` takes a waiting job out of the line.
    """

    def __init__(self, max_concurrent: int):
        self.max_concurrent = check("max_concurrent", max_concurrent, Integer(1))
        self._changed = threading.Condition()
        self._waiting: deque = deque()
        self._running: set = set()

    def enqueue(self, job) -> None:
        with self._changed:
            self._waiting.append(job)

    def wait_turn(self, job) -> bool:
        """Block until ``job`` is first in line and a slot is free (True, it now holds the slot), or until it is
        cancelled (False)."""
        with self._changed:
            while job in self._waiting:
                if self._waiting[0] is job and len(self._running) < self.max_concurrent:
                    self._waiting.popleft()
                    self._running.add(job)
                    self._changed.notify_all()  # the next in line may fit too
                    return True
                self._changed.wait()
            return False

    def cancel(self, job) -> bool:
        """Take a waiting ``job`` out of the line; False when it was not waiting (running, or already gone)."""
        with self._changed:
            if job not in self._waiting:
                return False
            self._waiting.remove(job)
            self._changed.notify_all()
            return True

    def release(self, job) -> None:
        """Free the slot ``job`` held, for the next in line."""
        with self._changed:
            self._running.discard(job)
            self._changed.notify_all()

    def place(self, job) -> QueuePlace:
        with self._changed:
            position = self._waiting.index(job) + 1 if job in self._waiting else 0
            return QueuePlace(position=position, running=len(self._running), max_concurrent=self.max_concurrent)
