"""Saving is publishing: the runs folder is shared by everyone using this server. Saving a run, opening a saved one,
renaming and deleting one, for the Train and Reconstructions pages. Unsaved runs and uploads stay in their own
workspace. A saved run belongs to the workspace that saved it: only that workspace, or whoever gave the server's admin
token, may rename or delete it."""

import hmac
from dataclasses import replace
from pathlib import Path

import streamlit as st

from ae_core import user_text
from ae_core.data import DATASETS
from ae_core.runs.names import default_runs_dir
from pages.shared import keys, session, workspace
from pages.shared.kept_runs import kept_runs_ui

SHARED_NOTE = (
    "A saved run is visible to everyone using this server: anyone can open it; only this workspace can rename or "
    "delete it. Unsaved runs stay in this workspace, private to its link."
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
    """ "Save as" and Save run for the current run; a run trained on an upload saves only once publishing its images
    is confirmed. While a run trains (or waits, or is paused) nothing is saved: the run to save is the one training,
    once it has ended."""
    snapshot = session.job_snapshot()
    if snapshot is not None and not snapshot.finished:
        why = "The run training now can be saved once it has finished or been stopped."
        st.info(f"{why} Until then there is nothing new to save.")
        st.button("Save run", disabled=True, help=why, key=keys.SAVE_BUTTON)
        return
    st.markdown(f"Saves **{user_text.markdown(run.name)}**.")
    st.text_input("Save as", value=run.name, key=keys.SAVE_AS_PREFIX + run.id)
    st.caption(SHARED_NOTE)
    confirmed = _confirmed_publishing(run)
    st.button(
        "Save run",
        disabled=not confirmed,
        help="Saved runs are visible to everyone using this server.",
        on_click=_save,
        args=(run,),
        key=keys.SAVE_BUTTON,
    )
    _show_outcome(keys.SAVE_OUTCOME)


def _save(run) -> None:
    """Button callback, before the script runs, so every picker and the current run show the saved name."""
    from ae_core.runs.names import sanitize_run_name
    from ae_core.runs.saving import save_run

    name = st.session_state.get(keys.SAVE_AS_PREFIX + run.id, run.name)
    try:
        path = save_run(replace(run, name=sanitize_run_name(name)), runs_dir(), owner=_owner())
    except FileExistsError as error:
        text = f"{without_paths(error)} Edit “Save as” above, then press Save run again."
        st.session_state[keys.SAVE_OUTCOME] = ("error", text)
    except (ValueError, OSError) as error:
        st.session_state[keys.SAVE_OUTCOME] = ("error", f"Could not save the run: {without_paths(error)}")
    else:
        session.rename_run(run.id, path.name)
        st.session_state[keys.SAVED_RUN] = path.name  # the saved runs' picker, drawn below, shows this run
        st.session_state[keys.SAVE_OUTCOME] = (
            "success",
            f"Saved {path.name}; everyone using this server can open it now.",
        )


def without_paths(error) -> str:
    """``error``'s text with the server's folders named as what they are, never as paths: a message says where a run
    is by its name."""
    text = error.strerror if isinstance(error, OSError) and error.filename else str(error)  # the path apart
    for folder in (runs_dir().resolve(), runs_dir()):
        text = text.replace(str(folder), "the saved runs")
    held = workspace.current()
    if held is not None:
        text = text.replace(str(held.folder.resolve()), "this workspace").replace(str(held.folder), "this workspace")
    return text


def _owner() -> str | None:
    """The owner id this session saves runs under: its workspace's."""
    held = workspace.current()
    return held.owner if held is not None else None


def _acting_as() -> str | None:
    """Whom a rename or delete acts for: None (any run) once the admin token was given, else this workspace."""
    return None if st.session_state.get(keys.ADMIN) else (_owner() or "")


def _may_change(summary: dict) -> bool:
    return st.session_state.get(keys.ADMIN, False) or (summary["owner"] is not None and summary["owner"] == _owner())


def _ask_to_delete(name: str) -> None:
    st.session_state[keys.DELETE_PENDING] = name


def _keep() -> None:
    st.session_state.pop(keys.DELETE_PENDING, None)


def _delete(name: str) -> None:
    """Button callback, before the script runs, so the listing drawn next no longer holds the run."""
    from ae_core.runs.saving import delete_run

    st.session_state.pop(keys.DELETE_PENDING, None)
    try:
        delete_run(runs_dir(), name, by=_acting_as())
    except (ValueError, OSError) as error:
        st.session_state[keys.CHANGE_OUTCOME] = ("error", f"Could not delete {name}: {without_paths(error)}")
    else:
        st.session_state[keys.CHANGE_OUTCOME] = (
            "success",
            f"Deleted {name} from the saved runs. Sessions that opened it keep it until they close.",
        )


def _delete_confirmation(name: str) -> None:
    st.warning(
        f"Delete {user_text.markdown(name)} for everyone using this server? Its folder is removed; this cannot be "
        "undone."
    )
    yes, no = st.columns(2)
    yes.button("Delete for everyone", type="primary", on_click=_delete, args=(name,))
    no.button("Keep it", on_click=_keep)


def _show_outcome(key: str) -> None:
    """What the last save, or the last open, rename or delete, did (``key``: its session key), shown once."""
    kind, text = st.session_state.pop(key, (None, None))
    if kind == "error":
        st.error(user_text.markdown(text))  # it quotes the run's name
    elif kind == "success":
        st.success(user_text.markdown(text))


def _rename(name: str) -> None:
    """Button callback: rename the saved run ``name`` to what the "New name" box holds."""
    from ae_core.runs.saving import rename_run

    new_name = st.session_state.get(keys.RENAME_TO_PREFIX + name, "")
    try:
        path = rename_run(runs_dir(), name, new_name, by=_acting_as())
    except (ValueError, OSError) as error:
        st.session_state[keys.CHANGE_OUTCOME] = ("error", f"Could not rename {name}: {without_paths(error)}")
        return
    st.session_state[keys.SAVED_RUN] = path.name
    st.session_state[keys.CHANGE_OUTCOME] = ("success", f"Renamed {name} to {path.name}.")
    try:
        session.rename_run(_saved_id(path), path.name)  # the run this session holds takes the name too
    except (OSError, ValueError, KeyError):
        pass  # renamed meanwhile by its owner again, or unreadable: the session keeps its name


def _admin_ui() -> None:
    """When the server has an admin token: a box to give it; once given, this session may delete or rename any run."""
    from ae_core.settings import environment

    token = environment.current().admin_token
    if token is None or st.session_state.get(keys.ADMIN):
        return
    with st.expander("Admin"):
        given = st.text_input("Admin token", type="password", key=keys.ADMIN_TOKEN_INPUT)
        if given and hmac.compare_digest(given.encode(), token.encode()):
            st.session_state[keys.ADMIN] = True
            st.rerun()
        elif given:
            st.error("That is not the server's admin token (AE_ADMIN_TOKEN).")


def saved_run_by_id(run_id: str):
    """The saved run whose id is ``run_id``, loaded; None when no readable saved run has it."""
    from ae_core.runs.listing import list_runs
    from ae_core.runs.loading import load_run

    try:
        names = [summary["name"] for summary in list_runs(runs_dir()).runs if summary["id"] == run_id]
        return load_run(runs_dir() / names[0]) if names else None
    except (OSError, ValueError, KeyError):
        return None


def _saved_id(folder: Path) -> str:
    from ae_core.runs.summary import check_summary, read_run_summary

    return check_summary(read_run_summary(folder))["id"]


def _open(name: str) -> None:
    """Button callback, before the script runs, so the Train page's form is drawn with the run's settings."""
    from ae_core.runs.loading import load_run

    try:
        session.open_run(load_run(runs_dir() / name))
    except (OSError, ValueError, KeyError) as error:
        st.session_state[keys.CHANGE_OUTCOME] = (
            "error",
            f"Could not open {name}: {without_paths(error)}. Expected a folder with run.json, model.keras and "
            "preview.npz.",
        )
    else:
        st.session_state[keys.CHANGE_OUTCOME] = ("success", f"Opened {name}; it is now the current run.")


def saved_runs_ui() -> None:
    """Pick a run saved under runs_dir(), open it into this session's runs or delete it (after a
    confirmation); malformed folders are named. Then the runs this workspace keeps, to delete the ones not needed."""
    _clean_staging_once(str(runs_dir()))
    _show_outcome(keys.CHANGE_OUTCOME)
    _shared_runs_ui()
    kept_runs_ui()


def _shared_runs_ui() -> None:
    from ae_core.runs.listing import list_runs

    try:
        listing = list_runs(runs_dir())
    except OSError as error:
        st.error(f"Could not list the saved runs: {user_text.markdown(without_paths(error))}")
        return
    for problem in listing.skipped:
        st.caption(f"Skipped: {user_text.markdown(without_paths(problem))}")  # it quotes folder and run names
    summaries = {summary["name"]: summary for summary in listing.runs}  # name = the run's folder
    if not summaries:
        st.caption("No saved runs on this server yet.")
        return
    mine = _owner()
    label = {
        name: f"{name} · {summary['dataset']} · {summary['created']}" + (" · mine" if summary["owner"] == mine else "")
        for name, summary in summaries.items()
    }
    if st.session_state.get(keys.SAVED_RUN) not in summaries:
        # Set, not just forgotten: the browser would go on showing a deleted or renamed run as the chosen one
        st.session_state[keys.SAVED_RUN] = next(iter(summaries))
    chosen = st.selectbox(
        "Saved run", list(summaries), format_func=lambda name: user_text.plain(label[name]), key=keys.SAVED_RUN
    )
    allowed = _may_change(summaries[chosen])
    why = None if allowed else "Only the workspace that saved this run may change it; you can open it."
    open_column, rename_column, delete_column = st.columns(3)
    open_column.button("Open run", on_click=_open, args=(chosen,))
    with rename_column.popover("Rename run", disabled=not allowed, help=why):
        st.text_input("New name", value=chosen, key=keys.RENAME_TO_PREFIX + chosen)
        st.button("Rename", on_click=_rename, args=(chosen,))
    delete_column.button(
        "Delete run",
        on_click=_ask_to_delete,
        args=(chosen,),
        disabled=not allowed,
        help=why or "Removes the saved run for everyone using this server, after you confirm.",
    )
    if allowed and st.session_state.get(keys.DELETE_PENDING) == chosen:
        _delete_confirmation(chosen)
    _admin_ui()
