"""Hovering a point of a map shows its image beside the pointer, as the Embedding Projector's thumbnails do.

Plotly's hover labels hold text only, and Streamlit passes no hover event to Python, so a small component does it in
the browser: it is handed the map's images as one sprite sheet (every image of the map in one PNG, a row of the map
per tile in map order) and listens to the chart's own ``plotly_hover`` events, whose points carry their map row as
``customdata`` (``ae_core.figures.latent``). A point of no image (an empty spot to decode) shows nothing.
"""

import base64
import math
import re
import weakref
from collections.abc import Callable

import numpy as np
import streamlit as st

from ae_core.figures.images import PREVIEW_TILE_PIXELS, grid_png, scale_for

SHOWN_PIXELS = 2 * PREVIEW_TILE_PIXELS  # about how tall an image shows beside the pointer

_JS = """
export default function (component) {
  const { data } = component;
  const shown = data.tile_height * data.scale, wide = data.tile_width * data.scale;
  const tip = document.createElement("div");
  tip.setAttribute("data-testid", "map-hover-image");
  Object.assign(tip.style, {
    position: "fixed", display: "none", pointerEvents: "none", zIndex: 1000,
    width: wide + "px", height: shown + "px", border: "2px solid #444", background: "#fff",
    backgroundImage: `url(${data.sprite})`, backgroundRepeat: "no-repeat", imageRendering: "pixelated",
    backgroundSize: `${data.columns * wide}px auto`,
  });
  document.body.appendChild(tip);
  const hover = (event) => {
    const row = event.points && event.points.length ? event.points[0].customdata : -1;
    if (typeof row !== "number" || row < 0 || row >= data.count) { tip.style.display = "none"; return; }
    tip.style.backgroundPosition =
      `${-(row % data.columns) * wide}px ${-Math.floor(row / data.columns) * shown}px`;
    // left of the pointer, where Plotly's own label (to its right) is not hidden; right of it at the screen's edge
    const left = pointer.x - wide - 24;
    tip.style.left = (left >= 0 ? left : pointer.x + 24) + "px";
    tip.style.top = Math.max(0, pointer.y - shown / 2) + "px";
    tip.style.display = "block";
    tip.setAttribute("data-row", String(row));
  };
  const unhover = () => { tip.style.display = "none"; };
  // Where the pointer is, read from the document: the same for 2-D and 3-D charts, whatever their events carry.
  const pointer = { x: 0, y: 0 };
  const follow = (event) => { pointer.x = event.clientX; pointer.y = event.clientY; };
  document.addEventListener("mousemove", follow, true);
  let chart = null;
  // The chart is drawn again (a new element) when its figure changes: look for the current one.
  const attach = () => {
    const found = document.querySelector(`.${data.chart_class} .js-plotly-plot`);
    if (found && found !== chart && typeof found.on === "function") {
      chart = found;
      chart.on("plotly_hover", hover);
      chart.on("plotly_unhover", unhover);
    }
  };
  attach();
  const timer = setInterval(attach, 500);
  return () => {
    clearInterval(timer);
    document.removeEventListener("mousemove", follow, true);
    tip.remove();
    if (chart && typeof chart.removeListener === "function") {
      chart.removeListener("plotly_hover", hover);
      chart.removeListener("plotly_unhover", unhover);
    }
  };
}
"""

_component = st.components.v2.component("map_hover_images", js=_JS)
_sprites: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a chart's owner -> its sprite's data, made once


def hover_images(chart_key: str, owner, images: Callable[[], np.ndarray]) -> None:
    """Show, while the pointer is over a point of the chart with key ``chart_key``, the image of that point's row:
    ``images()`` gives them, (n, height, width, channels) in [0, 1] in row order, made into a sprite once per
    ``owner`` (what the rows belong to: a map, a run context or a lesson step's result; hashable and weakly
    referable)."""
    data = _sprites.get(owner)
    if data is None:
        pictures = images()
        columns = math.ceil(math.sqrt(len(pictures)))
        height, width = pictures.shape[1:3]
        data = {
            "sprite": "data:image/png;base64," + base64.b64encode(grid_png(pictures, columns, gap=0)).decode(),
            "columns": columns,
            "count": len(pictures),
            "tile_height": height,
            "tile_width": width,
            "scale": scale_for(height, SHOWN_PIXELS),
        }
        _sprites[owner] = data
    # the class Streamlit gives the chart's container: its key with each character other than a letter, a digit,
    # "_" or "-" made "-"
    chart_class = "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", chart_key.strip())
    _component(data={**data, "chart_class": chart_class}, key=chart_key + "_hover")
