"""What a trained autoencoder is for: compression, restoration, classification and anomaly detection.

Each module puts the autoencoder beside a classical baseline on the same images and states a verdict derived from
the numbers. Functions take a ``RunContext`` (the run, its dataset on its own split, cached codes and errors) or
plain arrays, and return numpy arrays and dataclasses; their charts are in ``ae_core.figures.applications``.
"""
