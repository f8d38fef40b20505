"""Applications on MNIST: compression, restoration, classification with 100 labels, anomaly detection per digit,
and the time each panel takes to answer. Prints markdown tables.

A Convolutional model (latent 32, batch 64) and a convolutional denoising model (Gaussian noise, sigma 0.3) are
trained for ``--epochs`` each; anomaly detection trains one more model per digit, without that digit, for
``--anomaly-epochs``. Each panel is timed twice: its first look on a fresh RunContext (encoding the images, fitting
PCA) and then with another setting on the same context, as when a user changes a control.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/applications.py [--epochs 8] [--anomaly-epochs 5]
        [--panels compression restoration classification anomaly]

Compression is also timed on every validation image (``max_images=None``), the reference its default sample of
images is measured against.
"""

import argparse
import os
import time
from dataclasses import replace
from functools import partial

import numpy as np

from ae_core.applications.anomaly import anomaly_report
from ae_core.applications.classification import classification_report, classification_verdict
from ae_core.applications.compression import compression_report
from ae_core.applications.restoration import restoration_report
from ae_core.data import load_dataset
from ae_core.runs.context import RunContext
from ae_core.runs.run import train_run, training_images
from ae_core.settings.recommended import recommended_settings


def train(dataset, preset: str, epochs: int, excluded_class: int | None = None, **model_changes):
    model_config, train_config = recommended_settings("mnist", dataset.image_shape, "conv")
    model_config = replace(model_config, preset=preset, **model_changes)
    x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, excluded_class)
    return train_run(
        x_train,
        dataset.x_val,
        dataset.name,
        model_config,
        replace(train_config, epochs=epochs),
        split=dataset.split.to_dict(),
        excluded_class=excluded_class,
    )


def timed(compute):
    start = time.perf_counter()
    value = compute()
    return value, time.perf_counter() - start


def table(header: list[str], rows: list[list]) -> None:
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(f"{cell:.4f}" if isinstance(cell, float) else str(cell) for cell in row) + " |")
    print()


PANELS = ("compression", "restoration", "classification", "anomaly")


def compression_panel(context) -> list[list]:
    """The compression rows and verdict printed; returns the timing rows."""
    compression, seconds = timed(lambda: compression_report(context))
    table(
        ["method", "setting", "stored as", "bytes/image", "bytes once per set", "bits/pixel", "MSE", "PSNR dB", "SSIM"],
        [
            [
                r.method,
                r.setting,
                r.precision,
                f"{r.bytes_per_image:.1f}",
                f"{r.shared_bytes:.0f}",
                f"{r.bits_per_pixel:.3f}",
                r.mse,
                f"{r.psnr:.2f}",
                f"{r.ssim:.3f}",
            ]
            for r in compression.rows
        ],
    )
    print(f"{compression.n_images} validation images. {compression.verdict}\n")
    _, again = timed(lambda: compression_report(context, (20, 60, 95)))
    _, every_image = timed(lambda: compression_report(context, max_images=None))
    return [
        [f"compression ({compression.n_images} images, 3 qualities x 3 codecs)", f"{seconds:.2f}", f"{again:.2f}"],
        [f"compression on all {context.dataset.n_val:,} images (reference)", f"{every_image:.2f}", ""],
    ]


def classification_panel(context) -> list[list]:
    classification, seconds = timed(lambda: classification_report(context, (100,)))
    _, again = timed(lambda: classification_report(context, (100,), seed=1))
    table(
        ["100 labels", "cross-validated", "chosen", "logistic regression (standardised)", "k-NN", "label spreading"],
        [
            [
                name,
                *(
                    f"{r['accuracy']:.3f}" if classifier != "chosen" else r["pipeline"]
                    for classifier in ("cross_validated", "chosen", "logistic_regression", "knn", "label_spreading")
                    for r in classification.rows
                    if r["features"] == name and r["classifier"] == classifier.replace("chosen", "cross_validated")
                ),
            ]
            for name in ("pixels", "pca", "codes")
        ],
    )
    print(classification_verdict(classification.rows, 100) + "\n")
    return [["classification, 100 labels", f"{seconds:.2f}", f"{again:.2f}"]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--anomaly-epochs", type=int, default=5)
    parser.add_argument("--panels", nargs="+", default=list(PANELS), choices=PANELS)
    args = parser.parse_args()
    dataset = load_dataset("mnist", allow_download=False)
    run = train(dataset, "conv", args.epochs)
    print(
        f"MNIST {dataset.n_train} train / {dataset.n_val} val; Convolutional (32, 64), latent 32, batch 64, "
        f"{args.epochs} epochs (val MSE {run.metrics['val_mse']:.4f})\n"
    )
    context, timings = RunContext(run, dataset), []
    if "compression" in args.panels:
        timings += compression_panel(context)
    if "restoration" in args.panels:
        timings += restoration_panel(dataset, context, args.epochs)
    if "classification" in args.panels:
        timings += classification_panel(context)
    if "anomaly" in args.panels:
        timings += anomaly_panel(dataset, args.anomaly_epochs)
    table(["panel", "first look s", "another setting s"], timings)
    print(f"load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def restoration_panel(dataset, context, epochs: int) -> list[list]:
    denoiser = train(dataset, "denoising", epochs, architecture="conv", noise_type="gaussian", noise_level=0.3)
    restoration, seconds = timed(lambda: restoration_report(context, "gaussian", 0.3, 0, denoiser.model))
    table(
        ["Gaussian noise sigma 0.3 (denoiser: the same model and epochs)", "PSNR dB", "SSIM"],
        [[name, f"{score['psnr']:.2f}", f"{score['ssim']:.3f}"] for name, score in restoration.scores.items()],
    )
    print(restoration.verdict + "\n")
    _, again = timed(lambda: restoration_report(context, "salt_pepper", 0.2, 0, denoiser.model))
    return [["restoration with the denoiser", f"{seconds:.2f}", f"{again:.2f}"]]


def anomaly_panel(dataset, epochs: int) -> list[list]:
    rows, first, again = [], [], []
    for digit in range(10):
        held_out_context = RunContext(train(dataset, "conv", epochs, excluded_class=digit), dataset)
        report, seconds = timed(partial(anomaly_report, held_out_context))
        again.append(timed(partial(anomaly_report, held_out_context, quantile=0.99))[1])
        rows.append([digit, f"{report.auc:.3f}", f"{report.precision:.2f}", f"{report.recall:.2f}"])
        first.append(seconds)
    print(
        f"Anomaly detection: one model per held-out digit, {epochs} epochs each; threshold the 95th "
        "percentile of the other digits' training errors\n"
    )
    table(["held-out digit", "AUC", "precision", "recall"], rows)
    return [["anomaly (median of 10 runs)", f"{np.median(first):.2f}", f"{np.median(again):.2f}"]]


if __name__ == "__main__":
    main()
