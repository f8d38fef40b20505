"""Applications page: what a trained autoencoder is good for, each use beside a classical baseline."""

import streamlit as st

from pages.shared import keys
from pages.shared.address import Choice, Number, keep_view, open_view
from pages.shared.applications.anomaly import anomaly_tab
from pages.shared.applications.classification import CLASSIFIER_TITLES, FEATURE_TITLES, classification_tab
from pages.shared.applications.compression import PRECISIONS, compression_tab
from pages.shared.applications.restoration import DEGRADATIONS, restoration_tab
from pages.shared.guards import require_context
from pages.shared.session import start_page

TABS = ("Compression", "Restoration", "Classification", "Anomaly detection")
VIEW = {  # the settings an Applications link holds: query parameter -> its widget
    "tab": Choice(keys.APPLICATION_TAB, dict(zip(("compression", "restoration", "classification", "anomaly"), TABS))),
    "precision": Choice(keys.COMPRESSION_PRECISION, {name: name for name in PRECISIONS}),
    "degradation": Choice(keys.DEGRADATION, {name: name for name in DEGRADATIONS}),
    "strength": Number(keys.DEGRADATION_LEVEL, float, 0.0, 1.0),
    "features": Choice(keys.CONFUSION_FEATURES, {name: name for name in FEATURE_TITLES}),
    "classifier": Choice(keys.CONFUSION_CLASSIFIER, {name: name for name in CLASSIFIER_TITLES}),
}


start_page()
st.title("Applications")
st.write(
    "What a trained autoencoder is good for: compression, restoration, classification and anomaly detection, "
    "each beside a classical method on the same validation images, with a verdict from the numbers."
)
with st.expander("What am I looking at?"):
    st.markdown(
        "- **Compression**: the code is a compressed image; against PCA with the same bytes and JPEG, higher "
        "PSNR and SSIM at fewer bytes is better.\n- **Restoration**: degrade images, then let the "
        "autoencoder rebuild them, beside median and Gaussian filters; the Denoising preset learns exactly "
        "this.\n- **Classification**: are the codes a better input than pixels, or PCA codes of the same "
        "size, when few images are labelled?\n- **Anomaly detection**: a model trained without one class "
        "should rebuild that class badly, so its reconstruction error flags it. ROC AUC 0.5 is chance, 1 is "
        "perfect."
    )
context = require_context()
open_view(VIEW)
for tab, panel in zip(
    st.tabs(TABS, key=keys.APPLICATION_TAB, on_change="rerun"),
    (compression_tab, restoration_tab, classification_tab, anomaly_tab),
):
    if tab.open:
        with tab:
            panel(context)
keep_view(VIEW)
