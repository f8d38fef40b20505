"""The Applications page's Classification tab: classifiers on the codes against pixels and PCA codes when few images are
labelled, and the confusion matrix of one of them. The chosen label count's results show first; the other counts
fill the table as they are fitted."""

import streamlit as st

from ae_core import user_text
from ae_core.applications import classification
from ae_core.figures.applications import accuracy_figure, confusion_figure
from pages.shared import keys
from pages.shared.session import setting

FEATURE_TITLES = {"pixels": "raw pixels", "pca": "PCA codes", "codes": "latent codes"}
CLASSIFIER_TITLES = {
    "cross_validated": "chosen by cross-validation",
    "logistic_regression": "logistic regression (standardised, C=1)",
    "knn": "k-nearest neighbours",
    "label_spreading": "label spreading (+ unlabelled images)",
}


def pressed(context) -> bool:
    """Whether the classifiers of this run were asked for; until then, what they are and the button."""
    classified = st.session_state.setdefault(keys.CLASSIFIED, set())
    if context.key in classified:
        return True
    st.write(
        "For three feature sets and four label counts: a pipeline chosen by cross-validation on the labelled "
        "images, logistic regression, k-NN, and label spreading over the unlabelled images too. The label count "
        "you pick shows first, the others follow as they are fitted."
    )
    st.button("Train the classifiers", type="primary", on_click=classified.add, args=(context.key,))
    return False


def fitted(context, label_counts: tuple[int, ...], bar) -> classification.ClassificationReport:
    """The report for ``label_counts``, fitting what is not yet kept with ``bar`` (a placeholder) as its progress."""
    text = f"Fitting the classifiers for {', '.join(f'{count:,}' for count in label_counts)} labels"
    return classification.classification_report(
        context, label_counts, progress=lambda done, total: bar.progress(done / total, text=f"{text}: {done}/{total}")
    )


def show_tables(rows: list[dict]) -> None:
    table = {}
    for row in rows:
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
            for row in rows
            if row["classifier"] == "cross_validated"
        ],
        hide_index=True,
    )


def confusion_controls(label_counts: tuple[int, ...]) -> tuple[str, str, int]:
    features_column, classifier_column, labels_column = st.columns(3)
    features = features_column.selectbox(
        "Features", list(FEATURE_TITLES), format_func=FEATURE_TITLES.get, key=setting(keys.CONFUSION_FEATURES, "codes")
    )
    classifier = classifier_column.selectbox(
        "Classifier", list(CLASSIFIER_TITLES), key=keys.CONFUSION_CLASSIFIER, format_func=CLASSIFIER_TITLES.get
    )
    n_labels = labels_column.selectbox(
        "Labelled images",
        label_counts,
        index=min(1, len(label_counts) - 1),  # 100 labels, where there are more
        key=keys.CONFUSION_LABELS,
        format_func=lambda count: f"{count:,}",
    )
    return features, classifier, n_labels


def classification_tab(context) -> None:
    if context.labels("training") is None:
        st.info(
            f"{user_text.markdown(context.dataset.name)} has no labels; pick a labelled dataset such as digits or "
            "MNIST to compare classifiers on its codes."
        )
        return
    if not pressed(context):
        return
    label_counts = classification.label_counts_of(context.labels("training"))
    bar, tables, chart = st.empty(), st.empty(), st.empty()  # filled as the label counts arrive, in this order
    features, classifier, n_labels = confusion_controls(label_counts)
    first = fitted(context, (n_labels,), bar)
    with tables.container():
        show_tables(first.rows)
    st.info(classification.classification_verdict(first.rows, n_labels))
    with st.spinner("Fitting that classifier…"):
        matrix = classification.confusion_report(context, features, classifier, n_labels)
    st.plotly_chart(confusion_figure(matrix, context.dataset.class_names), key=keys.CONFUSION_CHART)
    for arrived in range(1, len(label_counts) + 1):
        report = fitted(context, label_counts[:arrived], bar)
        with tables.container():
            show_tables(report.rows)
    bar.empty()
    chart.plotly_chart(accuracy_figure(report.rows), key=keys.ACCURACY_CHART)
