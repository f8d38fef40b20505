"""What one server shares between its browser sessions: the training queue, and the watchdog that stops the
training of a session whose browser has gone (a closed tab, a lost connection that never comes back).

Streamlit counts a session as active while its websocket is connected; a closed tab makes it inactive at once, and
Streamlit keeps its state ``server.disconnectedSessionTTL`` (120 s) for a reconnect. The watchdog stops a job once
its session has been inactive for DISCONNECT_GRACE_S: a reload or a network blip reconnects well within that and
keeps training, while a closed tab leaves the server idle in under half a minute. A stopped job keeps its model,
which the session collects like any stopped run if its browser does come back.
"""

import threading
import time
from collections.abc import Callable

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ae_core.training_queue import TrainingQueue, max_concurrent_trainings

DISCONNECT_GRACE_S = 20.0  # a page reload reconnects in about a second; a lost phone connection in a few
POLL_S = 2.0  # how often the watchdog looks; it costs a dictionary lookup per training job


@st.cache_resource(show_spinner=False)
def training_queue() -> TrainingQueue:
    """The server's one queue, its cap from AE_MAX_CONCURRENT_TRAININGS (default: half the cores)."""
    return TrainingQueue(max_concurrent_trainings())


class SessionWatchdog:
    """Stops each watched job once ``is_active(session_id)`` has been False for ``grace_s``; one daemon thread,
    started by the first ``watch`` and ending when nothing is left to watch."""

    def __init__(self, is_active: Callable[[str], bool], grace_s: float = DISCONNECT_GRACE_S, poll_s: float = POLL_S):
        self.is_active, self.grace_s, self.poll_s = is_active, grace_s, poll_s
        self._lock = threading.Lock()
        self._watched: dict = {}  # job -> [session id, monotonic time its session was first seen inactive or None]
        self._thread: threading.Thread | None = None

    def watch(self, job, session_id: str) -> None:
        with self._lock:
            self._watched[job] = [session_id, None]
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
        """Stop the jobs of sessions gone for longer than the grace; forget ended jobs. Returns how many are left
        (the thread ends at 0)."""
        now = time.monotonic()
        with self._lock:
            for job, watch in list(self._watched.items()):
                session_id, inactive_since = watch
                if job.snapshot().finished:
                    del self._watched[job]
                elif self.is_active(session_id):
                    watch[1] = None
                elif inactive_since is None:
                    watch[1] = now
                elif now - inactive_since >= self.grace_s:
                    job.stop()  # ends within a batch; its thread then frees the queue slot and the memory
                    del self._watched[job]
            if not self._watched:
                self._thread = None
            return len(self._watched)


def _is_active_session(session_id: str) -> bool:
    """Whether the server still has this session connected; True once the server itself is shutting down."""
    return not runtime.exists() or runtime.get_instance().is_active_session(session_id)


_watchdog = SessionWatchdog(_is_active_session)


def watch_session_of(job) -> None:
    """Stop ``job`` when the browser session running this script goes away. A script the server does not know as
    a connected session (AppTest, plain Python) has no connection to lose, and is not watched."""
    context = get_script_run_ctx()
    if context is not None and runtime.exists() and _is_active_session(context.session_id):
        _watchdog.watch(job, context.session_id)
