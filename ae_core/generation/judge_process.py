"""A judge's classifier trained in a child process: ``train_classifier_in_child``.

A server trains the judges of its built-in datasets when it starts, while its first users already train and draw
maps. Trained on a thread of the server, a judge took half of a 2-core machine from them. A judge nobody waits for
yet trains in a child process niced by JUDGE_NICENESS, so it takes what they leave: the kernel gives a process of
niceness 10 about a tenth of the CPU a process of niceness 0 gets when both want it, and all of it when nothing else
runs. Once a page waits for it, the training starts again at the server's own priority (a process may not lower its
niceness back). The weights come back to the server, which builds the same classifier around them.

``python -m ae_core.generation.judge_process FD NICENESS`` is the child: it adds NICENESS to its niceness before
TensorFlow starts its threads (they inherit it), receives ``(x_train, y_train, n_classes, seed)`` on the socket FD,
reports each training step and sends the weights.
"""

import os
import sys
import time
from multiprocessing.connection import Connection

JUDGE_NICENESS = 10
STEP, WEIGHTS, FAILED = "step", "weights", "failed"  # the child's messages: (STEP, done, total), (WEIGHTS, list)
URGENCY_POLL_S = 0.25  # how often a niced training asks whether a page now waits for it


class JudgeTrainingError(RuntimeError):
    """The judge's training process failed or ended before sending its weights."""


def train_classifier_in_child(x_train, y_train, n_classes: int, seed: int, on_step=None, urgent=None):
    """The judge's trained classifier (``judge._train_classifier``'s, from the same seed), trained in a child
    process; ``on_step(done, total)`` after each batch, when given. With ``urgent``, a callable saying whether a page
    now waits for this judge, the child is niced by JUDGE_NICENESS until then, and started again at this process's
    priority once it does; without it, the child has this process's priority throughout. What ``urgent`` raises
    ends the training, its child killed, and reaches the caller."""
    from ae_core.generation.judge import _build_classifier

    niced = urgent is not None and not urgent()
    while True:
        weights = _train_in_child((x_train, y_train, n_classes, seed), on_step, urgent if niced else None)
        if weights is not None:
            classifier = _build_classifier(x_train.shape[1:], n_classes, seed)
            classifier.set_weights(weights)
            return classifier
        niced = False  # a page waits for it now: again, at full priority


def _train_in_child(task: tuple, on_step, urgent) -> list | None:
    """The weights the child sends; None when ``urgent`` (given only to a niced child) turned true first."""
    from ae_core.training.local_workers import ended_after_closing, start_child, wait_or_end

    niceness = JUDGE_NICENESS if urgent is not None else 0
    process, connection = start_child("ae_core.generation.judge_process", str(niceness))
    weights_sent = False
    try:
        connection.send(task)
        next_look = time.monotonic()
        while True:
            if urgent is not None and time.monotonic() >= next_look:
                if urgent():
                    return None
                next_look = time.monotonic() + URGENCY_POLL_S
            if not connection.poll(URGENCY_POLL_S):
                continue
            message = connection.recv()
            if message[0] == STEP and on_step is not None:
                on_step(*message[1:])
            elif message[0] == FAILED:
                raise JudgeTrainingError(f"its training failed: {message[1]}")
            elif message[0] == WEIGHTS:
                weights_sent = True
                return message[1]
    except (EOFError, OSError):
        how = ended_after_closing(process)
        raise JudgeTrainingError(f"its training process ended unexpectedly: {how}") from None
    finally:
        connection.close()
        if not weights_sent:
            process.kill()  # ended early: a page waits for it or for another judge, or it failed
        wait_or_end(process)  # one that sent its weights exits by itself


def main(descriptor: int, niceness: int) -> None:
    os.nice(niceness)  # before TensorFlow's thread pools exist, so that every thread of the child has it
    connection = Connection(descriptor)
    from ae_core.generation.judge import _train_classifier

    try:
        x_train, y_train, n_classes, seed = connection.recv()
    except (EOFError, OSError):
        return  # the server went away first
    try:
        classifier = _train_classifier(
            x_train, y_train, n_classes, seed, on_step=lambda done, total: connection.send((STEP, done, total))
        )
        connection.send((WEIGHTS, classifier.get_weights()))
    except (OSError, EOFError):
        pass  # the server went away meanwhile
    except Exception as error:  # noqa: BLE001 - whatever TensorFlow raised goes back to the server in words
        connection.send((FAILED, f"{type(error).__name__}: {error}"))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
