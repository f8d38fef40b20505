"""What the pages share: the current dataset and run, where runs are saved, and the guard of pages on a run.

Keras-free at import, so the Data page that imports it appears fast.
"""

import os
import sys
from pathlib import Path

import streamlit as st

from ae_core.data import DATASETS, DataFileError, Dataset, DatasetUnavailableError, default_dataset_name, load_dataset
from ae_core.runs.names import default_runs_dir
from ae_core.training import native_memory
from pages import keys, server

TRAIN_PAGE, DATA_PAGE = "pages/train.py", "pages/data.py"


STREAMLIT_PATCHED_FOR = "1.67"  # the Streamlit version whose private names the two patches below rely on


def _private(module, name: str, breaks: str):
    """``module.name``, a private Streamlit name; a RuntimeError at import, never a silent change, when it is gone."""
    if not hasattr(module, name):
        import streamlit

        raise RuntimeError(
            f"streamlit {streamlit.__version__} has no {module.__name__}.{name}, which the app relies "
            f"on (written for streamlit {STREAMLIT_PATCHED_FOR}). Without it {breaks} Install the "
            f"streamlit version pinned in requirements.txt, or adapt pages/common.py."
        )
    return getattr(module, name)


def _keep_keras_state() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() at the end of every script run.

    Streamlit does that for scripts that rebuild their models on each run. Here models live on in session state
    and train on background threads, and clear_session() swaps out Keras' global state (layer-name counters, seeds,
    scopes) for every thread at once: a job building its model at that moment fails with 'The name "dense" is used
    2 times in the model'. There is no setting for this, so the private hook is replaced.
    """
    from streamlit.runtime.scriptrunner import script_runner

    _private(
        script_runner,
        "_clean_problem_modules",
        "every script run clears Keras' global state while "
        "other sessions build models on their training threads, which then fail.",
    )
    script_runner._clean_problem_modules = lambda: None


def _pages_manager():
    """Streamlit's PagesManager, checked to still have the flag _use_app_navigation turns off."""
    from streamlit.runtime.pages_manager import PagesManager

    _private(
        PagesManager,
        "uses_pages_directory",
        "a fresh server's first request for a page such as /train runs "
        "that page alone, with every file in pages/ listed in the sidebar.",
    )
    return PagesManager


_keep_keras_state()
_pages_manager()
native_memory.limit_malloc_arenas()  # a server trains on a new thread each time; see ae_core/native_memory.py


def start_page() -> None:
    """Call first on every page: runs app.py's navigation even for a deep link, keeps widget settings, collects
    the run of a training job that ended while another page was open, and has the session's state let go once its
    browser is gone for good."""
    _use_app_navigation()
    _keep_settings()
    collect_finished_job()
    server.release_state_when_expired()


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
            _map_in_background(snapshot.run)
    return snapshot.status if snapshot else None


def _map_in_background(run) -> None:
    """Compute the run's default latent map on the server's background thread, so the Latent space page, which reads
    the same cached map through the run's context, shows it at once. Nothing happens when its dataset is not at
    hand."""
    from ae_core.runs.context import context_for

    try:
        dataset = dataset_by_name(run.dataset_name, run.split)
        context = context_for(run, dataset) if dataset is not None else None
    except (DatasetUnavailableError, DataFileError, ValueError):
        return  # the page says why when it is opened
    if context is not None:
        server.background_worker().submit(_default_map, context)


def _default_map(context) -> None:
    """Computes the default latent map into the run's context, where the Latent space page finds it."""
    from ae_core.latent.maps import default_run_map

    try:
        default_run_map(context)
    except ValueError:  # e.g. a diverged model's codes; the page says why when it is opened
        pass


def _use_app_navigation() -> None:
    """Streamlit treats a folder named pages/ beside app.py as an old-style multipage app until app.py has called
    st.navigation once in this server. A fresh server's first request for /train would run pages/train.py alone,
    with every file in pages/ (common.py too) listed in the sidebar. Turn that off and rerun once through app.py.
    (Renaming the folder is Streamlit's public way around it; pages/ is this project's layout.)"""
    pages_manager = _pages_manager()
    if pages_manager.uses_pages_directory:
        pages_manager.uses_pages_directory = False
        if not st.session_state.get(keys.NAVIGATION_FIXED):
            st.session_state[keys.NAVIGATION_FIXED] = True
            st.rerun()


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


def data_dir() -> str | None:
    return os.environ.get("AE_DATA_DIR") or None


def runs_dir() -> Path:
    """Where runs are saved, shared by everyone using this server: AE_RUNS_DIR, else ./runs (as the command line)."""
    return default_runs_dir()


@st.cache_resource(show_spinner="Loading the dataset…")
def load_builtin(name: str, data_directory: str | None, val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """A built-in dataset on the split of ``val_fraction`` and ``seed``, loaded once per server and shared
    read-only by every session."""
    return load_dataset(name, data_dir=data_directory, allow_download=False, val_fraction=val_fraction, seed=seed)


def dataset_title(name: str) -> str:
    return DATASETS[name].title if name in DATASETS else f"{name} (uploaded)"


def uploads() -> dict:
    """This session's upload, {dataset name: Dataset}: one at most (see replace_upload)."""
    return st.session_state.setdefault(keys.UPLOADS, {})


def replace_upload(dataset: Dataset) -> None:
    """Make ``dataset`` this session's one upload. The one it replaces is let go, by the run contexts too, so its
    arrays are freed: a server's memory then grows with its sessions, not with how often each uploads."""
    context_module = sys.modules.get("ae_core.runs.context")  # not imported yet: no context holds any dataset
    if context_module is not None:
        for replaced in uploads().values():
            context_module.forget_dataset(replaced)
    st.session_state[keys.UPLOADS] = {dataset.name: dataset}


def selected_dataset_name() -> str:
    if keys.DATASET not in st.session_state:
        st.session_state[keys.DATASET] = default_dataset_name(data_dir())
    return st.session_state[keys.DATASET]


def dataset_by_name(name: str, split: dict | None = None) -> Dataset | None:
    """An uploaded or built-in dataset by name, a built-in one on ``split`` (a Split.to_dict(); the default split
    when None); None when this session has neither (e.g. another's upload). Raises DatasetUnavailableError or
    DataFileError when a built-in one cannot be read."""
    if name in uploads():
        return uploads()[name]
    if name not in DATASETS:
        return None
    split = split or {}
    return load_builtin(name, data_dir(), split.get("val_fraction", 0.2), split.get("seed", 0))


def current_dataset() -> Dataset:
    """The dataset chosen on the Data page (the default dataset before any choice), loaded if needed."""
    dataset = dataset_by_name(selected_dataset_name())
    if dataset is None:  # the name came from an upload this session no longer holds
        st.session_state[keys.DATASET] = default_dataset_name(data_dir())
        dataset = dataset_by_name(st.session_state[keys.DATASET])
    return dataset


def session_runs() -> dict:
    return st.session_state.setdefault(keys.RUNS, {})


def add_run(run) -> str:
    """Add ``run`` to this session's runs under a unique name (renaming it if needed) and make it current.
    A run this session holds already (same id: saved, then opened) is not added again."""
    runs = session_runs()
    held = next((name for name, other in runs.items() if other.id == run.id), None)
    if held is None:
        name, copy = run.name, 1
        while name in runs:
            copy += 1
            name = f"{run.name}-{copy}"
        run.name = name
        runs[name] = run
        held = name
    st.session_state[keys.CURRENT_RUN] = held
    return held


def current_run():
    """The run chosen last (trained, opened or picked), or None when this session has none."""
    runs = session_runs()
    name = st.session_state.get(keys.CURRENT_RUN)
    if name not in runs:
        name = next(reversed(runs), None)
        st.session_state[keys.CURRENT_RUN] = name
    return runs.get(name)


def training_text(snapshot) -> str:
    """ "epoch N of M" for a running or paused job's snapshot."""
    from ae_core.training.jobs import PAUSED, QUEUED

    progress = snapshot.progress
    if snapshot.status == QUEUED:
        return f"waiting its turn, {snapshot.place.describe()}"
    if progress is None:
        return "building the model"
    state = "paused in" if snapshot.status == PAUSED else "in"
    return f"{state} epoch {progress.epoch} of {progress.epochs}"


def require_run():
    """The current run, chosen with the Run selectbox; else what is missing (a run still training, or none yet)
    with a link to the Train page, then st.stop()."""
    runs = session_runs()
    if current_run() is None:
        snapshot = job_snapshot()
        if snapshot is not None and not snapshot.finished:
            st.info(f"A run is training, {training_text(snapshot)}; it appears here when it finishes.")
            st.page_link(TRAIN_PAGE, label="Watch it on Train", icon=":material/model_training:")
        else:
            st.info("There is no run yet: train one on the Train page, or open a saved run.")
            st.page_link(TRAIN_PAGE, label="Go to Train", icon=":material/model_training:")
        st.stop()
    return runs[st.selectbox("Run", list(runs), key=keys.CURRENT_RUN)]


def require_context(run=None):
    """The RunContext of ``run`` (the current run from require_run when None) on its dataset and its own split;
    when this session cannot give that dataset, says why with a link to the Data page, then st.stop()."""
    from ae_core.runs.context import context_for

    run = run if run is not None else require_run()
    try:
        dataset = dataset_by_name(run.dataset_name, run.split)
        if dataset is None:
            raise ValueError(
                f"{run.dataset_name} is not loaded in this session (an upload lives only in the "
                "session that uploaded it); upload it again on the Data page"
            )
        return context_for(run, dataset)
    except (DatasetUnavailableError, DataFileError, ValueError) as error:
        st.warning(f"Run {run.name} needs the images it was trained on: {error}")
        st.page_link(DATA_PAGE, label="Go to Data", icon=":material/dataset:")
        st.stop()
