"""Draw a digit: a canvas, and what the current run makes of the drawing (its reconstruction and error, its point on
the map, its nearest training images, and whether the run's anomaly threshold flags it). On the Latent space page and
the lesson's last step."""

import streamlit as st

from ae_core.data.drawing import drawing_to_image, has_ink
from ae_core.figures.images import comparison_image, enlarged
from ae_core.figures.latent import SPOT_NAME, latent_figure
from ae_core.latent.neighbours import mapped_images
from ae_core.lesson.drawn_digit import inspect_drawing
from pages.shared.hover_images import hover_images
from pages.shared.layout import control_row

CANVAS_PIXELS = 280  # the canvas's side; a finger or a mouse draws comfortably at this size
STROKE_PIXELS = 24  # about 1/8 of a digit's height, as thick as the dataset's pen strokes once scaled down
SHOWN_PIXELS = 140  # the side of each image shown beside the canvas
LATENT_CANVAS, LESSON_CANVAS = "latent_canvas", "lesson_canvas"  # each page's canvas key (+ "_" + canvases cleared)


def drawn_digit_ui(context, latent_map, key: str) -> None:
    """The canvas, with a button that clears it, and once something is drawn, what ``context``'s run makes of it.
    ``latent_map``: the map the drawing is placed on; ``key``: the session key counting the canvases cleared."""
    # imported here: the component registers itself with a running server, which a bare import (a test) lacks
    from streamlit_drawable_canvas import st_canvas

    height, width, _ = context.run.image_shape
    canvas_box, seen_box, rebuilt_box = control_row(CANVAS_PIXELS, SHOWN_PIXELS + 20, SHOWN_PIXELS + 20)
    drawing = st.session_state.setdefault(key, 0)  # which canvas: a new one is blank
    with canvas_box:
        st.caption("Draw a digit here, with the mouse or a finger.")
        canvas = st_canvas(
            stroke_width=STROKE_PIXELS,
            stroke_color="#ffffff",
            background_color="#000000",
            height=CANVAS_PIXELS,
            width=CANVAS_PIXELS,
            return_image_data=True,
            key=f"{key}_{drawing}",
        )
        st.button("Clear the drawing", key=f"{key}_clear", on_click=_clear, args=(key,))
    rgba = canvas.image_data
    if rgba is None or not has_ink(rgba):
        seen_box.caption(f"Draw a digit: the model will see it at {height} × {width} pixels.")
        return
    image = drawing_to_image(rgba, context.run.image_shape, context.run.dataset_name)
    drawn = inspect_drawing(context, image, latent_map)
    seen_box.image(enlarged(drawn.image, SHOWN_PIXELS), caption=f"What the model sees: {height} × {width} pixels")
    rebuilt_box.image(enlarged(drawn.reconstruction, SHOWN_PIXELS), caption="Its reconstruction")
    verdict_ui(drawn)
    projection = latent_map.projection
    figure = latent_figure(
        projection.coords, latent_map.labels, context.dataset.class_names, projection.dims, spot=drawn.map_point
    )
    figure.update_traces(name="your drawing", showlegend=True, selector={"name": SPOT_NAME})
    st.plotly_chart(figure, key=key + ".map")
    hover_images(key + ".map", latent_map, lambda: mapped_images(context, latent_map))
    placed = "exactly where its code projects" if drawn.map_point_exact else "amid the codes nearest to its own"
    st.caption(f"Your drawing is the black cross on this map of the run's codes, {placed}.")
    st.image(
        comparison_image(context.images("training")[drawn.nearest]),
        caption="The training images whose codes are nearest to your drawing's, nearest first",
    )


def _clear(key: str) -> None:
    st.session_state[key] += 1


def verdict_ui(drawn) -> None:
    """The drawing's error beside the validation images', and whether the anomaly threshold flags it."""
    error_box, threshold_box = control_row("content", "content")
    error_box.metric(
        "Reconstruction error (MSE)",
        f"{drawn.error:.4f}",
        help="The mean over the pixels of (drawn − rebuilt)²: lower means the model rebuilds it better.",
    )
    st.caption(f"{drawn.error_share:.0%} of the validation images are rebuilt with a smaller error than your drawing.")
    if drawn.threshold is None:
        threshold_box.caption(
            "This run was trained on every digit, so it has no anomaly threshold; a run trained without one digit "
            "(Applications, Anomaly detection) has one."
        )
        return
    threshold_box.metric(
        "Anomaly threshold",
        f"{drawn.threshold:.4f}",
        help="Errors above it are called unusual: 95% of the training images are rebuilt with a smaller error.",
    )
    if drawn.flagged:
        st.warning("**Flagged as unusual:** its error is above the threshold.")
    else:
        st.success("**Not flagged:** its error is under the threshold, like most training images'.")
