"""The view of a latent map that a link holds: the Latent space page's query parameters, read and written, and the
rows a Plotly selection names.
"""

from __future__ import annotations

from ae_core.latent.sampling import DEFAULT_SAMPLES

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
