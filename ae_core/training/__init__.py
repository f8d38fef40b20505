"""Training a model while someone watches.

- ``events``: what a training tells its listeners (batch progress, epoch ends, divergence, the result) and the
  control a caller pauses or stops it with.
- ``health``: signs that a model died or blows up while its loss is finite, and the learning rate to try.
- ``engine``: the training loop, a compiled train step in a plain Python loop.
- ``jobs``: a training in a worker, driven from a background thread, for user interfaces that must stay responsive;
  ``job_state`` is what has reached the server of it.
- ``executors``: where jobs train: ``local_workers`` (worker processes on this machine, each running
  ``worker_process``) or ``ray_workers`` (a Ray cluster); ``worker_protocol`` is what the server and a worker say.
- ``queue``: the first-come, first-served queue that caps trainings running at once.
- ``native_memory``: freed memory handed back to the operating system by a long-lived server.
- ``progress_text`` and ``progress_bar``: progress in words, and the command line's progress bar.
"""
