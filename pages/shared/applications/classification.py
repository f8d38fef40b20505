"""The Applications page's Classification tab: classifiers on the codes against pixels and PCA codes when few images are
labelled, and the confusion matrix of one of them."""

import streamlit as st

from ae_core import user_text
from ae_core.applications import classification
from ae_core.figures.applications import accuracy_figure, confusion_figure
from pages.shared import keys

FEATURE_TITLES = {"pixels": "raw pixels", "pca": "PCA codes", "codes": "latent codes"}
CLASSIFIER_TITLES = {
    "cross_validated": "chosen by cross-validation",
    "logistic_regression": "logistic regression (standardised, C=1)",
    "knn": "k-nearest neighbours",
    "label_spreading": "label spreading (+ unlabelled images)",
}


def run_classifiers(context):
    """The classification report, computed on a button press with a progress bar; None until the first press."""
    classified = st.session_state.setdefault(keys.CLASSIFIED, set())
    if context.key not in classified:
        st.write(
            "For three feature sets and four label counts: a pipeline chosen by cross-validation on the labelled "
            "images, logistic regression, k-NN, and label spreading over the unlabelled images too. It takes a "
            "while on MNIST."
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
            f"{user_text.markdown(context.dataset.name)} has no labels; pick a labelled dataset such as digits or "
            "MNIST to compare classifiers on its codes."
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
    st.caption("The pipeline cross-validation chose for each feature set and label count:")
    st.dataframe(
        [
            {"features": FEATURE_TITLES[row["features"]], "labels": row["n_labels"], "chosen": row["pipeline"]}
            for row in report.rows
            if row["classifier"] == "cross_validated"
        ],
        hide_index=True,
    )
    st.plotly_chart(accuracy_figure(report.rows), key=keys.ACCURACY_CHART)
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
    st.plotly_chart(confusion_figure(matrix, context.dataset.class_names), key=keys.CONFUSION_CHART)
