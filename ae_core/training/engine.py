"""The training engine: a compiled train step in a plain Python loop, so a listener sees every batch and another
thread can pause or stop between batches.

Calling ``model.train_step`` inside our own ``tf.function`` does the same update as ``model.fit`` (same loss,
optimizer and metrics) without fit's per-step callback and iterator machinery, which dominates the time of small
models on a CPU.
"""

import math
import time

import numpy as np

from ae_core.models.architectures import encoder_of, latent_dim_of
from ae_core.models.keras_backend import keras, tf
from ae_core.models.noise import corrupt
from ae_core.settings.model_config import ModelConfig
from ae_core.settings.train_config import TrainConfig, check_train_config
from ae_core.training.events import (
    BatchProgress,
    Divergence,
    EpochEnd,
    TrainingControl,
    TrainingListener,
    TrainingResult,
)
from ae_core.training.health import sickness

# Scoring needs no gradients, so it runs in larger batches: fewer calls, each cheap per image.
VALIDATION_BATCH_SIZE = 1024
OPTIMIZER_CLASSES = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}


def compile_for_training(model: keras.Model, model_config: ModelConfig, config: TrainConfig) -> None:
    optimizer = OPTIMIZER_CLASSES[config.optimizer](learning_rate=config.learning_rate)
    if model_config.preset == "vae":
        model.compile(optimizer=optimizer)  # the VAE computes its own losses in train_step
    else:
        model.compile(optimizer=optimizer, loss=model_config.loss)
    # Creating the optimizer's slots now, not inside the first compiled step, spares that step a second tracing.
    optimizer.build(model.trainable_variables)


def _as_float_logs(logs: dict) -> dict:
    return {name: float(value) for name, value in logs.items()}


class _CompiledSteps:
    """The compiled functions one training run calls."""

    def __init__(self, model: keras.Model, image_shape: tuple[int, int, int]):
        encoder = encoder_of(model)
        self.model = model
        # Any batch size, so each function is traced once, not again for an epoch's smaller last batch.
        images = tf.TensorSpec((None, *image_shape), tf.float32)
        self.train = tf.function(lambda inputs, targets: model.train_step((inputs, targets)), [images, images])
        self.test = tf.function(lambda inputs, targets: model.test_step((inputs, targets)), [images, images])

        def preview(images):
            codes = encoder(images, training=False)
            return model(images, training=False), codes[0] if isinstance(codes, (list, tuple)) else codes

        self.preview = tf.function(preview, [images])

        def mean_codes(images):
            codes = encoder(images, training=False)
            return codes[0] if isinstance(codes, (list, tuple)) else codes  # a VAE's mean code

        self.codes = tf.function(mean_codes, [images])

    def encode(self, inputs: tf.Tensor, batch_size: int) -> np.ndarray:
        """Codes of ``inputs`` (n, height, width, channels) -> (n, latent_dim) float32, in batches."""
        batches = [
            self.codes(inputs[start : start + batch_size]).numpy()
            for start in range(0, int(inputs.shape[0]), batch_size)
        ]
        return np.concatenate(batches).astype(np.float32)

    def evaluate(self, inputs: tf.Tensor, batch_size: int) -> dict:
        self.model.reset_metrics()
        logs = {}
        for start in range(0, int(inputs.shape[0]), batch_size):
            batch = inputs[start : start + batch_size]
            logs = self.test(batch, batch)
        return {f"val_{name}": value for name, value in _as_float_logs(logs).items()}


def train(
    model: keras.Model,
    x_train: np.ndarray,
    x_val: np.ndarray,
    model_config: ModelConfig,
    config: TrainConfig,
    listener: TrainingListener | None = None,
    control: TrainingControl | None = None,
) -> TrainingResult:
    """Train ``model`` (built by ``build_autoencoder``) to reconstruct its inputs.

    x_train, x_val : ndarray of shape (n, height, width, channels), float32 in [0, 1]. A denoising preset sees
    inputs corrupted afresh every epoch and is scored against the clean images.
    The same seed, data and configs give the same losses. A non-finite loss stops training and restores the
    weights of the last finished epoch; ``result.divergence`` says where it happened. A model found dead or
    exploding at the end of an epoch (``health.sickness``) stops there too, its weights kept, and
    ``result.divergence.cause`` says what was found.
    """
    check_train_config(config, len(x_train))
    compile_for_training(model, model_config, config)
    loop = _TrainingLoop(model, x_train, x_val, model_config, config)
    return loop.run(listener or TrainingListener(), control or TrainingControl())


class _TrainingLoop:
    def __init__(self, model, x_train, x_val, model_config: ModelConfig, config: TrainConfig):
        self.model, self.model_config, self.config = model, model_config, config
        self.steps = _CompiledSteps(model, x_train.shape[1:])
        self.x_train = np.ascontiguousarray(x_train, dtype=np.float32)
        self.train_targets = tf.constant(self.x_train)
        self.val_inputs = tf.constant(np.asarray(x_val, dtype=np.float32))
        # A copy, not a view: the run keeps these, and a view would keep every validation image of an upload alive.
        self.preview_images = np.array(x_val[: config.preview_size], dtype=np.float32)
        self.map_images = self.val_inputs[: config.map_sample_size]
        self.rng = np.random.default_rng(config.seed)
        self.batches_per_epoch = math.ceil(len(x_train) / config.batch_size)
        self.result = TrainingResult(
            history={},
            batch_losses=[],
            epochs_completed=0,
            samples_seen=0,
            train_seconds=0.0,
            preview_images=self.preview_images,
            preview_timeline=np.empty((0, *self.preview_images.shape), np.float32),
            preview_codes=np.empty((0, len(self.preview_images), 0), np.float32),
            map_codes=np.empty((0, int(self.map_images.shape[0]), latent_dim_of(model)), np.float32),
        )
        self.good_weights = model.get_weights()
        self.epoch_means, self.epoch_samples = {}, 0

    def run(self, listener: TrainingListener, control: TrainingControl) -> TrainingResult:
        timelines, codes, map_codes = [], [], []
        for epoch in range(1, self.config.epochs + 1):
            finished = self._train_epoch(epoch, listener, control)
            if not finished:
                break
            end = self._end_epoch(epoch)
            timelines.append(end.preview_reconstructions)
            codes.append(end.preview_codes)
            map_codes.append(end.map_codes)
            listener.on_epoch_end(end)
            if self._sick(epoch, end, map_codes[-1]):
                break
        if timelines:
            self.result.preview_timeline = np.stack(timelines)
            self.result.preview_codes = np.stack(codes)
            self.result.map_codes = np.stack(map_codes)
        return self.result

    def _sick(self, epoch: int, end: EpochEnd, codes: np.ndarray) -> bool:
        """Whether the model is dead or exploding after ``epoch``; if so it is recorded as the run's divergence."""
        first_loss = self.result.batch_losses[0][1] if self.result.batch_losses else 0.0
        cause = sickness(self.preview_images, end.preview_reconstructions, codes, end.logs["loss"], first_loss)
        if cause is None:
            return False
        last_batch = self.batches_per_epoch
        self.result.divergence = Divergence(
            epoch, last_batch, end.logs["loss"], cause, self.config.learning_rate, self.config.optimizer
        )
        self.result.notes.append(self.result.divergence.message)
        return True

    def _epoch_inputs(self) -> tf.Tensor:
        if not self.model_config.corrupts_inputs:
            return self.train_targets
        noisy = corrupt(self.x_train, self.model_config.noise_type, self.model_config.noise_level, self.rng)
        return tf.constant(noisy)

    def _train_epoch(self, epoch: int, listener: TrainingListener, control: TrainingControl) -> bool:
        """Run one epoch's batches; False when a stop request or a divergence ended it early.

        A batch's losses are read only once the next batch is queued, so Python prepares one step while
        TensorFlow computes the other. Before pausing or stopping, the batch in flight is finished and reported.
        """
        self.model.reset_metrics()
        self.epoch_means, self.epoch_samples = {}, 0
        inputs = self._epoch_inputs()
        order = self.rng.permutation(len(self.x_train))
        batch_size, queued = self.config.batch_size, None
        for batch in range(1, self.batches_per_epoch + 1):
            if control.interrupted:
                if not self._settle(epoch, queued, listener):
                    return False
                queued = None
                control.wait_while_paused()
                if control.stop_requested:
                    self.result.stopped = True
                    return False
            started = time.perf_counter()
            indices = tf.constant(order[(batch - 1) * batch_size : batch * batch_size])
            targets = tf.gather(self.train_targets, indices)
            batch_inputs = targets if inputs is self.train_targets else tf.gather(inputs, indices)
            logs = self.steps.train(batch_inputs, targets)
            self.result.train_seconds += time.perf_counter() - started
            if not self._settle(epoch, queued, listener):
                return False
            queued = (batch, int(indices.shape[0]), logs)
        return self._settle(epoch, queued, listener)

    def _settle(self, epoch: int, queued: tuple | None, listener: TrainingListener) -> bool:
        """Wait for the queued batch (batch number, images, loss tensors) and record it; False if it diverged."""
        if queued is None:
            return True
        started = time.perf_counter()
        finished = self._finish_batch(epoch, *queued, listener)
        self.result.train_seconds += time.perf_counter() - started
        return finished

    def _finish_batch(self, epoch: int, batch: int, samples: int, logs, listener: TrainingListener) -> bool:
        """Record a computed batch and tell the listener; False when its loss is not finite.

        The model's metrics are means over the epoch so far, weighted by images; the batch's own losses follow from
        two consecutive means, which spares the compiled step a metrics reset.
        """
        means = _as_float_logs(logs)
        if not math.isfinite(means["loss"]):
            self._diverge(epoch, batch, means["loss"])
            return False
        seen = self.epoch_samples + samples
        logs = {
            name: (mean * seen - self.epoch_means.get(name, 0.0) * self.epoch_samples) / samples
            for name, mean in means.items()
        }
        self.epoch_means, self.epoch_samples = means, seen
        self.result.samples_seen += samples
        progress = self._progress(epoch, batch, logs)
        self.result.batch_losses.append((progress.epochs_done, logs["loss"]))
        listener.on_batch(progress)
        return True

    def _progress(self, epoch: int, batch: int, logs: dict) -> BatchProgress:
        return BatchProgress(
            epoch=epoch,
            batch=batch,
            batches_per_epoch=self.batches_per_epoch,
            epochs=self.config.epochs,
            samples_seen=self.result.samples_seen,
            samples_total=self.config.epochs * len(self.x_train),
            elapsed_seconds=self.result.train_seconds,
            logs=logs,
        )

    def _diverge(self, epoch: int, batch: int, loss: float) -> None:
        self.model.set_weights(self.good_weights)
        self.result.divergence = Divergence(
            epoch, batch, loss, learning_rate=self.config.learning_rate, optimizer=self.config.optimizer
        )
        self.result.notes.append(self.result.divergence.message)

    def _end_epoch(self, epoch: int) -> EpochEnd:
        started = time.perf_counter()
        logs = dict(self.epoch_means)
        logs.update(self.steps.evaluate(self.val_inputs, max(self.config.batch_size, VALIDATION_BATCH_SIZE)))
        reconstructions, codes = self.steps.preview(tf.constant(self.preview_images))
        map_codes = self.steps.encode(self.map_images, VALIDATION_BATCH_SIZE)
        self.result.train_seconds += time.perf_counter() - started
        for name, value in logs.items():
            self.result.history.setdefault(name, []).append(value)
        self.result.epochs_completed = epoch
        self.good_weights = self.model.get_weights()
        return EpochEnd(
            epoch=epoch,
            logs=logs,
            elapsed_seconds=self.result.train_seconds,
            preview_reconstructions=np.clip(reconstructions.numpy(), 0.0, 1.0),
            preview_codes=codes.numpy(),
            map_codes=map_codes,
            weights=self.good_weights,
        )
