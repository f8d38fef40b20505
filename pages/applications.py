"""Applications page: what a trained autoencoder is good for, each use beside a classical baseline."""

from dataclasses import replace

import streamlit as st

from ae_core.applications import anomaly, classification, compression, restoration
from ae_core.figures.images import comparison_image
from pages import common, keys

TABS = ("Compression", "Restoration", "Classification", "Anomaly detection")
PRECISIONS = {
    "float32": "float32 (4 bytes a number)",
    "float16": "float16 (2 bytes a number)",
    "int8": "8 bits (1 byte a number)",
}
DEGRADATIONS = dict(
    zip(
        restoration.DEGRADATIONS,
        ("Gaussian noise", "Salt and pepper", "Masking (pixels dropped)", "Occlusion box", "Blur"),
    )
)
COMPRESSION_COLUMNS = {
    "method": "method",
    "setting": "setting",
    "bytes_per_image": "bytes per image",
    "compression_ratio": "ratio to 8-bit pixels",
    "bits_per_pixel": "bits per pixel",
    "mse": "MSE",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
}
FEATURE_TITLES = {"pixels": "raw pixels", "pca": "PCA codes", "codes": "latent codes"}
CLASSIFIER_TITLES = {"logistic_regression": "logistic regression", "knn": "k-nearest neighbours"}


def compression_tab(context) -> None:
    with st.spinner("Compressing the validation images with the autoencoder, PCA and JPEG…"):
        report = compression.compression_report(context)
    codes = {row.setting: row for row in report.rows if row.method == "autoencoder"}
    for column, (precision, row) in zip(st.columns(len(codes)), codes.items()):
        ratio = f"{row.compression_ratio:.0f}:1 · {row.bits_per_pixel:.3g} bits per pixel"
        column.metric(
            f"Code at {precision}",
            f"{row.bytes_per_image:g} bytes",
            ratio,
            "off",
            delta_arrow="off",
            border=True,
            help=f"MSE {row.mse:.4f}, PSNR {row.psnr:.2f} dB, SSIM {row.ssim:.3f}",
        )
    st.caption(
        f"The 8-bit code maps each of the {context.run.model_config.latent_dim} code dimensions linearly from "
        "its minimum..maximum over the training codes onto 0..255 (values outside are clipped). PCA gets the "
        "same bytes at the same precision; JPEG's bytes are real file sizes, headers included."
    )
    st.info(report.verdict)
    st.plotly_chart(compression.rate_distortion_figure(report.rows), key=keys.RATE_DISTORTION_CHART)
    st.dataframe(
        [{title: row.to_dict()[name] for name, title in COMPRESSION_COLUMNS.items()} for row in report.rows],
        hide_index=True,
    )
    precision = st.selectbox(
        "Budget shown in the grid",
        list(PRECISIONS),
        format_func=PRECISIONS.get,
        key=common.setting(keys.COMPRESSION_PRECISION, "int8"),
    )
    picture, labels = compression.compression_grid(report, precision)
    st.image(picture, caption="Rows: " + " · ".join(labels))


def denoiser_choice(run):
    """A denoising run of this session on the same images as ``run``, chosen by the user; None without one."""
    denoisers = [
        name
        for name, other in common.session_runs().items()
        if other.model_config.corrupts_inputs
        and other.id != run.id
        and other.image_shape == run.image_shape
        and other.dataset_name == run.dataset_name
    ]
    if not denoisers:
        st.caption("Train a run with the Denoising preset on this dataset to restore with it here too.")
        return None
    if st.session_state.get(keys.DENOISER) not in [None, *denoisers]:
        del st.session_state[keys.DENOISER]
    name = st.selectbox(
        "Denoising run beside it",
        [*denoisers, None],
        key=keys.DENOISER,
        format_func=lambda option: "none" if option is None else option,
    )
    return None if name is None else common.session_runs()[name].model


def restoration_tab(context) -> None:
    kind_column, level_column, denoiser_column = st.columns(3)
    kind = kind_column.selectbox(
        "Degradation",
        list(DEGRADATIONS),
        format_func=DEGRADATIONS.get,
        key=common.setting(keys.DEGRADATION, "gaussian"),
    )
    level = level_column.slider("Strength", 0.0, 1.0, step=0.05, key=common.setting(keys.DEGRADATION_LEVEL, 0.3))
    with denoiser_column:
        denoiser = denoiser_choice(context.run)
    with st.spinner("Degrading and restoring the validation images…"):
        report = restoration.restoration_report(context, kind, level, denoiser=denoiser)
    st.info(report.verdict)
    names = {name: "degraded input" if name == "noisy" else name.replace("_", " ") for name in report.scores}
    st.dataframe(
        [
            {"images": names[name], "PSNR (dB)": score["psnr"], "SSIM": score["ssim"]}
            for name, score in report.scores.items()
        ],
        hide_index=True,
    )
    picture, labels = restoration.restoration_grid(report)
    st.image(picture, caption="Rows: " + " · ".join(labels))
    with st.spinner("Restoring at five strengths…"):
        rows = restoration.sweep_report(context, kind, denoiser=denoiser)
    st.plotly_chart(restoration.sweep_figure(rows, kind), key=keys.RESTORATION_SWEEP_CHART)
    st.caption(f"PSNR of the first {restoration.SWEEP_IMAGES} validation images at each strength.")


def run_classifiers(context):
    """The classification report, computed on a button press with a progress bar; None until the first press."""
    classified = st.session_state.setdefault(keys.CLASSIFIED, set())
    if context.key not in classified:
        st.write(
            "Fits logistic regression and k-NN on three feature sets with four label counts: 24 fits, which "
            "take a while on MNIST."
        )
        st.button("Train the classifiers", type="primary", on_click=classified.add, args=(context.key,))
        return None
    bar = st.progress(0.0, text="Fitting the classifiers…")
    report = classification.classification_report(
        context, progress=lambda done, total: bar.progress(done / total, text=f"Fitted {done} of {total} classifiers")
    )
    bar.empty()
    return report


def classification_tab(context) -> None:
    if context.labels("training") is None:
        st.info(
            f"{context.dataset.name} has no labels; pick a labelled dataset such as digits or MNIST to compare "
            "classifiers on its codes."
        )
        return
    if (report := run_classifiers(context)) is None:
        return
    table = {}
    for row in report.rows:
        table.setdefault((row["features"], row["classifier"]), {})[f"{row['n_labels']:,} labels"] = row["accuracy"]
    st.dataframe(
        [
            {"features": FEATURE_TITLES[features], "classifier": CLASSIFIER_TITLES[classifier], **accuracies}
            for (features, classifier), accuracies in table.items()
        ],
        hide_index=True,
    )
    st.plotly_chart(classification.accuracy_figure(report.rows), key=keys.ACCURACY_CHART)
    features_column, classifier_column, labels_column = st.columns(3)
    features = features_column.selectbox(
        "Features", list(FEATURE_TITLES), format_func=FEATURE_TITLES.get, index=2, key=keys.CONFUSION_FEATURES
    )
    classifier = classifier_column.selectbox(
        "Classifier", list(CLASSIFIER_TITLES), key=keys.CONFUSION_CLASSIFIER, format_func=CLASSIFIER_TITLES.get
    )
    n_labels = labels_column.selectbox(
        "Labelled images",
        report.label_counts,
        index=1,
        key=keys.CONFUSION_LABELS,
        format_func=lambda count: f"{count:,}",
    )
    st.info(classification.classification_verdict(report.rows, n_labels))
    with st.spinner("Fitting that classifier…"):
        matrix = classification.confusion_report(context, features, classifier, n_labels)
    st.plotly_chart(classification.confusion_figure(matrix, context.dataset.class_names), key=keys.CONFUSION_CHART)


def hold_out_offer(context) -> None:
    """For a run trained on every class: what to do, and a button that opens Train set to hold a class out."""
    st.info(
        f"Run {context.run.name} was trained on every class, so no class is new to it. Train a run without "
        "one class, then score how well its reconstruction error singles that class out."
    )
    names = context.dataset.class_names
    chosen = st.selectbox(
        "Class to hold out", range(len(names)), format_func=lambda index: names[index], key=keys.ANOMALY_CLASS
    )
    if st.button(f"Train without class {names[chosen]}"):
        st.session_state[keys.DATASET] = context.run.dataset_name
        st.session_state[keys.HOLD_OUT] = chosen
        st.switch_page(common.TRAIN_PAGE)
    st.page_link(common.TRAIN_PAGE, label="Or set “Hold out a class” on Train", icon=":material/model_training:")


def held_out_context(context):
    """The context of a run trained without a class: the current run, or one the user picks; None without one."""
    held_out = [name for name, run in common.session_runs().items() if run.excluded_class is not None]
    if context.run.excluded_class is not None or not held_out:
        return context if context.run.excluded_class is not None else None
    name = st.selectbox("Run trained without a class", held_out, key=keys.ANOMALY_RUN)
    return common.require_context(common.session_runs()[name])


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
    auc_column, precision_column, recall_column = st.columns(3)
    auc_column.metric("ROC AUC", f"{report.auc:.3f}", help="0.5 is chance, 1 separates every held-out image")
    precision_column.metric(
        "Precision", f"{precision:.1%}", help=f"share of flagged images that are {report.class_name}s"
    )
    recall_column.metric("Recall", f"{recall:.1%}", help=f"share of held-out {report.class_name}s that are flagged")
    (st.warning if report.auc < anomaly.WEAK_AUC else st.info)(report.verdict)
    histogram_column, roc_column = st.columns(2)
    histogram_column.plotly_chart(
        anomaly.error_histogram(replace(report, threshold=threshold)), key=keys.ANOMALY_HISTOGRAM
    )
    roc_column.plotly_chart(anomaly.roc_figure(report), key=keys.ROC_CHART)
    images = scored.images("validation")
    st.image(
        anomaly.extremes_grid(report, images),
        caption="Most anomalous validation images (top) and least anomalous (bottom)",
    )
    missed = anomaly.missed(report, threshold)
    if len(missed):
        st.write(
            f"**Missed:** {round((1 - recall) * report.n_anomalous):,} of {report.n_anomalous:,} held-out "
            f"{report.class_name}s are reconstructed well enough to fall under the threshold, such as these:"
        )
        st.image(comparison_image(images[missed]), caption=f"Held-out {report.class_name}s the model rebuilds best")


common.start_page()
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
context = common.require_context()
for tab, panel in zip(
    st.tabs(TABS, key=keys.APPLICATION_TAB, on_change="rerun"),
    (compression_tab, restoration_tab, classification_tab, anomaly_tab),
):
    if tab.open:
        with tab:
            panel(context)
