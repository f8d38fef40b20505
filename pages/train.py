"""Train page: pick a preset and its settings, watch the model learn, and keep, save, open or compare runs."""

from dataclasses import fields, replace

import streamlit as st

from ae_core.data import DataFileError, DatasetUnavailableError
from ae_core.figures.images import comparison_image
from ae_core.figures.training import comparison_figure, loss_figure
from ae_core.models.noise import NOISE_TYPES
from ae_core.quality.pca_baseline import verdict
from ae_core.runs.names import check_run_name
from ae_core.runs.run import training_images
from ae_core.settings.model_config import (
    ACTIVATIONS,
    ARCHITECTURES,
    DEFAULT_PRESET,
    LOSSES,
    PRESET_TITLES,
    PRESETS,
    SEED_DENSE,
    ModelConfig,
    parse_layer_sizes,
)
from ae_core.settings.recommended import recommended_settings
from ae_core.settings.train_config import OPTIMIZERS, TrainConfig
from ae_core.training.jobs import (
    CANCELLED,
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
from pages import common, keys, server, sharing
from pages.common import setting

# How often the live view redraws while training: at least once per epoch of 2 s or more, several times in longer
# ones. Each redraw costs the browser ~0.1-0.3 s of CPU (headless Chromium, software rendering, measured), which a
# machine running app and browser takes from training; bench/ui_speed.py measures the trade-off.
REFRESH_SECONDS = 2.0
# The widgets a recommendation fills: session-state key -> field of ModelConfig or TrainConfig
MODEL_WIDGETS = {
    keys.LATENT: "latent_dim",
    keys.ARCHITECTURE: "architecture",
    keys.HIDDEN_UNITS: "hidden_units",
    keys.FILTERS: "filters",
    keys.ACTIVATION: "activation",
    keys.LOSS: "loss",
    keys.NOISE_TYPE: "noise_type",
    keys.NOISE_LEVEL: "noise_level",
    keys.L1: "l1",
    keys.BETA: "beta",
}
TRAIN_WIDGETS = {
    keys.OPTIMIZER: "optimizer",
    keys.LEARNING_RATE: "learning_rate",
    keys.BATCH_SIZE: "batch_size",
    keys.EPOCHS: "epochs",
}
FLOAT_FIELDS = {field.name for config in (ModelConfig, TrainConfig) for field in fields(config) if field.type is float}


def _widget_value(name: str, value):
    """A config field's value as its widget holds it: layer sizes as text, floats as floats."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return float(value) if name in FLOAT_FIELDS else value


def follow_recommendation(dataset, preset: str) -> None:
    """A first visit, another dataset or another preset fills the settings with recommended_settings; until then
    the user's edits stay."""
    if st.session_state.get(keys.RECOMMENDED_FOR) == (dataset.name, preset):
        return
    model_config, train_config = recommended_settings(dataset.name, dataset.image_shape, preset, dataset.n_train)
    for widgets, config in ((MODEL_WIDGETS, model_config), (TRAIN_WIDGETS, train_config)):
        for key, name in widgets.items():
            st.session_state[key] = _widget_value(name, getattr(config, name))
    st.session_state[keys.RECOMMENDED_FOR] = (dataset.name, preset)


def model_ui(dataset, problems: list) -> ModelConfig:
    preset = st.selectbox("Preset", PRESETS, key=setting(keys.PRESET, DEFAULT_PRESET), format_func=PRESET_TITLES.get)
    follow_recommendation(dataset, preset)
    if preset == "seed_dense":
        st.info(f"Fixed: {dataset.x_train[0].size}-64-32-32, ReLU, linear code and output, MSE, Adam.")
        return SEED_DENSE
    architecture = (
        preset if preset in ("dense", "conv") else st.selectbox("Architecture", ARCHITECTURES, key=keys.ARCHITECTURE)
    )
    latent = st.number_input("Latent size", 2, 256, step=1, key=keys.LATENT)
    config = ModelConfig(preset=preset, latent_dim=latent, architecture=architecture)
    label, field, key = (
        ("Filters", "filters", keys.FILTERS) if config.is_conv else ("Hidden units", "hidden_units", keys.HIDDEN_UNITS)
    )
    text = st.text_input(label, key=key, help="Encoder layer sizes; the decoder mirrors them.")
    try:
        config = replace(config, **{field: parse_layer_sizes(label, text)})
    except ValueError as error:
        problems.append(str(error))
    return replace(
        config,
        activation=st.selectbox("Activation", ACTIVATIONS, key=keys.ACTIVATION),
        loss=st.selectbox("Loss", LOSSES, key=keys.LOSS),
    )


def extras_ui(config: ModelConfig) -> ModelConfig:
    if config.preset == "denoising":
        noise_type = st.selectbox("Noise type", NOISE_TYPES, key=keys.NOISE_TYPE)
        level = st.slider("Noise level", 0.0, 1.0, step=0.05, key=keys.NOISE_LEVEL)
        return replace(config, noise_type=noise_type, noise_level=level)
    if config.preset == "sparse":
        l1 = st.number_input("L1 weight", 0.0, 1.0, step=1e-4, format="%g", key=keys.L1)
        return replace(config, l1=l1)
    if config.preset == "vae":
        return replace(config, beta=st.number_input("Beta", 0.0, 100.0, step=0.1, key=keys.BETA))
    return config


def train_ui(fixed: bool) -> TrainConfig:
    return TrainConfig(
        optimizer="adam" if fixed else st.selectbox("Optimizer", OPTIMIZERS, key=keys.OPTIMIZER),
        learning_rate=st.number_input("Learning rate", 1e-6, 10.0, step=1e-4, format="%g", key=keys.LEARNING_RATE),
        batch_size=st.number_input("Batch size", 1, 65_536, step=32, key=keys.BATCH_SIZE),
        epochs=st.number_input("Epochs", 1, 10_000, step=1, key=keys.EPOCHS),
        seed=st.number_input("Seed", 0, 2**31 - 1, step=1, key=setting(keys.SEED, TrainConfig.seed)),
    )


def hold_out_ui(dataset) -> int | None:
    """A class to leave out of the training images, so the Applications page can test it as an anomaly; None for
    every class, and always for unlabeled data."""
    names = dataset.class_names
    if dataset.y_train is None or st.session_state.get(keys.HOLD_OUT) not in (None, *range(len(names))):
        st.session_state[keys.HOLD_OUT] = None  # left from another dataset
    if dataset.y_train is None:
        return None
    return st.selectbox(
        "Hold out a class",
        (None, *range(len(names))),
        key=keys.HOLD_OUT,
        format_func=lambda index: "none: train on every class" if index is None else names[index],
        placeholder="none: train on every class",  # shown while the value is None
        help="Train without this class; Applications then scores how well the reconstruction "
        "error flags it as an anomaly.",
    )


def start(
    dataset,
    model_config: ModelConfig,
    train_config: TrainConfig,
    name: str,
    problems: list,
    held_out: int | None = None,
) -> None:
    """Start a job from the settings, or say why it cannot start; the settings stay as they are."""
    try:
        if problems:
            raise ValueError(problems[0])
        run_name = check_run_name(common.runs_dir(), name) if name else None
        x_train = training_images(dataset.x_train, dataset.y_train, dataset.class_names, held_out)
        job = TrainingJob(
            x_train,
            dataset.x_val,
            dataset.name,
            model_config,
            train_config,
            name=run_name,
            split=dataset.split.to_dict(),
            excluded_class=held_out,
            queue=server.training_queue(),
        )
    except (ValueError, FileExistsError) as error:
        st.error(f"Cannot start training: {error}")
        return
    st.session_state[keys.JOB] = job
    job.start()
    server.watch_session_of(job)  # a closed tab stops its training
    st.rerun()  # redraw the buttons with Start disabled


def draw_training(snapshot) -> None:
    """Loss chart and preview grid, the same while training and after it."""
    log_y = st.session_state[setting(keys.LOG_SCALE, False)]
    figure = loss_figure(snapshot.batch_losses, snapshot.history, log_y=log_y)
    st.plotly_chart(figure, key=keys.LOSS_CHART)
    if snapshot.preview_reconstructions is None:
        st.image(comparison_image(snapshot.preview_images), caption="Originals; reconstructions follow epoch 1.")
    else:
        st.image(
            comparison_image(snapshot.preview_images, snapshot.preview_reconstructions),
            caption=f"Originals (top) and reconstructions (bottom), epoch {snapshot.epochs_completed}",
        )


@st.fragment(run_every=REFRESH_SECONDS)
def live_view(drawn_status: str) -> None:
    job = st.session_state[keys.JOB]
    snapshot = job.snapshot()
    if snapshot.status != drawn_status:
        st.rerun()  # the whole page, once: its buttons follow the status; an ended job shows its outcome
    if snapshot.status == QUEUED:
        st.info(f"Waiting for a free slot: {snapshot.place.describe()}. Cancel takes it out of the line.")
        return
    progress = snapshot.progress
    text = progress_caption(progress, paused=snapshot.status == PAUSED, stopping=job.control.stop_requested)
    st.progress(progress.fraction_done if progress else 0.0, text=text)
    draw_training(snapshot)


def outcome(snapshot) -> None:
    run = snapshot.run
    if snapshot.status == DONE:
        mse, pca_mse = run.metrics["val_mse"], run.metrics["pca_val_mse"]
        epochs = run.result.epochs_completed
        st.success(
            f"Finished {epochs} epoch{'s' * (epochs != 1)} in {run.result.train_seconds:.1f} s · validation "
            f"MSE {mse:.4f}. {verdict(mse, pca_mse, run.metrics['pca_components'])}"
        )
    elif snapshot.status == CANCELLED:
        st.info(snapshot.message)
    elif snapshot.status == STOPPED:
        st.warning(snapshot.message)
    else:
        st.error(snapshot.message)
    if run is not None:
        st.page_link("pages/reconstructions.py", label=f"Inspect run {run.name}", icon=":material/compare:")


common.start_page()
st.title("Train")
st.write("Train an autoencoder on the chosen dataset and watch its losses and reconstructions as it learns.")
with st.expander("What am I looking at?"):
    st.markdown(
        "The encoder squeezes each image into a code of *latent size* numbers; the decoder rebuilds the "
        "image from that code. Training lowers the reconstruction error, here the mean squared error:"
    )
    st.latex(r"\text{MSE} = \frac{1}{N}\sum_{i=1}^{N} (x_i - \hat{x}_i)^2")
    st.markdown(
        "The **train loss** line is each batch's loss, so it is noisy: batches differ. **Validation "
        "loss** markers score unseen images once per epoch; a widening gap means overfitting. A VAE adds "
        "a KL term pulling its codes toward a standard normal: another scale."
    )
try:
    dataset = common.current_dataset()
except (DatasetUnavailableError, DataFileError) as error:
    st.error(f"The chosen dataset could not be loaded: {error}")
    st.page_link("pages/data.py", label="Choose another dataset")
    st.stop()
st.markdown(
    f"Dataset: **{common.dataset_title(dataset.name)}**, {dataset.n_train:,} training and {dataset.n_val:,} "
    f"validation images of {'×'.join(map(str, dataset.image_shape))} pixels."
)
job = st.session_state.get(keys.JOB)
status = common.collect_finished_job()
problems = []
with st.container(border=True):
    model_column, train_column, extras_column = st.columns(3)
    with model_column:
        model_config = model_ui(dataset, problems)
    with train_column:
        train_config = train_ui(fixed=model_config.preset == "seed_dense")
    with extras_column:
        model_config = extras_ui(model_config)
        run_name = st.text_input(
            "Run name", key=setting(keys.RUN_NAME, ""), placeholder="automatic: preset-dataset-time"
        )
        held_out = hold_out_ui(dataset)
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
if clicked and not busy:
    start(dataset, model_config, train_config, run_name.strip(), problems, held_out)
log_y = st.toggle("Log scale", key=setting(keys.LOG_SCALE, False))  # for the loss chart (live too) and the comparison
if busy:
    live_view(status)
elif job is not None:
    outcome(job.snapshot())
    if status != CANCELLED:
        draw_training(job.snapshot())
if common.current_run() is not None:
    st.subheader("Save the current run")
    sharing.save_ui(common.current_run())
st.subheader("Saved runs")
sharing.saved_runs_ui()
runs = common.session_runs()
if compared := st.multiselect("Compare runs", list(runs), default=list(runs)[-3:]):
    histories = {name: runs[name].result.history for name in compared}
    st.plotly_chart(comparison_figure(histories, log_y=log_y), key=keys.COMPARE_CHART)
