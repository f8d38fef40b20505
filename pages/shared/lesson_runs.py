"""The runs a lesson step needs: this session's own copy when it has one (trained before, or read back from its
workspace after a reload), else the server's shared training of it, which every student asking for the same run
joins, with its progress shown to each of them while it trains."""

from dataclasses import replace

import streamlit as st

from ae_core.lesson.experiments import DATASET, STEP_RUNS, LessonRun
from ae_core.lesson.shared_runs import SharedTrainings
from ae_core.training.jobs import DONE, QUEUED, UNFINISHED
from pages.shared import datasets, server, workspace
from pages.shared.lesson_state import FAILURE, STARTED_PREFIX, forget_ran
from pages.shared.session import add_run, session_runs

POLL_S = 1.0  # how often a waiting student's progress is redrawn


@st.cache_resource(show_spinner=False)
def shared_trainings() -> SharedTrainings:
    """The server's one registry of shared trainings, taking turns in its training queue like everyone's."""
    return SharedTrainings(server.training_queue())


def lesson_dataset():
    return datasets.dataset_by_name(DATASET)


def held_run(lesson_run: LessonRun, dataset):
    """This session's run trained as ``lesson_run`` on ``dataset`` (same settings, seed, images and class left out),
    or None."""
    model_config, train_config = lesson_run.settings(dataset)
    for run in session_runs().values():
        if (
            run.model_config == model_config
            and run.train_config == train_config
            and run.excluded_class == lesson_run.excluded_class
            and (run.split or {}).get("content_hash") == dataset.split.content_hash
        ):
            return run
    return None


def step_runs(step: int, dataset) -> dict | None:
    """LessonRun name -> Run for every run ``step`` needs, when this session holds them all; else None, and the
    shared trainings of those it lacks are requested (joined when someone already started them)."""
    lesson_runs = STEP_RUNS[step]
    held = {lesson_run.name: held_run(lesson_run, dataset) for lesson_run in lesson_runs}
    if all(run is not None for run in held.values()):
        return held
    shared = shared_trainings()
    st.session_state[STARTED_PREFIX + str(step)] = [
        shared.request(dataset, *lesson_run.settings(dataset), lesson_run.excluded_class, lesson_run.name)
        for lesson_run in lesson_runs
        if held[lesson_run.name] is None
    ]
    return None


def collect(job) -> None:
    """Add the run ``job`` trained to this session's runs and its workspace: a copy, since the run is every
    student's and a session renames its own runs."""
    run = job.snapshot().run
    if held_run_by_id(run.id) is None:
        copy = replace(run, context=None)
        add_run(copy)
        workspace.keep_run(copy)


def held_run_by_id(run_id: str):
    return next((run for run in session_runs().values() if run.id == run_id), None)


@st.fragment(run_every=POLL_S)
def progress_ui(step: int) -> None:
    """The shared trainings ``step`` waits for, redrawn every POLL_S: where each stands; once all have ended, their
    runs join the session and the page is drawn again with the step's result."""
    jobs = st.session_state.get(STARTED_PREFIX + str(step), [])
    snapshots = [job.snapshot() for job in jobs]
    for snapshot in snapshots:
        if snapshot.status == QUEUED:
            st.progress(0.0, text=f"Waiting for the server: {snapshot.waits_for}.")
        elif snapshot.status in UNFINISHED:
            progress = snapshot.progress
            done = progress.fraction_done if progress is not None else 0.0
            epoch = f"epoch {progress.epoch} of {progress.epochs}" if progress is not None else "building the model"
            st.progress(done, text=f"Training, shared with everyone running this step: {epoch}.")
    if all(snapshot.finished for snapshot in snapshots):
        failed = [snapshot.message for snapshot in snapshots if snapshot.status != DONE]
        for job, snapshot in zip(jobs, snapshots):
            if snapshot.status == DONE:
                collect(job)
        if failed:
            st.session_state[FAILURE] = f"The training did not finish: {failed[0]} Press Run this step to try again."
            forget_ran(step)
        st.session_state.pop(STARTED_PREFIX + str(step), None)
        st.rerun()
