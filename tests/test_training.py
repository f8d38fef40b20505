import re
import threading
import time

import numpy as np
import pytest

from ae_core.models.architectures import build_autoencoder, encode, reconstruct
from ae_core.models.keras_backend import keras
from ae_core.models.noise import corrupt
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig
from ae_core.training.engine import train
from ae_core.training.events import TrainingControl, TrainingListener

SMALL_DENSE = ModelConfig(preset="dense", latent_dim=8, hidden_units=(32,))


def _train(digits, model_config=SMALL_DENSE, listener=None, control=None, **train_settings):
    config = TrainConfig(**{"epochs": 2, "batch_size": 64, **train_settings})
    model = build_autoencoder(model_config, digits.image_shape, seed=config.seed)
    result = train(model, digits.x_train, digits.x_val, model_config, config, listener, control)
    return model, result


def test_same_seed_gives_the_same_losses(digits):
    _, first = _train(digits, seed=7)
    _, again = _train(digits, seed=7)
    _, other = _train(digits, seed=8)
    assert first.history == again.history
    assert first.history["loss"] != other.history["loss"]


def test_loss_falls_and_history_has_one_value_per_epoch(digits):
    _, result = _train(digits, epochs=4)
    assert len(result.history["loss"]) == len(result.history["val_loss"]) == 4
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    assert result.epochs_completed == 4 and result.samples_seen == 4 * digits.n_train
    assert len(result.batch_losses) == 4 * int(np.ceil(digits.n_train / 64))


@pytest.mark.parametrize(
    ("optimizer", "keras_optimizer"), [("adam", keras.optimizers.Adam), ("rmsprop", keras.optimizers.RMSprop)]
)
def test_batch_and_epoch_losses_match_an_independent_replay(digits, optimizer, keras_optimizer):
    """Replays the training in plain Keras, one ``train_on_batch`` per batch in the same order with the named Keras
    optimizer, and computes each batch's loss with numpy from the weights before its update: the loss a train step
    reports."""
    _, result = _train(digits, seed=5, optimizer=optimizer)
    reference = build_autoencoder(SMALL_DENSE, digits.image_shape, seed=5)
    reference.compile(optimizer=keras_optimizer(learning_rate=1e-3), loss="mse")
    order_rng, batch_losses, epoch_losses, val_losses = np.random.default_rng(5), [], [], []
    for _ in range(2):
        order, losses, sizes = order_rng.permutation(digits.n_train), [], []
        for start in range(0, digits.n_train, 64):
            batch = digits.x_train[order[start : start + 64]]
            losses.append(np.mean((reference.predict_on_batch(batch) - batch) ** 2))
            sizes.append(len(batch))
            reference.train_on_batch(batch, batch)
        batch_losses += losses
        epoch_losses.append(np.average(losses, weights=sizes))
        val_losses.append(np.mean((reference.predict(digits.x_val, verbose=0) - digits.x_val) ** 2))
    assert [loss for _, loss in result.batch_losses] == pytest.approx(batch_losses, rel=1e-4)
    assert result.history["loss"] == pytest.approx(epoch_losses, rel=1e-5)
    assert result.history["val_loss"] == pytest.approx(val_losses, rel=1e-5)


def test_rmsprop_trains_with_keras_rmsprop_and_beats_the_mean_image(digits):
    model, result = _train(digits, optimizer="rmsprop", learning_rate=2e-3, epochs=15)
    assert type(model.optimizer) is keras.optimizers.RMSprop
    assert float(model.optimizer.learning_rate) == pytest.approx(2e-3)
    mean_image_mse = float(np.mean((digits.x_val - digits.x_train.mean(axis=0)) ** 2))  # 0.074
    val_losses = result.history["val_loss"]
    assert val_losses[-1] < 0.7 * mean_image_mse < val_losses[0], val_losses


class Recorder(TrainingListener):
    def __init__(self):
        self.batches, self.epochs = [], []

    def on_batch(self, progress):
        self.batches.append(progress)

    def on_epoch_end(self, epoch):
        self.epochs.append(epoch)


def test_listener_sees_every_batch_and_each_epochs_preview(digits):
    recorder = Recorder()
    _, result = _train(digits, listener=recorder, preview_size=5)
    batches_per_epoch = int(np.ceil(digits.n_train / 64))
    assert [(p.epoch, p.batch) for p in recorder.batches][-1] == (2, batches_per_epoch)
    assert recorder.batches[-1].fraction_done == 1.0
    assert [epoch.epoch for epoch in recorder.epochs] == [1, 2]
    assert recorder.epochs[0].preview_reconstructions.shape == (5, 8, 8, 1)
    assert recorder.epochs[0].preview_codes.shape == (5, 8)
    assert "val_loss" in recorder.epochs[0].logs
    np.testing.assert_array_equal(result.preview_timeline[1], recorder.epochs[1].preview_reconstructions)
    np.testing.assert_array_equal(result.preview_images, digits.x_val[:5])


def test_map_codes_hold_the_first_validation_images_codes_after_every_epoch(digits):
    model, result = _train(digits, map_sample_size=100, epochs=3)
    assert result.map_codes.shape == (3, 100, SMALL_DENSE.latent_dim) and result.map_codes.dtype == np.float32
    np.testing.assert_allclose(result.map_codes[-1], encode(model, digits.x_val[:100]), atol=1e-5)
    assert not np.allclose(result.map_codes[0], result.map_codes[-1])  # the map moves as the model learns
    _, capped = _train(digits, epochs=1)
    assert capped.map_codes.shape == (1, digits.n_val, SMALL_DENSE.latent_dim)  # min(1000, n_val)


class StopAfter(TrainingListener):
    """Asks for a stop from another thread once ``batches`` batches have run, as a Stop button would."""

    def __init__(self, control, batches):
        self.control, self.batches = control, batches

    def on_batch(self, progress):
        if progress.epoch == 2 and progress.batch == self.batches:
            requester = threading.Thread(target=self.control.stop)
            requester.start()
            requester.join()


def test_stop_takes_effect_within_one_batch_and_keeps_weights_and_history(digits):
    control = TrainingControl()
    initial = build_autoencoder(SMALL_DENSE, digits.image_shape).get_weights()
    model, result = _train(digits, listener=StopAfter(control, 3), control=control, epochs=5)
    batches_per_epoch = int(np.ceil(digits.n_train / 64))
    assert result.stopped
    # Batch 4 was already queued when batch 3 was reported and the stop came: it finishes, nothing after it runs.
    assert result.samples_seen == digits.n_train + 4 * 64
    assert len(result.batch_losses) == batches_per_epoch + 4
    assert result.epochs_completed == 1 and len(result.history["val_loss"]) == 1
    assert any(not np.array_equal(now, before) for now, before in zip(model.get_weights(), initial))


class PauseAtSecondBatch(TrainingListener):
    """Pauses after batch 2; another thread resumes 0.5 s later and notes how many batches had run by then."""

    def __init__(self, control):
        self.control, self.batches_seen, self.batches_when_resumed = control, 0, None

    def on_batch(self, progress):
        self.batches_seen += 1
        if self.batches_seen == 2:
            self.control.pause()
            threading.Timer(0.5, self._resume).start()

    def _resume(self):
        self.batches_when_resumed = self.batches_seen
        self.control.resume()


def test_pause_holds_training_until_resumed(digits):
    control = TrainingControl()
    listener = PauseAtSecondBatch(control)
    started = time.perf_counter()
    _, result = _train(digits, listener=listener, control=control, epochs=1)
    wall_seconds = time.perf_counter() - started
    assert listener.batches_when_resumed == 3  # batch 3, in flight when the pause came, finished first
    assert result.epochs_completed == 1 and not result.stopped
    assert result.train_seconds < wall_seconds - 0.5  # paused time is not counted as training time


def test_divergence_stops_and_restores_the_last_good_weights(digits):
    model_config = ModelConfig(preset="vae", latent_dim=4, hidden_units=(32,))  # exp(log_var) overflows at this rate
    model, result = _train(digits, model_config=model_config, optimizer="sgd", learning_rate=10.0, epochs=3)
    assert result.divergence is not None
    assert result.divergence.epoch == 1 and result.divergence.batch >= 1
    assert "diverged" in result.divergence.message and "lower learning rate" in result.divergence.message
    restored = build_autoencoder(model_config, digits.image_shape).get_weights()
    for now, initial in zip(model.get_weights(), restored):
        np.testing.assert_array_equal(now, initial)
    assert result.epochs_completed == 0


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"batch_size": 5000}, "batch_size must be at most the number of training images"),
        ({"epochs": 0}, "epochs must be an integer between 1 and 10,000; got 0."),
        ({"epochs": 2.0}, "epochs must be an integer between 1 and 10,000; got 2.0."),
        ({"batch_size": True}, "batch_size must be an integer between 1 and 65,536; got True."),
        ({"learning_rate": -1.0}, "learning_rate must be a number in (0, 10]; got -1.0."),
        ({"learning_rate": 0}, "learning_rate must be a number in (0, 10]; got 0."),
        ({"optimizer": "adamw"}, "optimizer must be one of adam, rmsprop, sgd; got 'adamw'."),
        ({"seed": -1}, "seed must be an integer between 0 and 2,147,483,647; got -1."),
        ({"preview_size": 65}, "preview_size must be an integer between 1 and 64; got 65."),
    ],
)
def test_impossible_training_settings_are_refused(digits, settings, message):
    config = TrainConfig(**{"epochs": 2, "batch_size": 64, **settings})
    model = build_autoencoder(SMALL_DENSE, digits.image_shape)
    with pytest.raises(ValueError, match=re.escape(message)):
        train(model, digits.x_train, digits.x_val, SMALL_DENSE, config)


def test_denoiser_brings_noisy_validation_images_closer_to_the_clean_ones(digits):
    config = ModelConfig(preset="denoising", latent_dim=16, hidden_units=(128,), noise_type="gaussian", noise_level=0.3)
    model, result = _train(digits, model_config=config, epochs=20)
    noisy = corrupt(digits.x_val, "gaussian", 0.3, np.random.default_rng(1))
    noisy_mse = np.mean((noisy - digits.x_val) ** 2)
    denoised_mse = np.mean((reconstruct(model, noisy) - digits.x_val) ** 2)
    assert denoised_mse < 0.6 * noisy_mse
    assert result.history["val_loss"][-1] == pytest.approx(
        np.mean((reconstruct(model, digits.x_val) - digits.x_val) ** 2), rel=1e-4
    )  # scored on clean inputs


def test_vae_losses_add_up(digits):
    vae = ModelConfig(preset="vae", latent_dim=4, hidden_units=(32,), beta=0.5)
    _, result = _train(digits, model_config=vae)
    assert {"loss", "reconstruction_loss", "kl_loss", "val_kl_loss"} <= set(result.history)
    total, reconstruction, kl = (result.history[name][-1] for name in ("loss", "reconstruction_loss", "kl_loss"))
    assert total == pytest.approx(reconstruction + 0.5 * kl, rel=1e-4)
