"""The Generate page's Sample tab: images decoded from codes that a sampler draws, for a plain autoencoder beside the
wrong way (N(0, I) noise), each batch scored by the judge, a classifier trained apart, beside real images."""

import streamlit as st

from ae_core import user_text
from ae_core.figures.generation import class_share_figure, distance_figure
from ae_core.figures.images import enlarge, grid_png, image_grid
from ae_core.generation.judge import CONFIDENCE, judge_for, judge_ready
from ae_core.generation.report import RECOGNISABLE, generate_for_run, scores_table
from ae_core.generation.samplers import SAMPLER_TITLES
from pages.shared import keys
from pages.shared.datasets import dataset_title
from pages.shared.session import setting

AUTOENCODER_TITLES = {
    "normal": "N(0, I) noise: the wrong way for a plain autoencoder",
    "gaussian": "Gaussian fitted to the training codes: the right way",
    "gmm": "Gaussian mixture fitted to the training codes: the right way",
}
BATCH_NAMES = {"normal": "N(0, I)", "gaussian": "fitted Gaussian", "gmm": "fitted mixture"}
REAL = "real validation images"


def sampler_choices(is_vae: bool) -> tuple[list[str], int | None, float, int, int]:
    """The samplers to show, the mixture size (None: chosen by BIC), temperature, seed and grid side."""
    sampler_column, components_column, temperature_column, seed_column, side_column = st.columns(5)
    if is_vae:
        shown = [
            sampler_column.selectbox(
                "Sampler",
                list(BATCH_NAMES),
                format_func=BATCH_NAMES.get,
                key=setting(keys.VAE_SAMPLER, "normal"),
            )
        ]
    else:
        fitted = sampler_column.selectbox(
            "Fitted sampler",
            ["gaussian", "gmm"],
            format_func=BATCH_NAMES.get,
            key=setting(keys.FITTED_SAMPLER, "gmm"),
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


def generated(context, sampler: str, components: int | None, side: int, seed: int, temperature: float):
    """The GenerationReport of side x side images, computed once per run, sampler and parameters."""
    components = components if sampler == "gmm" else None
    return context.cached(
        ("generation", sampler, components, side * side, seed, temperature),
        lambda: generate_for_run(context, sampler, side * side, seed, temperature, components),
    )


def train_judge_once(context) -> None:
    """Train the dataset's judge with a status box the first time; later pages get it at once."""
    if context.labels("training") is None or judge_ready(context.dataset):
        return
    with st.status(
        f"Training the judge, a small classifier, on {context.dataset.n_train:,} training images (once per dataset)…"
    ) as status:
        judge = judge_for(context.dataset)
        accuracy = judge.accuracy(context.images("validation"), context.labels("validation"))
        status.update(label=f"Judge trained: {accuracy:.1%} right on the validation images", state="complete")


def batch_ui(title: str, report, side: int, file_name: str, download_key: str) -> None:
    images = report.generation.images
    st.markdown(f"**{title}**")
    st.image(
        enlarge(image_grid(images, side, side), images.shape[1]),
        caption=f"{len(images)} images, sampled and decoded in {report.generation.seconds:.2f} s",
        output_format="PNG",
    )
    if report.scores is not None:
        share, real = report.scores.confident_share, report.reference.confident_share
        st.metric(
            f"Recognisable (confidence > {CONFIDENCE})",
            f"{share:.1%}",
            delta=f"{100 * (share - real):+.1f} points vs real images",
            help=f"Share the judge classifies with probability above {CONFIDENCE}; real images: {real:.1%}",
        )
    st.download_button(
        "Download grid (PNG)", grid_png(images, side), file_name=file_name, mime="image/png", key=download_key
    )


def scores_ui(context, reports: dict) -> None:
    """The judge's scores of every batch beside the same scores of the real validation images."""
    first = next(iter(reports.values()))
    if first.scores is None:
        title = user_text.markdown(dataset_title(context.dataset.name))
        st.info(f"{title} has no labels, so no judge can score the images.")
        return
    batches = {BATCH_NAMES[name]: report.scores for name, report in reports.items()} | {REAL: first.reference}
    share_bar = st.column_config.ProgressColumn(format="percent", min_value=0.0, max_value=1.0)
    st.dataframe(scores_table(batches), hide_index=True, column_config={RECOGNISABLE: share_bar})
    classes_column, distance_column = st.columns(2)
    classes_column.plotly_chart(class_share_figure(batches, context.dataset.class_names), key=keys.CLASS_SHARE_CHART)
    distance_column.plotly_chart(distance_figure(batches), key=keys.DISTANCE_CHART)


def samplers_ui(context) -> None:
    is_vae = context.run.model_config.preset == "vae"
    shown, components, temperature, seed, side = sampler_choices(is_vae)
    if is_vae:
        st.caption("A VAE is trained to make its codes follow N(0, I), so sampling N(0, I) is the right way here.")
    else:
        st.caption(
            "A plain autoencoder's codes follow no set law: N(0, I) noise lands where the decoder has never "
            "been. A distribution fitted to the training codes samples where they are."
        )
    train_judge_once(context)
    with st.spinner("Fitting the sampler, decoding and scoring…"):
        reports = {name: generated(context, name, components, side, seed, temperature) for name in shown}
    for column, (name, report) in zip(st.columns(len(reports)), reports.items()):
        with column:
            batch_ui(
                SAMPLER_TITLES[name] if is_vae else AUTOENCODER_TITLES[name],
                report,
                side,
                user_text.file_name(f"{context.run.name}-{name}-seed{seed}", "png"),
                keys.GRID_DOWNLOAD_PREFIX + name,
            )
    scores_ui(context, reports)
