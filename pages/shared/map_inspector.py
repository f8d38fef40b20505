"""What sits where on the Latent space page's map: the images behind the selected points with their nearest
neighbours, and the image the decoder makes of any spot."""

import numpy as np
import streamlit as st

from ae_core import user_text
from ae_core.figures.images import PREVIEW_TILE_PIXELS, comparison_image, enlarge, enlarged, image_grid
from ae_core.figures.reconstructions import error_heatmap
from ae_core.latent.decoding import NOT_INVERTIBLE, decode_at
from ae_core.latent.neighbours import inspect_row
from pages.shared import keys
from pages.shared.latent_view import spot_point

NEIGHBOURS_SHOWN = 8
GRID_SHOWN, GRID_COLUMNS = 100, 20  # a selection's images shown at most, and a row of them
SIDE_PIXELS = 2 * PREVIEW_TILE_PIXELS  # height of the images beside the map


def inspected_rows(latent_map) -> list[int]:
    """The selected map rows that name an image of this map."""
    return [row for row in st.session_state[keys.LATENT_POINTS] if 0 <= row < len(latent_map.codes)]


def pair_image(original, reconstruction):
    """An image and its reconstruction (height, width, channels) side by side at one size, as one picture."""
    return enlarge(image_grid(np.stack([original, reconstruction]), 1, 2, gap=1), original.shape[0], SIDE_PIXELS)


def side_panel(context, latent_map) -> None:
    """Beside the map: the image and reconstruction of the point clicked last, or what the marked spot decodes to."""
    rows, projection = inspected_rows(latent_map), latent_map.projection
    if rows:
        seen = inspect_row(context, latent_map, rows[0], 1)
        more = f"; {len(rows) - 1} more selected, all shown below" if len(rows) > 1 else ""
        st.image(pair_image(seen.original, seen.reconstruction), caption=f"{describe(context, seen)}{more}")
        return
    point = spot_point(projection)
    if point is None:
        st.caption("Click a point to see its image here, or an empty spot to decode it.")
        return
    image, exact = decode_at(context.run.model, latent_map, point)
    where = ", ".join(f"{round(value, 2) + 0.0:.2f}" for value in point)  # + 0.0: no "-0.00"
    st.image(enlarged(image), caption=f"decoded at the cross ({where})" + ("" if exact else ", approximately"))
    if not exact:
        st.caption(NOT_INVERTIBLE)


def describe(context, seen) -> str:
    names = dict(enumerate(context.dataset.class_names))
    label = "" if seen.label is None else f", label {user_text.markdown(names.get(seen.label, seen.label))}"
    return f"original: {seen.split} image {seen.index}{label} (left) and its reconstruction (right)"


def selection_grid(context, latent_map, rows: list[int]) -> None:
    """The images of every selected point (up to GRID_SHOWN), in one picture."""
    shown = rows[:GRID_SHOWN]
    images = np.stack([context.images(latent_map.sample.splits[row])[latent_map.sample.indices[row]] for row in shown])
    cols = min(GRID_COLUMNS, len(shown))
    picture = image_grid(images, -(-len(shown) // cols), cols, gap=1)
    more = "" if len(rows) <= GRID_SHOWN else f" (the first {GRID_SHOWN} shown)"
    st.image(enlarge(picture, images.shape[1]), caption=f"The {len(rows):,} selected images{more}, in map order")


def inspector_ui(context, latent_map) -> None:
    rows = inspected_rows(latent_map)
    if not rows:
        st.caption("Select points on the map (click one, or drag a box or lasso) to see them up close.")
        return
    row = rows[0]
    if len(rows) > 1:
        selection_grid(context, latent_map, rows)
        row = st.selectbox(
            f"{len(rows)} points selected; inspect",
            rows,
            key=keys.LATENT_INSPECTED,
            format_func=lambda r: f"{latent_map.sample.splits[r]} image {latent_map.sample.indices[r]}",
        )
    seen = inspect_row(context, latent_map, row, NEIGHBOURS_SHOWN)
    left, right = st.columns(2)
    left.image(pair_image(seen.original, seen.reconstruction), caption=describe(context, seen))
    right.plotly_chart(error_heatmap(seen.original, seen.reconstruction), key=keys.LATENT_ERROR_MAP)
    st.image(
        comparison_image(seen.latent_images, seen.pixel_images),
        caption=f"Nearest {len(seen.latent_images)} images in latent space (top) and in pixel space (bottom), "
        f"nearest first; {seen.neighbours.overlap} are in both rows.",
    )


def decode_ui(context, latent_map) -> None:
    projection = latent_map.projection
    low, high = projection.coords.min(axis=0), projection.coords.max(axis=0)
    columns = st.columns(projection.dims + 1)
    point = []
    for axis in range(projection.dims):
        key = f"{keys.LATENT_SPOT_PREFIX}{projection.method}.{axis}"
        value = st.session_state.get(key, round(float(projection.coords[:, axis].mean()), 2) + 0.0)  # no -0.00
        st.session_state[key] = min(max(value, float(low[axis])), float(high[axis]))  # a new map's range
        point.append(columns[axis].slider("xyz"[axis], float(low[axis]), float(high[axis]), key=key))
    image, exact = decode_at(context.run.model, latent_map, point)
    where = ", ".join(f"{round(value, 2) + 0.0:.2f}" for value in point)  # + 0.0: no "-0.00"
    columns[-1].image(enlarged(image), caption=f"decoded at ({where})" + ("" if exact else ", approximately"))
    st.caption(
        "A PCA map is inverted exactly (the code's part off the map is the mean code)." if exact else NOT_INVERTIBLE
    )
