import json
import math
import re
from dataclasses import replace

import numpy as np
import pytest

from ae_core.models.architectures import build_autoencoder, decode, decoder_of, encode, encoder_of, reconstruct
from ae_core.models.keras_backend import keras, tf
from ae_core.models.noise import corrupt
from ae_core.models.training_cost import check_training_cost, estimate_training_cost
from ae_core.models.vae import kl_divergence
from ae_core.runs.run import train_run
from ae_core.settings.model_config import SEED_DENSE, ModelConfig
from ae_core.settings.recommended import recommended_settings
from ae_core.settings.train_config import TrainConfig
from ae_core.training.engine import train
from ae_core.training.events import TrainingListener
from ae_core.training.jobs import TrainingJob


def _dense_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]


def test_seed_dense_is_the_textbook_model():
    model = build_autoencoder(SEED_DENSE, (28, 28, 1))
    encoder_layers = [(layer.units, layer.activation.__name__) for layer in _dense_layers(encoder_of(model))]
    decoder_layers = [(layer.units, layer.activation.__name__) for layer in _dense_layers(decoder_of(model))]
    assert encoder_layers == [(64, "relu"), (32, "relu"), (32, "linear")]
    assert decoder_layers == [(32, "relu"), (64, "relu"), (784, "linear")]
    textbook_parameters = (
        (784 * 64 + 64) + (64 * 32 + 32) + (32 * 32 + 32) + (32 * 32 + 32) + (32 * 64 + 64) + (64 * 784 + 784)
    )
    assert model.count_params() == textbook_parameters


def _textbook_reference():
    """The textbook script's model on flat 784-pixel vectors, compiled as it is there."""
    inputs = keras.Input((784,))
    hidden = keras.layers.Dense(64, activation="relu")(inputs)
    hidden = keras.layers.Dense(32, activation="relu")(hidden)
    code = keras.layers.Dense(32)(hidden)
    hidden = keras.layers.Dense(32, activation="relu")(code)
    hidden = keras.layers.Dense(64, activation="relu")(hidden)
    outputs = keras.layers.Dense(784)(hidden)
    reference = keras.Model(inputs, outputs)
    reference.compile(optimizer="adam", loss="mse")
    return reference


def test_seed_dense_training_matches_plain_keras_fit_over_several_batches(mnist_slice):
    images = mnist_slice[:250]  # 4 batches of 64 an epoch, the last one of 58
    model = build_autoencoder(SEED_DENSE, (28, 28, 1), seed=3)
    reference = _textbook_reference()
    reference.set_weights(model.get_weights())

    result = train(model, images, images, SEED_DENSE, TrainConfig(epochs=3, batch_size=64, seed=3))
    flat = images.reshape(250, 784)
    order_rng, losses = np.random.default_rng(3), []  # the batch order ours draws: one permutation an epoch
    for _ in range(3):
        order = order_rng.permutation(250)
        losses += reference.fit(flat[order], flat[order], batch_size=64, epochs=1, shuffle=False, verbose=0).history[
            "loss"
        ]

    np.testing.assert_allclose(result.history["loss"], losses, rtol=1e-5)
    for ours, theirs in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_recommended_settings_per_dataset_and_preset():
    assert recommended_settings("mnist", (28, 28, 1), "seed_dense") == (
        SEED_DENSE,
        TrainConfig(epochs=20, batch_size=256),
    )
    digits_model, digits_training = recommended_settings("digits", (8, 8, 1))
    assert (digits_model.preset, digits_model.latent_dim, digits_model.is_conv) == ("conv", 8, True)
    assert (digits_training.epochs, digits_training.batch_size, digits_training.optimizer) == (40, 64, "adam")
    mnist_model, mnist_training = recommended_settings("mnist", (28, 28, 1))
    assert (mnist_model.latent_dim, mnist_training.epochs, mnist_training.batch_size) == (32, 15, 64)
    assert recommended_settings("mine.zip", (12, 12, 3))[1].epochs == 40  # small images train like digits
    assert recommended_settings("mine.zip", (64, 64, 1))[1].epochs == 15
    vae_model, vae_training = recommended_settings("mnist", (28, 28, 1), "vae")
    assert not vae_model.is_conv and vae_training.batch_size == 256 and vae_model.loss == "binary_crossentropy"
    assert recommended_settings("mine.npz", (12, 12, 1), "dense", n_train=48)[1].batch_size == 48, "one batch"
    assert recommended_settings("mine.npz", (28, 28, 1), "seed_dense", n_train=100)[1].batch_size == 100
    with pytest.raises(
        ValueError, match="preset must be one of seed_dense, dense, conv, denoising, sparse, vae; got 'huge'"
    ):
        recommended_settings("digits", (8, 8, 1), "huge")


PRESET_CONFIGS = [
    ModelConfig(preset=preset, latent_dim=5, architecture=architecture, hidden_units=(16, 12), filters=(4, 6, 3))
    for preset in ("seed_dense", "dense", "conv", "denoising", "sparse", "vae")
    for architecture in (("dense", "conv") if preset in ("denoising", "sparse", "vae") else ("dense",))
]


def _layer_outputs(model) -> int:
    """Values per image in the outputs of every encoder and decoder layer, their inputs included."""
    return sum(
        math.prod(output.shape[1:])
        for part in (encoder_of(model), decoder_of(model))
        for layer in part.layers
        for output in (layer.output if isinstance(layer.output, list) else [layer.output])
    )


@pytest.mark.parametrize("image_shape", [(8, 8, 1), (13, 17, 3)])
@pytest.mark.parametrize("config", PRESET_CONFIGS, ids=lambda c: f"{c.preset}-{c.architecture}")
def test_training_cost_counts_what_keras_builds(config, image_shape):
    cost = estimate_training_cost(config, image_shape, batch_size=32)
    model = build_autoencoder(config, image_shape)
    model(np.zeros((1, *image_shape), np.float32))  # a subclassed VAE counts its weights once built
    assert cost.parameters == model.count_params()
    assert cost.activations_per_image == _layer_outputs(model)
    assert cost.training_bytes == 4 * 4 * cost.parameters + 4 * 2 * 32 * cost.activations_per_image


def test_training_beyond_the_limits_is_refused_before_building(digits, monkeypatch):
    config = ModelConfig(preset="dense", latent_dim=8, hidden_units=(512, 256))
    cost = estimate_training_cost(config, digits.image_shape, 64)
    monkeypatch.setenv("AE_MAX_MODEL_PARAMETERS", str(cost.parameters - 1))
    message = f"would have {cost.parameters:,} parameters; the limit is {cost.parameters - 1:,}"
    with pytest.raises(ValueError, match=message):
        check_training_cost(config, digits.image_shape, 64)
    with pytest.raises(ValueError, match=message):
        TrainingJob(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=1, batch_size=64))
    monkeypatch.delenv("AE_MAX_MODEL_PARAMETERS")
    monkeypatch.setenv("AE_MAX_TRAINING_BYTES", str(cost.training_bytes - 1))
    recorder = BatchCounter()
    with pytest.raises(ValueError, match=r"in batches of 64 would need about .*; the limit is"):
        train_run(digits.x_train, digits.x_val, "digits", config, TrainConfig(epochs=1, batch_size=64), recorder)
    assert recorder.batches == 0
    check_training_cost(config, digits.image_shape, 32)  # a smaller batch fits


class BatchCounter(TrainingListener):
    def __init__(self):
        self.batches = 0

    def on_batch(self, progress):
        self.batches += 1


@pytest.mark.parametrize("image_shape", [(1, 20, 1), (2, 2, 1)])
@pytest.mark.parametrize("preset", ["dense", "conv"])
def test_images_too_small_to_score_are_refused_before_training(preset, image_shape):
    images = np.random.default_rng(0).random((40, *image_shape), dtype=np.float32)
    config, counter = ModelConfig(preset=preset, latent_dim=2, hidden_units=(8,)), BatchCounter()
    message = f"at least 3x3 pixels to be scored \\(SSIM\\); got {image_shape[0]}x{image_shape[1]}"
    with pytest.raises(ValueError, match=message):
        TrainingJob(images[:30], images[30:], "tiny", config, TrainConfig(epochs=1, batch_size=10))
    with pytest.raises(ValueError, match=message):
        train_run(images[:30], images[30:], "tiny", config, TrainConfig(epochs=1, batch_size=10), counter)
    assert counter.batches == 0
    smallest = np.random.default_rng(0).random((40, 3, 3, 1), dtype=np.float32)
    run = train_run(smallest[:30], smallest[30:], "tiny", config, TrainConfig(epochs=1, batch_size=10))
    assert np.isfinite(run.metrics["val_ssim"])  # 3x3 is scored


@pytest.mark.parametrize("image_shape", [(8, 8, 1), (28, 28, 1), (13, 17, 3)])
@pytest.mark.parametrize("preset", ["seed_dense", "dense", "conv", "vae"])
def test_reconstructions_keep_any_image_shape(preset, image_shape):
    config = ModelConfig(preset=preset, latent_dim=4, hidden_units=(16,), filters=(4, 8))
    model = build_autoencoder(config, image_shape)
    images = np.random.default_rng(0).random((3, *image_shape), dtype=np.float32)
    codes = encode(model, images)
    assert codes.shape == (3, 4)
    assert decode(model, codes).shape == (3, *image_shape)
    assert reconstruct(model, images).shape == (3, *image_shape)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ModelConfig(latent_dim=0), "latent_dim must be an integer between 2 and 256; got 0."),
        (ModelConfig(latent_dim=True), "latent_dim must be an integer between 2 and 256; got True."),
        (ModelConfig(latent_dim=8.0), "latent_dim must be an integer between 2 and 256; got 8.0."),
        (ModelConfig(preset="wide"), "preset must be one of seed_dense, dense, conv, denoising, sparse, vae; got"),
        (ModelConfig(activation="swish"), "activation must be one of relu, elu, gelu, tanh, sigmoid; got 'swish'."),
        (ModelConfig(hidden_units=()), "hidden_units must be 1 to 5 layer sizes, each an integer between 2 and"),
        (ModelConfig(hidden_units=(64, 1)), "hidden_units must be 1 to 5 layer sizes, each an integer between 2 and"),
        (ModelConfig(preset="conv", filters=(8, 0)), "filters must be 1 to 5 layer sizes, each an integer between 1"),
        (
            ModelConfig(preset="conv", filters=(8, 8, 8, 8, 8)),
            "filters must be at most 4 layers for 8x8 images; got (8, 8, 8, 8, 8): 5 stride-2 conv layers need "
            "images of at least 16 pixels a side.",
        ),
        (ModelConfig(preset="denoising", noise_level=2.0), "noise_level must be a number between 0 and 1; got 2.0."),
        (ModelConfig(preset="denoising", noise_type="rain"), "noise_type must be one of gaussian, salt_pepper, mask"),
        (ModelConfig(preset="vae", beta=float("nan")), "beta must be a number between 0 and 100; got nan."),
        (ModelConfig(preset="seed_dense", loss="binary_crossentropy"), "loss must be mse for the seed_dense preset"),
    ],
)
def test_impossible_configs_are_refused_with_the_received_value(config, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        build_autoencoder(config, (8, 8, 1))


def test_a_conv_model_of_as_many_layers_as_the_images_allow_is_built():
    config = ModelConfig(preset="conv", latent_dim=4, filters=(4, 4, 4, 4))  # 8x8 images: 4 layers, not 5
    assert reconstruct(build_autoencoder(config, (8, 8, 1)), np.zeros((1, 8, 8, 1), np.float32)).shape == (1, 8, 8, 1)


def test_a_config_reads_back_from_its_dict_and_a_malformed_one_is_refused_by_field():
    config = ModelConfig(preset="conv", latent_dim=12, filters=[16, 8])
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == replace(config, filters=(16, 8))
    assert ModelConfig.from_dict({"preset": "vae"}) == ModelConfig(preset="vae"), "older runs lack fields"
    refusals = [
        ({"latent_dim": "8"}, "run.json's model_config: latent_dim must be an integer between 2 and 256; got '8'."),
        ({"hidden_units": [64, "x"]}, "run.json's model_config: hidden_units must be 1 to 5 layer sizes"),
        ({"width": 3}, "run.json's model_config has unknown settings ['width']"),
    ]
    for values, message in refusals:
        with pytest.raises(ValueError, match=re.escape(message)):
            ModelConfig.from_dict(values, where="run.json's model_config")
    assert TrainConfig.from_dict({"epochs": 3, "batch_size": 8}) == TrainConfig(epochs=3, batch_size=8)
    with pytest.raises(ValueError, match=re.escape("train_config has no batch_size; it must be an integer between")):
        TrainConfig.from_dict({"epochs": 3})


def test_noise_settings_are_checked_wherever_noise_is_made():
    images = np.zeros((2, 8, 8, 1), np.float32)
    assert corrupt(images, "masking", np.float32(0.5), np.random.default_rng(0)).shape == images.shape
    for kind, level, message in [
        ("rain", 0.3, "noise_type must be one of gaussian, salt_pepper, masking; got 'rain'."),
        ("gaussian", True, "noise_level must be a number between 0 and 1; got True."),
        ("gaussian", -0.1, "noise_level must be a number between 0 and 1; got -0.1."),
    ]:
        with pytest.raises(ValueError, match=re.escape(message)):
            corrupt(images, kind, level, np.random.default_rng(0))


def test_sparse_preset_penalises_the_code():
    dense = build_autoencoder(ModelConfig(preset="dense", latent_dim=8, hidden_units=(16,)), (8, 8, 1))
    sparse = build_autoencoder(ModelConfig(preset="sparse", latent_dim=8, hidden_units=(16,), l1=0.1), (8, 8, 1))
    images = np.ones((2, 8, 8, 1), np.float32)
    dense(images)
    sparse(images)
    assert not dense.losses
    assert len(sparse.losses) == 1 and float(sparse.losses[0]) > 0


def test_kl_divergence_matches_the_closed_form():
    rng = np.random.default_rng(0)
    z_mean = rng.normal(size=(5, 3)).astype(np.float32)
    z_log_var = rng.normal(size=(5, 3)).astype(np.float32)
    expected = -0.5 * np.sum(1 + z_log_var - z_mean**2 - np.exp(z_log_var), axis=1)
    np.testing.assert_allclose(kl_divergence(tf.constant(z_mean), tf.constant(z_log_var)).numpy(), expected, rtol=1e-5)
    assert np.allclose(kl_divergence(tf.zeros((2, 3)), tf.zeros((2, 3))).numpy(), 0.0)


def test_corruptions_do_what_they_say():
    rng = np.random.default_rng(0)
    images = np.full((200, 8, 8, 1), 0.5, np.float32)
    masked = corrupt(images, "masking", 0.25, rng)
    assert abs(np.mean(masked == 0.0) - 0.25) < 0.02 and set(np.unique(masked)) == {0.0, 0.5}
    salted = corrupt(images, "salt_pepper", 0.2, rng)
    assert abs(np.mean(salted != 0.5) - 0.2) < 0.02 and set(np.unique(salted)) == {0.0, 0.5, 1.0}
    noisy = corrupt(images, "gaussian", 0.1, rng)
    assert 0.08 < float(np.std(noisy)) < 0.12 and noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert np.all(images == 0.5)  # the input is left untouched
