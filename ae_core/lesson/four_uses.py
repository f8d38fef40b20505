"""Step 7's experiment: the four classic uses of an autoencoder, each against the classical way, from the
Applications page's own reports: compression, restoration, classification (its fast classifiers only) and anomaly
detection (on a second run, trained without one class)."""

from ae_core.applications.anomaly import GOOD_AUC, anomaly_report, extremes_grid
from ae_core.applications.classification import accuracy_table, best_accuracies, classification_features
from ae_core.applications.compression import compression_report
from ae_core.applications.restoration import FILTERS, restoration_grid, restoration_report
from ae_core.figures.applications import error_histogram
from ae_core.lesson.result import StepResult

CLASSIFIER_LABELS = 100  # labelled images the classifiers learn from
CLASSIFIERS = ("logistic_regression", "knn")  # the fast ones; the Applications page adds cross-validation
RESTORATION = ("gaussian", 0.3)  # the damage: Gaussian noise of standard deviation 0.3
FILTER_NAMES = {"median": "median filter", "gaussian_filter": "blur (Gaussian filter)"}
RESTORATION_NOTE = "Gaussian 0.3: random noise of spread 0.3 added to each pixel; Gaussian filter: a blur."
ANOMALY_CAPTION = (
    "Reconstruction errors of the validation images, for the model trained without 0s: 0s against the other digits. "
    "Images to the right of the dashed threshold are flagged as unusual."
)


def four_uses(dataset, context, held_out) -> StepResult:
    """Each use's verdict for ``context``'s run (anomaly detection for ``held_out``'s, trained without a class):
    whether the autoencoder wins, what was measured, and the figures of restoration and anomaly detection."""
    restored = restoration_report(context, *RESTORATION)
    anomaly = anomaly_report(held_out)
    verdicts = {
        "compression": _compression(context),
        "restoration": _restoration(restored),
        "classification": _classification(context),
        "anomaly detection": (
            anomaly.auc >= GOOD_AUC,
            f"AUC {anomaly.auc:.2f} for 0s, which the model never saw (1 = all caught, 0.5 = chance)",
        ),
    }
    wins = {use: win for use, (win, _) in verdicts.items()}
    won, lost = [use for use, win in wins.items() if win], [use for use, win in wins.items() if not win]
    headline = f"The autoencoder wins at {', '.join(won) or 'nothing'}; " + (
        f"the classical way wins at {', '.join(lost)}." if lost else "it wins at every use."
    )
    picture, labels = restoration_grid(restored)
    return StepResult(
        headline,
        figures=[(error_histogram(anomaly), ANOMALY_CAPTION)],
        pictures=[
            (picture, "Restoration, rows from the top: " + " · ".join(labels) + f". {RESTORATION_NOTE}"),
            (
                extremes_grid(anomaly, held_out.images("validation")),
                "The model without 0s: the validation images it rebuilds worst (top row) and best (bottom row).",
            ),
        ],
        table=[
            {"use": use, "autoencoder wins": "yes" if win else "no", "measured": text}
            for use, (win, text) in verdicts.items()
        ],
        numbers={"wins": wins, "auc": anomaly.auc},
    )


def _compression(context) -> tuple[bool, str]:
    """The 8-bit code against PCA's numbers in as many bytes (the Applications page's compression report)."""
    rows = compression_report(context).rows
    code = next(row for row in rows if row.method == "autoencoder" and row.setting == "int8")
    pca = next(row for row in rows if row.method == "pca" and row.precision == "int8")
    text = (
        f"in {code.bytes_per_image:g} bytes per image, error (MSE) {code.mse:.4f} from the code, {pca.mse:.4f} "
        "from PCA's numbers"
    )
    return code.mse < pca.mse, text


def _restoration(restored) -> tuple[bool, str]:
    """The autoencoder against the better classical filter on noisy images."""
    best_filter = max(FILTERS, key=lambda name: restored.scores[name]["psnr"])
    ours, theirs = restored.scores["autoencoder"]["psnr"], restored.scores[best_filter]["psnr"]
    text = (
        f"closeness to the originals (PSNR, higher is closer): {ours:.1f} dB for the autoencoder, {theirs:.1f} dB "
        f"for the {FILTER_NAMES[best_filter]}"
    )
    return ours > theirs, text


def _classification(context) -> tuple[bool, str]:
    """The codes against the better of pixels and PCA's numbers, with CLASSIFIER_LABELS labelled images."""
    dataset = context.dataset
    rows = context.cached(
        ("lesson_classification", CLASSIFIER_LABELS),
        lambda: accuracy_table(
            classification_features(context), dataset.y_train, dataset.y_val, (CLASSIFIER_LABELS,), 0, None, CLASSIFIERS
        ),
    )
    accuracies = best_accuracies(rows, CLASSIFIER_LABELS)
    rival = max(("pixels", "pca"), key=lambda name: accuracies[name])
    text = (
        f"{accuracies['codes']:.0%} right from the codes; {accuracies[rival]:.0%} from "
        f"{'the pixels' if rival == 'pixels' else 'PCA'}, with {CLASSIFIER_LABELS} labelled images"
    )
    return accuracies["codes"] > accuracies[rival], text
