"""The classification panel's first look on MNIST, before and after, in one run, with the accuracies of both.

Both sides start from a fresh RunContext of the same run (so each encodes the images and builds the features) and
end with the confusion matrix the page shows first (codes, cross-validated, 100 labels):

- before: the panel's former path: ``accuracy_table`` over every label count (10, 100, 1,000 and all 8,000) at
  once on the process's default thread pools, nothing shown until all are fitted, then ``confusion``;
- after: ``classification_report`` for 100 labels, the count the page shows first, and ``confusion_report``
  ("first results"), then the other counts ("all counts"), fitted on one thread each.

Sides alternate for ``--rounds``; every accuracy of each side is printed and compared.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/classification_speed.py [--run runs/NAME]
        [--epochs 8] [--rounds 1]

Without --run, the Convolutional preset (latent 32, batch 64) is trained for --epochs, as in bench/applications.py.
"""

import argparse
import os
import time

from ae_core.applications.classification import (
    LABEL_COUNTS,
    accuracy_table,
    classification_features,
    classification_report,
    confusion,
    confusion_report,
)
from ae_core.data import load_dataset
from ae_core.runs.context import RunContext, dataset_for
from ae_core.runs.loading import load_run
from bench.applications import table, train

FIRST_LOOK = ("codes", "cross_validated", 100)  # the page's default view: features, classifier, labelled images


def before(run, dataset) -> tuple[list[dict], float]:
    start, context = time.perf_counter(), RunContext(run, dataset)
    features = classification_features(context)
    rows = accuracy_table(features, dataset.y_train, dataset.y_val, LABEL_COUNTS)
    name, classifier, n_labels = FIRST_LOOK
    confusion(features[name], dataset.y_train, dataset.y_val, classifier, n_labels, len(dataset.class_names))
    return rows, time.perf_counter() - start


def after(run, dataset) -> tuple[list[dict], float, float]:
    start, context = time.perf_counter(), RunContext(run, dataset)
    name, classifier, n_labels = FIRST_LOOK
    classification_report(context, (n_labels,))
    confusion_report(context, name, classifier, n_labels)
    first = time.perf_counter() - start
    rows = classification_report(context, LABEL_COUNTS).rows
    return rows, first, time.perf_counter() - start


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="a saved MNIST run; without it one is trained")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.run:
        run = load_run(args.run)
        dataset = dataset_for(run, allow_download=False)
    else:
        dataset = load_dataset("mnist", allow_download=False)
        run = train(dataset, "conv", args.epochs)
    print(f"MNIST {dataset.n_train:,} train / {dataset.n_val:,} val, {run.model_config.preset}, val MSE "
          f"{run.metrics['val_mse']:.4f}; {os.cpu_count()} cores\n")  # fmt: skip
    timings, accuracies, pipelines = [], {}, {}
    for round_number in range(1, args.rounds + 1):
        rows_before, seconds_before = before(run, dataset)
        timings.append([round_number, "before: every count at once, default threads", "", f"{seconds_before:.2f}",
                        load_average()])  # fmt: skip
        rows_after, first, every = after(run, dataset)
        timings.append([round_number, "after: 100 labels first, one thread", f"{first:.2f}", f"{every:.2f}",
                        load_average()])  # fmt: skip
        for side, rows in (("before", rows_before), ("after", rows_after)):
            for row in rows:
                key = (row["n_labels"], row["features"], row["classifier"])
                accuracies.setdefault(key, {})[side] = row["accuracy"]
                pipelines.setdefault(key, {})[side] = row["pipeline"]
    table(["round", "path", "first results s", "all counts s", "load average"], timings)
    differences = [abs(scores["before"] - scores["after"]) for scores in accuracies.values()]
    table(
        ["labels", "features", "classifier", "accuracy before", "accuracy after"],
        [[f"{key[0]:,}", key[1], key[2], f"{s['before']:.3f}", f"{s['after']:.3f}"] for key, s in accuracies.items()],
    )
    print(f"largest accuracy difference, after against before: {max(differences):.4f} over {len(differences)} rows")
    changed = [f"{key}: {chosen['before']} -> {chosen['after']}" for key, chosen in pipelines.items()
               if chosen["before"] != chosen["after"]]  # fmt: skip
    print("pipelines chosen differently: " + ("; ".join(changed) or "none"))


if __name__ == "__main__":
    main()
