"""TensorFlow's process-wide registry of gradient functions, which grows with every training traced in a process:
a long-lived server forgets the entries each training added (``TrainingJob`` does, around each run)."""


def _gradient_registry() -> dict:
    """TensorFlow's process-wide table of registered gradient functions, name -> entry (a private name, checked).

    Every trace of a training step adds one entry to it that is never removed: Keras' optimizer sums gradients
    with the replica context's all_reduce, which TensorFlow wraps in ``tf.custom_gradient``, and in a traced
    function that registers a new "CustomGradient-<n>" gradient whose closure holds the step's whole graph
    (about 1,000 operations, several MB with TensorFlow's C++ graph). So a server grew with every training started.
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):
        raise RuntimeError(
            "tensorflow.python.framework.ops._gradient_registry._registry is gone; TrainingJob "
            "removes the gradients each training step registers from it. Install the tensorflow "
            "version pinned in requirements.txt, or adapt ae_core/training/gradient_registry.py."
        )
    return registry


def forget_custom_gradients(before: set) -> None:
    """Remove the custom gradients registered since ``before`` (``registered_gradients()`` then). Nothing looks them up
    again: TensorFlow reads one only when differentiating through its all-reduce, and the optimizer applies
    gradients after the gradient tape has closed. The lab itself defines no custom gradient."""
    registry = _gradient_registry()
    for name in set(registry) - before:
        if name.startswith("CustomGradient-"):
            registry.pop(name, None)


def registered_gradients() -> set:
    """The names in the registry now, to give ``forget_custom_gradients`` after a training."""
    return set(_gradient_registry())
