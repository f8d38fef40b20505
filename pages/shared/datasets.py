"""The datasets this session can work on: the built-in ones, loaded once per server, and its own upload, decoded
within the server's memory budget for uploads; and the one chosen on the Data page.

Keras-free at import, so the Data page that imports it appears fast.
"""

import sys

import streamlit as st

from ae_core.data import DATASETS, Dataset, default_dataset_name, load_dataset
from ae_core.workspaces import upload_memory
from pages.shared import keys, workspace


def data_dir() -> str | None:
    from ae_core.settings import environment

    folder = environment.current().data_dir
    return str(folder) if folder else None


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


def decode_upload(files: list[tuple[str, bytes]]) -> Dataset:
    """Decode what the uploader gives ((file name, content) pairs) within the server's memory budget for uploads
    (``ae_core.workspaces.upload_memory``); DataFileError or ValueError say why it cannot be, and this session's
    upload then stays as it was."""
    return upload_memory.decode_upload(files, replacing=next(iter(uploads().values()), None))


def replace_upload(dataset: Dataset) -> None:
    """Make ``dataset`` this session's one upload. The one it replaces is let go, by the run contexts too, so its
    arrays are freed: a server's memory then grows with its sessions, not with how often each uploads. The
    workspace keeps it on disk too, so a reload finds it."""
    context_module = sys.modules.get("ae_core.runs.context")  # not imported yet: no context holds any dataset
    if context_module is not None:
        for replaced in uploads().values():
            context_module.forget_dataset(replaced)
    st.session_state[keys.UPLOADS] = {dataset.name: dataset}
    workspace.keep_upload(dataset)


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
