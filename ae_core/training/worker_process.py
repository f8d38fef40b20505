"""A local training worker: ``python -m ae_core.training.worker_process FD``, started by ``LocalWorkers``.

It imports TensorFlow at once, trains a tiny model, and says ``("ready",)`` on the socket it was handed (file
descriptor FD), so a training given to it starts without those waits. It then trains the one ``TrainingTask`` it
receives (see ``worker_protocol``), obeying commands that arrive meanwhile, and exits: a process per training, so
whatever a training leaves behind in TensorFlow or the C allocator goes with it. A server that goes away closes the
socket; the worker then stops its training and exits.
"""

import signal
import sys
import threading
from multiprocessing.connection import Connection

READY = "ready"


def _obey_commands(connection: Connection, control) -> None:
    from ae_core.training.worker_protocol import obey

    while True:
        try:
            command = connection.recv()
        except (EOFError, OSError):
            control.stop()  # the server is gone: end the training; its messages have nowhere to go
            return
        obey(control, command)


def _warm_up() -> None:
    """Train a tiny model for one epoch of two batches on noise: the task's training then finds TensorFlow's kernels
    and thread pools started, and its first batch comes as fast as in a process that has trained before."""
    import numpy as np

    from ae_core.models.architectures import build_autoencoder
    from ae_core.settings.model_config import ModelConfig
    from ae_core.settings.train_config import TrainConfig
    from ae_core.training.engine import train

    images = np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)
    config = ModelConfig(preset="dense", latent_dim=2, hidden_units=(8,))
    train(
        build_autoencoder(config, images.shape[1:]), images, images[:16], config, TrainConfig(epochs=1, batch_size=32)
    )


def main(descriptor: int) -> None:
    # Ctrl-C in the terminal of a command that trains through a worker reaches its whole process group: the command
    # stops the training through the socket, keeping the run; the server's going away closes the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    connection = Connection(descriptor)
    import ae_core.runs.run  # noqa: F401 - TensorFlow and Keras, loaded before the task arrives
    from ae_core.training.events import TrainingControl
    from ae_core.training.worker_protocol import train_task

    _warm_up()

    try:
        connection.send((READY,))
        task = connection.recv()
    except (EOFError, OSError):
        return  # let go unused
    control = TrainingControl()
    threading.Thread(target=_obey_commands, args=(connection, control), daemon=True).start()
    try:
        connection.send(train_task(task, connection.send, control))
    except OSError:
        pass  # the server went away meanwhile


if __name__ == "__main__":
    main(int(sys.argv[1]))
