"""A local training worker: ``python -m ae_core.training.worker_process FD``, started by ``LocalWorkers``.

It imports TensorFlow at once and says ``("ready",)`` on the socket it was handed (file descriptor FD), so a training
given to it starts without that wait. It then trains the one ``TrainingTask`` it receives (see
``worker_protocol``), obeying commands that arrive meanwhile, and exits: a process per training, so whatever a
training leaves behind in TensorFlow or the C allocator goes with it. A server that goes away closes the socket;
the worker then stops its training and exits.
"""

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


def main(descriptor: int) -> None:
    connection = Connection(descriptor)
    import ae_core.runs.run  # noqa: F401 - TensorFlow and Keras, loaded before the task arrives
    from ae_core.training.events import TrainingControl
    from ae_core.training.worker_protocol import train_task

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
