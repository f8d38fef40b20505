"""A run's settings put back into the Train page's form, so an opened run is ready to train again."""

import streamlit as st

from ae_core.data import DATASETS
from pages.shared import datasets, keys
from pages.shared.training_settings import MODEL_WIDGETS, TRAIN_WIDGETS, widget_value


def fill_form(run) -> None:
    """Set the Train page's widgets to ``run``'s preset, model and training settings, seed and held-out class, and its
    dataset when this session has it; the recommended settings then wait for another dataset or preset. Call before
    the widgets are drawn."""
    if run.dataset_name in DATASETS or run.dataset_name in datasets.uploads():
        st.session_state[keys.DATASET] = run.dataset_name
    for widgets, config in ((MODEL_WIDGETS, run.model_config), (TRAIN_WIDGETS, run.train_config)):
        for key, name in widgets.items():
            st.session_state[key] = widget_value(name, getattr(config, name))
    preset = run.model_config.preset
    st.session_state[keys.PRESET] = preset
    st.session_state[keys.SEED] = run.train_config.seed
    st.session_state[keys.HOLD_OUT] = run.excluded_class
    st.session_state[keys.RECOMMENDED_FOR] = (datasets.selected_dataset_name(), preset)
