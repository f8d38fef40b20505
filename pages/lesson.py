"""Lesson page: what an autoencoder learns, in eight steps on the bundled digits, each with a prediction to make
before running it. The step is in the address (``?step=N``), so a link opens it."""

import streamlit as st

from ae_core.latent.maps import default_run_map
from ae_core.lesson.experiments import WITHOUT_ZEROS
from ae_core.lesson.steps import STEPS, step
from ae_core.runs.context import context_for
from pages.shared import server
from pages.shared.drawn_digit import LESSON_CANVAS, drawn_digit_ui
from pages.shared.lesson_runs import lesson_dataset, progress_ui, step_runs
from pages.shared.lesson_state import FAILURE, NAVIGATION, current_step, go_to, mark_ran, ran_steps
from pages.shared.lesson_view import lab_link, prediction_ui, result_ui, run_note, step_result
from pages.shared.session import start_page

FIRST_JUDGED_STEP = 5  # from here on, steps score images with the judge


def navigation_ui(number: int) -> None:
    """Where this step is in the lesson; any step is a click away."""
    st.session_state[NAVIGATION] = number  # the address decides; a click goes through it
    st.segmented_control(
        "Steps",
        [item.number for item in STEPS],
        format_func=lambda n: f"{n}. {STEPS[n - 1].title}",
        key=NAVIGATION,
        on_change=lambda: go_to(st.session_state[NAVIGATION] or number),
        label_visibility="collapsed",
    )


def experiment_ui(number: int, dataset) -> None:
    """Run this step, or its result once run: the shared trainings it waits for, then the lab's figures."""
    if number not in ran_steps():
        st.button("Run this step", type="primary", on_click=mark_ran, args=(number,))
        st.caption(run_note(number))
        if message := st.session_state.pop(FAILURE, None):
            st.error(message)
        return
    runs = step_runs(number, dataset)
    if runs is None:
        progress_ui(number)
        return
    result_ui(number, step_result(number, dataset, runs))
    if number == 8:
        context = context_for(runs[WITHOUT_ZEROS.name], dataset)
        drawn_digit_ui(context, default_run_map(context), key=LESSON_CANVAS)


start_page()
st.title("Lesson")
st.write(
    "What an autoencoder learns, in eight steps on small images of handwritten digits. In each step: read the idea, "
    "predict what will happen, then run it and see."
)
number = current_step()
navigation_ui(number)
current = step(number)
st.header(f"Step {number} of {len(STEPS)}: {current.title}")
st.markdown(current.idea)
prediction_ui(current)
dataset = lesson_dataset()
if number >= FIRST_JUDGED_STEP - 1:  # the judge trains at full priority while the step before is read
    server.judge_in_background(dataset)
experiment_ui(number, dataset)
if number in ran_steps():
    lab_link(current, dataset)
if number < len(STEPS):
    st.button("Next step", on_click=go_to, args=(number + 1,))
else:
    st.success("That is the whole lesson. Every page of the lab in the menu works on the runs it trained.")
