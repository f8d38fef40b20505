"""Reconstructions page: how well a trained run rebuilds images, which ones it gets wrong, and how it learned."""

import numpy as np
import streamlit as st

from ae_core.config import PRESET_TITLES
from ae_core.data import DataFileError, DatasetUnavailableError
from ae_core.inspection import order_by_error, reconstruct_with_errors
from ae_core.metrics import score_images, verdict
from ae_core.plots import comparison_image, enlarged, error_heatmap, loss_figure
from pages import common

SPLITS = {"validation": "Validation (never trained on)", "training": "Training"}
ORDERS = {"worst": "Worst first", "best": "Best first", "dataset": "Dataset order"}


@st.cache_data(max_entries=6, show_spinner="Reconstructing every image of the split…")
def split_reconstructions(run_key: str, _model, images: np.ndarray, _known) -> tuple[np.ndarray, np.ndarray]:
    """Reconstructions (n, height, width, channels) and per-image MSE (n,), cached per run and image set
    (Streamlit hashes a sample of a large array, so hashing the images is cheap); ``_known`` are reconstructions
    training already made, reused instead of running the model again."""
    return reconstruct_with_errors(_model, images, _known)


def run_key(run) -> str:
    """Names a run for the caches: name and creation time, plus the model's identity, since the caches are shared
    by every browser session and two sessions may create runs of the same name in the same second."""
    return f"{run.name}|{run.created}|{id(run.model)}"


def run_dataset(run):
    """The dataset the run was trained on, or None with the reason when this session cannot provide it."""
    try:
        dataset = common.dataset_by_name(run.dataset_name)
    except (DatasetUnavailableError, DataFileError) as error:
        return None, str(error)
    if dataset is None:
        return None, f"{run.dataset_name} is not loaded in this session (an upload lives only in its own session)"
    if dataset.image_shape != run.image_shape:
        return None, f"{run.dataset_name} holds {dataset.image_shape} images; the run was trained on {run.image_shape}"
    return dataset, ""


def grid_ui(run, dataset) -> None:
    split_column, order_column, count_column = st.columns(3)
    split = split_column.selectbox("Split", list(SPLITS), format_func=SPLITS.get,
                                   key=common.setting("split", "validation"))
    order = order_column.selectbox("Sort", list(ORDERS), format_func=ORDERS.get, key=common.setting("order", "worst"))
    count = count_column.slider("Images shown", 4, 24, key=common.setting("count", 12))
    images = dataset.x_val if split == "validation" else dataset.x_train
    known = run.val_reconstructions if split == "validation" else None
    reconstructions, errors = split_reconstructions(run_key(run), run.model, images, known)
    shown = order_by_error(errors, order)[:count]
    st.metric(f"Mean MSE over all {len(images):,} {split} images", f"{errors.mean():.4f}")
    st.image(comparison_image(images[shown], reconstructions[shown]),
             caption=f"Originals (top) and reconstructions (bottom), {ORDERS[order].lower()}")
    scores = score_images(images[shown], reconstructions[shown])
    st.dataframe({"image": [f"#{rank + 1}" for rank in range(len(shown))], "index": shown, "MSE": scores.mse,
                  "PSNR (dB)": scores.psnr, "SSIM": scores.ssim}, hide_index=True)  # fmt: skip
    pick = st.selectbox("Image", range(len(shown)),
                        format_func=lambda rank: f"#{rank + 1} · index {shown[rank]} · MSE {scores.mse[rank]:.4f}")
    original, reconstruction = images[shown[pick]], reconstructions[shown[pick]]
    left, middle, right = st.columns(3)
    left.image(enlarged(original), caption="original")
    middle.image(enlarged(reconstruction), caption="reconstruction")
    right.plotly_chart(error_heatmap(original, reconstruction), key="error_heatmap")


def timeline_ui(run) -> None:
    result = run.result
    if result.epochs_completed == 0 or len(result.preview_timeline) == 0:
        st.info("The run ended before its first epoch finished, so there is no timeline.")
        return
    epoch = result.epochs_completed
    if epoch > 1:
        epoch = st.slider("Epoch", 1, result.epochs_completed, value=result.epochs_completed)
    st.image(comparison_image(result.preview_images, result.preview_timeline[epoch - 1]),
             caption=f"Originals (top) and reconstructions (bottom) after epoch {epoch}")


def baseline_ui(run) -> None:
    metrics = run.metrics
    if "pca_val_mse" not in metrics:
        st.info("This run holds no PCA comparison.")
        return
    components = metrics["pca_components"]
    columns = st.columns(4)
    columns[0].metric("Autoencoder MSE", f"{metrics['val_mse']:.4f}",
                      delta=f"{metrics['val_mse'] - metrics['pca_val_mse']:+.4f} vs PCA", delta_color="inverse")
    columns[1].metric(f"PCA-{components} MSE", f"{metrics['pca_val_mse']:.4f}")
    columns[2].metric("Autoencoder SSIM", f"{metrics['val_ssim']:.3f}")
    columns[3].metric(f"PCA-{components} SSIM", f"{metrics['pca_val_ssim']:.3f}")
    st.write(verdict(metrics["val_mse"], metrics["pca_val_mse"], components))


common.start_page()
st.title("Reconstructions")
st.write("How well a trained run rebuilds images, which images it gets wrong, and how its output changed per epoch.")
with st.expander("What am I looking at?"):
    st.markdown("Each image is compared pixel by pixel with its reconstruction. **MSE** is the mean squared error "
                "(0 is perfect); **PSNR** turns it into decibels (higher is better):")
    st.latex(r"\text{PSNR} = 10 \log_{10} \frac{1}{\text{MSE}}")
    st.markdown("**SSIM** compares local brightness, contrast and structure, closer to what a person notices "
                "(1 is identical). The heatmap shows where one image's error sits. PCA with as many components as "
                "the code has numbers is the linear baseline: an autoencoder should beat it.")
with st.expander("Open a saved run"):
    common.saved_runs_ui()
runs = common.session_runs()
if common.current_run() is None:
    st.info("There is no run yet: train one on the Train page, or open a saved run above.")
    st.page_link("pages/train.py", label="Go to Train", icon=":material/model_training:")
    st.stop()
run = runs[st.selectbox("Run", list(runs), key=common.CURRENT_RUN)]
created = run.created.replace("T", " ")
st.caption(f"{PRESET_TITLES[run.model_config.preset]} model on {common.dataset_title(run.dataset_name)}, "
           f"{run.result.epochs_completed} epochs, created {created}. " + " ".join(run.result.notes))
dataset, reason = run_dataset(run)
st.subheader("Images and their errors")
if dataset is None:
    st.warning(f"Cannot reconstruct images: {reason}. Shown below is what the run itself holds: its loss history, "
               "epoch timeline and scores.")
    st.plotly_chart(loss_figure(run.result.batch_losses, run.result.history), key="run_losses")
else:
    grid_ui(run, dataset)
st.subheader("Epoch timeline")
timeline_ui(run)
st.subheader("Against PCA at the same code size (validation images)")
baseline_ui(run)
