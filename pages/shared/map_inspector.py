"""What sits where on the Latent space page's map: the images behind the selected points with their nearest
neighbours, and the image the decoder makes of any spot."""

import streamlit as st

from ae_core import user_text
from ae_core.figures.images import comparison_image, enlarged
from ae_core.figures.reconstructions import error_heatmap
from ae_core.latent.decoding import NOT_INVERTIBLE, decode_at
from ae_core.latent.neighbours import inspect_row
from pages.shared import keys

NEIGHBOURS_SHOWN = 8


def inspector_ui(context, latent_map) -> None:
    rows = [row for row in st.session_state[keys.LATENT_POINTS] if 0 <= row < len(latent_map.codes)]
    if not rows:
        st.caption("Select points on the map (click one, or drag a box or lasso) to see them up close.")
        return
    row = rows[0]
    if len(rows) > 1:
        row = st.selectbox(
            f"{len(rows)} points selected; inspect",
            rows,
            key=keys.LATENT_INSPECTED,
            format_func=lambda r: f"{latent_map.sample.splits[r]} image {latent_map.sample.indices[r]}",
        )
    seen = inspect_row(context, latent_map, row, NEIGHBOURS_SHOWN)
    names = dict(enumerate(context.dataset.class_names))
    label = "" if seen.label is None else f", label {user_text.markdown(names.get(seen.label, seen.label))}"
    left, middle, right = st.columns(3)
    left.image(enlarged(seen.original), caption=f"original: {seen.split} image {seen.index}{label}")
    middle.image(enlarged(seen.reconstruction), caption="reconstruction")
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
