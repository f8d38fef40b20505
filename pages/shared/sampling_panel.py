"""The Generate page's Sample tab: images decoded from codes that a sampler draws, for a plain autoencoder beside the
wrong way (N(0, I) noise), each batch scored by the judge, a classifier trained apart, beside real images."""

import streamlit as st

from ae_core import user_text
from ae_core.figures.generation import class_share_figure, distance_figure
from ae_core.figures.images import enlarge, grid_png, image_grid
from ae_core.generation.judge import CONFIDENCE, judge_for, judge_progress, judge_ready
from ae_core.generation.report import (
    DEFAULT_FITTED_SAMPLER,
    DEFAULT_VAE_SAMPLER,
    RECOGNISABLE,
    generate_for_run,
    scored_report,
    scores_table,
)
from ae_core.generation.samplers import SAMPLER_TITLES
from pages.shared import keys, server
from pages.shared.datasets import dataset_title
from pages.shared.layout import controls
from pages.shared.session import setting

AUTOENCODER_TITLES = {
    "normal": "N(0, I) noise: the wrong way for a plain autoencoder",
    "gaussian": "Gaussian fitted to the training codes: the right way",
    "gmm": "Gaussian mixture fitted to the training codes: the right way",
}
BATCH_NAMES = {"normal": "N(0, I)", "gaussian": "fitted Gaussian", "gmm": "fitted mixture"}
REAL = "real validation images"
SCORES_EXPLAINED = (
    "The **Fréchet distance** says how far the judge's view of the batch (its next-to-last layer) lies from its "
    "view of real images, the MNIST analogue of FID; lower is better, and the real row, as many other real images, "
    "is the best a batch of this size can do. The **distance to the nearest training image** is over real unseen "
    "images' typical distance, so real images sit at 1. Far below 1 means nearer the training images than new real "
    "digits are: copies of training images, or blurred averages, which lie near everything; the grid shows which. "
    "A low value says nothing good on its own."
)
WAITING = {  # what a batch waits for before its grid shows: fitting a sampler to the codes takes seconds
    "normal": "Sampling and decoding…",
    "gaussian": "Fitting a Gaussian to the training codes…",
    "gmm": "Fitting a Gaussian mixture to the training codes…",
}
JUDGE_POLL_S = 1.0  # how often the judge's progress is redrawn while it trains


def sampler_choices(is_vae: bool) -> tuple[list[str], int | None, float, int, int]:
    """The samplers to show, the mixture size (None: chosen by BIC), temperature, seed and grid side."""
    sampler_column, components_column, temperature_column, seed_column, side_column = controls(5)
    if is_vae:
        shown = [
            sampler_column.selectbox(
                "Sampler",
                list(BATCH_NAMES),
                format_func=BATCH_NAMES.get,
                key=setting(keys.VAE_SAMPLER, DEFAULT_VAE_SAMPLER),
            )
        ]
    else:
        fitted = sampler_column.selectbox(
            "Fitted sampler",
            ["gaussian", "gmm"],
            format_func=BATCH_NAMES.get,
            key=setting(keys.FITTED_SAMPLER, DEFAULT_FITTED_SAMPLER),
        )
        shown = ["normal", fitted]
    components = components_column.selectbox(  # 0 stands for "by BIC": a selectbox shows None as no choice
        "Mixture components",
        range(21),
        format_func=lambda k: str(k) if k else "chosen by BIC",
        disabled="gmm" not in shown,
        key=setting(keys.MIXTURE_COMPONENTS, 0),
    )
    temperature = temperature_column.slider(
        "Temperature",
        0.1,
        2.0,
        step=0.1,
        key=setting(keys.TEMPERATURE, 1.0),
        help="Scales the spread around the mean: below 1 typical, above 1 varied.",
    )
    seed = seed_column.number_input("Seed", 0, 1_000_000, key=setting(keys.SAMPLE_SEED, 0))
    side = side_column.slider("Grid side", 2, 12, key=setting(keys.GRID_SIDE, 8))
    return shown, components or None, temperature, int(seed), side


def generation_key(sampler: str, components: int | None, side: int, seed: int, temperature: float) -> tuple:
    """What one batch is known by in the run's context: its sampler, mixture size, count, seed and temperature."""
    return ("generation", sampler, components if sampler == "gmm" else None, side * side, seed, temperature)


def generated(context, key: tuple):
    """The unscored GenerationReport of batch ``key`` (``generation_key``), computed once per run."""
    _, sampler, components, n, seed, temperature = key
    return context.cached(
        key, lambda: generate_for_run(context, sampler, n, seed, temperature, components, scored=False)
    )


def scored(context, key: tuple):
    """Batch ``key``'s report with the judge's scores: the same images, scored once per run."""
    return context.cached((*key, "scored"), lambda: scored_report(context, generated(context, key)))


def judge_can_score(context) -> bool:
    """Whether the judge can score now (or never will: no labels). When not, its training is started on the
    server's background worker, so the samples need not wait for it."""
    if context.labels("training") is None or judge_ready(context.dataset):
        return True
    server.judge_in_background(context.dataset)
    return False


@st.fragment(run_every=JUDGE_POLL_S)
def judge_progress_ui(context) -> None:
    """The judge's training progress, redrawn every JUDGE_POLL_S; the page is drawn again, scored, once it is
    trained."""
    if judge_ready(context.dataset):
        st.rerun()
    training = server.judge_in_background(context.dataset)
    if training.done() and training.exception() is not None:
        st.error(f"The judge could not be trained, so these images are not scored: {training.exception()}")
        return
    done = judge_progress(context.dataset)
    count = f"{context.dataset.n_train:,} training images"
    if done is None:
        st.progress(0.0, text=f"The judge, a small classifier, waits to train on {count}; its scores follow.")
    else:
        st.progress(done, text=f"Training the judge, a small classifier, on {count}: {done:.0%}. Scores follow.")


def batch_ui(context, key: tuple, title: str, side: int, file_name: str):
    """Batch ``key``'s grid, drawn as soon as it is decoded (a fitted sampler first waits for its fit, with a
    spinner); returns the empty slot where its recognisable share goes once the judge has scored it."""
    name = key[1]
    st.markdown(f"**{title}**")
    with st.spinner(WAITING[name]):
        report = generated(context, key)
    images = report.generation.images
    st.image(
        enlarge(image_grid(images, side, side), images.shape[1]),
        caption=f"{len(images)} images, sampled and decoded in {report.generation.seconds:.2f} s",
        output_format="PNG",
    )
    share_slot = st.empty()
    st.download_button(
        "Download grid (PNG)",
        grid_png(images, side),
        file_name=file_name,
        mime="image/png",
        key=keys.GRID_DOWNLOAD_PREFIX + name,
    )
    return share_slot


def share_ui(slot, report) -> None:
    """The share of ``report``'s images the judge recognises, against real images', in ``slot``."""
    share, real = report.scores.confident_share, report.reference.confident_share
    slot.metric(
        f"Recognisable (confidence > {CONFIDENCE})",
        f"{share:.1%}",
        delta=f"{100 * (share - real):+.1f} points vs real images",
        help=f"Share the judge classifies with probability above {CONFIDENCE}; real images: {real:.1%}",
    )


def scores_ui(context, reports: dict) -> None:
    """The judge's scores of every batch beside the same scores of the real validation images."""
    first = next(iter(reports.values()))
    if first.scores is None:
        title = user_text.markdown(dataset_title(context.dataset.name))
        st.info(f"{title} has no labels, so no judge can score the images.")
        return
    batches = {BATCH_NAMES[name]: report.scores for name, report in reports.items()} | {REAL: first.reference}
    accuracy = context.cached(
        ("judge_accuracy",),
        lambda: judge_for(context.dataset).accuracy(context.images("validation"), context.labels("validation")),
    )
    st.caption(f"The judge classifies {accuracy:.1%} of the real validation images right.")
    share_bar = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
    st.dataframe(scores_table(batches), hide_index=True, column_config={RECOGNISABLE: share_bar})
    with st.expander("What do the Fréchet distance and the distance to training images say?"):
        st.markdown(SCORES_EXPLAINED)
    classes_column, distance_column = st.columns(2)
    classes_column.plotly_chart(class_share_figure(batches, context.dataset.class_names), key=keys.CLASS_SHARE_CHART)
    distance_column.plotly_chart(distance_figure(batches), key=keys.DISTANCE_CHART)


def samplers_ui(context) -> None:
    """The batches side by side, each shown once decoded; then, once the judge is trained, their scores."""
    is_vae = context.run.model_config.preset == "vae"
    shown, components, temperature, seed, side = sampler_choices(is_vae)
    if is_vae:
        st.caption("A VAE is trained to make its codes follow N(0, I), so sampling N(0, I) is the right way here.")
    else:
        st.caption(
            "A plain autoencoder's codes follow no set law: N(0, I) noise lands where the decoder has never "
            "been. A distribution fitted to the training codes samples where they are."
        )
    can_score = judge_can_score(context)
    batches = {name: generation_key(name, components, side, seed, temperature) for name in shown}
    share_slots = {}  # sampler name -> where its recognisable share goes once scored
    for column, (name, key) in zip(st.columns(len(batches)), batches.items()):
        with column:
            share_slots[name] = batch_ui(
                context,
                key,
                SAMPLER_TITLES[name] if is_vae else AUTOENCODER_TITLES[name],
                side,
                user_text.file_name(f"{context.run.name}-{name}-seed{seed}", "png"),
            )
    if not can_score:
        judge_progress_ui(context)
        return
    with st.spinner("Scoring the images with the judge…"):
        reports = {name: scored(context, key) for name, key in batches.items()}
    if next(iter(reports.values())).scores is not None:
        for name, report in reports.items():
            share_ui(share_slots[name], report)
    scores_ui(context, reports)
