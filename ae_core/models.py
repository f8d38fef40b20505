"""Autoencoder presets: separate encoder and decoder Functional models, composed into one autoencoder.

Every autoencoder has a layer named "encoder" (images -> codes) and one named "decoder" (codes -> images), so
latent maps call the encoder and generation calls the decoder, whatever the preset.
"""

import math
import threading
from dataclasses import dataclass, replace

import numpy as np

from ae_core import limits
from ae_core.backend import keras
from ae_core.config import ModelConfig, check_model_config
from ae_core.units import human_size
from ae_core.vae import VariationalAutoencoder

# Keras draws initial weights from process-wide random state; two sessions building at once would interleave
# their draws, and the same seed would no longer give the same model.
_BUILD_LOCK = threading.Lock()

BYTES_PER_FLOAT = 4
# Per parameter: the weight, Adam's two moment slots and the gradient. Per activation: the value kept for the backward
# pass and its gradient.
COPIES_PER_PARAMETER = 4
COPIES_PER_ACTIVATION = 2


@dataclass(frozen=True)
class TrainingCost:
    """What training a model costs, known before it is built. ``activations_per_image`` sums the outputs of every
    encoder and decoder layer, inputs included; ``training_bytes`` estimates the memory of one training step:
    ``parameters * 4 bytes * 4 + batch_size * activations_per_image * 4 bytes * 2``."""

    parameters: int
    training_bytes: int
    activations_per_image: int


def _dense_counts(config: ModelConfig, image_shape) -> tuple[int, int]:
    """(parameters, activations per image) of a dense autoencoder, counted layer by layer as ``_dense`` builds it."""
    hidden_units = (64, 32) if config.preset == "seed_dense" else tuple(config.hidden_units)
    heads = 2 if config.preset == "vae" else 1  # z_mean and z_log_var
    pixels, latent_dim = math.prod(image_shape), config.latent_dim
    widths = (pixels, *hidden_units)
    back = (latent_dim, *reversed(hidden_units), pixels)
    parameters = (sum(a * b + b for a, b in zip(widths, widths[1:])) + heads * (widths[-1] * latent_dim + latent_dim)
                  + sum(a * b + b for a, b in zip(back, back[1:])))  # fmt: skip
    # input, flatten, hidden, code(s) | code input, hidden, pixels, reshape
    activations = 2 * pixels + sum(hidden_units) + heads * latent_dim + latent_dim + sum(hidden_units) + 2 * pixels
    return parameters, activations


def _conv_counts(config: ModelConfig, image_shape) -> tuple[int, int]:
    """(parameters, activations per image) of a conv autoencoder, counted layer by layer as ``_conv`` builds it."""
    height, width, channels = image_shape
    heads = 2 if config.preset == "vae" else 1
    latent_dim, stride_product = config.latent_dim, 2 ** len(config.filters)
    sides = [(math.ceil(height / stride_product) * stride_product, math.ceil(width / stride_product) * stride_product)]
    for _ in config.filters:
        sides.append((sides[-1][0] // 2, sides[-1][1] // 2))
    depths = (channels, *config.filters)
    feature_maps = [h * w * d for (h, w), d in zip(sides, depths)]  # padded input, then each conv's output
    bottom = feature_maps[-1]  # the last conv's output, flattened
    back = (config.filters[-1], *reversed(config.filters))
    parameters = (sum(9 * a * b + b for a, b in zip(depths, depths[1:])) + heads * (bottom * latent_dim + latent_dim)
                  + latent_dim * bottom + bottom + sum(9 * a * b + b for a, b in zip(back, back[1:]))
                  + 9 * config.filters[0] * channels + channels)  # fmt: skip
    transposed = sum(h * w * d for (h, w), d in zip(reversed(sides[:-1]), reversed(config.filters)))
    # input, padded, convs, flatten, code(s) | code input, dense, reshape, transposed convs, output conv, crop
    activations = (height * width * channels + sum(feature_maps) + bottom + heads * latent_dim
                   + latent_dim + 2 * bottom + transposed + feature_maps[0] + height * width * channels)  # fmt: skip
    return parameters, activations


def estimate_training_cost(model_config: ModelConfig, image_shape: tuple[int, int, int],
                           batch_size: int) -> TrainingCost:  # fmt: skip
    """The parameter count (exact: equals the built model's ``count_params()``) and training memory estimate."""
    check_model_config(model_config, image_shape)
    counts = _conv_counts if model_config.is_conv else _dense_counts
    parameters, activations = counts(model_config, tuple(int(side) for side in image_shape))
    training_bytes = BYTES_PER_FLOAT * (COPIES_PER_PARAMETER * parameters
                                        + COPIES_PER_ACTIVATION * int(batch_size) * activations)  # fmt: skip
    return TrainingCost(parameters=parameters, training_bytes=training_bytes, activations_per_image=activations)


def check_training_cost(model_config: ModelConfig, image_shape: tuple[int, int, int], batch_size: int) -> None:
    """Raise ValueError, before anything is built, when the model or its training exceeds ``limits.current()``."""
    cost, allowed = estimate_training_cost(model_config, image_shape, batch_size), limits.current()
    if cost.parameters > allowed.max_model_parameters:
        raise ValueError(f"this model would have {cost.parameters:,} parameters; the limit is "
                         f"{allowed.max_model_parameters:,} (AE_MAX_MODEL_PARAMETERS). Use fewer or smaller layers, "
                         "or smaller images.")  # fmt: skip
    if cost.training_bytes > allowed.max_training_bytes:
        raise ValueError(f"training this model in batches of {batch_size} would need about "
                         f"{human_size(cost.training_bytes)}; the limit is {human_size(allowed.max_training_bytes)} "
                         "(AE_MAX_TRAINING_BYTES). Use a smaller batch size, smaller layers or smaller images.")


def build_autoencoder(config: ModelConfig, image_shape: tuple[int, int, int], seed: int = 0) -> keras.Model:
    """Build (not compile) the autoencoder for ``config``; weights are initialised from ``seed``.

    image_shape : (height, width, channels). Any size works: the conv models pad the input up to a multiple of
    2 ** len(filters) and crop the output back, so reconstructions always have the input's shape.
    """
    check_model_config(config, image_shape)
    image_shape = tuple(int(side) for side in image_shape)
    with _BUILD_LOCK:  # also keeps Keras's automatic layer names unique when sessions build at the same time
        keras.utils.set_random_seed(seed)
        if config.preset == "seed_dense":
            encoder, decoder = _seed_dense(config, image_shape)
        elif config.is_conv:
            encoder, decoder = _conv(config, image_shape)
        else:
            encoder, decoder = _dense(config, image_shape)
        if config.preset == "vae":
            return VariationalAutoencoder(encoder, decoder, beta=config.beta, loss=config.loss, seed=seed, name="vae")
        images = keras.Input(image_shape, name="images")
        return keras.Model(images, decoder(encoder(images)), name=f"{config.preset}_autoencoder")


def _latent_outputs(config: ModelConfig, features):
    """The code layer: one Dense, or (z_mean, z_log_var) for a VAE, with the L1 penalty for the sparse preset."""
    if config.preset == "vae":
        return [
            keras.layers.Dense(config.latent_dim, name="z_mean")(features),
            keras.layers.Dense(config.latent_dim, name="z_log_var")(features),
        ]
    penalty = keras.regularizers.L1(config.l1) if config.preset == "sparse" else None
    return keras.layers.Dense(config.latent_dim, activity_regularizer=penalty, name="code")(features)


def _output_activation(config: ModelConfig) -> str:
    return "linear" if config.preset == "seed_dense" else "sigmoid"


def _seed_dense(config: ModelConfig, image_shape):
    """The textbook model: 784 -> 64 -> 32 -> latent (linear), latent -> 32 -> 64 -> 784 (linear)."""
    return _dense(replace(config, hidden_units=(64, 32), activation="relu"), image_shape)


def _dense(config: ModelConfig, image_shape):
    pixels = math.prod(image_shape)
    images = keras.Input(image_shape, name="images")
    hidden = keras.layers.Flatten()(images)  # (n, height * width * channels)
    for units in config.hidden_units:
        hidden = keras.layers.Dense(units, activation=config.activation)(hidden)
    encoder = keras.Model(images, _latent_outputs(config, hidden), name="encoder")

    codes = keras.Input((config.latent_dim,), name="codes")
    hidden = codes
    for units in reversed(config.hidden_units):
        hidden = keras.layers.Dense(units, activation=config.activation)(hidden)
    pixels_out = keras.layers.Dense(pixels, activation=_output_activation(config))(hidden)
    decoder = keras.Model(codes, keras.layers.Reshape(image_shape)(pixels_out), name="decoder")
    return encoder, decoder


def _conv(config: ModelConfig, image_shape):
    height, width, channels = image_shape
    stride_product = 2 ** len(config.filters)
    padded_height = math.ceil(height / stride_product) * stride_product
    padded_width = math.ceil(width / stride_product) * stride_product
    pad = ((0, padded_height - height), (0, padded_width - width))

    images = keras.Input(image_shape, name="images")
    hidden = keras.layers.ZeroPadding2D(pad)(images)
    for filters in config.filters:
        hidden = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation=config.activation)(hidden)
    encoder = keras.Model(images, _latent_outputs(config, keras.layers.Flatten()(hidden)), name="encoder")

    bottom_shape = (padded_height // stride_product, padded_width // stride_product, config.filters[-1])
    codes = keras.Input((config.latent_dim,), name="codes")
    hidden = keras.layers.Dense(math.prod(bottom_shape), activation=config.activation)(codes)
    hidden = keras.layers.Reshape(bottom_shape)(hidden)
    for filters in reversed(config.filters):
        hidden = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same", activation=config.activation)(
            hidden
        )
    hidden = keras.layers.Conv2D(channels, 3, padding="same", activation=_output_activation(config))(hidden)
    decoder = keras.Model(codes, keras.layers.Cropping2D(pad)(hidden), name="decoder")
    return encoder, decoder


def encoder_of(model: keras.Model) -> keras.Model:
    return model.get_layer("encoder")


def decoder_of(model: keras.Model) -> keras.Model:
    return model.get_layer("decoder")


def latent_dim_of(model: keras.Model) -> int:
    return int(decoder_of(model).inputs[0].shape[-1])


def encode(model: keras.Model, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Codes of ``images`` (n, height, width, channels) -> (n, latent_dim); a VAE gives its mean code."""
    codes = encoder_of(model).predict(images, batch_size=batch_size, verbose=0)
    return np.asarray(codes[0] if isinstance(codes, list) else codes, dtype=np.float32)


def decode(model: keras.Model, codes: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Images decoded from ``codes`` (n, latent_dim) -> (n, height, width, channels), clipped to [0, 1]."""
    images = decoder_of(model).predict(np.asarray(codes, dtype=np.float32), batch_size=batch_size, verbose=0)
    return np.clip(images, 0.0, 1.0)


def reconstruct(model: keras.Model, images: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Reconstructions of ``images``, clipped to [0, 1] (the seed model's linear output can leave that range)."""
    return decode(model, encode(model, images, batch_size), batch_size)
