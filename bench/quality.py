"""Quality: the default MNIST preset (Convolutional, latent 32, its recommended batch of 64) against PCA-32,
after at most 60 s of training.

Training stops through the engine's own stop request once the training time passes the budget, so the figure is
what a user gets by letting the Train page run for a minute. Prints a markdown table.

    AE_DATA_DIR=../shared/data .venv/bin/python bench/quality.py [--seconds 60]
"""

import argparse
from dataclasses import replace

from ae_core.data import load_dataset
from ae_core.runs.run import train_run
from ae_core.settings.recommended import recommended_settings
from ae_core.training.events import TrainingControl, TrainingListener


class StopAfter(TrainingListener):
    def __init__(self, control: TrainingControl, seconds: float):
        self.control, self.seconds = control, seconds

    def on_batch(self, progress):
        if progress.elapsed_seconds >= self.seconds:
            self.control.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--epochs", type=int, default=100, help="upper bound; the time budget usually ends first")
    args = parser.parse_args()
    dataset = load_dataset("mnist", allow_download=False)
    control = TrainingControl()
    model_config, train_config = recommended_settings(dataset.name, dataset.image_shape, "conv")
    train_config = replace(train_config, epochs=args.epochs)
    run = train_run(
        dataset.x_train,
        dataset.x_val,
        dataset.name,
        model_config,
        train_config,
        listener=StopAfter(control, args.seconds),
        control=control,
    )
    metrics, result = run.metrics, run.result
    ratio = metrics["val_mse"] / metrics["pca_val_mse"]
    print(
        f"MNIST {dataset.n_train} train / {dataset.n_val} val, Convolutional preset {model_config.filters}, "
        f"latent 32, batch {train_config.batch_size}, training stopped after {args.seconds:.0f} s\n"
    )
    print("| model | epochs | training s | val MSE | val PSNR dB | val SSIM | MSE vs PCA-32 |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| PCA-32 | - | - | {metrics['pca_val_mse']:.4f} | {metrics['pca_val_psnr']:.2f} | "
        f"{metrics['pca_val_ssim']:.3f} | 1.00x |"
    )
    print(
        f"| Convolutional | {result.epochs_completed} (+{result.samples_seen % dataset.n_train} images) | "
        f"{result.train_seconds:.1f} | {metrics['val_mse']:.4f} | {metrics['val_psnr']:.2f} | "
        f"{metrics['val_ssim']:.3f} | {ratio:.2f}x |"
    )


if __name__ == "__main__":
    main()
