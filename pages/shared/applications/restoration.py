"""The Applications page's Restoration tab: degraded images rebuilt by the run (and a denoising run beside it) against
median and Gaussian filters, at the chosen strength and over five strengths."""

import streamlit as st

from ae_core import user_text
from ae_core.applications import restoration
from ae_core.figures.applications import sweep_figure
from pages.shared import keys
from pages.shared.session import session_runs, setting

DEGRADATIONS = dict(
    zip(
        restoration.DEGRADATIONS,
        ("Gaussian noise", "Salt and pepper", "Masking (pixels dropped)", "Occlusion box", "Blur"),
    )
)


def denoiser_choice(run):
    """A denoising run of this session on the same images as ``run``, chosen by the user; None without one."""
    denoisers = [
        name
        for name, other in session_runs().items()
        if other.model_config.corrupts_inputs
        and other.id != run.id
        and other.image_shape == run.image_shape
        and other.dataset_name == run.dataset_name
    ]
    if not denoisers:
        st.caption("Train a run with the Denoising preset on this dataset to restore with it here too.")
        return None
    if st.session_state.get(keys.DENOISER) not in [None, *denoisers]:
        del st.session_state[keys.DENOISER]
    name = st.selectbox(
        "Denoising run beside it",
        [*denoisers, None],
        key=keys.DENOISER,
        format_func=lambda option: "none" if option is None else user_text.plain(option),
    )
    return None if name is None else session_runs()[name].model


def restoration_tab(context) -> None:
    kind_column, level_column, denoiser_column = st.columns(3)
    kind = kind_column.selectbox(
        "Degradation",
        list(DEGRADATIONS),
        format_func=DEGRADATIONS.get,
        key=setting(keys.DEGRADATION, "gaussian"),
    )
    level = level_column.slider("Strength", 0.0, 1.0, step=0.05, key=setting(keys.DEGRADATION_LEVEL, 0.3))
    with denoiser_column:
        denoiser = denoiser_choice(context.run)
    with st.spinner("Degrading and restoring the validation images…"):
        report = restoration.restoration_report(context, kind, level, denoiser=denoiser)
    st.info(report.verdict)
    names = {name: "degraded input" if name == "noisy" else name.replace("_", " ") for name in report.scores}
    st.dataframe(
        [
            {"images": names[name], "PSNR (dB)": score["psnr"], "SSIM": score["ssim"]}
            for name, score in report.scores.items()
        ],
        hide_index=True,
    )
    picture, labels = restoration.restoration_grid(report)
    st.image(picture, caption="Rows: " + " · ".join(labels))
    with st.spinner("Restoring at five strengths…"):
        rows = restoration.sweep_report(context, kind, denoiser=denoiser)
    st.plotly_chart(sweep_figure(rows, kind), key=keys.RESTORATION_SWEEP_CHART)
    st.caption(f"PSNR of the first {restoration.SWEEP_IMAGES} validation images at each strength.")
