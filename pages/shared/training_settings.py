"""The Train page's settings: the preset, the model, the training, the run's name and a class to hold out, filled
with the recommended settings for the dataset and preset until the user edits them."""

from dataclasses import dataclass, field, fields, replace

import streamlit as st

from ae_core import user_text
from ae_core.models.noise import NOISE_TYPES
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
from ae_core.training.jobs import configured_run_time_budget_s
from ae_core.training.progress_text import duration_text
from pages.shared import keys
from pages.shared.session import setting

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
FLOAT_FIELDS = {each.name for config in (ModelConfig, TrainConfig) for each in fields(config) if each.type is float}


@dataclass
class TrainingChoices:
    """What the settings panel returns: the configurations, the run's name ("" for an automatic one), the class
    held out (None for none) and why the settings cannot start a run (empty when they can)."""

    model_config: ModelConfig
    train_config: TrainConfig
    run_name: str
    held_out: int | None
    problems: list[str] = field(default_factory=list)


def widget_value(name: str, value):
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
            st.session_state[key] = widget_value(name, getattr(config, name))
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
    label, name, key = (
        ("Filters", "filters", keys.FILTERS) if config.is_conv else ("Hidden units", "hidden_units", keys.HIDDEN_UNITS)
    )
    text = st.text_input(label, key=key, help="Encoder layer sizes; the decoder mirrors them.")
    try:
        config = replace(config, **{name: parse_layer_sizes(label, text)})
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
        epochs=st.number_input(
            "Epochs",
            1,
            10_000,
            step=1,
            key=keys.EPOCHS,
            help=f"A run stops after {duration_text(configured_run_time_budget_s())} of training (this server's time "
            "budget per run), keeping the model trained so far.",
        ),
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
        format_func=lambda index: "none: train on every class" if index is None else user_text.plain(names[index]),
        placeholder="none: train on every class",  # shown while the value is None
        help="Train without this class; Applications then scores how well the reconstruction "
        "error flags it as an anomaly.",
    )


def settings_panel(dataset) -> TrainingChoices:
    """The bordered box of every setting, in three columns: the model, the training, and the rest."""
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
    return TrainingChoices(model_config, train_config, run_name.strip(), held_out, problems)
