"""Imports Keras (TensorFlow backend) once, quietly.

TensorFlow prints start-up lines from C++ straight to file descriptor 2 before any Python logging is set up, so
the import runs with that descriptor pointed at /dev/null. Modules that need Keras import it from here; modules
that do not (data loading, plotting) stay free of it so the app's first page appears fast.
"""

import contextlib
import os


@contextlib.contextmanager
def _stderr_silenced():
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
with _stderr_silenced():
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    # The first op initialises the CPU runtime, which prints more start-up lines.
    tf.constant(0.0) + 1.0

__all__ = ["keras", "tf"]
