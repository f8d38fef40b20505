"""What the pages share: the session-state key names, the current dataset and run, and where runs are saved.

Keras-free, so the Data page that imports it appears fast.
"""

import os
from pathlib import Path

import streamlit as st

from ae_core.data import DATASETS, Dataset, default_dataset_name, load_dataset

# Session-state keys. Keys starting with SETTING_PREFIX belong to widgets whose values outlive a page switch.
SETTING_PREFIX = "setting."
DATASET = SETTING_PREFIX + "dataset"  # name of the dataset every page works on (the Data page's selectbox)
UPLOADS = "uploaded_datasets"  # dict: dataset name -> Dataset the user uploaded in this session
UPLOAD_ERROR = "upload_error"  # why the latest upload was refused, shown under the uploader
UPLOADER = "upload_widget"
JOB = "training_job"  # this session's TrainingJob, absent before the first start
COLLECTED_JOB = "collected_job"  # the ended job whose run is already in RUNS
RUNS = "session_runs"  # dict: run name -> Run trained or opened in this session
CURRENT_RUN = SETTING_PREFIX + "current_run"  # a key of RUNS; the Reconstructions page's run selectbox
LATENT_DATASET = "latent_dataset"  # the dataset whose recommended code size the Latent size widget started from
NAVIGATION_FIXED = "navigation_fixed"  # this session was rerun once through app.py (see _use_app_navigation)

RUNS_DIR_ENV = "AE_RUNS_DIR"


STREAMLIT_PATCHED_FOR = "1.67"  # the Streamlit version whose private names the two patches below rely on


def _private(module, name: str, breaks: str):
    """``module.name``, a private Streamlit name; a RuntimeError at import, never a silent change, when it is gone."""
    if not hasattr(module, name):
        import streamlit

        raise RuntimeError(f"streamlit {streamlit.__version__} has no {module.__name__}.{name}, which the app relies "
                           f"on (written for streamlit {STREAMLIT_PATCHED_FOR}). Without it {breaks} Install the "
                           f"streamlit version pinned in requirements.txt, or adapt pages/common.py.")  # fmt: skip
    return getattr(module, name)


def _keep_keras_state() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() at the end of every script run.

    Streamlit does that for scripts that rebuild their models on each run. Here models live on in session state
    and train on background threads, and clear_session() swaps out Keras' global state (layer-name counters, seeds,
    scopes) for every thread at once: a job building its model at that moment fails with 'The name "dense" is used
    2 times in the model'. There is no setting for this, so the private hook is replaced.
    """
    from streamlit.runtime.scriptrunner import script_runner

    _private(script_runner, "_clean_problem_modules", "every script run clears Keras' global state while "
             "other sessions build models on their training threads, which then fail.")  # fmt: skip
    script_runner._clean_problem_modules = lambda: None


def _pages_manager():
    """Streamlit's PagesManager, checked to still have the flag _use_app_navigation turns off."""
    from streamlit.runtime.pages_manager import PagesManager

    _private(PagesManager, "uses_pages_directory", "a fresh server's first request for a page such as /train runs "
             "that page alone, with every file in pages/ listed in the sidebar.")  # fmt: skip
    return PagesManager


_keep_keras_state()
_pages_manager()


def start_page() -> None:
    """Call first on every page: runs app.py's navigation even for a deep link, keeps widget settings, and
    collects the run of a training job that ended while another page was open."""
    _use_app_navigation()
    _keep_settings()
    collect_finished_job()


def collect_finished_job() -> str | None:
    """The status of this session's training job (None without one); an ended job's run joins RUNS, once."""
    job = st.session_state.get(JOB)
    snapshot = job.snapshot() if job is not None else None
    if snapshot and snapshot.finished and st.session_state.get(COLLECTED_JOB) is not job:
        st.session_state[COLLECTED_JOB] = job
        if snapshot.run is not None:
            add_run(snapshot.run)
    return snapshot.status if snapshot else None


def _use_app_navigation() -> None:
    """Streamlit treats a folder named pages/ beside app.py as an old-style multipage app until app.py has called
    st.navigation once in this server. A fresh server's first request for /train would run pages/train.py alone,
    with every file in pages/ (common.py too) listed in the sidebar. Turn that off and rerun once through app.py."""
    PagesManager = _pages_manager()
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get(NAVIGATION_FIXED):
            st.session_state[NAVIGATION_FIXED] = True
            st.rerun()


def _keep_settings() -> None:
    """Keep the values of widgets on other pages: Streamlit forgets a widget's state when it is not drawn,
    unless the script writes the key itself (Streamlit's documented way to carry widget state across pages)."""
    for key in list(st.session_state.keys()):
        if str(key).startswith(SETTING_PREFIX):
            st.session_state[key] = st.session_state[key]


def setting(name: str, default) -> str:
    """The session-state key of a persistent widget, set to ``default`` the first time."""
    key = SETTING_PREFIX + name
    if key not in st.session_state:
        st.session_state[key] = default
    return key


def data_dir() -> str | None:
    return os.environ.get("AE_DATA_DIR") or None


def runs_dir() -> Path:
    """Where runs are saved: the AE_RUNS_DIR environment variable, else ./runs."""
    return Path(os.environ.get(RUNS_DIR_ENV) or "runs")


@st.cache_resource(show_spinner="Loading the dataset…")
def load_builtin(name: str, data_directory: str | None) -> Dataset:
    """A built-in dataset, loaded once per server and shared read-only by every session."""
    return load_dataset(name, data_dir=data_directory, allow_download=False)


def dataset_title(name: str) -> str:
    return DATASETS[name].title if name in DATASETS else f"{name} (uploaded)"


def uploads() -> dict:
    return st.session_state.setdefault(UPLOADS, {})


def selected_dataset_name() -> str:
    if DATASET not in st.session_state:
        st.session_state[DATASET] = default_dataset_name(data_dir())
    return st.session_state[DATASET]


def dataset_by_name(name: str) -> Dataset | None:
    """An uploaded or built-in dataset by name; None when this session has neither (e.g. another's upload).
    Raises DatasetUnavailableError or DataFileError when a built-in one cannot be read."""
    if name in uploads():
        return uploads()[name]
    return load_builtin(name, data_dir()) if name in DATASETS else None


def current_dataset() -> Dataset:
    """The dataset chosen on the Data page (the default dataset before any choice), loaded if needed."""
    dataset = dataset_by_name(selected_dataset_name())
    if dataset is None:  # the name came from an upload this session no longer holds
        st.session_state[DATASET] = default_dataset_name(data_dir())
        dataset = dataset_by_name(st.session_state[DATASET])
    return dataset


def session_runs() -> dict:
    return st.session_state.setdefault(RUNS, {})


def add_run(run) -> str:
    """Add ``run`` to this session's runs under a unique name (renaming it if needed) and make it current.
    A run this session holds already (same name, creation time and history: saved, then opened) is not added."""
    runs, name, copy = session_runs(), run.name, 1
    while name in runs and not _same_run(runs[name], run):
        copy += 1
        name = f"{run.name}-{copy}"
    run.name = name
    runs.setdefault(name, run)  # opening a run this session already holds keeps the one it holds
    st.session_state[CURRENT_RUN] = name
    return name


def _same_run(held, run) -> bool:
    return held is run or (held.created, held.result.history) == (run.created, run.result.history)


def saved_runs_ui() -> None:
    """Pick a run saved under runs_dir() and open it into this session's runs."""
    from ae_core.runs import list_runs, load_run  # here, not at the top: it loads Keras, which the Data page skips

    try:
        summaries = {summary["name"]: summary for summary in list_runs(runs_dir())}
    except (OSError, ValueError) as error:
        st.error(f"Could not list the saved runs in {runs_dir()}: {error}")
        return
    if not summaries:
        st.caption(f"No saved runs in {runs_dir().resolve()} yet.")
        return
    label = {name: f"{name} · {summary['dataset']} · {summary['created']}" for name, summary in summaries.items()}
    chosen = st.selectbox("Saved run", list(summaries), format_func=label.get)
    if st.button("Open run"):
        try:
            add_run(load_run(runs_dir() / chosen))
        except (OSError, ValueError, KeyError) as error:
            st.error(f"Could not open {chosen}: {error}. Expected a folder with run.json, model.keras and preview.npz.")
        else:
            st.success(f"Opened {chosen}; it is now the current run.")


def current_run():
    """The run chosen last (trained, opened or picked), or None when this session has none."""
    runs = session_runs()
    name = st.session_state.get(CURRENT_RUN)
    if name not in runs:
        name = next(reversed(runs), None)
        st.session_state[CURRENT_RUN] = name
    return runs.get(name)
