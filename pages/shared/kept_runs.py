"""The runs this workspace keeps: each run it trains is written into the workspace, private to its link, so a reload
or a server restart finds it (``workspace.keep_run``). Together they take the workspace's disk quota
(``AE_MAX_WORKSPACE_RUNS_BYTES``, ``ae_core.runs.disk_budget``), past which a new run is not kept; here the person
sees what they take and deletes the ones they no longer need, after a confirmation. Only this workspace's own runs
are listed, and only they can be deleted here."""

import streamlit as st

from ae_core import user_text
from ae_core.settings import limits
from ae_core.units import human_size
from pages.shared import keys, session, workspace


def kept_runs_ui() -> None:
    """What this workspace's kept runs take of its quota, a picker of them (largest first) and Delete kept run."""
    from ae_core.runs.disk_budget import saved_run_sizes

    held = workspace.current()
    if held is None:
        return
    mine = saved_run_sizes(held.runs_dir) if held.runs_dir.is_dir() else []
    sizes = {
        run.name: run.size for run in sorted(mine, key=lambda run: run.size, reverse=True) if run.owner == held.owner
    }
    quota, pending = limits.current().max_workspace_runs_bytes, st.session_state.get(keys.KEPT_DELETE_PENDING)
    used = sum(sizes.values())
    with st.expander(
        f"Runs kept in this workspace ({human_size(used)} of {human_size(quota)})", expanded=bool(pending)
    ):
        st.caption(
            f"Each run you train is kept in this workspace, private to its link, so a reload finds it. Together they "
            f"may take {human_size(quota)} (AE_MAX_WORKSPACE_RUNS_BYTES); past that a new run is not kept. Delete "
            "the ones you no longer need; a run you saved stays in the saved runs."
        )
        if not sizes:
            st.caption("This workspace keeps no runs yet.")
            return
        if st.session_state.get(keys.KEPT_RUN) not in sizes:
            st.session_state[keys.KEPT_RUN] = next(iter(sizes))  # set: a deleted run must not stay chosen
        chosen = st.selectbox(
            "Kept run",
            list(sizes),
            format_func=lambda name: user_text.plain(f"{name} · {human_size(sizes[name])}"),
            key=keys.KEPT_RUN,
        )
        st.button(
            "Delete kept run",
            on_click=_ask_to_delete,
            args=(chosen,),
            help="Removes the run from this workspace and from this tab, after you confirm.",
        )
        if pending == chosen:
            _delete_confirmation(chosen, sizes[chosen])


def _ask_to_delete(name: str) -> None:
    st.session_state[keys.KEPT_DELETE_PENDING] = name


def _keep() -> None:
    st.session_state.pop(keys.KEPT_DELETE_PENDING, None)


def _delete_confirmation(name: str, size: int) -> None:
    st.warning(
        f"Delete {user_text.markdown(name)} ({human_size(size)}) from this workspace? Its files are removed and this "
        "tab lets go of it; this cannot be undone. A copy you saved stays in the saved runs."
    )
    yes, no = st.columns(2)
    yes.button("Delete it from this workspace", type="primary", on_click=_delete, args=(name, size))
    no.button("Keep the run", on_click=_keep)


def _delete(name: str, size: int) -> None:
    """Button callback, before the script runs: delete the kept run ``name`` (as this workspace, so never another's)
    and let this session's copy of it go, so the pickers drawn next no longer hold it."""
    from ae_core.runs.saving import delete_run
    from pages.shared.sharing import without_paths

    st.session_state.pop(keys.KEPT_DELETE_PENDING, None)
    held = workspace.current()
    run_id = _kept_id(held.runs_dir / name)
    try:
        delete_run(held.runs_dir, name, by=held.owner)
    except (ValueError, OSError) as error:
        st.session_state[keys.CHANGE_OUTCOME] = ("error", f"Could not delete {name}: {without_paths(error)}")
        return
    if run_id is not None:
        _forget(run_id)
    st.session_state[keys.CHANGE_OUTCOME] = (
        "success",
        f"Deleted {name} from this workspace: {human_size(size)} of its quota is free again. Another tab open on "
        "its link keeps the run until it closes.",
    )


def _kept_id(folder) -> str | None:
    """The id of the run kept in ``folder``; None when its run.json cannot be read (it is deleted all the same)."""
    from ae_core.runs.summary import check_summary, read_run_summary

    try:
        return check_summary(read_run_summary(folder))["id"]
    except (OSError, ValueError, KeyError):
        return None


def _forget(run_id: str) -> None:
    """Let this session's run of ``run_id`` go, and the pickers that chose it fall back to their defaults."""
    runs = session.session_runs()
    for name in [name for name, run in runs.items() if run.id == run_id]:
        del runs[name]
        for picker in (keys.CURRENT_RUN, keys.DENOISER, keys.ANOMALY_RUN):
            if st.session_state.get(picker) == name:
                del st.session_state[picker]
