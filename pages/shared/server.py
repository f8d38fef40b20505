"""What one server shares between its browser sessions: the training queue, the background worker, the judges' worker
(which has the judges of generated images trained in child processes, those of the built-in datasets once the server
starts), and the watchdog that stops the training of a session whose browser has gone (a closed tab, a lost
connection that never comes back) and later lets go of everything the session held.

Streamlit counts a session as active while its websocket is connected; a closed tab makes it inactive at once, and
Streamlit keeps its state ``server.disconnectedSessionTTL`` (120 s) for a reconnect. The watchdog stops a job once
its session has been inactive for DISCONNECT_GRACE_S: a reload or a network blip reconnects well within that and
keeps training, while a closed tab leaves the server idle in under half a minute. A stopped job keeps its model,
which the session collects like any stopped run if its browser does come back. Once the session can no longer
reconnect, the watchdog empties its state, so its runs, upload and job are freed.
"""

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ae_core.training import executors
from ae_core.training.native_memory import release_free_memory
from ae_core.training.queue import TrainingQueue, max_concurrent_trainings

DISCONNECT_GRACE_S = 20.0  # a page reload reconnects in about a second; a lost phone connection in a few
POLL_S = 2.0  # how often the watchdog looks; it costs a dictionary lookup per training job

executors.executor()  # started with the server, so the first training finds its workers ready


@st.cache_resource(show_spinner=False)
def training_queue() -> TrainingQueue:
    """The server's one queue, its cap from AE_MAX_CONCURRENT_TRAININGS (default: half the cores)."""
    return TrainingQueue(max_concurrent_trainings())


@st.cache_resource(show_spinner=False)
def background_worker() -> ThreadPoolExecutor:
    """The server's one thread for work done after a run finishes (its default latent map). The numeric libraries
    keep memory per thread that used them: with a new thread for each run, ten runs finishing together left about
    100 MB behind; one reused thread leaves none (bench/queue_waves.py)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="background")


@st.cache_resource(show_spinner=False)
def judge_worker() -> ThreadPoolExecutor:
    """The server's one thread that has judges trained, one at a time, each in a child process of lower priority
    (``judge_process``): it mostly waits, so a run's latent map on the background worker never waits for a judge,
    and the trainings of people take the CPU before it."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="judges")


_judge_lock = threading.Lock()
_judge_futures: dict = {}  # judge_key(dataset) -> Future of its judge's training on the judges' worker
_judges_waited_for: set = set()  # judge_key of each judge a page waits for, until its training ends


def judge_in_background(dataset) -> Future:
    """The training of ``dataset``'s judge on the judges' worker, submitted once per dataset and split; its result
    is None, the judge then at ``judge_for(dataset)`` (an upload's judge trains on first need). A page waits for
    it: a pretraining under way at low priority goes on at full priority if it is this judge's, and gives way if it
    is another's."""
    from ae_core.generation.judge import judge_key, judge_ready

    with _judge_lock:
        key = judge_key(dataset)
        if judge_ready(dataset):  # asked for again: no training, and no pretraining disturbed
            trained = Future()
            trained.set_result(None)
            return trained
        earlier = _judge_futures.get(key)
        if earlier is None or earlier.cancelled() or (earlier.done() and earlier.exception() is None):
            _judges_waited_for.add(key)
            training = judge_worker().submit(_train_judge, dataset)
            training.add_done_callback(lambda _: _judges_waited_for.discard(key))
            _judge_futures[key] = training
        return _judge_futures[key]


class _GaveWayError(Exception):
    """A pretraining stopped: a page waits for another judge."""


def _train_judge(dataset, pretraining: bool = False) -> None:
    """Train ``dataset``'s judge in a child process: at full priority, or, for a pretraining, at low priority until
    a page waits for it; a pretraining gives way (``_GaveWayError``) when a page waits for another judge."""
    from ae_core.generation.judge import judge_for, judge_key
    from ae_core.generation.judge_process import train_classifier_in_child

    key = judge_key(dataset)

    def urgent() -> bool:
        if _judges_waited_for - {key}:
            raise _GaveWayError
        return key in _judges_waited_for

    judge_for(dataset, partial(train_classifier_in_child, urgent=urgent if pretraining else None))


def served() -> bool:
    """Whether a Streamlit server runs this script. AppTest runs scripts under a mock of the Runtime (a MagicMock),
    where background warm-ups would only slow the tests and outlive the test that started them."""
    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime


@st.cache_resource(show_spinner=False)
def pretrain_builtin_judges() -> bool:
    """Train the judges of the built-in datasets found on this server, one after another on the judges' worker,
    each only once nothing else waits there (an upload's judge goes first), and at low priority until a page asks
    for it (``judge_process``). Once per server; not in a script that no server runs (AppTest), where it would only
    slow the tests. Returns whether it started."""
    if not served():
        return False
    from ae_core.data import DATASETS, default_dataset_name
    from pages.shared import datasets

    first = default_dataset_name(datasets.data_dir())
    names = [first] + [name for name in DATASETS if name != first]
    judge_worker().submit(_when_idle, partial(_pretrain_judges, names))
    return True


def _when_idle(task: Callable[[], None]) -> None:
    """Run ``task`` on the judges' worker once nothing else waits for it; else go to the back of its line."""
    waiting = getattr(judge_worker(), "_work_queue", None)  # the executor's queue, a private name
    if waiting is not None and waiting.qsize() > 0:
        judge_worker().submit(_when_idle, task)
    else:
        task()


def _pretrain_judges(names: list) -> None:
    """Train the judge of ``names[0]`` when it is found without a download, then queue the rest."""
    from ae_core.data import DataFileError, DatasetUnavailableError
    from ae_core.generation.judge_process import JudgeTrainingError
    from pages.shared import datasets

    try:
        dataset = datasets.load_builtin(names[0], datasets.data_dir())
        if dataset.y_train is not None:
            _train_judge(dataset, pretraining=True)
    except _GaveWayError:
        judge_worker().submit(_when_idle, partial(_pretrain_judges, names))  # after the judge a page waits for
        return
    except (DatasetUnavailableError, DataFileError, ValueError, OSError):
        pass  # not on this server: its judge trains if someone uploads or downloads it
    except JudgeTrainingError:
        pass  # a killed child, say: the judge trains again when a page needs it, and says so if it fails then
    if len(names) > 1:
        judge_worker().submit(_when_idle, partial(_pretrain_judges, names[1:]))


class SessionWatchdog:
    """Acts on sessions whose browser has gone. Each watch names a session, how long it may stay inactive, and what
    to do then (stop its training, let go of its state); one daemon thread, started by the first watch and ending
    when nothing is left to watch."""

    def __init__(self, is_active: Callable[[str], bool], poll_s: float = POLL_S):
        self.is_active, self.poll_s = is_active, poll_s
        self._lock = threading.Lock()
        # key -> [session id, seconds allowed inactive, action, ended, monotonic time first seen inactive or None]
        self._watched: dict = {}
        self._thread: threading.Thread | None = None

    def watch(
        self,
        key,
        session_id: str,
        after_s: float,
        action: Callable[[], None],
        ended: Callable[[], bool] = lambda: False,
    ) -> None:
        """Call ``action()`` once ``session_id`` has been inactive for ``after_s``, then forget the watch; forget it
        at once when ``ended()``. A watch under a key already watched is left as it is."""
        with self._lock:
            self._watched.setdefault(key, [session_id, after_s, action, ended, None])
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="session-watchdog", daemon=True)
                self._thread.start()

    def watched(self) -> int:
        with self._lock:
            return len(self._watched)

    def _loop(self) -> None:
        while self.check():
            time.sleep(self.poll_s)

    def check(self) -> int:
        """Act for the sessions gone longer than their watches allow; forget ended watches. Returns how many are
        left (the thread ends at 0)."""
        now = time.monotonic()
        with self._lock:
            for key, watch in list(self._watched.items()):
                session_id, after_s, action, ended, inactive_since = watch
                if ended():
                    del self._watched[key]
                elif self.is_active(session_id):
                    watch[4] = None
                elif inactive_since is None:
                    watch[4] = now
                elif now - inactive_since >= after_s:
                    action()
                    del self._watched[key]
            if not self._watched:
                self._thread = None
            return len(self._watched)


def _is_active_session(session_id: str) -> bool:
    """Whether the server still has this session connected; True once the server itself is shutting down."""
    return not runtime.exists() or runtime.get_instance().is_active_session(session_id)


_watchdog = SessionWatchdog(_is_active_session)


def watch_session_of(job) -> None:
    """Stop ``job`` when the browser session running this script goes away (DISCONNECT_GRACE_S). A script the server
    does not know as a connected session (AppTest, plain Python) has no connection to lose, and is not watched."""
    context = _connected_context()
    if context is not None:
        # ends within a batch; its thread then frees the queue slot and the memory
        _watchdog.watch(job, context.session_id, DISCONNECT_GRACE_S, job.stop, ended=lambda: job.snapshot().finished)


def release_state_when_expired() -> None:
    """Let go of everything this session holds (runs, upload, job) once its browser has been gone for
    ``server.disconnectedSessionTTL``, when Streamlit no longer lets it reconnect. Streamlit itself drops an expired
    session only when another session next connects or disconnects, so a server left idle would keep the last
    sessions' runs and uploads for good."""
    context = _connected_context()
    if context is not None:
        _watchdog.watch(
            ("state", context.session_id),
            context.session_id,
            float(st.get_option("server.disconnectedSessionTTL")),
            partial(_clear, context.session_state),
        )


def _clear(session_state) -> None:
    for key in list(session_state.filtered_state):
        try:
            del session_state[key]
        except KeyError:  # a widget's value Streamlit had already dropped
            pass
    release_free_memory()  # a session's runs and upload are the largest things a server frees


def _connected_context():
    """This script run's context when it belongs to a session connected to this server, else None."""
    context = get_script_run_ctx()
    if context is not None and runtime.exists() and _is_active_session(context.session_id):
        return context
    return None
