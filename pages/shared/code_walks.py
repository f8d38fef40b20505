"""The Generate page's walks through the code space: interpolating between two images' codes, traversing one code
dimension at a time, and the grid of a 2-D code's whole plane."""

import streamlit as st

from ae_core import user_text
from ae_core.figures.generation import traversal_figure
from ae_core.figures.images import comparison_image, enlarge, image_grid
from ae_core.generation.paths import (
    INTERPOLATIONS,
    interpolate_images,
    manifold_grid,
    most_varying_dimensions,
    traversal_offsets,
    traverse,
)
from pages.shared import keys
from pages.shared.layout import CONTROL_WIDTH, control_row
from pages.shared.session import setting

METHODS = dict(zip(INTERPOLATIONS, ("Linear", "Spherical (slerp)")))


def image_picker(container, context, label: str, key: str, default: int) -> int:
    """A validation image's index, chosen by index and class (type to search)."""
    labels, names = context.labels("validation"), context.dataset.class_names
    describe = (
        (lambda i: f"#{i} · {user_text.plain(names[labels[i]])}")
        if labels is not None and names
        else (lambda i: f"#{i}")
    )
    return container.selectbox(
        label, range(len(context.images("validation"))), format_func=describe, key=setting(key, default)
    )


def interpolation_ui(context) -> None:
    from_column, to_column, steps_column, method_column = control_row(220, 220, CONTROL_WIDTH, 260)
    labels = context.labels("validation")
    other = min(1, len(context.images("validation")) - 1)  # the next image, or the only one
    if labels is not None:  # the first image of another class makes a walk worth watching
        other = next((i for i, label in enumerate(labels) if label != labels[0]), other)
    start = image_picker(from_column, context, "From image", keys.INTERPOLATE_FROM_PREFIX + context.key, 0)
    end = image_picker(to_column, context, "To image", keys.INTERPOLATE_TO_PREFIX + context.key, other)
    steps = steps_column.slider("Steps", 3, 16, key=setting(keys.INTERPOLATION_STEPS, 10))
    method = method_column.radio(
        "In latent space",
        INTERPOLATIONS,
        format_func=METHODS.get,
        horizontal=True,
        key=setting(keys.INTERPOLATION, "linear"),
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
    image_column, dims_column, extent_column = control_row(220, 360, CONTROL_WIDTH)
    index = image_picker(image_column, context, "Image", keys.TRAVERSE_IMAGE_PREFIX + context.key, 0)
    spread = context.cached(("code_std",), lambda: context.codes("training").std(axis=0))  # (latent_dim,)
    dims = dims_column.multiselect(
        "Code dimensions",
        range(latent_dim),
        default=most_varying_dimensions(spread, 4),  # the ones that change the image most
        key=keys.TRAVERSE_DIMS_PREFIX + context.key,
        help="At first the 4 that vary most over the training codes, the most varying first.",
    )
    extent = extent_column.slider(
        "k (standard deviations)", 0.5, 5.0, step=0.5, key=setting(keys.TRAVERSAL_EXTENT, 3.0)
    )
    if not dims:
        st.info("Choose at least one code dimension to vary.")
        return
    rows = context.cached(
        ("traversal", index, tuple(dims), extent),
        lambda: traverse(context.run.model, context.codes("validation")[index], spread, dims, 9, extent),
    )  # (rows, 9, h, w, c)
    st.plotly_chart(traversal_figure(rows, dims, traversal_offsets(9, extent)), key=keys.TRAVERSAL_CHART)
    st.caption(
        f"Each row moves one dimension of image #{index}'s code from -{extent:g} to +{extent:g} standard "
        "deviations (sd) of the training codes, the others held; the middle column is the image's own code."
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
    size = st.slider("Grid size", 5, 25, key=setting(keys.MANIFOLD_SIZE, 15))
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
