"""The view of a latent map that a link holds: the Latent space page's query parameters, read into its widgets and
written back to the address bar, and the rows a Plotly selection names.
"""

from __future__ import annotations

import streamlit as st

from ae_core.latent.sampling import DEFAULT_SAMPLES
from pages.shared import keys
from pages.shared.session import setting

# The view of a map that a link holds: query parameter -> (type, default, lowest, highest); "points" apart
VIEW_FIELDS = {
    "method": (str, "pca", None, None),
    "dims": (int, 2, 2, 3),
    "samples": (int, DEFAULT_SAMPLES, 100, 20_000),
    "seed": (int, 0, 0, 2**31 - 1),
    "perplexity": (float, 30.0, 2.0, 100.0),
    "iterations": (int, 250, 50, 2_000),
    "n_neighbors": (int, 15, 2, 200),
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
    view["points"] = [int(row) for row in query.get("points", "").split(",") if row.strip().isdigit()]
    return view


def view_query(view: dict) -> dict[str, str]:
    """The query parameters of ``view`` (as parse_view returns it): the method's own parameters only, and the
    points when there are any."""
    query = {name: str(view[name]) for name in ("method", "dims", "samples", "seed", *VIEW_PARAMS[view["method"]])}
    if view.get("points"):
        query["points"] = ",".join(map(str, view["points"]))
    return query


def selected_rows(points: list[dict]) -> list[int]:
    """The map rows (sorted, unique) of the points of a Plotly selection event, whose customdata is the row (a
    number, or a list holding it); points without one (not map points) are left out."""
    rows = {data[0] if isinstance(data, list) else data for data in (point.get("customdata") for point in points)}
    return sorted(int(row) for row in rows if row is not None)


def read_url() -> None:
    """Set the page's widgets and the inspected points from the link, the first time the page opens."""
    view = parse_view(st.query_params.to_dict())
    for name, key in VIEW_KEYS.items():
        setting(key, view[name])
    setting(keys.LATENT_POINTS, view["points"])


def write_url() -> None:
    """Keep the view in the address bar, so a link reopens it."""
    view = {name: st.session_state[key] for name, key in VIEW_KEYS.items()}
    query = view_query({**view, "points": st.session_state[keys.LATENT_POINTS]})
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
