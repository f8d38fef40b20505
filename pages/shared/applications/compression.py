"""The Applications page's Compression tab: the code as a compressed image, at three precisions, beside PCA with the
same bytes and JPEG, and a grid of one budget's reconstructions."""

import streamlit as st

from ae_core.applications import compression
from ae_core.figures.applications import rate_distortion_figure
from pages.shared import keys
from pages.shared.session import setting

PRECISIONS = {
    "float32": "float32 (4 bytes a number)",
    "float16": "float16 (2 bytes a number)",
    "int8": "8 bits (1 byte a number)",
}
COMPRESSION_COLUMNS = {
    "method": "method",
    "setting": "setting",
    "bytes_per_image": "bytes per image",
    "compression_ratio": "ratio to 8-bit pixels",
    "bits_per_pixel": "bits per pixel",
    "mse": "MSE",
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
}


def compression_tab(context) -> None:
    with st.spinner("Compressing the validation images with the autoencoder, PCA and JPEG…"):
        report = compression.compression_report(context)
    codes = {row.setting: row for row in report.rows if row.method == "autoencoder"}
    for column, (precision, row) in zip(st.columns(len(codes)), codes.items()):
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
        "its minimum..maximum over the training codes onto 0..255 (values outside are clipped). PCA gets the "
        "same bytes at the same precision; JPEG's bytes are real file sizes, headers included."
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
