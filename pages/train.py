"""Train page: pick a preset and its settings, watch the model learn, and keep, save, open or compare runs."""

import streamlit as st

from ae_core import user_text
from ae_core.data import DataFileError, DatasetUnavailableError
from ae_core.figures.training import comparison_figure
from ae_core.runs.comparison import comparison_rows
from pages.shared import datasets, keys, session, sharing
from pages.shared.guards import DATA_PAGE
from pages.shared.training_settings import settings_panel
from pages.shared.training_view import clear_hold_out_after, job_buttons, requested_start, start, training_panel

COMPARISON_FORMATS = {  # the Compare runs table's numbers as shown (the table holds them whole)
    "validation MSE": "%.4f",
    "PCA MSE": "%.4f",
    "MSE / PCA": "%.2fx",
    "PSNR (dB)": "%.2f",
    "SSIM": "%.4f",
    "seconds": "%.1f",
    "learning rate": "%g",
}

session.start_page()
st.title("Train")
st.write("Train an autoencoder on the chosen dataset and watch its losses and reconstructions as it learns.")
with st.expander("What am I looking at?"):
    st.markdown(
        "The encoder squeezes each image into a code of *latent size* numbers; the decoder rebuilds the "
        "image from that code. Training lowers the reconstruction error, here the mean squared error:"
    )
    st.latex(r"\text{MSE} = \frac{1}{N}\sum_{i=1}^{N} (x_i - \hat{x}_i)^2")
    st.markdown(
        "The **train loss** line is each batch's loss, so it is noisy: batches differ. **Validation "
        "loss** markers score unseen images once per epoch; a widening gap means overfitting. A VAE adds "
        "a KL term pulling its codes toward a standard normal: another scale."
    )
try:
    dataset = datasets.current_dataset()
except (DatasetUnavailableError, DataFileError) as error:
    st.error(f"The chosen dataset could not be loaded: {user_text.markdown(error)}")
    st.page_link(DATA_PAGE, label="Choose another dataset")
    st.stop()
st.markdown(
    f"Dataset: **{user_text.markdown(datasets.dataset_title(dataset.name))}**, {dataset.n_train:,} training and "
    f"{dataset.n_val:,} validation images of {'×'.join(map(str, dataset.image_shape))} pixels."
)
job = st.session_state.get(keys.JOB)
status = session.collect_finished_job()
clear_hold_out_after(job, status)
choices = settings_panel(dataset)
if job_buttons(job, status) | requested_start(status):  # both drawn: the buttons, and why a request waits
    start(dataset, choices)
log_y = st.toggle("Log scale", key=session.setting(keys.LOG_SCALE, False))  # the loss chart (live too), the comparison
training_panel(job, status, session.current_run())
if session.current_run() is not None:
    st.subheader("Save the current run")
    sharing.save_ui(session.current_run())
st.subheader("Saved runs")
sharing.saved_runs_ui()
runs = session.session_runs()
if compared := st.multiselect("Compare runs", list(runs), default=list(runs)[-3:], format_func=user_text.plain):
    histories = {name: runs[name].result.history for name in compared}
    st.plotly_chart(comparison_figure(histories, log_y=log_y), key=keys.COMPARE_CHART)
    table = [{**row, "run": user_text.plain(row["run"])} for row in comparison_rows([runs[name] for name in compared])]
    shown = {name: st.column_config.NumberColumn(format=number) for name, number in COMPARISON_FORMATS.items()}
    st.dataframe(table, hide_index=True, column_config=shown)
    st.caption(
        "Scores on each run's own validation images; MSE / PCA under 1 means the autoencoder beats PCA at the "
        "same code size."
    )
else:
    st.caption(
        "The runs trained or opened in this session are compared here: their validation losses, and their "
        "settings and scores in a table."
    )
