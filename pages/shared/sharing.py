"""Saving is publishing: the runs folder is shared by everyone using this server. Saving a run, opening a saved one
and deleting one, for the Train and Reconstructions pages. Unsaved runs and uploads stay in their own session."""

from dataclasses import replace
from pathlib import Path

import streamlit as st

from ae_core import user_text
from ae_core.data import DATASETS
from ae_core.runs.names import default_runs_dir
from pages.shared import keys, session

SHARED_NOTE = (
    "A saved run is visible to everyone using this server: anyone can open or delete it. Unsaved runs stay "
    "in this browser tab."
)


def runs_dir() -> Path:
    """Where runs are saved, shared by everyone using this server: AE_RUNS_DIR, else ./runs (as the command line)."""
    return default_runs_dir()


@st.cache_resource(show_spinner=False)
def _clean_staging_once(folder: str) -> tuple[str, ...]:
    """Removes what saves and deletes killed midway left in ``folder``, once per server process (and folder)."""
    from ae_core.runs.saving import clean_staging

    return tuple(clean_staging(folder))


def trained_on_upload(run) -> bool:
    return run.dataset_name not in DATASETS


def _confirmed_publishing(run) -> bool:
    """True for a run on a built-in dataset; for one trained on an upload, whether the user agreed to publish the
    images of the upload that the saved run holds (its preview) and the upload's name."""
    if not trained_on_upload(run):
        return True
    count = len(run.result.preview_images)
    return st.checkbox(
        f"Publish {count} of my uploaded images with this run",
        key=keys.PUBLISH_UPLOAD_PREFIX + run.id,
        help=f"The saved run keeps {count} validation images of {user_text.markdown(run.dataset_name)} and their "
        "reconstructions, to show how it rebuilds them, and the upload's file name. Everyone using this server can "
        "then see them.",
    )


def save_ui(run) -> None:
    """ "Save as" and Save run; a run trained on an upload saves only once publishing its images is confirmed."""
    name = st.text_input("Save as", value=run.name, key=keys.SAVE_AS_PREFIX + run.id)
    st.caption(SHARED_NOTE)
    confirmed = _confirmed_publishing(run)
    if st.button("Save run", disabled=not confirmed, help="Saved runs are visible to everyone using this server."):
        from ae_core.runs.names import sanitize_run_name
        from ae_core.runs.saving import save_run

        try:
            path = save_run(replace(run, name=sanitize_run_name(name)), runs_dir())
        except FileExistsError as error:
            st.error(f"{user_text.markdown(error)} Edit “Save as” above, then press Save run again.")
        except (ValueError, OSError) as error:
            st.error(f"Could not save the run: {user_text.markdown(error)}")
        else:
            st.success(f"Saved to {user_text.markdown(path.resolve())}; everyone using this server can open it now.")


def _ask_to_delete(name: str) -> None:
    st.session_state[keys.DELETE_PENDING] = name


def _keep() -> None:
    st.session_state.pop(keys.DELETE_PENDING, None)


def _delete(name: str) -> None:
    """Button callback, before the script runs, so the listing drawn next no longer holds the run."""
    from ae_core.runs.saving import delete_run

    st.session_state.pop(keys.DELETE_PENDING, None)
    try:
        delete_run(runs_dir(), name)
    except (ValueError, OSError) as error:
        st.session_state[keys.DELETE_OUTCOME] = ("error", f"Could not delete {name}: {error}")
    else:
        st.session_state[keys.DELETE_OUTCOME] = (
            "success",
            f"Deleted {name} from {runs_dir().resolve()}. Sessions that opened it keep it until they close.",
        )


def _delete_confirmation(name: str) -> None:
    st.warning(
        f"Delete {user_text.markdown(name)} for everyone using this server? Its folder is removed; this cannot be "
        "undone."
    )
    yes, no = st.columns(2)
    yes.button("Delete for everyone", type="primary", on_click=_delete, args=(name,))
    no.button("Keep it", on_click=_keep)


def _show_delete_outcome() -> None:
    kind, text = st.session_state.pop(keys.DELETE_OUTCOME, (None, None))
    if kind == "error":
        st.error(user_text.markdown(text))  # it quotes the run's name
    elif kind == "success":
        st.success(user_text.markdown(text))


def _open(name: str) -> None:
    from ae_core.runs.loading import load_run

    try:
        session.add_run(load_run(runs_dir() / name))
    except (OSError, ValueError, KeyError) as error:
        st.error(
            f"Could not open {user_text.markdown(name)}: {user_text.markdown(error)}. Expected a folder with "
            "run.json, model.keras and preview.npz."
        )
    else:
        st.success(f"Opened {user_text.markdown(name)}; it is now the current run.")


def saved_runs_ui() -> None:
    """Pick a run saved under runs_dir(), open it into this session's runs or delete it (after a
    confirmation); malformed folders are named."""
    from ae_core.runs.listing import list_runs

    _clean_staging_once(str(runs_dir()))
    _show_delete_outcome()
    try:
        listing = list_runs(runs_dir())
    except OSError as error:
        st.error(f"Could not list the saved runs in {user_text.markdown(runs_dir())}: {user_text.markdown(error)}")
        return
    for problem in listing.skipped:
        st.caption(f"Skipped: {user_text.markdown(problem)}")  # it quotes folder and run names
    summaries = {summary["name"]: summary for summary in listing.runs}  # name = the run's folder
    if not summaries:
        st.caption(f"No saved runs in {user_text.markdown(runs_dir().resolve())} yet.")
        return
    label = {name: f"{name} · {summary['dataset']} · {summary['created']}" for name, summary in summaries.items()}
    chosen = st.selectbox(
        "Saved run", list(summaries), format_func=lambda name: user_text.plain(label[name]), key=keys.SAVED_RUN
    )
    open_column, delete_column = st.columns(2)
    if open_column.button("Open run"):
        _open(chosen)
    delete_column.button(
        "Delete run",
        on_click=_ask_to_delete,
        args=(chosen,),
        help="Removes the saved run for everyone using this server, after you confirm.",
    )
    if st.session_state.get(keys.DELETE_PENDING) == chosen:
        _delete_confirmation(chosen)
