"""A run's latent map up close, as the Latent space page shows it: the map computed once per run and parameters,
one mapped image beside its neighbours, an image decoded at any spot of the map, the map over training, and how
much each code dimension varies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import plotly.graph_objects as go

from ae_core.latent import align_epoch_maps, map_trustworthiness, mean_code_near, pca_inverse
from ae_core.latent_map import (DEFAULT_SAMPLES, SPLITS, LatentMap, Neighbours, code_variance, latent_figure,
                                nearest_neighbours, run_latent_map, unused_dimensions)

EXACT_METHODS = ("pca", "identity")  # maps whose points decode exactly (pca_inverse); others decode a mean code
DECODE_NEIGHBOURS = 10  # map points whose mean code a t-SNE or UMAP spot decodes
AXIS_MARGIN = 0.05  # share of each axis' span left around the map over training
# The view of a map that a link holds: query parameter -> (type, default, lowest, highest); "points" apart
VIEW_FIELDS = {"method": (str, "pca", None, None), "dims": (int, 2, 2, 3),
               "samples": (int, DEFAULT_SAMPLES, 100, 20_000), "seed": (int, 0, 0, 2**31 - 1),
               "perplexity": (float, 30.0, 2.0, 100.0), "iterations": (int, 250, 50, 2_000),
               "n_neighbors": (int, 15, 2, 200), "min_dist": (float, 0.1, 0.0, 1.0)}
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


def run_map(context, method: str, dims: int = 2, samples: int = DEFAULT_SAMPLES, seed: int = 0,
            callback: Callable[[int, np.ndarray], None] | None = None, **params) -> LatentMap:
    """The map of up to ``samples`` of the run's images (validation first, then training), computed once per run
    and parameters through ``context`` (an ``ae_core.context.RunContext``); arguments as in
    ``latent_map.latent_map``. The callback is called only while the map is being computed."""
    return context.cached(map_key(method, dims, samples, seed, **params),
                          lambda: run_latent_map(context, "all", method, dims, samples, seed, callback, **params))


def map_key(method: str, dims: int = 2, samples: int = DEFAULT_SAMPLES, seed: int = 0, **params) -> tuple:
    """The key under which ``run_map`` keeps a map in the run's context."""
    return ("latent_map", method, dims, samples, seed, tuple(sorted(params.items())))


def default_run_map(context) -> LatentMap:
    """The map the page opens on: PCA in 2-D of the default sample (computed once; e.g. when training ends)."""
    return run_map(context, "pca")


@dataclass(frozen=True, eq=False)
class Inspection:
    """One mapped image up close. split, index : where the image comes from; label : int or None.

    original, reconstruction : (height, width, channels) in [0, 1]. neighbours : rows of the map nearest in
    latent and in pixel space; latent_images, pixel_images : their images (k, height, width, channels).
    """

    split: str
    index: int
    label: int | None
    original: np.ndarray
    reconstruction: np.ndarray
    neighbours: Neighbours
    latent_images: np.ndarray
    pixel_images: np.ndarray


def mapped_images(context, latent_map: LatentMap) -> np.ndarray:
    """The images (n, height, width, channels) of the map's rows, in row order (validation rows come first)."""
    sample = latent_map.sample
    parts = [context.images(split)[sample.indices[sample.splits == split]] for split in SPLITS]
    return np.concatenate(parts)


def inspect_row(context, latent_map: LatentMap, row: int, k: int = 8) -> Inspection:
    """Row ``row`` of the map (an index into its coords, as each point's customdata holds) and its ``k`` nearest
    neighbours among the mapped images (k is cut to the number of other images)."""
    sample = latent_map.sample
    if not 0 <= row < len(sample.indices):
        raise ValueError(f"row must be in [0, {len(sample.indices)}), a point of the map; got {row}. Select a point "
                         "on the map.")
    images = mapped_images(context, latent_map)
    neighbours = nearest_neighbours(latent_map.codes, images, row, min(k, len(images) - 1))
    split, index = str(sample.splits[row]), int(sample.indices[row])
    label = None if latent_map.labels is None else int(latent_map.labels[row])
    return Inspection(split, index, label, images[row], context.reconstructions(split)[index], neighbours,
                      images[neighbours.latent], images[neighbours.pixel])


def selected_rows(points: list[dict]) -> list[int]:
    """The map rows (sorted, unique) of the points of a Plotly selection event, whose customdata is the row (a
    number, or a list holding it); points without one (not map points) are left out."""
    rows = {data[0] if isinstance(data, list) else data for data in (point.get("customdata") for point in points)}
    return sorted(int(row) for row in rows if row is not None)


def decode_at(model, latent_map: LatentMap, point) -> tuple[np.ndarray, bool]:
    """The image (height, width, channels) in [0, 1] decoded at ``point`` (dims,) of the map, and whether it is
    exact: a PCA map (or a code drawn as it is) is inverted; a t-SNE or UMAP map cannot be, so the mean code of the
    DECODE_NEIGHBOURS nearest points is decoded instead (see ``latent.NOT_INVERTIBLE``)."""
    from ae_core.models import decode  # loads Keras, which the map alone does not need

    projection = latent_map.projection
    point = np.asarray(point, dtype=np.float32)
    exact = projection.method in EXACT_METHODS
    if exact:
        code = pca_inverse(projection, point)
    else:
        neighbours = min(DECODE_NEIGHBOURS, len(latent_map.codes))
        code = mean_code_near(projection.coords, latent_map.codes, point, neighbours)
    return decode(model, code[None])[0], exact


def training_maps(context) -> tuple[np.ndarray, np.ndarray | None]:
    """The 2-D maps of the codes recorded after every epoch (``TrainingResult.map_codes``), turned to match the
    last epoch's (``latent.align_epoch_maps``): (epochs, n_map, 2), with the labels (n_map,) of the first n_map
    validation images they belong to, or None. ValueError for a run that recorded none."""
    maps = context.cached(("training_maps",), lambda: align_epoch_maps(context.run.result.map_codes))
    labels = context.labels("validation")
    return maps, None if labels is None else labels[: maps.shape[1]]


def epoch_trustworthiness(context, epoch: int) -> tuple[float, int, int]:
    """``latent.map_trustworthiness`` (score, codes used, neighbours) of the map after ``epoch`` (1-based) of
    ``training_maps``, against the codes recorded then."""
    maps, _ = training_maps(context)
    codes = context.run.result.map_codes[epoch - 1]
    return context.cached(("epoch_trustworthiness", epoch), lambda: map_trustworthiness(codes, maps[epoch - 1]))


def epoch_figure(maps: np.ndarray, labels: np.ndarray | None, epoch: int, class_names: tuple[str, ...] = ()
                 ) -> go.Figure:
    """The map after ``epoch`` (1-based) of ``maps`` (epochs, n, 2), on axes fixed over every epoch so that what
    moves between epochs is the codes, not the axes."""
    figure = latent_figure(maps[epoch - 1], labels, class_names, title=f"After epoch {epoch} of {len(maps)}")
    low, high = maps.reshape(-1, maps.shape[2]).min(axis=0), maps.reshape(-1, maps.shape[2]).max(axis=0)
    margin = AXIS_MARGIN * np.maximum(high - low, 1e-6)
    figure.update_xaxes(range=[float(low[0] - margin[0]), float(high[0] + margin[0])])
    if maps.shape[2] > 1:
        figure.update_yaxes(range=[float(low[1] - margin[1]), float(high[1] + margin[1])])
    return figure.update_layout(dragmode="pan")


def variance_figure(codes: np.ndarray) -> go.Figure:
    """Bar chart of each code dimension's variance over ``codes`` (n, latent_dim); unused dimensions (see
    ``latent_map.unused_dimensions``) are drawn grey and named in the legend."""
    variance = code_variance(codes)
    unused = set(unused_dimensions(codes).tolist())
    used_rows = [dim for dim in range(len(variance)) if dim not in unused]
    figure = go.Figure()
    for name, rows, colour in (("used", used_rows, "#1f77b4"), ("almost unused", sorted(unused), "#bbbbbb")):
        if rows:
            figure.add_trace(go.Bar(x=rows, y=variance[rows], name=name, marker_color=colour))
    figure.update_xaxes(title="code dimension", dtick=1 if len(variance) <= 32 else None)
    figure.update_yaxes(title="variance over the mapped images")
    return figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, barmode="overlay")
