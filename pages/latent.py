"""Latent space page: maps of a run's codes, what sits where on them, what any spot decodes to, how the map formed."""

import streamlit as st

from ae_core.figures.latent import epoch_figure, variance_figure
from ae_core.latent.code_variance import code_spread, unused_dimensions
from ae_core.latent.maps import epoch_trustworthiness, training_maps
from pages.shared import keys
from pages.shared.drawn_digit import LATENT_CANVAS, drawn_digit_ui
from pages.shared.guards import require_context
from pages.shared.hover_images import hover_images
from pages.shared.layout import metric_row
from pages.shared.map_inspector import decode_ui, inspector_ui
from pages.shared.map_panel import map_panel
from pages.shared.session import start_page


def training_ui(context) -> None:
    if context.run.result.map_codes.size == 0:
        st.info("This run recorded no codes during training (runs saved before the map over training existed).")
        return
    maps, labels = training_maps(context)
    epoch = st.slider("Epoch", 1, len(maps), value=len(maps), key=keys.LATENT_EPOCH) if len(maps) > 1 else 1
    score, _, k = epoch_trustworthiness(context, epoch)
    total, first_axis = code_spread(context.run.result.map_codes[epoch - 1])
    columns = metric_row(3)
    columns[0].metric(
        f"This map's faith to the codes (trustworthiness, k={k})",
        f"{score:.3f}",
        help="How well this map keeps each code's nearest neighbours: a faithful map of codes that have collapsed "
        "still scores high. It says nothing about the codes' own quality; the two figures beside it do.",
    )
    columns[1].metric("Codes' total variance", f"{total:.3g}", help="The sum of every code dimension's variance.")
    columns[2].metric(
        "Share on the codes' main axis",
        f"{first_axis:.0%}",
        help="Near 100%: the codes lie on a line (a collapse), whatever the map looks like.",
    )
    st.plotly_chart(epoch_figure(maps, labels, epoch, context.dataset.class_names), key=keys.LATENT_EPOCH_CHART)
    hover_images(keys.LATENT_EPOCH_CHART, context, lambda: context.images("validation")[: maps.shape[1]])
    st.caption(
        f"PCA maps of the codes of the first {maps.shape[1]:,} validation images after every epoch, each "
        "turned (orthogonal Procrustes) to match the last epoch's, on fixed axes, so what moves is the codes. "
        "Play steps through the epochs; hover a point to see its image."
    )


def variance_ui(latent_map) -> None:
    st.plotly_chart(variance_figure(latent_map.codes), key=keys.LATENT_VARIANCE_CHART)
    unused = unused_dimensions(latent_map.codes)
    if len(unused):
        st.warning(
            f"Code dimensions {', '.join(map(str, unused))} vary by under 1% of the busiest one: the model "
            "barely uses them; a smaller code might do as well."
        )


start_page()
st.title("Latent space")
st.write("Where the encoder puts each image: maps of the codes, the images behind any point, and how the map formed.")
with st.expander("What am I looking at?"):
    st.markdown(
        "Each image becomes a **code**, a short list of numbers. A map squeezes those codes onto a plane (or "
        "into 3-D) so similar codes sit close: **PCA** is a linear view that can be inverted exactly; "
        "**t-SNE** and **UMAP** keep neighbourhoods but bend distances. **Trustworthiness** says how far "
        "to trust a map's neighbourhoods (1 = every near point on the map is near in the code): the map's faith "
        "to the codes, not the codes' quality. Colours "
        "are the labels, which the autoencoder never saw."
    )
context = require_context()
latent_map = map_panel(context)
st.subheader("Selected points")
inspector_ui(context, latent_map)
st.subheader("Decode any spot of the map")
decode_ui(context, latent_map)
st.subheader("Draw a digit")
drawn_digit_ui(context, latent_map, key=LATENT_CANVAS)
st.subheader("The map over training")
training_ui(context)
st.subheader("How much each code dimension varies")
variance_ui(latent_map)
