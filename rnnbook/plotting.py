"""One plotting style for every figure of the book (introduced in the Vanilla RNN cell chapter).

``use_course_style()`` sets matplotlib's defaults once per notebook; ``new_figure`` returns a
figure and axes in that style. ``COLORS`` names the palette, so that the same quantity has the
same colour in every chapter (for example ``COLORS["truncation"]``).
"""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from rnnbook.checks import positive_int, positive_number

COLORS: dict[str, str] = {
    "primary": "#1f5fa8",
    "secondary": "#d1495b",
    "tertiary": "#2e933c",
    "neutral": "#6c757d",
    "truncation": "#d1495b",
    "roundoff": "#1f5fa8",
}

_STYLE = {
    "figure.figsize": (6.4, 3.8),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": matplotlib.cycler(
        color=[COLORS["primary"], COLORS["secondary"], COLORS["tertiary"], COLORS["neutral"]]
    ),
}


def use_course_style() -> None:
    """Apply the course's matplotlib defaults to every later figure."""
    matplotlib.rcParams.update(_STYLE)


def new_figure(
    ncols: int = 1, *, width: float = 6.4, height: float = 3.8
) -> tuple[Figure, list[Axes]]:
    """A figure with ``ncols`` side-by-side axes in the course style, returned as a list."""
    ncols = positive_int("ncols", ncols)
    width = positive_number("width", width)
    height = positive_number("height", height)
    use_course_style()
    fig, axes = plt.subplots(1, ncols, figsize=(width, height), layout="constrained")
    return fig, list(axes) if ncols > 1 else [axes]
