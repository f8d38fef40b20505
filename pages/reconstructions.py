"""Reconstructions page: how well a trained run rebuilds images, which ones it gets wrong, and how it learned."""

import streamlit as st

from ae_core import user_text
from ae_core.figures.images import comparison_image, enlarged
from ae_core.figures.reconstructions import error_heatmap
from ae_core.quality.ordering import SORT_ORDERS, order_by_error
from ae_core.quality.pca_baseline import verdict
from ae_core.quality.scores import score_images
from ae_core.settings.model_config import PRESET_TITLES
from pages.shared import datasets, keys, sharing
from pages.shared.guards import require_context, require_run
from pages.shared.layout import control_row, metric_row
from pages.shared.notebook_download import notebook_ui
from pages.shared.session import setting, start_page

SPLITS = {"validation": "Validation (never trained on)", "training": "Training"}
ORDERS = dict(zip(SORT_ORDERS, ("Worst first", "Best first", "Dataset order")))


def grid_choices() -> tuple[str, str, int]:
    """The split, sort order and number of images chosen above the grid."""
    split_column, order_column, count_column = control_row(260, 180, 240)
    split = split_column.selectbox("Split", list(SPLITS), format_func=SPLITS.get, key=setting(keys.SPLIT, "validation"))
    order = order_column.selectbox("Sort", list(ORDERS), format_func=ORDERS.get, key=setting(keys.ORDER, "worst"))
    return split, order, count_column.slider("Images shown", 4, 24, key=setting(keys.COUNT, 12))


def grid_ui(context) -> None:
    split, order, count = grid_choices()
    images = context.images(split)
    with st.spinner(f"Reconstructing every {split} image…"):
        reconstructions, errors = context.reconstructions(split), context.errors(split)
    shown = order_by_error(errors, order)[:count]
    st.metric(f"Mean MSE over all {len(images):,} {split} images", f"{errors.mean():.4f}")
    st.image(
        comparison_image(images[shown], reconstructions[shown]),
        caption=f"Originals (top) and reconstructions (bottom), {ORDERS[order].lower()}",
    )
    scores = score_images(images[shown], reconstructions[shown])
    st.dataframe(
        {
            "image": [f"#{rank + 1}" for rank in range(len(shown))],
            "index": shown,
            "MSE": scores.mse,
            "PSNR (dB)": scores.psnr,
            "SSIM": scores.ssim,
        },
        hide_index=True,
    )
    pick = st.selectbox(
        "Image",
        range(len(shown)),
        format_func=lambda rank: f"#{rank + 1} · index {shown[rank]} · MSE {scores.mse[rank]:.4f}",
    )
    original, reconstruction = images[shown[pick]], reconstructions[shown[pick]]
    left, middle, right = control_row(200, 200, 300)  # the error map moves below the images on a narrow screen
    left.image(enlarged(original), caption="original")
    middle.image(enlarged(reconstruction), caption="reconstruction")
    right.plotly_chart(error_heatmap(original, reconstruction), key=keys.ERROR_HEATMAP)


def timeline_ui(run) -> None:
    result = run.result
    if result.epochs_completed == 0 or len(result.preview_timeline) == 0:
        st.info("The run ended before its first epoch finished, so there is no timeline.")
        return
    epoch = result.epochs_completed
    if epoch > 1:
        epoch = st.slider("Epoch", 1, result.epochs_completed, value=result.epochs_completed)
    st.image(
        comparison_image(result.preview_images, result.preview_timeline[epoch - 1]),
        caption=f"Originals (top) and reconstructions (bottom) after epoch {epoch}",
    )


def baseline_ui(run) -> None:
    metrics = run.metrics
    if "pca_val_mse" not in metrics:
        st.info("This run holds no PCA comparison.")
        return
    components = metrics["pca_components"]
    columns = metric_row(4)
    columns[0].metric(
        "Autoencoder MSE",
        f"{metrics['val_mse']:.4f}",
        delta=f"{metrics['val_mse'] - metrics['pca_val_mse']:+.4f} vs PCA",
        delta_color="inverse",
    )
    columns[1].metric(f"PCA-{components} MSE", f"{metrics['pca_val_mse']:.4f}")
    columns[2].metric("Autoencoder SSIM", f"{metrics['val_ssim']:.3f}")
    columns[3].metric(f"PCA-{components} SSIM", f"{metrics['pca_val_ssim']:.3f}")
    st.write(verdict(metrics["val_mse"], metrics["pca_val_mse"], components, run.model_config.preset))


start_page()
st.title("Reconstructions")
st.write("How well a trained run rebuilds images, which images it gets wrong, and how its output changed per epoch.")
with st.expander("What am I looking at?"):
    st.markdown(
        "Each image is compared pixel by pixel with its reconstruction. **MSE** is the mean squared error "
        "(0 is perfect); **PSNR** turns it into decibels (higher is better):"
    )
    st.latex(r"\text{PSNR} = 10 \log_{10} \frac{1}{\text{MSE}}")
    st.markdown(
        "**SSIM** compares local brightness, contrast and structure, closer to what a person notices "
        "(1 is identical). The heatmap shows where one image's error sits. PCA with as many components as "
        "the code has numbers is the linear baseline: an autoencoder should beat it."
    )
with st.expander("Open a saved run"):
    sharing.saved_runs_ui()
run = require_run()
created = run.created.replace("T", " ")
trained_on = user_text.markdown(datasets.dataset_title(run.dataset_name))
st.caption(
    f"{PRESET_TITLES[run.model_config.preset]} model on {trained_on}, {run.result.epochs_completed} epochs, "
    f"created {created}. " + user_text.markdown(" ".join(run.result.notes))
)
st.subheader("Images and their errors")
# The grid needs the run's images; the sections below need only the run. Drawn into this slot last, so a missing
# dataset stops the page (with its reason) after the run's own timeline and scores are shown.
images_slot = st.container()
st.subheader("Epoch timeline")
timeline_ui(run)
st.subheader("Against PCA at the same code size (validation images)")
baseline_ui(run)
st.subheader("A notebook to take home")
notebook_ui(run)
with images_slot:
    grid_ui(require_context(run))
