"""This browser's workspace: its token in the address (``?ws=…``) on every page, what it holds read back from disk
when a session opens it, the runs and upload it makes kept there, and the link that is its key.

A session opens its workspace once, on its first page: from the token in the address when that workspace is on this
server, else as a new one. Its runs are then read from disk into the session, so a server's memory grows with the
workspaces open now, not with those on disk; the session watchdog (``server``) still frees them when the tab is gone.
"""

import time

import streamlit as st

from ae_core import user_text
from ae_core.settings import environment
from ae_core.workspaces import store
from pages.shared import keys

QUERY_KEY = "ws"
RUN_KEY = "run"  # the id of the page's run: a link opens that run when it is saved, or this workspace's own
SWEEP_EVERY_S = 60.0  # how often expired workspaces are looked for, at most; a look lists one folder
_last_sweep = [0.0]  # the server's last look (one per process: every session shares it)


def root():
    return environment.current().workspaces_folder()


def current() -> store.Workspace | None:
    """The workspace this session works in; None before start_page opened it (a bare script)."""
    return st.session_state.get(keys.WORKSPACE)


def address_query() -> dict[str, str]:
    """The query parameters every address of this session keeps: the workspace's token and the current run's id."""
    workspace = current()
    query = {QUERY_KEY: workspace.token} if workspace is not None else {}
    run = st.session_state.get(keys.RUNS, {}).get(st.session_state.get(keys.CURRENT_RUN))
    if run is not None:
        query[RUN_KEY] = run.id
    return query


def keep_address() -> None:
    """Write the token and the current run's id into the address, leaving the page's own parameters."""
    for name, value in address_query().items():
        if st.query_params.get(name) != value:
            st.query_params[name] = value


def enter() -> list:
    """Open this session's workspace, and keep its token in the address; return the runs read back from disk when
    this call opened it (the caller adds them to the session), else []."""
    held, asked = current(), st.query_params.get(QUERY_KEY)
    opened = []
    if held is None or (asked is not None and asked != held.token):
        st.session_state[keys.LINKED_RUN] = st.query_params.get(RUN_KEY)
        held, opened = _open(asked)
    else:
        held.touch()
    if st.query_params.get(QUERY_KEY) != held.token:
        st.query_params[QUERY_KEY] = held.token
    return opened


def _open(token) -> tuple[store.Workspace, list]:
    """The workspace of ``token`` if this server has it, else a new one; its upload restored, its runs read."""
    settings = environment.current()
    folder = settings.workspaces_folder()
    if time.monotonic() - _last_sweep[0] >= SWEEP_EVERY_S:
        _last_sweep[0] = time.monotonic()
        store.remove_expired(folder, settings.workspace_expiry_s)
    workspace = store.open_workspace(folder, token) or store.create_workspace(folder)
    st.session_state[keys.WORKSPACE] = workspace
    problems = st.session_state[keys.WORKSPACE_PROBLEMS] = []
    _restore_upload(workspace, problems)
    return workspace, _read_runs(workspace, problems)


def _restore_upload(workspace: store.Workspace, problems: list) -> None:
    from ae_core.workspaces.uploads import load_upload

    try:
        dataset = load_upload(workspace.upload_dir)
    except ValueError as error:
        problems.append(str(error))
        return
    if dataset is not None:
        st.session_state[keys.UPLOADS] = {dataset.name: dataset}
        st.session_state.setdefault(keys.UPLOAD_NAMES, set()).add(dataset.name)


def _read_runs(workspace: store.Workspace, problems: list) -> list:
    """The workspace's runs, oldest first (so the newest becomes current); a run that cannot be read is named."""
    from ae_core.runs.listing import list_runs

    listing = list_runs(workspace.runs_dir)
    problems.extend(listing.skipped)
    if not listing.runs:
        return []
    from ae_core.runs.loading import load_run

    runs = []
    for summary in reversed(listing.runs):
        try:
            runs.append(load_run(workspace.runs_dir / summary["name"]))
        except (OSError, ValueError, KeyError) as error:
            problems.append(f"{summary['name']}: {error}")
    return runs


def keep_run(run) -> None:
    """Write ``run`` (finished or stopped, named as the session names it) into the workspace, so a reload or a server
    restart finds it; a failure is said on the page and loses only this copy."""
    from ae_core.runs.saving import save_run

    workspace = current()
    if workspace is None:
        return
    try:
        save_run(run, workspace.runs_dir, overwrite=True, owner=workspace.owner)
    except (OSError, ValueError) as error:
        st.warning(
            f"Run {user_text.markdown(run.name)} could not be kept for a reload: {user_text.markdown(error)} The "
            "runs this workspace keeps are listed, to delete, under “Runs kept in this workspace” on the Train page."
        )


def rename_kept(name: str, new_name: str) -> None:
    """Rename the workspace's copy of the run ``name`` to ``new_name``, so a reload finds it under its new name; a
    failure is said on the page and the copy keeps its old name."""
    from ae_core.runs.saving import rename_run

    workspace = current()
    if workspace is None or not (workspace.runs_dir / name).is_dir():
        return
    try:
        rename_run(workspace.runs_dir, name, new_name, by=workspace.owner)
    except (OSError, ValueError) as error:
        why = str(error).replace(str(workspace.folder), "this workspace")  # a message names no server folder
        st.warning(f"Run {user_text.markdown(new_name)} keeps its old name after a reload: {user_text.markdown(why)}")


def keep_upload(dataset) -> None:
    """Make ``dataset`` the workspace's upload on disk, replacing the previous one."""
    from ae_core.workspaces.uploads import save_upload

    workspace = current()
    if workspace is None:
        return
    try:
        save_upload(workspace.upload_dir, dataset)
    except OSError as error:
        st.warning(f"The upload could not be kept for a reload: {user_text.markdown(error)}")


def link(workspace: store.Workspace) -> str:
    """The address that opens ``workspace``: this page's, with its token."""
    page = st.context.url or ""
    return f"{page}?{QUERY_KEY}={workspace.token}"


def link_panel() -> None:
    """In the sidebar: the link is the key to this workspace, with a "copy link" control holding it."""
    workspace = current()
    if workspace is None:
        return
    expiry_h = environment.current().workspace_expiry_s / 3600
    with st.sidebar:
        st.caption(
            "Your runs and upload live in a workspace on this server. **The link is the key**: whoever has it sees and "
            f"changes them, so keep it to yourself. It is removed {expiry_h:g} hours after it was last opened."
        )
        with st.popover("copy link"):
            st.code(link(workspace), language=None, wrap_lines=True)
            st.caption("Press the copy icon, then keep the link to come back to this workspace from any browser.")
        for problem in st.session_state.get(keys.WORKSPACE_PROBLEMS, []):
            st.caption(f"Not read back: {user_text.markdown(problem)}")
