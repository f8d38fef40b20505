"""Ready-made runs: a server whose runs folder holds no saved run trains two example runs on the bundled digits when
it starts (the lesson's textbook model and its convolutional run), and every session lists them in its run
pickers, so Latent space, Generate and Applications work before anyone trains. They are the lesson's shared
trainings, so its steps on them are ready too. AE_EXAMPLE_RUNS=0 turns them off."""

import threading
from dataclasses import replace

import streamlit as st

from pages.shared import server

POLL_S = 2.0  # how often a page waiting for the examples looks again
PREFIX = "example-"  # the examples' names in a session: example-textbook, example-conv

_lock = threading.Lock()
_jobs: list = []  # (name in a session, training job) of each example, once the background worker has started them


@st.cache_resource(show_spinner=False)
def start() -> bool:
    """Once per server: when it serves the app, AE_EXAMPLE_RUNS is on and its runs folder holds no saved run, have
    the background worker start the examples' trainings (TensorFlow's import stays off the page). Returns whether it
    did."""
    from ae_core.runs.listing import list_runs
    from ae_core.settings import environment
    from pages.shared import sharing

    if not server.served() or not environment.current().example_runs:
        return False
    try:
        if list_runs(sharing.runs_dir()).runs:
            return False
    except OSError:
        return False
    server.background_worker().submit(_start_trainings, server.training_queue())
    return True


def _start_trainings(queue) -> None:
    from ae_core.lesson.experiments import CONVOLUTIONAL, DATASET, TEXTBOOK
    from pages.shared import datasets
    from pages.shared.lesson_runs import shared_trainings

    dataset = datasets.load_builtin(DATASET, datasets.data_dir())
    registry = shared_trainings()
    with _lock:
        for example in (TEXTBOOK, CONVOLUTIONAL):
            job = registry.request(dataset, *example.settings(dataset), example.excluded_class, example.name)
            _jobs.append((PREFIX + example.name.removeprefix("lesson-"), job))


def _snapshots() -> list:
    """(name in a session, snapshot) of each example."""
    with _lock:
        return [(name, job.snapshot()) for name, job in _jobs]


def join() -> None:
    """Add each finished example this session lacks to its runs, as a copy named example-…; it becomes the current
    run only when the session has no run of its own. Imports nothing heavy when there are no examples (the Data
    page appears before TensorFlow is imported)."""
    snapshots = _snapshots()
    if not snapshots:
        return
    from ae_core.training.jobs import DONE
    from pages.shared import session

    for name, snapshot in snapshots:
        runs = session.session_runs()
        if snapshot.status == DONE and all(run.id != snapshot.run.id for run in runs.values()):
            session.add_run(replace(snapshot.run, name=name, context=None), current=not runs)


def training() -> bool:
    """Whether examples are being made and none has finished yet."""
    if not start():
        return False
    snapshots = _snapshots()
    return not snapshots or not any(snapshot.finished for _, snapshot in snapshots)


@st.fragment(run_every=POLL_S)
def wait_ui() -> None:
    """Says the examples are training, with each one's progress; once one has finished, the page is drawn again
    with it."""
    if not training():
        st.rerun(scope="app")
    st.info(
        "Two example runs are training on the server, so this page has something to show before anyone trains; it "
        "fills in when the first is ready (under a minute). Or train your own on the Train page."
    )
    for name, snapshot in _snapshots():
        progress = snapshot.progress
        done = progress.fraction_done if progress is not None else 0.0
        where = f"epoch {progress.epoch} of {progress.epochs}" if progress is not None else "waiting to start"
        st.progress(done, text=f"{name}: {where}")
