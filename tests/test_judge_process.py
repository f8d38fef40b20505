"""A judge's classifier trained in a child process of lower priority, as the server trains its judges."""

import os
import signal
from functools import partial

import psutil
import pytest

from ae_core.generation.judge import Judge
from ae_core.generation.judge_process import JUDGE_NICENESS, JudgeTrainingError, train_classifier_in_child


def _child() -> psutil.Process:
    (child,) = [process for process in psutil.Process().children() if "judge_process" in " ".join(process.cmdline())]
    return child


def test_a_judge_trains_niced_until_a_page_waits_then_at_full_priority_to_the_same_weights(digits):
    here = Judge(digits)
    steps, niceness, waited_for = [], [], []

    def on_step(done, total):
        steps.append(done)
        if done == 1:
            niceness.append(_child().nice())  # of each child, at its first step
        if done == 20:
            waited_for.append(True)  # a page asks for the judge

    child = Judge(
        digits,
        on_step=on_step,
        train_classifier=partial(train_classifier_in_child, urgent=lambda: bool(waited_for)),
    )
    assert niceness == [os.nice(0) + JUDGE_NICENESS, os.nice(0)], "niced, then started again at full priority"
    restart = steps.index(1, 1)
    assert steps[restart:] == list(range(1, len(steps) - restart + 1)) and len(steps) - restart > 100, (
        "the second child reports every step, in order, from the first"
    )
    # Equal weights only in a fresh process: an earlier test's global seed changes this process's shuffle.
    theirs, mine = child.accuracy(digits.x_val, digits.y_val), here.accuracy(digits.x_val, digits.y_val)
    assert theirs > 0.95 and abs(theirs - mine) <= 0.02, (theirs, mine)


def test_a_killed_training_process_says_how_it_ended(digits):
    def kill_at_step_ten(done, total):
        if done == 10:
            _child().send_signal(signal.SIGKILL)

    with pytest.raises(JudgeTrainingError, match="ended unexpectedly: it was killed by signal SIGKILL"):
        Judge(digits, on_step=kill_at_step_ten, train_classifier=train_classifier_in_child)
    assert not [process for process in psutil.Process().children() if "judge_process" in " ".join(process.cmdline())]
