"""The Applications page's Compression tab: the code as a compressed image, at three precisions and entropy-coded,
beside PCA with the same bytes, JPEG (whole files and with shared tables) and WebP, and a grid of one budget's
reconstructions."""

import streamlit as st

from ae_core.applications import compression
from ae_core.figures.applications import rate_distortion_figure
from pages.shared import keys
from pages.shared.layout import metric_row
from pages.shared.session import setting

PRECISIONS = {
    "float32": "float32 (4 bytes a number)",
    "float16": "float16 (2 bytes a number)",
    "int8": "8 bits (1 byte a number)",
}
COMPRESSION_COLUMNS = {
    "method": "method",
    "setting": "setting",
    "precision": "stored as",
    "bytes_per_image": "bytes per image",
    "shared_bytes": "bytes once per set",
    "compression_ratio": "ratio to 8-bit pixels",
    "bits_per_pixel": "bits per pixel",
    "mse": "MSE",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
}


def compression_tab(context) -> None:
    with st.spinner("Compressing the validation images with the autoencoder, PCA, JPEG and WebP…"):
        report = compression.compression_report(context)
    codes = {row.setting: row for row in report.rows if row.method == "autoencoder" and row.setting in PRECISIONS}
    for column, (precision, row) in zip(metric_row(len(codes)), codes.items()):
        ratio = f"{row.compression_ratio:.0f}:1 · {row.bits_per_pixel:.3g} bits per pixel"
        column.metric(
            f"Code at {precision}",
            f"{row.bytes_per_image:g} bytes",
            ratio,
            "off",
            delta_arrow="off",
            border=True,
            help=f"MSE {row.mse:.4f}, PSNR {row.psnr:.2f} dB, SSIM {row.ssim:.3f}",
        )
    st.caption(
        f"The 8-bit code maps each of the {context.run.model_config.latent_dim} code dimensions linearly from "
        "its minimum..maximum over the training codes onto 0..255 (values outside are clipped); int8+entropy is "
        "that code coded losslessly (LZMA over the set's levels). PCA gets the same bytes at the same precision. "
        "JPEG's and WebP's bytes are real file sizes, headers included; JPEG with shared tables counts each "
        "image's own stream, and its tables once per set. Every row is on the first "
        f"{report.n_images:,} validation images."
    )
    st.info(report.verdict)
    st.plotly_chart(rate_distortion_figure(report.rows), key=keys.RATE_DISTORTION_CHART)
    st.dataframe(
        [{title: row.to_dict()[name] for name, title in COMPRESSION_COLUMNS.items()} for row in report.rows],
        hide_index=True,
    )
    precision = st.selectbox(
        "Budget shown in the grid",
        list(PRECISIONS),
        format_func=PRECISIONS.get,
        key=setting(keys.COMPRESSION_PRECISION, "int8"),
    )
    picture, labels = compression.compression_grid(report, precision)
    st.image(picture, caption="Rows: " + " · ".join(labels))
