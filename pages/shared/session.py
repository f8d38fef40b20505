"""This browser session's state: what every page does first, its persistent widget settings, its training job, its
runs and the current one.

Keras-free at import, so the Data page that imports it appears fast.
"""

import streamlit as st

from ae_core.data import DataFileError, DatasetUnavailableError
from pages.shared import datasets, example_runs, keys, server, workspace
from pages.shared.streamlit_patches import use_app_navigation


def start_page() -> None:
    """Call first on every page: runs app.py's navigation even for a deep link, keeps widget settings, collects
    the run of a training job that ended while another page was open, has the session's state let go once its
    browser is gone for good, and the first time on a server, has the built-in datasets' judges trained. Opens the
    browser's workspace first, whose runs and upload then join the session, then the server's example runs that
    have finished."""
    use_app_navigation()
    for run in workspace.enter():
        add_run(run)
    example_runs.start()
    example_runs.join()
    _follow_link(st.session_state.pop(keys.LINKED_RUN, None))
    _keep_settings()
    collect_finished_job()
    workspace.keep_address()
    workspace.link_panel()
    server.release_state_when_expired()
    server.pretrain_builtin_judges()


def _follow_link(run_id: str | None) -> None:
    """Make the run the opening address named current: this workspace's own, else the saved run of that id; a run
    private to another workspace (or deleted) is not shown, and the page says so and links to the saved runs."""
    if not run_id:
        return
    held = next((name for name, run in session_runs().items() if run.id == run_id), None)
    if held is None:
        from pages.shared import sharing

        run = sharing.saved_run_by_id(run_id)
        if run is None:
            st.warning(
                "The run this link names is private to its workspace, or was deleted; only saved runs open from "
                "another browser's link. Open a saved run on the Train page."
            )
            st.page_link("pages/train.py", label="See the saved runs")
            return
    open_run(run if held is None else session_runs()[held])


def _keep_settings() -> None:
    """Keep the values of widgets on other pages: Streamlit forgets a widget's state when it is not drawn,
    unless the script writes the key itself (Streamlit's documented way to carry widget state across pages)."""
    for key in list(st.session_state.keys()):
        if str(key).startswith(keys.SETTING_PREFIX):
            st.session_state[key] = st.session_state[key]


def setting(key: str, default) -> str:
    """``key``, a persistent widget's session-state key, set to ``default`` the first time."""
    if key not in st.session_state:
        st.session_state[key] = default
    return key


def job_snapshot():
    """This session's training job's JobSnapshot, or None before the first start."""
    job = st.session_state.get(keys.JOB)
    return job.snapshot() if job is not None else None


def collect_finished_job() -> str | None:
    """The status of this session's training job (None without one); an ended job's run joins RUNS, once."""
    job, snapshot = st.session_state.get(keys.JOB), job_snapshot()
    if snapshot and snapshot.finished and st.session_state.get(keys.COLLECTED_JOB) is not job:
        st.session_state[keys.COLLECTED_JOB] = job
        if snapshot.run is not None:
            add_run(snapshot.run)
            workspace.keep_run(snapshot.run)
            _map_in_background(snapshot.run)
    return snapshot.status if snapshot else None


def _map_in_background(run) -> None:
    """Compute the run's default latent map and fit its default sampler on the server's background thread, so the
    Latent space and Generate pages, which read them through the run's context, show them at once. Nothing happens
    when its dataset is not at hand."""
    from ae_core.runs.context import context_for

    try:
        dataset = datasets.dataset_by_name(run.dataset_name, run.split)
        context = context_for(run, dataset) if dataset is not None else None
    except (DatasetUnavailableError, DataFileError, ValueError):
        return  # the page says why when it is opened
    if context is not None:
        server.background_worker().submit(_default_map, context)


def _default_map(context) -> None:
    """Computes the default latent map, the default sampler and the compression rows into the run's context, where
    the Latent space, Generate and Applications pages find them."""
    from ae_core.applications.compression import compression_report
    from ae_core.generation.report import default_sampler_name, fitted_sampler
    from ae_core.latent.maps import default_run_map

    try:
        default_run_map(context)
        fitted_sampler(context, default_sampler_name(context))
        compression_report(context)
    except ValueError:  # e.g. a diverged model's codes; the page says why when it is opened
        pass


def session_runs() -> dict:
    return st.session_state.setdefault(keys.RUNS, {})


def _free_name(name: str, runs: dict) -> str:
    """``name``, numbered (name-2, name-3, ...) when another of ``runs`` holds it."""
    free, copy = name, 1
    while free in runs:
        copy += 1
        free = f"{name}-{copy}"
    return free


def add_run(run, current: bool = True) -> str:
    """Add ``run`` to this session's runs under a unique name (renaming it if needed) and, unless ``current`` is
    False, make it current. A run this session holds already (same id: saved, then opened) is not added again."""
    runs = session_runs()
    held = next((name for name, other in runs.items() if other.id == run.id), None)
    if held is None:
        held = run.name = _free_name(run.name, runs)
        runs[held] = run
    if current:
        st.session_state[keys.CURRENT_RUN] = held
    return held


def open_run(run) -> str:
    """Make ``run``, opened from the saved runs or a link, current, shown on the Train page as a run just trained is
    (the outcome of a job that ended before gives way to it), with its settings in the form, ready to train again.
    Call before the Train page's widgets are drawn (from a button's callback or at the page's start)."""
    from pages.shared.run_form import fill_form

    rename_run(run.id, run.name)  # held already under another name: a saved run's name is its name everywhere
    held = add_run(run)
    _map_in_background(session_runs()[held])
    st.session_state[keys.DISMISSED_JOB] = st.session_state.get(keys.JOB)
    fill_form(run)
    return held


def rename_run(run_id: str, new_name: str) -> None:
    """Call this session's run of ``run_id`` ``new_name`` (numbered when another of its runs has that name) at once
    everywhere: in the pickers, as the current run, and in the workspace's copy on disk. Nothing when the session
    does not hold it."""
    runs = session_runs()
    old = next((name for name, run in runs.items() if run.id == run_id), None)
    if old is None or old == new_name:
        return
    run = runs[old]
    run.name = _free_name(new_name, {name: other for name, other in runs.items() if name != old})
    st.session_state[keys.RUNS] = {run.name if name == old else name: other for name, other in runs.items()}
    for picker in (keys.CURRENT_RUN, keys.DENOISER, keys.ANOMALY_RUN):
        if st.session_state.get(picker) == old:
            st.session_state[picker] = run.name
    workspace.rename_kept(old, run.name)


def current_run():
    """The run chosen last (trained, opened or picked), or None when this session has none."""
    runs = session_runs()
    name = st.session_state.get(keys.CURRENT_RUN)
    if name not in runs:
        name = next(reversed(runs), None)
        st.session_state[keys.CURRENT_RUN] = name
    return runs.get(name)
