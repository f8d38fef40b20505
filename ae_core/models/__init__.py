"""Autoencoders: what is built and what it costs.

- ``architectures``: the presets as separate encoder and decoder Functional models, composed into one autoencoder;
  encode, decode and reconstruct in batches.
- ``vae``: the variational autoencoder, a ``keras.Model`` with its own ``train_step``.
- ``noise``: input corruption for denoising autoencoders and the restoration demo.
- ``training_cost``: parameters and memory of a model's training, estimated and checked before it is built.
- ``keras_backend``: Keras (TensorFlow backend) imported once, quietly.

Only ``architectures``, ``vae`` and ``keras_backend`` import Keras.
"""
