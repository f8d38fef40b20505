import threading
import time

import numpy as np
import pytest

from ae_core.config import ModelConfig, TrainConfig
from ae_core.models import build_autoencoder
from ae_core.training import TrainingControl, TrainingListener, train

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
    first_epoch = [loss for epoch, loss in result.batch_losses if epoch <= 1.0]
    batch_sizes = [64] * (len(first_epoch) - 1) + [digits.n_train - 64 * (len(first_epoch) - 1)]
    assert result.history["loss"][0] == pytest.approx(np.average(first_epoch, weights=batch_sizes), rel=1e-6)
    assert len(set(first_epoch)) == len(first_epoch)  # each point is its own batch's loss
    assert len(result.history["loss"]) == len(result.history["val_loss"]) == 4
    assert result.history["val_loss"][-1] < result.history["val_loss"][0]
    assert result.epochs_completed == 4 and result.samples_seen == 4 * digits.n_train
    assert len(result.batch_losses) == 4 * int(np.ceil(digits.n_train / 64))


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
        ({"epochs": 0}, "epochs must be an integer between 1 and 10000; got 0."),
        ({"learning_rate": -1.0}, r"learning_rate must be a number in \(0, 10\]; got -1.0."),
        ({"optimizer": "adamw"}, "optimizer must be one of adam, rmsprop, sgd; got 'adamw'."),
    ],
)
def test_impossible_training_settings_are_refused(digits, settings, message):
    with pytest.raises(ValueError, match=message):
        _train(digits, **settings)


def test_denoising_and_vae_presets_train(digits):
    denoising = ModelConfig(preset="denoising", latent_dim=8, hidden_units=(32,), noise_type="salt_pepper")
    _, result = _train(digits, model_config=denoising)
    assert len(result.history["val_loss"]) == 2
    vae = ModelConfig(preset="vae", latent_dim=4, hidden_units=(32,), beta=0.5)
    _, result = _train(digits, model_config=vae)
    assert {"loss", "reconstruction_loss", "kl_loss", "val_kl_loss"} <= set(result.history)
    total, reconstruction, kl = (result.history[name][-1] for name in ("loss", "reconstruction_loss", "kl_loss"))
    assert total == pytest.approx(reconstruction + 0.5 * kl, rel=1e-4)
