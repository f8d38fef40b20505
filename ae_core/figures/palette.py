"""The colours of every figure: ten for classes and series, one for what is set aside.

The ten follow the hue families of D3's category10 (Tableau's old ten: blue, orange, green, red, purple, brown, pink,
grey, olive, cyan), a palette made so that ten classes stay apart, but darkened where category10 is pale: its
orange, pink, olive and cyan have under 3:1 contrast against white, so they wash out on a projector, and its grey
sits close to its brown. Here each colour has at least 3:1 contrast against white (WCAG 2.1's bound for graphics),
the grey is a charcoal, and any two are at least 30 apart in CIELAB (tests/test_figures.py checks all three).
Okabe-Ito's eight were the other candidate; with their yellow (1.3:1 on white), orange and sky blue (2.3:1 each)
made dark enough they become an olive, a brown and a second blue, and eight are two short. Series take the colours
in order, so two series are blue and orange, never two blues.

Streamlit's chart theme replaces a figure's default colours, not the ones a trace names; every trace that stands for
a class or a series names its colour from here.
"""

CLASS_COLOURS = (
    "#1f77b4",  # blue
    "#e06600",  # orange, darker than category10's #ff7f0e
    "#2a9d2a",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#d0459f",  # pink, darker than #e377c2
    "#3d3d3d",  # charcoal, darker than #7f7f7f, apart from the brown
    "#8a8a00",  # olive, darker than #bcbd22
    "#0b8f9c",  # cyan, darker than #17becf
)
SET_ASIDE = "#b0b0b0"  # light grey: what a figure shows as set aside (unused code dimensions), never a class


def colour(index: int) -> str:
    """The colour of class or series ``index`` (0-based); past ten the colours repeat, in order."""
    return CLASS_COLOURS[int(index) % len(CLASS_COLOURS)]


def colours(n: int) -> list[str]:
    """The colours of ``n`` series or classes, in order."""
    return [colour(index) for index in range(n)]


def colour_traces(figure, skip: tuple[str, ...] = ()):
    """Give each trace of the Plotly ``figure``, in order, the next colour (its markers, bars and lines alike);
    traces named in ``skip`` keep theirs and take no colour. Returns the figure."""
    shown = (trace for trace in figure.data if trace.name not in skip)
    for index, trace in enumerate(shown):
        if trace.type in ("scatter", "scattergl", "scatter3d"):
            trace.update(line_color=colour(index), marker_color=colour(index))
        else:
            trace.update(marker_color=colour(index))
    return figure
