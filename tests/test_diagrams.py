"""rnnbook.diagrams: the rolled and unrolled RNN names every step and the shared weights."""

from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from rnnbook import unrolled_rnn  # noqa: E402


def labels(fig) -> Counter:
    """How often each non-empty string is written in the figure."""
    return Counter(t.get_text() for t in fig.findobj(Text) if t.get_text())


@pytest.fixture
def three_steps():
    fig = unrolled_rnn(3)
    yield fig
    plt.close(fig)


def test_every_unrolled_step_is_labelled(three_steps):
    found = labels(three_steps)
    for t in (1, 2, 3):
        for label in (f"$x_{{{t}}}$", f"$h_{{{t}}}$", rf"$\hat y_{{{t}}}$"):
            assert found[label] == 1, label
    assert found["$h_{0}$"] == 1  # the initial state, drawn once
    assert "$x_{4}$" not in found and "$h_{4}$" not in found  # and no step beyond T
    for label in ("$x_{t}$", "$h_{t}$", r"$\hat y_{t}$"):  # the rolled cell
        assert found[label] == 1, label


def test_the_shared_weights_are_named_on_every_step(three_steps):
    found = labels(three_steps)
    # one per unrolled step, plus one on the rolled cell (its self-loop for W_h)
    for weight in ("$W_x$", "$W_h$", "$b$", "$W_o$"):
        assert found[weight] == 3 + 1, weight


@pytest.mark.parametrize("T", [1, 8])
def test_the_extreme_lengths_draw_every_step(T):
    fig = unrolled_rnn(T)
    try:
        found = labels(fig)
        assert found[f"$x_{{{T}}}$"] == 1 and found["$W_h$"] == T + 1
    finally:
        plt.close(fig)


def test_title_is_optional():
    fig = unrolled_rnn(2, title=False)
    try:
        assert fig.axes[0].get_title() == ""
        titled = unrolled_rnn(2)
        assert "W_h" in titled.axes[0].get_title()
        plt.close(titled)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("T", [0, -1, 9, 2.0, "3", True, None])
def test_bad_T_raises_a_value_error_naming_T(T):
    with pytest.raises(ValueError, match=r"^T must"):
        unrolled_rnn(T)


def test_bad_title_names_title():
    with pytest.raises(ValueError, match="title"):
        unrolled_rnn(3, title="yes")


def test_the_figure_saves_to_png(three_steps, tmp_path):
    path = tmp_path / "unrolled.png"
    three_steps.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
