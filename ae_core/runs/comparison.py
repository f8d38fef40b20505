"""Runs side by side: one row of settings and scores per run, for a table beside their loss curves.

from ae_core.runs.comparison import comparison_rows
rows = comparison_rows([run_a, run_b])  # list of dicts, the same keys in the same order for every run
"""

import math

from ae_core.settings.model_config import ModelConfig


def _layers(config: ModelConfig) -> str:
    """The encoder's layer sizes: filters for a convolutional body, else hidden units."""
    return ",".join(map(str, config.filters if config.is_conv else config.hidden_units))


def _preset_setting(config: ModelConfig) -> str:
    """The one setting of its own a preset has: the denoising noise, the sparse L1 weight, the VAE's beta."""
    if config.preset == "denoising":
        return f"{config.noise_type} noise {config.noise_level:g}"
    if config.preset == "sparse":
        return f"L1 {config.l1:g}"
    if config.preset == "vae":
        return f"beta {config.beta:g}"
    return ""


def _ended(run) -> str:
    result = run.result
    if result.divergence is not None:
        return f"diverged in epoch {result.divergence.epoch}"
    return "stopped early" if result.stopped else "finished"


def comparison_rows(runs) -> list[dict]:
    """One row per run of ``runs`` (Run objects, in their order): its name and dataset, its validation scores beside
    PCA's at the same code size, how long and how it trained, then the model's and the training's settings. A score
    a run lacks (a diverged run's) is NaN; "MSE / PCA" below 1 means the autoencoder beats PCA."""
    rows = []
    for run in runs:
        config, training, metrics = run.model_config, run.train_config, run.metrics
        mse, pca_mse = metrics.get("val_mse", math.nan), metrics.get("pca_val_mse", math.nan)
        rows.append(
            {
                "run": run.name,
                "dataset": run.dataset_name,
                "validation MSE": mse,
                "PCA MSE": pca_mse,
                "MSE / PCA": mse / pca_mse if pca_mse else math.nan,
                "PSNR (dB)": metrics.get("val_psnr", math.nan),
                "SSIM": metrics.get("val_ssim", math.nan),
                "epochs": f"{run.result.epochs_completed} of {training.epochs}",
                "ended": _ended(run),
                "seconds": run.result.train_seconds,
                "preset": config.preset,
                "architecture": "conv" if config.is_conv else "dense",
                "latent size": config.latent_dim,
                "layers": _layers(config),
                "activation": config.activation,
                "loss": config.loss,
                "preset setting": _preset_setting(config),
                "optimizer": training.optimizer,
                "learning rate": training.learning_rate,
                "batch size": training.batch_size,
                "seed": training.seed,
                "held-out class": "" if run.excluded_class is None else str(run.excluded_class),
            }
        )
    return rows
