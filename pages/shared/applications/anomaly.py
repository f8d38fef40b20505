"""The Applications page's Anomaly detection tab: how well a run trained without one class flags that class by its
reconstruction error, at a threshold the user moves; for a run trained on every class, an offer to train one."""

from dataclasses import replace

import streamlit as st

from ae_core import user_text
from ae_core.applications import anomaly
from ae_core.figures.applications import error_histogram, roc_figure
from ae_core.figures.images import comparison_image
from pages.shared import keys
from pages.shared.guards import TRAIN_PAGE, require_context
from pages.shared.session import session_runs


def hold_out_offer(context) -> None:
    """For a run trained on every class: what to do, and a button that opens Train set to hold a class out."""
    st.info(
        f"Run {user_text.markdown(context.run.name)} was trained on every class, so no class is new to it. Train a "
        "run without one class, then score how well its reconstruction error singles that class out."
    )
    names = context.dataset.class_names
    chosen = st.selectbox(
        "Class to hold out",
        range(len(names)),
        format_func=lambda index: user_text.plain(names[index]),
        key=keys.ANOMALY_CLASS,
    )
    if st.button(f"Train without class {user_text.markdown(names[chosen])}"):
        st.session_state[keys.DATASET] = context.run.dataset_name
        st.session_state[keys.HOLD_OUT] = chosen
        st.session_state[keys.START_REQUESTED] = True  # the Train page starts the run at once
        st.switch_page(TRAIN_PAGE)
    st.page_link(TRAIN_PAGE, label="Or set “Hold out a class” on Train", icon=":material/model_training:")


def held_out_context(context):
    """The context of a run trained without a class: the current run, or one the user picks; None without one."""
    held_out = [name for name, run in session_runs().items() if run.excluded_class is not None]
    if context.run.excluded_class is not None or not held_out:
        return context if context.run.excluded_class is not None else None
    name = st.selectbox("Run trained without a class", held_out, key=keys.ANOMALY_RUN, format_func=user_text.plain)
    return require_context(session_runs()[name])


def anomaly_tab(context) -> None:
    if context.labels("validation") is None:
        st.info("Anomaly detection here holds out one class, so it needs a labelled dataset such as digits or MNIST.")
        return
    scored = held_out_context(context)
    if scored is None:
        hold_out_offer(context)
        return
    with st.spinner("Scoring every validation image by its reconstruction error…"):
        report = anomaly.anomaly_report(scored)
    errors = report.errors  # the starting threshold comes from training errors, so it may lie outside these
    low, high = min(float(errors.min()), report.threshold), max(float(errors.max()), report.threshold)
    threshold = st.slider(
        "Threshold on the reconstruction error",
        low,
        high,
        value=report.threshold,
        format="%.4f",
        key=keys.THRESHOLD_PREFIX + scored.key,
        help="Images above it are flagged. It starts at the 95th percentile of the errors of "
        "the training images, which the model has seen.",
    )
    precision, recall = anomaly.precision_recall(errors, report.is_anomalous, threshold)
    class_name = user_text.markdown(report.class_name)
    auc_column, precision_column, recall_column = st.columns(3)
    auc_column.metric("ROC AUC", f"{report.auc:.3f}", help="0.5 is chance, 1 separates every held-out image")
    precision_column.metric("Precision", f"{precision:.1%}", help=f"share of flagged images that are {class_name}s")
    recall_column.metric("Recall", f"{recall:.1%}", help=f"share of held-out {class_name}s that are flagged")
    (st.warning if report.auc < anomaly.WEAK_AUC else st.info)(user_text.markdown(report.verdict))  # it names the class
    histogram_column, roc_column = st.columns(2)
    histogram_column.plotly_chart(error_histogram(replace(report, threshold=threshold)), key=keys.ANOMALY_HISTOGRAM)
    roc_column.plotly_chart(roc_figure(report), key=keys.ROC_CHART)
    images = scored.images("validation")
    st.image(
        anomaly.extremes_grid(report, images),
        caption="Most anomalous validation images (top) and least anomalous (bottom)",
    )
    missed = anomaly.missed(report, threshold)
    if len(missed):
        st.write(
            f"**Missed:** {round((1 - recall) * report.n_anomalous):,} of {report.n_anomalous:,} held-out "
            f"{class_name}s are reconstructed well enough to fall under the threshold, such as these:"
        )
        st.image(comparison_image(images[missed]), caption=f"Held-out {class_name}s the model rebuilds best")
