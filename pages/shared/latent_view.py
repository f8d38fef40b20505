"""The view of a latent map that a link holds: the Latent space page's query parameters, read into its widgets and
written back to the address bar, and the rows a Plotly selection names.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ae_core import user_text
from ae_core.figures.latent import SPOT_ROW
from ae_core.latent.maps import MAX_TSNE_ITERATIONS, MAX_TSNE_PERPLEXITY, MAX_UMAP_NEIGHBOURS
from ae_core.latent.projection import PARAM_DEFAULTS
from ae_core.latent.sampling import DEFAULT_SAMPLES
from pages.shared import keys
from pages.shared.address import SHOWN_TEXT, Choice, Number
from pages.shared.session import setting
from pages.shared.workspace import address_query

# The view of a map that a link holds: query parameter -> (type, default, lowest, highest); "points" apart. t-SNE's
# and UMAP's own settings go only as high as this server maps with them (``ae_core.latent.maps``), so a link asking
# more gets a note naming the highest; "samples" goes as high as PCA maps, and map_panel lowers it for t-SNE and UMAP.
VIEW_FIELDS = {
    "method": (str, "pca", None, None),
    "dims": (int, 2, 2, 3),
    "samples": (int, DEFAULT_SAMPLES, 100, 20_000),
    "seed": (int, 0, 0, 2**31 - 1),
    "perplexity": (float, 30.0, 2.0, MAX_TSNE_PERPLEXITY),
    "iterations": (int, PARAM_DEFAULTS["tsne"]["iterations"], 50, MAX_TSNE_ITERATIONS),
    "n_neighbors": (int, 15, 2, MAX_UMAP_NEIGHBOURS),
    "min_dist": (float, 0.1, 0.0, 1.0),
}
VIEW_PARAMS = {"pca": (), "tsne": ("perplexity", "iterations"), "umap": ("n_neighbors", "min_dist")}
VIEW_KEYS = {  # query parameter -> the session-state key of its widget
    "method": keys.LATENT_METHOD,
    "dims": keys.LATENT_DIMS,
    "samples": keys.LATENT_SAMPLES,
    "seed": keys.LATENT_SEED,
    "perplexity": keys.LATENT_PERPLEXITY,
    "iterations": keys.LATENT_ITERATIONS,
    "n_neighbors": keys.LATENT_NEIGHBOURS,
    "min_dist": keys.LATENT_MIN_DIST,
}


def _is_row(text: str) -> bool:
    # str.isdigit() also accepts superscripts and other digits that int() refuses ("²")
    return text.strip().isascii() and text.strip().isdigit()


def parse_view(query: dict[str, str]) -> dict:
    """The view a link's query parameters describe: each VIEW_FIELDS name -> its value, kept in range (the default
    when absent or unreadable), and "points" -> the list of map rows to inspect."""
    view = {}
    for name, (kind, default, low, high) in VIEW_FIELDS.items():
        try:
            value = kind(query.get(name, default))
        except ValueError:
            value = default
        if kind is str:
            view[name] = value if value in VIEW_PARAMS else default
        else:
            view[name] = min(max(value, low), high) if value == value else default  # NaN is unequal to itself
    view["points"] = [int(row) for row in query.get("points", "").split(",") if _is_row(row)]
    return view


def view_notes(query: dict[str, str], view: dict) -> list[str]:
    """What parse_view changed in ``query`` to make ``view``: each value it could not use as given, with what the
    setting takes and what was used instead."""
    notes = []
    for name, (kind, _, low, high) in VIEW_FIELDS.items():
        if name not in query:
            continue
        field = (
            Choice(VIEW_KEYS[name], {method: method for method in VIEW_PARAMS})
            if kind is str
            else Number(VIEW_KEYS[name], kind, low, high)
        )
        try:
            field.read(query[name])
        except ValueError as expected:
            notes.append(f"{name}={query[name][:SHOWN_TEXT]!r}: expected {expected}, so {view[name]} was used")
    rows = [row for row in query.get("points", "").split(",") if row.strip()]
    if any(not _is_row(row) for row in rows):
        notes.append("points: expected map rows as whole numbers separated by commas; the others were left out")
    return notes


def view_query(view: dict) -> dict[str, str]:
    """The query parameters of ``view`` (as parse_view returns it): the method's own parameters only, and the
    points when there are any."""
    query = {name: str(view[name]) for name in ("method", "dims", "samples", "seed", *VIEW_PARAMS[view["method"]])}
    if view.get("points"):
        query["points"] = ",".join(map(str, view["points"]))
    return query


def selected_rows(points: list[dict]) -> list[int]:
    """The map rows (sorted, unique) of the points of a Plotly selection event, whose customdata is the row (a
    number, or a list holding it); points without one, or with SPOT_ROW (a clickable spot), are left out."""
    rows = {data[0] if isinstance(data, list) else data for data in (point.get("customdata") for point in points)}
    return sorted(int(row) for row in rows if row is not None and int(row) >= 0)


def selected_spot(points: list[dict]) -> list[float] | None:
    """The spot of the map a click on an empty place chose: the mean (x, y) of the selected clickable spots
    (customdata SPOT_ROW), when no map point is selected; else None."""
    if selected_rows(points):
        return None
    spots = [(point["x"], point["y"]) for point in points if point.get("customdata") == SPOT_ROW and "x" in point]
    return [float(value) for value in np.mean(spots, axis=0)] if spots else None


def spot_key(projection, axis: int) -> str:
    """The session key of the decoded spot's coordinate on ``axis`` of a map made by ``projection``'s method."""
    return f"{keys.LATENT_SPOT_PREFIX}{projection.method}.{axis}"


def spot_point(projection) -> list[float] | None:
    """The spot being decoded on this map (dims,), or None before one is chosen."""
    point = [st.session_state.get(spot_key(projection, axis)) for axis in range(projection.dims)]
    return None if None in point else point


def take_selection(projection, rows: list[int], spot: list[float] | None) -> None:
    """Inspect the selected map ``rows`` and decode at their mean, or decode at the clicked empty ``spot``; an
    emptied selection keeps what was inspected."""
    if rows:
        st.session_state[keys.LATENT_POINTS] = rows
        spot = projection.coords[rows].mean(axis=0)
    elif spot is not None:
        st.session_state[keys.LATENT_POINTS] = []
    for axis, value in enumerate(spot if spot is not None else ()):
        st.session_state[spot_key(projection, axis)] = float(value)


def reset_for_new_run(run_id: str) -> None:
    """A method's parameters chosen on one run (perplexity, iterations, neighbours, minimum distance) start from
    their defaults on the next run; the first run seen keeps what the link set."""
    seen = st.session_state.get(keys.LATENT_PARAMS_RUN)
    if seen is not None and seen != run_id:
        for name in ("perplexity", "iterations", "n_neighbors", "min_dist"):
            st.session_state[VIEW_KEYS[name]] = VIEW_FIELDS[name][1]
        st.session_state[keys.LATENT_POINTS] = []
    st.session_state[keys.LATENT_PARAMS_RUN] = run_id


def read_url() -> None:
    """Set the page's widgets and the inspected points from the link, the first time the page opens; a note says
    which of the link's values could not be used as given."""
    query = st.query_params.to_dict()
    view = parse_view(query)
    if keys.LATENT_METHOD not in st.session_state and (notes := view_notes(query, view)):
        st.caption(user_text.markdown("The link's " + "; ".join(notes) + "."))
    for name, key in VIEW_KEYS.items():
        setting(key, view[name])
    setting(keys.LATENT_POINTS, view["points"])


def write_url() -> None:
    """Keep the view in the address bar, so a link reopens it."""
    view = {name: st.session_state[key] for name, key in VIEW_KEYS.items()}
    query = {**address_query(), **view_query({**view, "points": st.session_state[keys.LATENT_POINTS]})}
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
