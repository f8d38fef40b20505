"""The Lesson page's state: the step in the address (``?step=N``), each step's prediction, and the steps run, which
the workspace keeps on disk (``lesson.json`` in its folder), so a reload or a link to this workspace shows them again.
"""

import json

import streamlit as st

from ae_core.lesson.steps import STEPS
from pages.shared import keys, workspace

STEP_PARAM = "step"
PREDICTION_PREFIX = keys.SETTING_PREFIX + "lesson.prediction."  # + step: the chosen answer, kept across pages
RAN = "lesson.ran"  # set of the step numbers run in this workspace
RESULT_PREFIX = "lesson.result."  # + step: (the ids of the runs it used, its StepResult)
STARTED_PREFIX = "lesson.started."  # + step: the shared TrainingJobs the step waits for
NAVIGATION = "lesson.navigation"  # the row of step buttons
FAILURE = "lesson.failure"  # why the last shared training a step waited for did not finish, shown once
RAN_FILE = "lesson.json"


def current_step() -> int:
    """The step the address names; 1 when it names none or one that does not exist (a note says so)."""
    text = st.query_params.get(STEP_PARAM)
    if text is not None and text.isdigit() and 1 <= int(text) <= len(STEPS):
        return int(text)
    if text is not None:
        st.caption(f"The link's step={text[:10]!r} is not a step from 1 to {len(STEPS)}; this is step 1.")
    st.query_params[STEP_PARAM] = "1"
    return 1


def go_to(step: int) -> None:
    """Button callback: show ``step``, in the address too."""
    st.query_params[STEP_PARAM] = str(step)


def prediction_key(step: int) -> str:
    return f"{PREDICTION_PREFIX}{step}"


def ran_steps() -> set:
    """The steps run in this workspace: this session's, and those the workspace's file kept from earlier ones."""
    if RAN not in st.session_state:
        st.session_state[RAN] = set(_read_ran())
    return st.session_state[RAN]


def mark_ran(step: int) -> None:
    """Button callback: ``step`` has been run; the workspace keeps it for a reload."""
    ran_steps().add(step)
    _write_ran()


def forget_ran(step: int) -> None:
    """``step`` shows its Run button again (its training did not finish)."""
    ran_steps().discard(step)
    _write_ran()


def _write_ran() -> None:
    ran = ran_steps()
    held = workspace.current()
    if held is not None:
        try:
            (held.folder / RAN_FILE).write_text(json.dumps(sorted(ran)))
        except OSError:
            pass  # kept for this session; a reload shows the step's Run button again, and nothing is lost


def _read_ran() -> list[int]:
    held = workspace.current()
    try:
        steps = json.loads((held.folder / RAN_FILE).read_text()) if held is not None else []
    except (OSError, ValueError):
        return []
    if not isinstance(steps, list):
        return []
    return [step for step in steps if isinstance(step, int) and 1 <= step <= len(STEPS)]
