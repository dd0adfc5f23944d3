"""rnnbook.plotting: one style for every figure, and argument checks."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnnbook import COLORS, new_figure, use_course_style  # noqa: E402


def test_style_sets_the_palette_and_grid():
    matplotlib.rcdefaults()
    use_course_style()
    assert matplotlib.rcParams["axes.grid"] is True
    first_colour = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0]
    assert first_colour == COLORS["primary"]


@pytest.mark.parametrize("ncols", [1, 3])
def test_new_figure_returns_a_list_of_axes(ncols):
    fig, axes = new_figure(ncols, width=5, height=2)
    try:
        assert len(axes) == ncols
        assert tuple(fig.get_size_inches()) == (5.0, 2.0)
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"ncols": 0}, "ncols"),
        ({"ncols": 2.0}, "ncols"),
        ({"width": -1}, "width"),
        ({"height": "tall"}, "height"),
    ],
)
def test_bad_input_names_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        new_figure(**kwargs)
