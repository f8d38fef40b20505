"""The Reconstructions page's notebook to take home: a Jupyter notebook that reopens the current run, once it is saved.

The notebook names the run's folder, so only a saved run (in the shared runs folder) gets one: a workspace's folder
is named by its token, the key to the workspace, which must never be written into a file that is handed around.
"""

from pathlib import Path

import streamlit as st

from ae_core import user_text
from ae_core.runs.notebook import run_notebook
from pages.shared import datasets, sharing


def saved_folder(run) -> Path | None:
    """The folder of ``run`` in the shared runs folder (the saved run with its id); None when it is not saved."""
    from ae_core.runs.listing import list_runs

    folder = sharing.runs_dir()
    names = [summary["name"] for summary in list_runs(folder).runs if summary["id"] == run.id]
    return folder / names[0] if names else None


def notebook_ui(run) -> None:
    """The download of the run's notebook, or what to do to get one."""
    if sharing.trained_on_upload(run):
        st.caption(
            "A notebook reopens runs on the built-in datasets only: it loads the run's images again, and an "
            "upload stays on this server."
        )
        return
    folder = saved_folder(run)
    if folder is None:
        st.caption(
            "Save this run (Train page) to download a notebook that reopens it: the notebook reads the run from "
            "the shared runs folder."
        )
        return
    try:
        notebook = run_notebook(folder, datasets.data_dir())
    except (OSError, ValueError) as error:
        st.warning(f"No notebook could be written for this run: {user_text.markdown(error)}")
        return
    st.download_button(
        "Download notebook",
        notebook,
        file_name=user_text.file_name(folder.name, "ipynb"),
        mime="application/x-ipynb+json",
    )
    st.caption(
        "A Jupyter notebook that reopens this run with the lab's library and measures and draws again, step by step "
        "and explained: the validation error against PCA, the reconstructions, the map of the codes and new images. "
        "It runs with the project's Python; its first cell says where the project, the run and the data are."
    )
