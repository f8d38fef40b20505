"""The default model and training for a dataset and preset: the one place the app, the command line and the
library take their defaults from.
"""

import math
from dataclasses import replace

from ae_core.settings.model_config import DEFAULT_PRESET, PRESETS, SEED_DENSE, ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.validation import OneOf, check

# Epochs for a default run of each built-in dataset: enough for the conv preset to reach at most 0.7x the error of
# PCA at the same code size, with margin, on seeds 0-2 (see README, "Command line"). digits: about 1,440 training images
# of 8x8; MNIST and Fashion-MNIST: 8,000 of 28x28 when only the test set is at hand.
DATASET_EPOCHS = {"digits": 40, "mnist": 15, "fashion_mnist": 15}
SMALL_IMAGE_PIXELS = 16 * 16  # uploads up to this size train like digits, larger ones like MNIST
SEED_DENSE_TRAINING = {"epochs": 20, "batch_size": 256, "optimizer": "adam"}  # the textbook's settings


def recommended_latent_dim(image_shape: tuple[int, int, int]) -> int:
    """The textbook code size of 32, capped at 1/8 of the pixel count: PCA with 32 components already reconstructs
    64-pixel digits almost perfectly, which leaves nothing for an autoencoder to show."""
    return max(2, min(32, math.prod(image_shape) // 8))


def recommended_settings(
    dataset_name: str, image_shape: tuple[int, int, int], preset: str = DEFAULT_PRESET, n_train: int | None = None
) -> tuple[ModelConfig, TrainConfig]:
    """The default model and training for a dataset and preset: the one place the app, the command line and the
    library take their defaults from.

    ``seed_dense`` keeps the textbook settings (784-64-32-32, latent 32, Adam, batch 256, 20 epochs). Other presets
    get a code of ``recommended_latent_dim``, Adam, and MSE loss (binary cross-entropy for the VAE); convolutional
    models train in batches of 64, whose more frequent updates reach a lower error in the same time on a CPU
    (bench/quality.py), dense ones in batches of 256.
    Epochs come from ``DATASET_EPOCHS``; other datasets get digits' epochs when their images have at most
    ``SMALL_IMAGE_PIXELS`` pixels, else MNIST's. With ``n_train`` training images given, the batch is at most
    that many, so a small image set trains in one batch.
    """
    check("preset", preset, OneOf(PRESETS))
    if preset == "seed_dense":
        training = TrainConfig(**SEED_DENSE_TRAINING)
        return SEED_DENSE, replace(training, batch_size=min(training.batch_size, n_train or training.batch_size))
    # A VAE's reconstruction term sums per-pixel losses. Squared errors of pixels in [0, 1] are small beside the KL
    # term, so its codes collapse toward the prior and every decoded point looks alike; cross-entropy keeps them
    # apart (bench/generation_quality.py).
    model_config = ModelConfig(
        preset=preset,
        latent_dim=recommended_latent_dim(image_shape),
        architecture="conv" if preset == "conv" else "dense",
        loss="binary_crossentropy" if preset == "vae" else "mse",
    )
    small = math.prod(image_shape[:2]) <= SMALL_IMAGE_PIXELS
    epochs = DATASET_EPOCHS.get(dataset_name, DATASET_EPOCHS["digits" if small else "mnist"])
    batch_size = 64 if model_config.is_conv else 256
    return model_config, TrainConfig(epochs=epochs, batch_size=min(batch_size, n_train or batch_size), optimizer="adam")
