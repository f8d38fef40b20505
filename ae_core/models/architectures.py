"""Autoencoder presets: separate encoder and decoder Functional models, composed into one autoencoder.

Every autoencoder has a layer named "encoder" (images -> codes) and one named "decoder" (codes -> images), so
latent maps call the encoder and generation calls the decoder, whatever the preset.
"""

import math
import threading
from dataclasses import replace

import numpy as np

from ae_core.models.keras_backend import keras
from ae_core.models.vae import VariationalAutoencoder
from ae_core.settings.model_config import ModelConfig, check_model_config

# Keras draws initial weights from process-wide random state; two sessions building at once would interleave
# their draws, and the same seed would no longer give the same model.
_BUILD_LOCK = threading.Lock()


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
