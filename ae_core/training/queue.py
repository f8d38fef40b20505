"""The queue that shares a server's training slots fairly between people.

Training is CPU-bound: two trainings on one core take twice as long each, so beyond the cap a job waits its turn
rather than slowing everyone down. Three rules keep one person from taking the compute from a class:

- **One training per person at a time.** A person's second job waits behind their first, whatever their place in
  line, and starts once the first has ended.
- **Turns.** While someone else waits, a training that has held its slot for its fair share (``fair_share_s``)
  yields it between two batches: it goes to the back of the line and resumes when its turn comes again (round
  robin). So no one waits longer than ``QueuePlace.starts_within_s`` says: a turn per slot for each job ahead.
- **First come, first served** otherwise.

``TrainingJob`` takes a queue; the command line trains directly, unqueued.
"""

import math
import threading
import time
from collections import deque
from dataclasses import dataclass

from ae_core.settings import environment
from ae_core.settings.environment import ServerEnvironment
from ae_core.training.progress_text import duration_text
from ae_core.validation import Integer, check

MAX_CONCURRENT_ENV = ServerEnvironment.variable("max_concurrent_trainings")
FAIR_SHARE_ENV = ServerEnvironment.variable("fair_share_s")


def max_concurrent_trainings() -> int:
    """The cap in force: the AE_MAX_CONCURRENT_TRAININGS environment variable when set, else
    ``environment.default_max_concurrent()``, half the machine's cores and at least 2."""
    return environment.current().max_concurrent_trainings


def configured_fair_share_s() -> float:
    """Seconds a training keeps its slot while others wait: AE_FAIR_SHARE_S when set, else 30."""
    return environment.current().fair_share_s


@dataclass(frozen=True)
class QueuePlace:
    """Where one job stands: ``position`` 1 for the next in line, 0 once it runs (or has left the queue)."""

    position: int
    running: int  # trainings running now
    max_concurrent: int
    fair_share_s: float = math.inf
    # an upper bound on the wait, from the turns of the jobs ahead; None while the person's other job comes first
    starts_within_s: float | None = None
    behind_own: bool = False  # waits for the same person's other training to end
    resuming: bool = False  # it has trained before and yielded its slot (or was paused) meanwhile
    noun: str = "training"  # what the queue runs: "training", "map"

    def describe(self) -> str:
        """E.g. "2nd in line; 1 training running; the server runs at most 1 at once; it starts within 45 s, as each
        training takes turns of 30 s while others wait"."""
        noun = self.noun
        running = f"{self.running} {noun}{'s' * (self.running != 1)} running"
        resume = f" to resume, its {noun} so far kept (it had its turn and let others run)" if self.resuming else ""
        at_most = f"the server runs at most {self.max_concurrent} at once"
        line = f"{_ordinal(self.position)} in line{resume}; {running}; {at_most}"
        if self.behind_own:
            return f"{line}; one {noun} per person at a time, so it starts once your other {noun} has ended"
        if self.starts_within_s is None:
            return line
        verb = "resumes" if self.resuming else "starts"
        return (
            f"{line}; it {verb} within {duration_text(self.starts_within_s)}, as each {noun} takes turns of "
            f"{duration_text(self.fair_share_s)} while others wait"
        )


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


class TrainingQueue:
    """Admits at most ``max_concurrent`` jobs at once, one per person, in turns of ``fair_share_s`` while others
    wait. Thread-safe.

    A job is any hashable object. ``enqueue`` it with its person, block in ``wait_turn`` on its own thread, ask
    ``should_yield`` between batches and, when it should, ``yield_turn`` and ``wait_turn`` again; ``step_aside``
    frees the slot while it is paused and ``rejoin`` puts it back in line; ``release`` it when its training ends.
    ``cancel`` takes a waiting job out of the line.
    """

    def __init__(self, max_concurrent: int, fair_share_s: float | None = None, noun: str = "training"):
        """``fair_share_s``: None reads AE_FAIR_SHARE_S (30 s unless set); ``math.inf`` never takes turns. ``noun``:
        what it runs, as its places say it ("training", "map")."""
        self.max_concurrent = check("max_concurrent", max_concurrent, Integer(1))
        self.noun = noun
        self.fair_share_s = configured_fair_share_s() if fair_share_s is None else fair_share_s
        self._changed = threading.Condition()
        self._line: deque = deque()  # waiting jobs, in order
        self._running: dict = {}  # job -> monotonic time it took its slot
        self._person: dict = {}  # every job from enqueue to release -> its person
        self._trained: set = set()  # jobs that have held a slot before

    def enqueue(self, job, person=None) -> None:
        """Put ``job`` at the end of the line; ``person`` (hashable; None: the job is a person of its own) trains one
        job at a time."""
        with self._changed:
            self._person[job] = job if person is None else person
            self._line.append(job)

    def _first_of_person(self, job) -> bool:
        """Whether ``job`` is its person's earliest job still in the queue's care: the one that may run."""
        person = self._person[job]
        return next(other for other in self._person if self._person[other] == person) is job

    def _next_in_line(self):
        """The first waiting job that may run now (its person has no earlier job), else None."""
        return next((job for job in self._line if self._first_of_person(job)), None)

    def wait_turn(self, job, timeout_s: float | None = None) -> bool:
        """Block until ``job`` is next in line and a slot is free (True, it now holds the slot), or until it is
        cancelled or ``timeout_s`` has passed (False; ``place`` tells which: a job still waiting has a position)."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while job in self._line:
                if self._next_in_line() is job and len(self._running) < self.max_concurrent:
                    self._line.remove(job)
                    self._running[job] = time.monotonic()
                    self._trained.add(job)
                    self._changed.notify_all()  # the next in line may fit too
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
            return False

    def should_yield(self, job) -> bool:
        """Whether running ``job`` has held its slot for its fair share while a job that may run waits."""
        with self._changed:
            since = self._running.get(job)
            if since is None or time.monotonic() - since < self.fair_share_s:
                return False
            return self._next_in_line() is not None

    def restart_turn(self, job) -> None:
        """Count running ``job``'s turn from now: the time its worker took to get ready was not its training."""
        with self._changed:
            if job in self._running:
                self._running[job] = time.monotonic()

    def yield_turn(self, job) -> None:
        """Give up ``job``'s slot and put it at the end of the line; ``wait_turn`` then waits for its next turn."""
        with self._changed:
            self._running.pop(job, None)
            self._line.append(job)
            self._changed.notify_all()

    def step_aside(self, job) -> None:
        """Give up ``job``'s slot without joining the line (it is paused); the person keeps their place as the one
        whose training comes first."""
        with self._changed:
            self._running.pop(job, None)
            self._changed.notify_all()

    def rejoin(self, job) -> None:
        """Put a job that stepped aside back at the end of the line."""
        with self._changed:
            if job in self._person and job not in self._line and job not in self._running:
                self._line.append(job)
                self._changed.notify_all()

    def cancel(self, job) -> bool:
        """Take a waiting ``job`` out of the line; False when it was not waiting (running, or already gone)."""
        with self._changed:
            if job not in self._line:
                return False
            self._line.remove(job)
            self._changed.notify_all()
            return True

    def release(self, job) -> None:
        """Forget ``job``: free the slot it held, for the next in line, and its person's next job."""
        with self._changed:
            self._running.pop(job, None)
            if job in self._line:
                self._line.remove(job)
            self._person.pop(job, None)
            self._trained.discard(job)
            self._changed.notify_all()

    def place(self, job) -> QueuePlace:
        with self._changed:
            waiting = job in self._line
            behind_own = waiting and not self._first_of_person(job)
            return QueuePlace(
                position=self._line.index(job) + 1 if waiting else 0,
                running=len(self._running),
                max_concurrent=self.max_concurrent,
                fair_share_s=self.fair_share_s,
                starts_within_s=self._starts_within_s(job) if waiting and not behind_own else None,
                behind_own=behind_own,
                resuming=waiting and job in self._trained,
                noun=self.noun,
            )

    def _starts_within_s(self, job) -> float | None:
        """An upper bound on ``job``'s wait, in whole seconds: every slot frees at the end of its holder's turn at the
        latest, and each job ahead in line (one that may run now, or a person's next) takes one turn first. It leaves
        out the batch in flight when a turn ends, a fraction of a second for the lab's models. None without turns."""
        if not math.isfinite(self.fair_share_s):
            return None
        now = time.monotonic()
        frees_at = [max(0.0, since + self.fair_share_s - now) for since in self._running.values()]
        frees_at += [0.0] * (self.max_concurrent - len(frees_at))
        for _ in range(self._line.index(job)):  # each job ahead takes the earliest free slot for one turn
            frees_at.sort()
            frees_at[0] += self.fair_share_s
        return float(math.ceil(min(frees_at)))
