"""Variational autoencoder: a keras.Model with its own train_step (after keras-io's examples/generative/vae.py)."""

from ae_core.models.keras_backend import keras, tf


def kl_divergence(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per image: -1/2 * sum(1 + log_var - mean^2 - exp(log_var)).

    z_mean, z_log_var : (n, latent_dim) -> (n,)
    """
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=1)


@keras.saving.register_keras_serializable(package="ae_core")
class VariationalAutoencoder(keras.Model):
    """Encoder maps images to (z_mean, z_log_var); a code is sampled with the reparameterisation trick and decoded.

    Loss per image = reconstruction_loss + beta * kl_loss, where reconstruction_loss sums the per-pixel loss (MSE or
    binary cross-entropy) over the image and kl_loss is ``kl_divergence``.
    Calling the model decodes the mean code, so reconstructions are deterministic.
    """

    def __init__(self, encoder, decoder, beta=1.0, loss="mse", seed=0, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        self.loss_name = loss
        self.seed = int(seed)
        self.sample_seed = keras.random.SeedGenerator(seed)
        self.total_loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, images, training=False):
        z_mean, _ = self.encoder(images, training=training)
        return self.decoder(z_mean, training=training)

    def _compute_losses(self, images, targets, training):
        z_mean, z_log_var = self.encoder(images, training=training)
        epsilon = keras.random.normal(tf.shape(z_mean), seed=self.sample_seed)
        codes = z_mean + tf.exp(0.5 * z_log_var) * epsilon
        reconstructions = self.decoder(codes, training=training)
        if self.loss_name == "binary_crossentropy":
            pixel_loss = keras.losses.binary_crossentropy(targets[..., None], reconstructions[..., None])
        else:
            pixel_loss = tf.square(targets - reconstructions)
        reconstruction_loss = tf.reduce_mean(tf.reduce_sum(pixel_loss, axis=[1, 2, 3]))
        kl_loss = tf.reduce_mean(kl_divergence(z_mean, z_log_var))
        return reconstruction_loss + self.beta * kl_loss, reconstruction_loss, kl_loss

    def _track(self, images, total_loss, reconstruction_loss, kl_loss):
        images_in_batch = tf.cast(tf.shape(images)[0], "float32")  # weighted by images, as Keras weighs its loss
        self.total_loss_tracker.update_state(total_loss, sample_weight=images_in_batch)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss, sample_weight=images_in_batch)
        self.kl_loss_tracker.update_state(kl_loss, sample_weight=images_in_batch)
        return {metric.name: metric.result() for metric in self.metrics}

    def train_step(self, data):
        images, targets = data
        with tf.GradientTape() as tape:
            losses = self._compute_losses(images, targets, training=True)
        gradients = tape.gradient(losses[0], self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return self._track(images, *losses)

    def test_step(self, data):
        images, targets = data
        return self._track(images, *self._compute_losses(images, targets, training=False))

    def get_config(self):
        return {
            "name": self.name,
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": self.beta,
            "loss": self.loss_name,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder = keras.saving.deserialize_keras_object(config.pop("encoder"))
        decoder = keras.saving.deserialize_keras_object(config.pop("decoder"))
        return cls(encoder, decoder, **config)
