"""The guard of every page on a run: the run and its context, or what is missing with a link to where to get it."""

import streamlit as st

from ae_core import user_text
from ae_core.data import DataFileError, DatasetUnavailableError
from pages.shared import datasets, example_runs, keys, session

TRAIN_PAGE, DATA_PAGE = "pages/train.py", "pages/data.py"


def training_text(snapshot) -> str:
    """ "epoch N of M" for a running or paused job's snapshot."""
    from ae_core.training.jobs import PAUSED, QUEUED

    progress = snapshot.progress
    if snapshot.status == QUEUED:
        return f"waiting its turn, {snapshot.waits_for}"
    if progress is None:
        return "building the model"
    state = "paused in" if snapshot.status == PAUSED else "in"
    return f"{state} epoch {progress.epoch} of {progress.epochs}"


def require_run():
    """The current run, chosen with the Run selectbox; else what is missing (a run still training, or none yet)
    with a link to the Train page, then st.stop()."""
    runs = session.session_runs()
    if session.current_run() is None:
        snapshot = session.job_snapshot()
        if snapshot is not None and not snapshot.finished:
            st.info(f"A run is training, {training_text(snapshot)}; it appears here when it finishes.")
            st.page_link(TRAIN_PAGE, label="Watch it on Train", icon=":material/model_training:")
        elif example_runs.training():
            example_runs.wait_ui()
        else:
            st.info("There is no run yet: train one on the Train page, or open a saved run.")
            st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/model_training:")
        st.stop()
    return runs[st.selectbox("Run", list(runs), key=keys.CURRENT_RUN, format_func=user_text.plain)]


def require_context(run=None):
    """The RunContext of ``run`` (the current run from require_run when None) on its dataset and its own split;
    when this session cannot give that dataset, says why with a link to the Data page, then st.stop()."""
    from ae_core.runs.context import context_for

    run = run if run is not None else require_run()
    try:
        dataset = datasets.dataset_by_name(run.dataset_name, run.split)
        if dataset is None:
            raise ValueError(
                f"{run.dataset_name} is not loaded in this session (an upload lives only in the "
                "session that uploaded it); upload it again on the Data page"
            )
        return context_for(run, dataset)
    except (DatasetUnavailableError, DataFileError, ValueError) as error:
        st.warning(
            f"Run {user_text.markdown(run.name)} needs the images it was trained on: {user_text.markdown(error)}"
        )
        st.page_link(DATA_PAGE, label="Go to Data", icon=":material/dataset:")
        st.stop()
