"""Generate page: new images from a trained run's code space, sampled, interpolated and traversed, and measured by an
independent classifier rather than eyeballed."""

import streamlit as st

from ae_core.generation.judge import CONFIDENCE
from ae_core.generation.paths import INTERPOLATIONS
from ae_core.generation.samplers import SAMPLER_TITLES
from pages.shared import keys
from pages.shared.address import Choice, Number, keep_view, open_view
from pages.shared.code_walks import interpolation_ui, manifold_ui, traversal_ui
from pages.shared.guards import require_context
from pages.shared.sampling_panel import samplers_ui
from pages.shared.session import start_page


def view_fields(is_vae: bool) -> dict:
    """The settings a Generate link holds: query parameter -> its widget. A plain autoencoder always shows N(0, I)
    beside its fitted sampler, so its link names the fitted one; a VAE's names the one sampler shown."""
    sampler = (
        Choice(keys.VAE_SAMPLER, {name: name for name in SAMPLER_TITLES})
        if is_vae
        else Choice(keys.FITTED_SAMPLER, {"gaussian": "gaussian", "gmm": "gmm"})
    )
    return {
        "sampler": sampler,
        "components": Number(keys.MIXTURE_COMPONENTS, int, 0, 20),  # 0: chosen by BIC
        "temperature": Number(keys.TEMPERATURE, float, 0.1, 2.0),
        "seed": Number(keys.SAMPLE_SEED, int, 0, 1_000_000),
        "side": Number(keys.GRID_SIDE, int, 2, 12),
        "steps": Number(keys.INTERPOLATION_STEPS, int, 3, 16),
        "interpolation": Choice(keys.INTERPOLATION, {name: name for name in INTERPOLATIONS}),
        "extent": Number(keys.TRAVERSAL_EXTENT, float, 0.5, 5.0),
        "grid": Number(keys.MANIFOLD_SIZE, int, 5, 25),
    }


start_page()
st.title("Generate")
st.write("New images from a trained run's code space: sampled, interpolated and traversed, and scored by a classifier.")
with st.expander("What am I looking at?"):
    st.markdown(
        "The decoder turns any code into an image; the question is which codes give good ones. **Samplers** "
        "draw codes: N(0, I) suits a VAE, trained towards it; a plain autoencoder needs a distribution fitted "
        "to its own training codes (a Gaussian, or a mixture of Gaussians). **Temperature** scales the spread. "
        "**Interpolation** walks between two images' codes, beside a cross-fade of their pixels; "
        "**traversal** moves one code dimension at a time. The **judge**, a classifier trained apart on the "
        "training images, measures how many generated images are recognisable (confidence above "
        f"{CONFIDENCE}), how evenly they cover the classes (entropy, 1 = all alike), and how far each lies "
        "from its nearest training image (near 0 means a copy)."
    )
context = require_context()
view = view_fields(context.run.model_config.preset == "vae")
open_view(view)
sample_tab, interpolate_tab, traverse_tab, manifold_tab = st.tabs(
    ["Sample", "Interpolate", "Traverse", "Manifold grid"]
)
with sample_tab:
    samplers_ui(context)
with interpolate_tab:
    interpolation_ui(context)
with traverse_tab:
    traversal_ui(context)
with manifold_tab:
    manifold_ui(context)
keep_view(view)
