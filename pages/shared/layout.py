"""Rows that wrap on a narrow screen. Streamlit's columns keep their share of the width however narrow the page:
at 800 px, beside the sidebar, five columns are under 100 px each, a label such as "Temperature" breaks mid-word
and a metric shows "128 …". These rows instead put each control or metric in a box of its own width and move whole
boxes onto the next line when they do not fit. Each function returns one box per item, used like columns.
"""

import streamlit as st

CONTROL_WIDTH = 160  # pixels: a selectbox's choice, a slider's label and value fit; five fit a 1400-px window


def control_row(*widths: int | str) -> list:
    """One box per control, of ``widths`` in pixels (or "content"), side by side, wrapping as whole boxes."""
    row = st.container(horizontal=True, gap="medium")
    return [row.container(width=width) for width in widths]


def controls(count: int) -> list:
    """``count`` boxes of CONTROL_WIDTH pixels, side by side, wrapping as whole boxes."""
    return control_row(*[CONTROL_WIDTH] * count)


def metric_row(count: int) -> list:
    """``count`` boxes as wide as the metric each holds, side by side, wrapping as whole boxes."""
    return control_row(*["content"] * count)
