"""The Latent space page's map of a run's codes: the method and its settings, the map (drawn as t-SNE settles), its
scores, and its CSV download; the view is kept in the link."""

import threading

import numpy as np
import streamlit as st

from ae_core import user_text
from ae_core.figures.latent import latent_figure
from ae_core.latent.maps import run_map
from ae_core.latent.projection import EARLY_EXAGGERATION_ITERATIONS, warm_up_umap
from pages.shared import keys
from pages.shared.latent_view import VIEW_KEYS, VIEW_PARAMS, read_url, selected_rows, write_url

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}


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
        st.error(f"No map could be drawn: {user_text.markdown(error)}")
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


def map_panel(context):
    """The map of the view the link or the widgets choose, with its download; returns the LatentMap drawn."""
    read_url()
    method, dims, samples, seed, params = settings_ui(umap_warm_up())
    latent_map = compute_map(context, umap_warm_up(), method, dims, samples, seed, params)
    map_ui(context, latent_map, dims)
    write_url()
    st.download_button(
        "Download codes and map coordinates (CSV)",
        latent_map.csv,
        mime="text/csv",  # made on click
        file_name=user_text.file_name(f"{context.run.name}-{latent_map.projection.method}-latent", "csv"),
        on_click="ignore",
    )
    return latent_map
