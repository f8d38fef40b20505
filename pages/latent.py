"""Latent space page: maps of a run's codes, what sits where on them, what any spot decodes to, how the map formed."""

import threading

import numpy as np
import streamlit as st

from ae_core.figures.images import comparison_image, enlarged
from ae_core.figures.latent import epoch_figure, latent_figure, variance_figure
from ae_core.figures.reconstructions import error_heatmap
from ae_core.latent.code_variance import unused_dimensions
from ae_core.latent.decoding import NOT_INVERTIBLE, decode_at
from ae_core.latent.maps import epoch_trustworthiness, run_map, training_maps
from ae_core.latent.neighbours import inspect_row
from ae_core.latent.projection import EARLY_EXAGGERATION_ITERATIONS, warm_up_umap
from pages import common, keys
from pages.shared.latent_view import VIEW_PARAMS, parse_view, selected_rows, view_query

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
VIEW_KEYS = {
    "method": keys.LATENT_METHOD,
    "dims": keys.LATENT_DIMS,
    "samples": keys.LATENT_SAMPLES,
    "seed": keys.LATENT_SEED,
    "perplexity": keys.LATENT_PERPLEXITY,
    "iterations": keys.LATENT_ITERATIONS,
    "n_neighbors": keys.LATENT_NEIGHBOURS,
    "min_dist": keys.LATENT_MIN_DIST,
}
NEIGHBOURS_SHOWN = 8


def read_url() -> None:
    """Set this page's widgets and the inspected points from the link, the first time the page opens."""
    view = parse_view(st.query_params.to_dict())
    for name, key in VIEW_KEYS.items():
        common.setting(key, view[name])
    common.setting(keys.LATENT_POINTS, view["points"])


def write_url() -> None:
    """Keep the view in the address bar, so a link reopens it."""
    view = {name: st.session_state[key] for name, key in VIEW_KEYS.items()}
    query = view_query({**view, "points": st.session_state[keys.LATENT_POINTS]})
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)


@st.cache_resource(show_spinner=False)
def umap_warm_up() -> threading.Thread:
    """UMAP's numba compile (about a minute), started in the background once per server process."""
    thread = threading.Thread(target=warm_up_umap, name="umap-warm-up", daemon=True)
    thread.start()
    return thread


def settings_ui(warm_up: threading.Thread) -> tuple[str, int, int, int, dict]:
    """The method, map dimensions, number of images, seed and the method's parameters chosen above the map."""
    getting_ready = " (getting ready…)" if warm_up.is_alive() else ""
    columns = st.columns([2, 1, 1, 1])
    method = columns[0].segmented_control(
        "Method",
        list(METHODS),
        key=keys.LATENT_METHOD,
        required=True,
        format_func=lambda m: METHODS[m] + (getting_ready if m == "umap" else ""),
    )
    dims = columns[1].segmented_control("Map", [2, 3], format_func="{}-D".format, key=keys.LATENT_DIMS, required=True)
    samples = columns[2].number_input("Images mapped", 100, 20_000, step=500, key=keys.LATENT_SAMPLES)
    seed = columns[3].number_input("Seed", 0, 2**31 - 1, key=keys.LATENT_SEED)
    left, right = st.columns(2)
    if method == "tsne":
        left.slider("Perplexity", 2.0, 100.0, step=1.0, key=keys.LATENT_PERPLEXITY)
        right.number_input(
            f"Iterations (after {EARLY_EXAGGERATION_ITERATIONS} of early exaggeration)",
            50,
            2_000,
            step=50,
            key=keys.LATENT_ITERATIONS,
        )
    elif method == "umap":
        left.slider("Neighbours", 2, 200, key=keys.LATENT_NEIGHBOURS)
        right.slider("Minimum distance", 0.0, 1.0, step=0.05, key=keys.LATENT_MIN_DIST)
    params = {name: st.session_state[VIEW_KEYS[name]] for name in VIEW_PARAMS[method]}
    return method, dims, samples, seed, params


def compute_map(context, warm_up, method, dims, samples, seed, params):
    """The cached map; a t-SNE map being computed is drawn as it settles, UMAP first waits for its compile."""
    if method == "umap" and warm_up.is_alive():
        with st.spinner("UMAP is getting ready: its code compiles once per server, in about a minute…"):
            warm_up.join()
    progress, live = st.empty(), st.empty()
    total = EARLY_EXAGGERATION_ITERATIONS + params.get("iterations", 0)

    def draw(iteration: int, coords: np.ndarray) -> None:
        progress.progress(min(iteration / total, 1.0), text=f"t-SNE is settling: iteration {iteration} of {total}")
        live.plotly_chart(latent_figure(coords, None, dims=dims, title="t-SNE map, still settling"))

    try:
        with st.spinner(f"Mapping with {METHODS[method]}…"):
            return run_map(context, method, dims, samples, seed, draw if method == "tsne" else None, **params)
    except ValueError as error:
        st.error(f"No map could be drawn: {error}")
        st.stop()
    finally:
        progress.empty()
        live.empty()


def map_ui(context, latent_map, dims: int) -> None:
    projection = latent_map.projection
    if projection.method == "identity":
        st.info(f"The code has {projection.dims} numbers, so the map shows them as they are, with no projection.")
    title = f"{METHODS.get(projection.method, 'Codes')} map of {len(projection.coords):,} images"
    figure = latent_figure(projection.coords, latent_map.labels, context.dataset.class_names, dims, title)
    figure.update_layout(height=600)
    event = st.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"), key=keys.LATENT_CHART)
    chosen = selected_rows(event.selection.points)
    if chosen != st.session_state.get(keys.LATENT_SEEN_SELECTION, []):  # a new selection on the chart
        st.session_state[keys.LATENT_SEEN_SELECTION] = st.session_state[keys.LATENT_POINTS] = chosen
        for axis, value in enumerate(projection.coords[chosen].mean(axis=0) if chosen else ()):
            st.session_state[f"{keys.LATENT_SPOT_PREFIX}{projection.method}.{axis}"] = float(value)
    st.caption(f"Mapped: {latent_map.sample.description}. Drawn in {projection.seconds:.1f} s.")
    columns = st.columns(1 + (projection.explained_variance_ratio is not None) * projection.dims)
    k = projection.trust_neighbours
    columns[0].metric(
        f"Trustworthiness (k={k})",
        f"{projection.trustworthiness:.3f}",
        help=f"Whether each point's {k} nearest neighbours on the map are near it in the code too "
        f"(1 = all are; about 0.5 for a random map), over {projection.trust_sample:,} images.",
    )
    for axis, share in enumerate(projection.explained_variance_ratio if len(columns) > 1 else ()):
        columns[axis + 1].metric(f"Variance on PC{axis + 1}", f"{share:.1%}")


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
    label = "" if seen.label is None else f", label {names.get(seen.label, seen.label)}"
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


def training_ui(context) -> None:
    if context.run.result.map_codes.size == 0:
        st.info("This run recorded no codes during training (runs saved before the map over training existed).")
        return
    maps, labels = training_maps(context)
    epoch = st.slider("Epoch", 1, len(maps), value=len(maps), key=keys.LATENT_EPOCH) if len(maps) > 1 else 1
    score, _, k = epoch_trustworthiness(context, epoch)
    st.metric(f"Trustworthiness of this epoch's map (k={k})", f"{score:.3f}")
    st.plotly_chart(epoch_figure(maps, labels, epoch, context.dataset.class_names), key=keys.LATENT_EPOCH_CHART)
    st.caption(
        f"PCA maps of the codes of the first {maps.shape[1]:,} validation images after every epoch, each "
        "turned (orthogonal Procrustes) to match the last epoch's, on fixed axes, so what moves is the codes."
    )


def variance_ui(latent_map) -> None:
    st.plotly_chart(variance_figure(latent_map.codes), key=keys.LATENT_VARIANCE_CHART)
    unused = unused_dimensions(latent_map.codes)
    if len(unused):
        st.warning(
            f"Code dimensions {', '.join(map(str, unused))} vary by under 1% of the busiest one: the model "
            "barely uses them; a smaller code might do as well."
        )


common.start_page()
st.title("Latent space")
st.write("Where the encoder puts each image: maps of the codes, the images behind any point, and how the map formed.")
with st.expander("What am I looking at?"):
    st.markdown(
        "Each image becomes a **code**, a short list of numbers. A map squeezes those codes onto a plane (or "
        "into 3-D) so similar codes sit close: **PCA** is a linear view that can be inverted exactly; "
        "**t-SNE** and **UMAP** keep neighbourhoods but bend distances. **Trustworthiness** says how far "
        "to trust a map's neighbourhoods (1 = every near point on the map is near in the code). Colours "
        "are the labels, which the autoencoder never saw."
    )
context = common.require_context()
read_url()
method, dims, samples, seed, params = settings_ui(umap_warm_up())
latent_map = compute_map(context, umap_warm_up(), method, dims, samples, seed, params)
map_ui(context, latent_map, dims)
write_url()
st.download_button(
    "Download codes and map coordinates (CSV)",
    latent_map.csv,
    mime="text/csv",  # made on click
    file_name=f"{context.run.name}-{latent_map.projection.method}-latent.csv",
    on_click="ignore",
)
st.subheader("Selected points")
inspector_ui(context, latent_map)
st.subheader("Decode any spot of the map")
decode_ui(context, latent_map)
st.subheader("The map over training")
training_ui(context)
st.subheader("How much each code dimension varies")
variance_ui(latent_map)
