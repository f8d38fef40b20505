"""Applications on MNIST: compression, restoration, classification with 100 labels, anomaly detection per digit,
and the time each panel takes to answer. Prints markdown tables.

A Convolutional model (latent 32, batch 64) and a convolutional denoising model (Gaussian noise, sigma 0.3) are
trained for ``--epochs`` each; anomaly detection trains one more model per digit, without that digit, for
``--anomaly-epochs``. Each panel is timed twice: its first look on a fresh RunContext (encoding the images, fitting
PCA) and then with another setting on the same context, as when a user changes a control.

    AE_DATA_DIR=../shared/data PYTHONPATH=. .venv/bin/python bench/applications.py [--epochs 8] [--anomaly-epochs 5]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--anomaly-epochs", type=int, default=5)
    args = parser.parse_args()
    dataset = load_dataset("mnist", allow_download=False)
    run = train(dataset, "conv", args.epochs)
    denoiser = train(dataset, "denoising", args.epochs, architecture="conv", noise_type="gaussian", noise_level=0.3)
    print(
        f"MNIST {dataset.n_train} train / {dataset.n_val} val; Convolutional (32, 64), latent 32, batch 64, "
        f"{args.epochs} epochs (val MSE {run.metrics['val_mse']:.4f}); denoising model likewise\n"
    )
    context = RunContext(run, dataset)
    compression, compression_seconds = timed(lambda: compression_report(context))
    table(
        ["method", "setting", "bytes/image", "ratio vs 8-bit pixels", "MSE", "PSNR dB", "SSIM"],
        [
            [
                r.method,
                r.setting,
                f"{r.bytes_per_image:.0f}",
                f"{r.compression_ratio:.1f}:1",
                r.mse,
                f"{r.psnr:.2f}",
                f"{r.ssim:.3f}",
            ]
            for r in compression.rows
        ],
    )
    print(compression.verdict + "\n")
    restoration, restoration_seconds = timed(lambda: restoration_report(context, "gaussian", 0.3, 0, denoiser.model))
    table(
        ["Gaussian noise sigma 0.3", "PSNR dB", "SSIM"],
        [[name, f"{score['psnr']:.2f}", f"{score['ssim']:.3f}"] for name, score in restoration.scores.items()],
    )
    print(restoration.verdict + "\n")
    _, compression_again = timed(lambda: compression_report(context, (20, 60, 95)))
    _, restoration_again = timed(lambda: restoration_report(context, "salt_pepper", 0.2, 0, denoiser.model))
    classification, classification_seconds = timed(lambda: classification_report(context, (100,)))
    _, classification_again = timed(lambda: classification_report(context, (100,), seed=1))
    table(
        ["100 labels", "logistic regression", "k-NN"],
        [
            [row_name, *(f"{r['accuracy']:.3f}" for r in classification.rows if r["features"] == row_name)]
            for row_name in ("pixels", "pca", "codes")
        ],
    )
    print(classification_verdict(classification.rows, 100) + "\n")
    anomaly_rows, anomaly_seconds, anomaly_again = [], [], []
    for digit in range(10):
        held_out = train(dataset, "conv", args.anomaly_epochs, excluded_class=digit)
        held_out_context = RunContext(held_out, dataset)
        report, seconds = timed(partial(anomaly_report, held_out_context))
        anomaly_again.append(timed(partial(anomaly_report, held_out_context, quantile=0.99))[1])
        anomaly_rows.append([digit, f"{report.auc:.3f}", f"{report.precision:.2f}", f"{report.recall:.2f}"])
        anomaly_seconds.append(seconds)
    print(
        f"Anomaly detection: one model per held-out digit, {args.anomaly_epochs} epochs each; threshold the 95th "
        "percentile of the other digits' training errors\n"
    )
    table(["held-out digit", "AUC", "precision", "recall"], anomaly_rows)
    table(
        ["panel", "first look s", "another setting s"],
        [
            ["compression (3 JPEG qualities)", f"{compression_seconds:.2f}", f"{compression_again:.2f}"],
            ["restoration with the denoiser", f"{restoration_seconds:.2f}", f"{restoration_again:.2f}"],
            ["classification, 100 labels", f"{classification_seconds:.2f}", f"{classification_again:.2f}"],
            ["anomaly (median of 10 runs)", f"{np.median(anomaly_seconds):.2f}", f"{np.median(anomaly_again):.2f}"],
        ],
    )
    print(f"load average over the last minute: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
