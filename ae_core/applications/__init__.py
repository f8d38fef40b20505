"""What a trained autoencoder is for: compression, restoration, classification and anomaly detection.

Each use puts the autoencoder beside a classical baseline on the same images and states a verdict derived from the
numbers. Functions take a ``RunContext`` (the run, its dataset on its own split, cached codes and errors) or plain
arrays, and return numpy arrays and dataclasses; their charts are in ``ae_core.figures.applications``.

- ``compression``: the code as a compressed image against PCA and image codecs; ``rate_distortion`` (what a row
  costs and scores), ``codecs`` (JPEG whole or with shared tables, WebP, the lossless coder of quantised codes),
  ``compression_verdict``.
- ``restoration``: damaged images restored by the model, a denoising model and classical filters.
- ``classification``: codes, pixels and PCA as features with few labels; ``classifiers`` (the defaults, the
  cross-validated pipeline, label spreading).
- ``anomaly``: a class held out of training, found by its reconstruction error.
"""
