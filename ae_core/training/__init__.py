"""Training a model while someone watches.

- ``events``: what a training tells its listeners (batch progress, epoch ends, divergence, the result) and the
  control a caller pauses or stops it with.
- ``health``: signs that a model died or blows up while its loss is finite, and the learning rate to try.
- ``engine``: the training loop, a compiled train step in a plain Python loop.
- ``jobs``: a training on a background thread, for user interfaces that must stay responsive.
- ``queue``: the first-come, first-served queue that caps trainings running at once.
- ``native_memory``: glibc's malloc tuned for a long-lived server that trains on threads.
- ``gradient_registry``: TensorFlow's registry of gradient functions, emptied of what each training added.
- ``progress_text`` and ``progress_bar``: progress in words, and the command line's progress bar.
"""
