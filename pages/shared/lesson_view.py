"""The parts of a lesson step on the page: the prediction and its answer, the result of the step's experiment, and
the link that opens the step's run on the lab's own page."""

import streamlit as st

from ae_core import user_text
from ae_core.lesson.experiments import STEP_RUNS, run_step
from ae_core.lesson.steps import Step
from pages.shared import keys, workspace
from pages.shared.hover_images import hover_images
from pages.shared.layout import control_row
from pages.shared.lesson_runs import held_run
from pages.shared.lesson_state import RESULT_PREFIX, prediction_key
from pages.shared.session import session_runs


def prediction_ui(step: Step) -> None:
    """The question with no choice made; once one is, whether it is right and why."""
    prediction = step.prediction
    chosen = st.radio(
        f"**Predict first:** {prediction.question}",
        range(len(prediction.choices)),
        index=None,
        format_func=lambda index: prediction.choices[index],
        key=prediction_key(step.number),
    )
    if chosen is None:
        st.caption("Choose an answer to see whether it is right, and why.")
        return
    right = prediction.choices[prediction.answer]
    if chosen == prediction.answer:
        st.success(f"**Right.** {prediction.reason}")
    else:
        st.warning(f"**Not quite: the answer is “{right}”.** {prediction.reason}")


def run_note(step: int) -> str:
    """What pressing Run this step does."""
    if not STEP_RUNS[step]:
        return "Shows the images and counts them."
    return (
        "Trains the model this step needs on the server, in seconds, then measures. Everyone here who runs this "
        "step shares one training; a model an earlier step trained is ready at once."
    )


def step_result(step: int, dataset, runs: dict):
    """The StepResult of ``step`` on ``runs``, computed once per session and runs, kept across reruns."""
    run_ids = tuple(run.id for run in runs.values())
    kept = st.session_state.get(RESULT_PREFIX + str(step))
    if kept is None or kept[0] != run_ids:
        with st.spinner("Running the experiment…"):
            kept = st.session_state[RESULT_PREFIX + str(step)] = (run_ids, run_step(step, dataset, runs))
    return kept[1]


def result_ui(step: int, result) -> None:
    """The measured answer, then the lab's figures, images and table for it."""
    st.info(f"**Result.** {result.headline}")
    if result.table:
        st.dataframe(result.table, hide_index=True)
    for index, (figure, caption) in enumerate(result.figures):
        chart_key = f"lesson.figure.{step}.{index}"
        st.plotly_chart(figure, key=chart_key)
        if index == 0 and result.map_images is not None:
            hover_images(chart_key, result, lambda: result.map_images)
        st.caption(caption)
    for box, (picture, caption) in zip(control_row(*["content"] * len(result.pictures)), result.pictures):
        box.image(picture, caption=caption)


def lab_link(step: Step, dataset) -> None:
    """A link to the lab's page for this step, opening the step's run there (made the current run, and named in
    the address, so the link also opens it in a new tab)."""
    query = workspace.address_query()
    label = f"Open the {step.lab_page_title} page"
    lesson_runs = STEP_RUNS[step.number]
    run = held_run(lesson_runs[0], dataset) if lesson_runs else None
    if run is not None:
        name = next(name for name, held in session_runs().items() if held is run)
        st.session_state[keys.CURRENT_RUN] = name
        query["run"] = run.id
        label = f"Open this run ({user_text.markdown(name)}) on the {step.lab_page_title} page"
    st.page_link(step.lab_page, label=label, query_params=query, icon=":material/open_in_new:")
