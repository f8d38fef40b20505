"""Data page: choose the dataset every page works on, or upload one, and look at it."""

from dataclasses import replace

import numpy as np
import streamlit as st

from ae_core import user_text
from ae_core.data import DATASETS, DataFileError, DatasetUnavailableError, dataset_status
from ae_core.figures.data import class_count_figure, sample_figure
from ae_core.settings import limits
from ae_core.units import human_size
from pages.shared import datasets, keys, session
from pages.shared.layout import metric_row

SAMPLE_COUNT = 30  # three rows of ten


def accept_upload() -> None:
    """Uploader callback: load the files; on success select the new dataset, on failure keep the current one."""
    files = st.session_state.get(keys.UPLOADER) or []
    st.session_state.pop(keys.UPLOAD_ERROR, None)
    if not files:
        return
    try:
        dataset = datasets.decode_upload([(file.name, file.getvalue()) for file in files])
    except (DataFileError, ValueError) as error:
        st.session_state[keys.UPLOAD_ERROR] = str(error)
        return
    except Exception as error:  # a reader bug must not lose the session; say what happened instead
        st.session_state[keys.UPLOAD_ERROR] = (
            f"Could not read {', '.join(file.name for file in files)}: {type(error).__name__}: {error}. "
            "Expected one .npz, one .zip of images, or an IDX images file with its labels file."
        )
        return
    dataset = replace(dataset, name=upload_name(dataset.name))
    datasets.replace_upload(dataset)
    st.session_state[keys.DATASET] = dataset.name


def upload_name(name: str) -> str:
    """``name``, unless a built-in dataset or an earlier upload of this session has it: then numbered. A run
    trained on an earlier upload of the same file name must never be scored on other images."""
    used = st.session_state.setdefault(keys.UPLOAD_NAMES, set())
    base = f"{name} (upload)" if name in DATASETS else name
    unique, number = base, 1
    while unique in used:
        number += 1
        unique = f"{base} #{number}"
    used.add(unique)
    return unique


def dataset_picker() -> None:
    """The Dataset selectbox (available built-ins and this session's uploads), the uploader, and what is missing."""
    statuses = dataset_status(datasets.data_dir())
    options = [status.spec.name for status in statuses if status.available] + list(datasets.uploads())
    if datasets.selected_dataset_name() not in options:
        st.session_state[keys.DATASET] = options[0]
    pick, upload = st.columns(2)
    with pick:
        st.selectbox(
            "Dataset", options, key=keys.DATASET, format_func=lambda name: user_text.plain(datasets.dataset_title(name))
        )
        for status in statuses:
            if not status.available:
                st.caption(f"**{status.spec.title}** is not available: {status.reason}")
    with upload:
        st.file_uploader(
            "Upload your own images",
            accept_multiple_files=True,
            key=keys.UPLOADER,
            on_change=accept_upload,
            help="One .npz (x_train/x_test or images/labels arrays), one .zip of PNG/JPEG images with one folder "
            "per class, or an IDX images file together with its labels file (raw or .gz).",
        )
        if keys.UPLOAD_ERROR in st.session_state:
            st.error(user_text.markdown(st.session_state[keys.UPLOAD_ERROR]))  # it quotes file and member names
        st.caption(
            f"One upload at a time, up to {human_size(limits.current().max_upload_bytes)}: a new upload "
            "replaces the previous one. It stays in this browser tab, unseen by others, and is forgotten "
            "minutes after the tab closes; runs trained on it keep their losses, scores and previews."
        )


def show_dataset(dataset) -> None:
    height, width, channels = dataset.image_shape
    columns = metric_row(4)
    columns[0].metric("Image size", f"{height}×{width}×{channels}")
    columns[1].metric("Training images", f"{dataset.n_train:,}")
    columns[2].metric("Validation images", f"{dataset.n_val:,}")
    columns[3].metric("Classes", len(dataset.class_names) or "unlabeled")
    samples, counts = st.columns([3, 2])
    with samples:
        st.subheader("Samples")
        count = min(SAMPLE_COUNT, dataset.n_train)
        labels = [dataset.class_names[y] for y in dataset.y_train[:count]] if dataset.y_train is not None else []
        st.plotly_chart(sample_figure(dataset.x_train[:count], labels), key=keys.SAMPLES_CHART)
        st.caption("The first training images, each with its class name." if labels else "The first training images.")
    with counts:
        st.subheader("Images per class")
        if dataset.class_counts():
            st.plotly_chart(class_count_figure(dataset.class_counts()), key=keys.CLASS_COUNTS_CHART)
        else:
            st.info("This dataset has no labels: the autoencoder does not need them.")
    st.markdown(
        f"**Source:** {user_text.markdown(dataset.source)}  \n**Pixel range:** {np.min(dataset.x_train):.2f} to "
        f"{np.max(dataset.x_train):.2f}"
    )
    for note in dataset.notes:
        st.caption(f"Note: {user_text.markdown(note)}")


session.start_page()
st.title("Data")
st.write("The images an autoencoder learns to squeeze through a small code and rebuild.")
with st.expander("What am I looking at?"):
    st.markdown(
        "An autoencoder learns from images alone: it never sees the labels. The **training images** teach it; the "
        "**validation images** are held back and only used to check how well it rebuilds images it has not seen. "
        "Every pixel is scaled to the range 0 (black) to 1 (white). The class counts show whether some kinds of "
        "image are rarer than others, which usually makes them harder to rebuild."
    )
dataset_picker()
try:
    current = datasets.current_dataset()
except (DatasetUnavailableError, DataFileError) as error:
    title = datasets.dataset_title(datasets.selected_dataset_name())
    st.error(f"{user_text.markdown(title)} could not be loaded: {user_text.markdown(error)}")
    st.stop()
show_dataset(current)
