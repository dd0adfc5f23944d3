"""rnnbook.diagrams: the rolled and unrolled RNN names every step and the shared weights; the
backward-flow graph names every error signal and sends every step's terms to one copy."""

from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from rnnbook import COLORS, unrolled_rnn  # noqa: E402
from rnnbook.diagrams import bptt_graph  # noqa: E402


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


# bptt_graph: the unrolled network with the forward and the backward flow.


def arrows(fig) -> Counter:
    """How many arrows of each (colour, dashed or not) the figure draws."""
    found = Counter()
    for patch in fig.axes[0].patches:
        if isinstance(patch, FancyArrowPatch):
            style = "dashed" if patch.get_linestyle() == "--" else patch.get_linestyle()
            found[(to_hex(patch.get_edgecolor()), style)] += 1
    return found


@pytest.mark.parametrize(
    ("T", "losses", "n_losses"), [(3, "every", 3), (4, "last", 1), (1, "every", 1)]
)
def test_bptt_graph_names_every_signal_once(T, losses, n_losses):
    fig = bptt_graph(T, losses=losses)
    try:
        found = labels(fig)
        for t in range(1, T + 1):
            assert found[rf"$\delta_{{{t}}}$"] == 1, t  # one error signal per step
            assert found[rf"$\delta_{{{t}}} W_h^\top$"] == 1, t  # carried back once
            assert found[f"$x_{{{t}}}$"] == 1 and found[f"$h_{{{t}}}$"] == 1, t
        assert found["$h_{0}$"] == 1 and found[rf"$\delta_{{{T + 1}}}$"] == 0
        with_loss = [t for t in range(1, T + 1) if found[f"$L_{{{t}}}$"] == 1]
        assert with_loss == (list(range(1, T + 1)) if losses == "every" else [T])
        direct = [
            t for t in range(1, T + 1) if found[rf"$\partial L_{{{t}}} / \partial h_{{{t}}}$"]
        ]
        assert direct == with_loss and len(direct) == n_losses
        assert sum("one shared" in text for text in found) == 1  # one copy of the weights
    finally:
        plt.close(fig)


@pytest.mark.parametrize(("T", "losses"), [(3, "every"), (5, "last")])
def test_bptt_graph_draws_both_flows_and_the_accumulation(T, losses):
    fig = bptt_graph(T, losses=losses)
    try:
        found = arrows(fig)
        n_losses = T if losses == "every" else 1
        backward = found[(to_hex(COLORS["secondary"]), "dashed")]
        to_weights = found[(to_hex(COLORS["tertiary"]), ":")]
        forward = found[("#000000", "solid")]
        assert backward == T + n_losses  # delta_t W_h^T per step, dL_t/dh_t per loss
        assert to_weights == T  # every step adds to the shared gradients
        assert forward == 3 * T + n_losses  # h_(t-1), x_t in, h_t out; h_t up to L_t
    finally:
        plt.close(fig)


@pytest.mark.parametrize("T", [0, 9, 2.0, True])
def test_bptt_graph_bad_T_raises_naming_T(T):
    with pytest.raises(ValueError, match=r"^T must"):
        bptt_graph(T)


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"losses": "all"}, "losses"), ({"title": 1}, "title")]
)
def test_bptt_graph_bad_options_raise_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        bptt_graph(3, **kwargs)


def test_bptt_graph_title_is_optional_and_the_figure_saves(tmp_path):
    fig = bptt_graph(2, title=False)
    try:
        assert fig.axes[0].get_title() == ""
        fig.savefig(tmp_path / "bptt.png")
        assert (tmp_path / "bptt.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        plt.close(fig)
