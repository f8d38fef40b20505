"""The Latent space page's map of a run's codes: the method and its settings, the map (drawn as t-SNE settles), its
scores, and its CSV download; the view is kept in the link. Heavy maps (``ae_core.latent.maps.is_heavy_map``) wait
for a turn in the server's queue of maps, and their settings are bounded by what the server can do."""

import threading
import time
import weakref
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ae_core import user_text
from ae_core.figures.latent import latent_figure
from ae_core.latent.maps import (
    HEAVY_MAP_IMAGES,
    HEAVY_METHODS,
    MAX_HEAVY_MAP_IMAGES,
    MAX_TSNE_ITERATIONS,
    MAX_TSNE_PERPLEXITY,
    MAX_UMAP_NEIGHBOURS,
    is_heavy_map,
    map_key,
    run_map,
)
from ae_core.latent.neighbours import mapped_images
from ae_core.latent.projection import EARLY_EXAGGERATION_ITERATIONS, warm_up_umap
from ae_core.training.progress_text import duration_text
from ae_core.training.queue import TrainingQueue
from pages.shared import keys, server, workspace
from pages.shared.hover_images import hover_images
from pages.shared.latent_view import (
    VIEW_KEYS,
    VIEW_PARAMS,
    read_url,
    reset_for_new_run,
    selected_rows,
    selected_spot,
    spot_point,
    take_selection,
    write_url,
)
from pages.shared.layout import CONTROL_WIDTH, control_row, metric_row
from pages.shared.map_inspector import side_panel

METHODS = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
MAX_IMAGES = 20_000  # a PCA map; t-SNE and UMAP take MAX_HEAVY_MAP_IMAGES


@dataclass(frozen=True)
class TimeInLine:
    """Seconds a heavy map waited in the queue of maps: before its first turn, and between its turns (t-SNE waits
    for its next turn inside its callback, so its projection's own seconds hold that wait)."""

    before: float
    between: float


# The time in line of the maps drawn here, by map; weak, so an entry goes with its map, which the run's context holds
_time_in_line: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@st.cache_resource(show_spinner=False)
def umap_warm_up() -> threading.Thread:
    """UMAP's numba compile (about a minute), started in the background once per server process; left unstarted
    where no server runs the script (see server.served)."""
    thread = threading.Thread(target=warm_up_umap, name="umap-warm-up", daemon=True)
    if server.served():
        thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def map_queue() -> TrainingQueue:
    """The server's queue of heavy maps: one at a time, one per person, in turns of AE_FAIR_SHARE_S while others
    wait (a t-SNE map yields between its iterations; a UMAP map runs its turn to the end)."""
    return TrainingQueue(1, noun="map")


def bound_to_server(method: str) -> None:
    """Lower the number of images a link or PCA left above what this server maps with ``method``; call before its
    widget is drawn. (t-SNE's and UMAP's own settings are bounded where a link is read: latent_view.VIEW_FIELDS.)"""
    if method in HEAVY_METHODS and st.session_state.get(keys.LATENT_SAMPLES, 0) > MAX_HEAVY_MAP_IMAGES:
        st.session_state[keys.LATENT_SAMPLES] = MAX_HEAVY_MAP_IMAGES


def settings_ui(warm_up: threading.Thread) -> tuple[str, int, int, int, dict]:
    """The method, map dimensions, number of images, seed and the method's parameters chosen above the map."""
    getting_ready = " (getting ready…)" if warm_up.is_alive() else ""
    columns = control_row("content", "content", CONTROL_WIDTH, CONTROL_WIDTH)  # wrap whole on a narrow screen
    method = columns[0].segmented_control(
        "Method",
        list(METHODS),
        key=keys.LATENT_METHOD,
        required=True,
        format_func=lambda m: METHODS[m] + (getting_ready if m == "umap" else ""),
    )
    dims = columns[1].segmented_control("Map", [2, 3], format_func="{}-D".format, key=keys.LATENT_DIMS, required=True)
    bound_to_server(method)
    heavy = method in HEAVY_METHODS
    samples = columns[2].number_input(
        "Images mapped",
        100,
        MAX_HEAVY_MAP_IMAGES if heavy else MAX_IMAGES,
        step=500,
        key=keys.LATENT_SAMPLES,
        help=f"t-SNE and UMAP map up to {MAX_HEAVY_MAP_IMAGES:,} images on this shared server; over "
        f"{HEAVY_MAP_IMAGES:,}, a map waits for its turn among everyone's.",
    )
    seed = columns[3].number_input("Seed", 0, 2**31 - 1, key=keys.LATENT_SEED)
    left, right = st.columns(2)
    if method == "tsne":
        left.slider("Perplexity", 2.0, MAX_TSNE_PERPLEXITY, step=1.0, key=keys.LATENT_PERPLEXITY)
        right.number_input(
            f"Iterations (after {EARLY_EXAGGERATION_ITERATIONS} of early exaggeration)",
            50,
            MAX_TSNE_ITERATIONS,
            step=50,
            key=keys.LATENT_ITERATIONS,
        )
    elif method == "umap":
        left.slider(
            "Neighbours",
            2,
            MAX_UMAP_NEIGHBOURS,
            key=keys.LATENT_NEIGHBOURS,
            help=f"How many nearest codes shape each point's place: few keep small groups apart, many show the "
            f"overall layout. Up to {MAX_UMAP_NEIGHBOURS} on this shared server.",
        )
        right.slider("Minimum distance", 0.0, 1.0, step=0.05, key=keys.LATENT_MIN_DIST)
    params = {name: st.session_state[VIEW_KEYS[name]] for name in VIEW_PARAMS[method]}
    return method, dims, samples, seed, params


def compute_map(context, warm_up, method, dims, samples, seed, params, slot):
    """The cached map; a map being computed replaces the previous one in ``slot`` (an st.empty) with what it is
    doing, and t-SNE's is drawn there, coloured, as it settles. UMAP first waits for its compile, a heavy map for
    its turn in the queue of maps."""
    key = map_key(method, dims, samples, seed, **params)
    if not context.holds(key):
        slot.caption(f"Drawing a new {METHODS[method]} map of {samples:,} images…")
    if method == "umap" and warm_up.is_alive():
        with slot, st.spinner("UMAP is getting ready: its code compiles once per machine, in about a minute…"):
            warm_up.join()
    total = EARLY_EXAGGERATION_ITERATIONS + params.get("iterations", 0)
    names = context.dataset.class_names
    queue, ticket = map_queue(), object()
    queued = is_heavy_map(method, samples) and not context.holds(key)
    waited = {"before": 0.0, "between": 0.0}
    if queued:
        queue.enqueue(ticket, getattr(workspace.current(), "owner", None))

    def draw(iteration: int, coords: np.ndarray, labels) -> None:
        if queued and queue.should_yield(ticket):
            queue.yield_turn(ticket)
            waited["between"] += take_turn(queue, ticket, slot)
        with slot.container():
            st.progress(min(iteration / total, 1.0), text=f"t-SNE is settling: iteration {iteration} of {total}")
            st.plotly_chart(latent_figure(coords, labels, names, dims, title="t-SNE map, still settling"))

    try:
        if queued:
            waited["before"] = take_turn(queue, ticket, slot)
        fresh = not context.holds(key)  # else another's turn drew it meanwhile
        with st.spinner(f"Mapping with {METHODS[method]}…"):
            latent_map = run_map(context, method, dims, samples, seed, draw if method == "tsne" else None, **params)
        if queued and fresh:
            _time_in_line.setdefault(latent_map, TimeInLine(**waited))
        return latent_map
    except ValueError as error:
        slot.error(f"No map could be drawn: {user_text.markdown(error)}")
        st.stop()
    finally:
        queue.release(ticket)  # also when the page is left or rerun midway


def take_turn(queue: TrainingQueue, ticket, slot) -> float:
    """Wait until ``ticket`` holds the queue's slot, saying in ``slot`` where it stands; return the seconds waited."""
    started = time.monotonic()
    while not queue.wait_turn(ticket, timeout_s=1.0):
        slot.info(
            f"Waiting for a turn: t-SNE and UMAP maps of over {HEAVY_MAP_IMAGES:,} images take turns on this "
            f"server; this one is {queue.place(ticket).describe()}. Fewer images draw at once."
        )
    return time.monotonic() - started


def drawn_in(latent_map) -> str:
    """How long the map took to draw, without its time in the queue of maps; that time apart when it waited."""
    waited = _time_in_line.get(latent_map, TimeInLine(0.0, 0.0))
    drawn = f"Drawn in {latent_map.projection.seconds - waited.between:.1f} s"
    in_line = round(waited.before + waited.between)
    return f"{drawn} after {duration_text(in_line)} in line." if in_line >= 1 else f"{drawn}."


def map_ui(context, latent_map, dims: int) -> None:
    projection = latent_map.projection
    if projection.method == "identity":
        st.info(f"The code has {projection.dims} numbers, so the map shows them as they are, with no projection.")
    title = f"{METHODS.get(projection.method, 'Codes')} map of {len(projection.coords):,} images"
    take_new_selection(projection)  # before the figure is made, so that its cross is where the click was
    chart_column, side = st.columns([3, 1])
    figure = latent_figure(
        projection.coords,
        latent_map.labels,
        context.dataset.class_names,
        dims,
        title,
        spot=spot_point(projection),
        clickable=True,
    )
    figure.update_layout(height=600)
    with chart_column:
        st.plotly_chart(figure, on_select="rerun", selection_mode=("points", "box", "lasso"), key=keys.LATENT_CHART)
        hover_images(keys.LATENT_CHART, latent_map, lambda: mapped_images(context, latent_map))
    with side:
        side_panel(context, latent_map)
    st.caption(
        f"Mapped: {latent_map.sample.description}. {drawn_in(latent_map)} Hover a point to see its "
        "image; click one (or drag a box or lasso from the tools above the map) to see its images; click an empty "
        "spot to decode it."
    )
    columns = metric_row(1 + (projection.explained_variance_ratio is not None) * projection.dims)
    k = projection.trust_neighbours
    columns[0].metric(
        f"Map's faith to the codes (trustworthiness, k={k})",
        f"{projection.trustworthiness:.3f}",
        help=f"Whether each point's {k} nearest neighbours on the map are near it in the code too "
        f"(1 = all are; about 0.5 for a random map), over {projection.trust_sample:,} images. It scores the map, "
        "not the codes: a faithful map of poor codes scores high.",
    )
    for axis, share in enumerate(projection.explained_variance_ratio if len(columns) > 1 else ()):
        columns[axis + 1].metric(f"Variance on PC{axis + 1}", f"{share:.1%}")


def take_new_selection(projection) -> None:
    """Inspect or decode what was selected on the chart since the last run. Read from the session state, not from
    the chart's return value: a chart whose figure changes (the cross moves) is a new element with no selection."""
    state = st.session_state.get(keys.LATENT_CHART) or {}
    points = state.get("selection", {}).get("points", [])
    chosen, spot = selected_rows(points), selected_spot(points)
    if [chosen, spot] != st.session_state.get(keys.LATENT_SEEN_SELECTION, []):  # a new selection on the chart
        st.session_state[keys.LATENT_SEEN_SELECTION] = [chosen, spot]
        take_selection(projection, chosen, spot)


def map_panel(context):
    """The map of the view the link or the widgets choose, with its download; returns the LatentMap drawn."""
    read_url()
    reset_for_new_run(context.run.id)
    method, dims, samples, seed, params = settings_ui(umap_warm_up())
    slot = st.empty()  # the map, or, while a new one is computed, what is being done
    latent_map = compute_map(context, umap_warm_up(), method, dims, samples, seed, params, slot)
    with slot.container():
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
