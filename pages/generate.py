"""Generate page: new images from a trained run's code space, sampled, interpolated and traversed, and measured by an
independent classifier rather than eyeballed."""

import streamlit as st

from ae_core.figures.generation import class_share_figure, distance_figure
from ae_core.figures.images import comparison_image, enlarge, grid_png, image_grid
from ae_core.generation.judge import CONFIDENCE, judge_for, judge_ready
from ae_core.generation.paths import INTERPOLATIONS, interpolate_images, manifold_grid, traverse
from ae_core.generation.report import RECOGNISABLE, generate_for_run, scores_table
from ae_core.generation.samplers import SAMPLER_TITLES
from pages import common, keys

AUTOENCODER_TITLES = {
    "normal": "N(0, I) noise: the wrong way for a plain autoencoder",
    "gaussian": "Gaussian fitted to the training codes: the right way",
    "gmm": "Gaussian mixture fitted to the training codes: the right way",
}
BATCH_NAMES = {"normal": "N(0, I)", "gaussian": "fitted Gaussian", "gmm": "fitted mixture"}
METHODS = dict(zip(INTERPOLATIONS, ("Linear", "Spherical (slerp)")))
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
                key=common.setting(keys.VAE_SAMPLER, "normal"),
            )
        ]
    else:
        fitted = sampler_column.selectbox(
            "Fitted sampler",
            ["gaussian", "gmm"],
            format_func=BATCH_NAMES.get,
            key=common.setting(keys.FITTED_SAMPLER, "gmm"),
        )
        shown = ["normal", fitted]
    components = components_column.selectbox(  # 0 stands for "by BIC": a selectbox shows None as no choice
        "Mixture components",
        range(21),
        format_func=lambda k: str(k) if k else "chosen by BIC",
        disabled="gmm" not in shown,
        key=common.setting(keys.MIXTURE_COMPONENTS, 0),
    )
    temperature = temperature_column.slider(
        "Temperature",
        0.1,
        2.0,
        step=0.1,
        key=common.setting(keys.TEMPERATURE, 1.0),
        help="Scales the spread around the mean: below 1 typical, above 1 varied.",
    )
    seed = seed_column.number_input("Seed", 0, 1_000_000, key=common.setting(keys.SAMPLE_SEED, 0))
    side = side_column.slider("Grid side", 2, 12, key=common.setting(keys.GRID_SIDE, 8))
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
        st.info(f"{common.dataset_title(context.dataset.name)} has no labels, so no judge can score the images.")
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
                f"{context.run.name}-{name}-seed{seed}.png",
                keys.GRID_DOWNLOAD_PREFIX + name,
            )
    scores_ui(context, reports)


def image_picker(container, context, label: str, key: str, default: int) -> int:
    """A validation image's index, chosen by index and class (type to search)."""
    labels, names = context.labels("validation"), context.dataset.class_names
    describe = (lambda i: f"#{i} · {names[labels[i]]}") if labels is not None and names else (lambda i: f"#{i}")
    return container.selectbox(
        label, range(len(context.images("validation"))), format_func=describe, key=common.setting(key, default)
    )


def interpolation_ui(context) -> None:
    from_column, to_column, steps_column, method_column = st.columns(4)
    labels = context.labels("validation")
    other = min(1, len(context.images("validation")) - 1)  # the next image, or the only one
    if labels is not None:  # the first image of another class makes a walk worth watching
        other = next((i for i, label in enumerate(labels) if label != labels[0]), other)
    start = image_picker(from_column, context, "From image", keys.INTERPOLATE_FROM_PREFIX + context.key, 0)
    end = image_picker(to_column, context, "To image", keys.INTERPOLATE_TO_PREFIX + context.key, other)
    steps = steps_column.slider("Steps", 3, 16, key=common.setting(keys.INTERPOLATION_STEPS, 10))
    method = method_column.radio(
        "In latent space",
        INTERPOLATIONS,
        format_func=METHODS.get,
        horizontal=True,
        key=common.setting(keys.INTERPOLATION, "linear"),
    )
    images, codes = context.images("validation"), context.codes("validation")
    walk = context.cached(
        ("interpolation", start, end, steps, method),
        lambda: interpolate_images(
            context.run.model, images[start], images[end], codes[start], codes[end], steps, method
        ),
    )
    st.image(
        comparison_image(walk.decoded, walk.crossfade),
        caption=f"Top: a {METHODS[method].lower()} walk in latent space from #{start} to #{end}, decoded. "
        f"Bottom: a plain cross-fade of the pixels, from image #{start} to image #{end} themselves.",
        output_format="PNG",
    )


def traversal_ui(context) -> None:
    latent_dim = context.codes("training").shape[1]
    image_column, dims_column, extent_column = st.columns([1, 2, 1])
    index = image_picker(image_column, context, "Image", keys.TRAVERSE_IMAGE_PREFIX + context.key, 0)
    dims = dims_column.multiselect(
        "Code dimensions",
        range(latent_dim),
        default=list(range(min(4, latent_dim))),
        key=keys.TRAVERSE_DIMS_PREFIX + context.key,
    )
    extent = extent_column.slider(
        "k (standard deviations)", 0.5, 5.0, step=0.5, key=common.setting(keys.TRAVERSAL_EXTENT, 3.0)
    )
    if not dims:
        st.info("Choose at least one code dimension to vary.")
        return
    spread = context.cached(("code_std",), lambda: context.codes("training").std(axis=0))  # (latent_dim,)
    rows = context.cached(
        ("traversal", index, tuple(dims), extent),
        lambda: traverse(context.run.model, context.codes("validation")[index], spread, dims, 9, extent),
    )  # (rows, 9, h, w, c)
    st.image(
        comparison_image(rows[0], *rows[1:]),
        caption=f"Rows: dimensions {', '.join(map(str, dims))} of image #{index}'s code, each moved from "
        f"-{extent:g} to +{extent:g} standard deviations of the training codes; the middle column is "
        "the image's own code.",
        output_format="PNG",
    )


def manifold_ui(context) -> None:
    latent_dim = context.codes("training").shape[1]
    if latent_dim != 2:
        st.info(
            f"The manifold grid decodes every point of a plane, which covers the whole code only when the code "
            f"has 2 numbers; this run's has {latent_dim}. Train a run with latent size 2 to see it, or use the "
            "traversal, which varies one dimension at a time."
        )
        return
    size = st.slider("Grid size", 5, 25, key=common.setting(keys.MANIFOLD_SIZE, 15))
    is_vae = context.run.model_config.preset == "vae"
    grid = context.cached(
        ("manifold", size),
        lambda: manifold_grid(context.run.model, None if is_vae else context.codes("training"), size),
    )
    tiles = grid.images.reshape(-1, *grid.images.shape[2:])  # (size * size, height, width, channels)
    spans = "N(0, 1)" if is_vae else "the training codes"
    st.image(
        enlarge(image_grid(tiles, size, size), tiles.shape[1]),
        caption=f"The latent plane over the central 90% of {spans}: code 1 from {grid.x_values[0]:.2f} (left) "
        f"to {grid.x_values[-1]:.2f}, code 2 from {grid.y_values[0]:.2f} (top) to "
        f"{grid.y_values[-1]:.2f}.",
        output_format="PNG",
    )


common.start_page()
st.title("Generate")
st.write("New images from a trained run's code space: sampled, interpolated and traversed, and scored by a classifier.")
with st.expander("What am I looking at?"):
    st.markdown(
        "The decoder turns any code into an image; the question is which codes give good ones. **Samplers** "
        "draw codes: N(0, I) suits a VAE, trained towards it; a plain autoencoder needs a distribution fitted "
        "to its own training codes (a Gaussian, or a mixture of Gaussians). **Temperature** scales the spread. "
        "**Interpolation** walks between two images' codes, beside a cross-fade of their pixels; "
        "**traversal** moves one code dimension at a time. The **judge**, a classifier trained apart on the "
        "training images, measures how many generated images are recognisable (confidence above "
        f"{CONFIDENCE}), how evenly they cover the classes (entropy, 1 = all alike), and how far each lies "
        "from its nearest training image (near 0 means a copy)."
    )
context = common.require_context()
sample_tab, interpolate_tab, traverse_tab, manifold_tab = st.tabs(
    ["Sample", "Interpolate", "Traverse", "Manifold grid"]
)
with sample_tab:
    samplers_ui(context)
with interpolate_tab:
    interpolation_ui(context)
with traverse_tab:
    traversal_ui(context)
with manifold_tab:
    manifold_ui(context)
