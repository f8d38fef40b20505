"""The Train page's job: its buttons, starting it, watching it learn (a loss chart and a preview grid redrawn in
place), and what it ended with."""

import streamlit as st

from ae_core import user_text
from ae_core.figures.images import comparison_image
from ae_core.figures.training import loss_figure
from ae_core.quality.pca_baseline import verdict
from ae_core.runs.names import check_run_name
from ae_core.runs.run import training_images
from ae_core.training.jobs import (
    CANCELLED,
    DIVERGED,
    DONE,
    PAUSED,
    QUEUED,
    RUNNING,
    STOPPED,
    UNFINISHED,
    TrainingJob,
    configured_pause_timeout_s,
)
from ae_core.training.progress_text import duration_text, progress_caption
from pages.shared import keys, server, workspace
from pages.shared.session import setting
from pages.shared.sharing import runs_dir, without_paths
from pages.shared.training_settings import TrainingChoices

# How often the live view redraws while training: at least once per epoch of 2 s or more, several times in longer
# ones. Each redraw costs the browser ~0.1-0.3 s of CPU (headless Chromium, software rendering, measured), which a
# machine running app and browser takes from training; bench/ui_speed.py measures the trade-off.
REFRESH_SECONDS = 2.0


def job_buttons(job, status: str | None) -> bool:
    """Start, Pause, Resume and Stop (Cancel while queued), each enabled when it applies; True when Start was
    pressed with no job running."""
    busy = status in UNFINISHED
    buttons = st.columns(4)
    clicked = buttons[0].button("Start training", type="primary", disabled=busy)
    buttons[1].button("Pause", disabled=status != RUNNING, on_click=getattr(job, "pause", None))
    buttons[2].button("Resume", disabled=status != PAUSED, on_click=getattr(job, "resume", None))
    buttons[3].button("Cancel" if status == QUEUED else "Stop", disabled=not busy, on_click=getattr(job, "stop", None))
    st.caption(
        f"A run paused for {duration_text(configured_pause_timeout_s())} stops; so does a run whose browser tab "
        "closes. Either keeps the model trained so far."
    )
    return clicked and not busy


def requested_start(status: str | None) -> bool:
    """Whether a start was asked for from another page ("Train without class K" on Applications), once; while a job
    is busy it cannot start, and the page says so."""
    if not st.session_state.pop(keys.START_REQUESTED, False):
        return False
    if status in UNFINISHED:
        st.warning(
            "A run is still training, so the run you asked for has not started: stop this one, or wait, then "
            "press Start training."
        )
        return False
    return True


def clear_hold_out_after(job, status: str | None) -> None:
    """Once a job that held a class out has ended, "Hold out a class" goes back to none, so the next run trains on
    every class unless asked again. Call before the settings are drawn."""
    if job is None or status in UNFINISHED or st.session_state.get(keys.HOLD_OUT_CLEARED) is job:
        return
    st.session_state[keys.HOLD_OUT_CLEARED] = job
    if job.excluded_class is not None and not st.session_state.get(keys.START_REQUESTED):  # not a new request's
        st.session_state[keys.HOLD_OUT] = None


def start(dataset, choices: TrainingChoices) -> None:
    """Start a job from the settings, or say why it cannot start; the settings stay as they are."""
    try:
        if choices.problems:
            raise ValueError(choices.problems[0])
        run_name = check_run_name(runs_dir(), choices.run_name) if choices.run_name else None
        x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, choices.held_out)
        job = TrainingJob(
            x_train,
            dataset.x_val,
            dataset.name,
            choices.model_config,
            choices.train_config,
            name=run_name,
            split=dataset.split.to_dict(),
            excluded_class=choices.held_out,
            queue=server.training_queue(),
            person=getattr(workspace.current(), "owner", None),  # one training per workspace at a time
        )
    except (ValueError, FileExistsError) as error:
        st.error(f"Cannot start training: {user_text.markdown(without_paths(error))}")
        return
    st.session_state[keys.JOB] = job
    job.start()
    server.watch_session_of(job)  # a closed tab stops its training
    st.rerun()  # redraw the buttons with Start disabled


def draw_training(batch_losses: list, history: dict, images, reconstructions, epochs_completed: int) -> None:
    """Loss chart and preview grid, the same while training, after it, and for a run opened later."""
    log_y = st.session_state[setting(keys.LOG_SCALE, False)]
    st.plotly_chart(loss_figure(batch_losses, history, log_y=log_y), key=keys.LOSS_CHART)
    if reconstructions is None:
        st.image(comparison_image(images), caption="Originals; reconstructions follow epoch 1.")
    else:
        st.image(
            comparison_image(images, reconstructions),
            caption=f"Originals (top) and reconstructions (bottom), epoch {epochs_completed}",
        )


def draw_snapshot(snapshot) -> None:
    draw_training(
        snapshot.batch_losses,
        snapshot.history,
        snapshot.preview_images,
        snapshot.preview_reconstructions,
        snapshot.epochs_completed,
    )


def draw_run(run) -> None:
    result = run.result
    last = result.preview_timeline[-1] if len(result.preview_timeline) else None
    draw_training(result.batch_losses, result.history, result.preview_images, last, result.epochs_completed)


@st.fragment(run_every=REFRESH_SECONDS)
def live_view(drawn_status: str) -> None:
    job = st.session_state[keys.JOB]
    snapshot = job.snapshot()
    if snapshot.status != drawn_status:
        st.rerun()  # the whole page, once: its buttons follow the status; an ended job shows its outcome
    if snapshot.status == QUEUED:
        st.info(f"Waiting for a free slot: {snapshot.waits_for}. Cancel takes it out of the line.")
        return
    progress = snapshot.progress
    text = progress_caption(progress, paused=snapshot.status == PAUSED, stopping=job.control.stop_requested)
    st.progress(progress.fraction_done if progress else 0.0, text=text)
    draw_snapshot(snapshot)


def _choose_preset(preset: str) -> None:
    st.session_state[keys.PRESET] = preset  # its recommended settings follow (training_settings)


def run_status(run) -> tuple[str, str]:
    """How a run ended, as a job's status and message: DONE, STOPPED or DIVERGED."""
    result = run.result
    if result.divergence is not None:
        return DIVERGED, result.divergence.message
    if result.stopped:
        epochs = result.epochs_completed
        return STOPPED, (
            f"Stopped after {epochs} of {run.train_config.epochs} epoch{'s' * (run.train_config.epochs != 1)}; "
            "the model so far is kept."
        )
    return DONE, ""


def outcome(status: str, message: str, run) -> None:
    """What a job or a run ended with: the verdict against PCA when it finished, else what stopped it."""
    if status == DONE:
        mse, pca_mse = run.metrics["val_mse"], run.metrics["pca_val_mse"]
        epochs = run.result.epochs_completed
        preset = run.model_config.preset
        without = "" if run.excluded_class is None else f", trained without class {run.excluded_class}"
        st.success(
            f"Finished {epochs} epoch{'s' * (epochs != 1)} in {run.result.train_seconds:.1f} s · validation "
            f"MSE {mse:.4f}. {verdict(mse, pca_mse, run.metrics['pca_components'], preset)} "
            f"(run {user_text.markdown(run.name)}{without})"
        )
        if preset == "seed_dense" and mse >= pca_mse:
            st.button("Try the conv preset", on_click=_choose_preset, args=("conv",), icon=":material/grid_on:")
    elif status == CANCELLED:
        st.info(user_text.markdown(message))
    elif status == STOPPED:
        st.warning(user_text.markdown(message))
    else:
        st.error(user_text.markdown(message))  # an error's text may quote a name
    if run is not None:
        st.page_link(
            "pages/reconstructions.py", label=f"Inspect run {user_text.markdown(run.name)}", icon=":material/compare:"
        )


def shows_job(job, run) -> bool:
    """Whether the Train page shows the ended ``job`` rather than the current ``run``: while the job's run is the
    current one, or while it ended without one (its failure stays in view until a run is opened)."""
    if job is None or st.session_state.get(keys.DISMISSED_JOB) is job:
        return False
    ended_with = job.snapshot().run
    return ended_with is None or run is None or ended_with.id == run.id


def training_panel(job, status: str | None, run) -> None:
    """The job's progress redrawn live while it runs; once it ended, its outcome, losses and last preview; the
    current ``run``, trained earlier or opened, the same way."""
    if status in UNFINISHED:
        live_view(status)
    elif shows_job(job, run):
        snapshot = job.snapshot()
        outcome(snapshot.status, snapshot.message, snapshot.run)
        if status != CANCELLED:
            draw_snapshot(snapshot)
    elif run is not None:
        outcome(*run_status(run), run)
        draw_run(run)
