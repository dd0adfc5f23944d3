"""rnnbook.diagrams: the rolled and unrolled RNN names every step and the shared weights; the
backward-flow graph names every error signal and sends every step's terms to one copy; the
LSTM and GRU cells draw every gate and product, with arrows that connect what the equations
connect, and no text overlapped, crossed or clipped."""

from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch  # noqa: E402
from matplotlib.path import Path  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from rnnbook import COLORS, unrolled_rnn  # noqa: E402
from rnnbook.diagrams import bptt_graph, gru_cell, lstm_cell  # noqa: E402


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


# lstm_cell and gru_cell: one step of each gated cell. The figure is read back as a graph:
# every node is a patch (a circle or a box) named by the largest text inside it, and every
# arrow must start and end on a node. An operation node (a product, a sum, 1 -, tanh) is named
# by what flows into it, so each state can be read back as an expression and compared with
# the chapter's equations.

OPS = {r"$\odot$": "*", "$+$": "+", "$1-$": "1-", r"$\tanh$": "tanh"}
SLACK = 0.1  # data units: how far off a node's outline an arrow may end (a thick tip is set back)


def shapes(ax):
    """(patch, name) for every node of the drawing, name being its largest text inside."""
    nodes = []
    for patch in ax.patches:
        if isinstance(patch, FancyArrowPatch):
            continue
        inside = [t for t in ax.texts if on_shape(patch, t.get_position(), 0.0)]
        assert inside, f"a node without a label at {patch.get_extents()}"
        nodes.append((patch, max(inside, key=lambda t: t.get_fontsize()).get_text()))
    return nodes


def on_shape(patch, point, slack):
    """Whether a data point lies inside the patch's outline grown by slack."""
    px, py = point
    if isinstance(patch, Circle):
        (cx, cy), r = patch.center, patch.radius
        return (px - cx) ** 2 + (py - cy) ** 2 <= (r + slack) ** 2
    x, y, w, h = patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()
    return x - slack <= px <= x + w + slack and y - slack <= py <= y + h + slack


def shaft(arrow):
    """The points of an arrow's line, sampled along its Bezier curves, ending at the head's tip.

    The line of a thick arrow stops short of its head, so the last point is the tip: the
    vertex of the head farthest from the start.
    """
    path = arrow.get_path()
    first = path.codes[1:].tolist().index(Path.MOVETO) + 1  # the head starts a new sub-path
    line = Path(path.vertices[:first], path.codes[:first])
    points = np.concatenate([curve(np.linspace(0, 1, 25)) for curve, _ in line.iter_bezier()])
    head = path.vertices[first:][path.codes[first:] != Path.CLOSEPOLY]
    tip = head[np.argmax(np.linalg.norm(head - points[0], axis=1))]
    return np.vstack([points, tip])


def graph(fig):
    """The nodes, and every arrow as (index of its source node, index of its target, arrow)."""
    ax = fig.axes[0]
    fig.canvas.draw()  # arrows compute their paths when drawn
    nodes = shapes(ax)
    edges = []
    for arrow in ax.patches:
        if not isinstance(arrow, FancyArrowPatch):
            continue
        points = shaft(arrow)
        ends = []
        for point in (points[0], points[-1]):
            hits = [k for k, (patch, _) in enumerate(nodes) if on_shape(patch, point, SLACK)]
            assert len(hits) == 1, f"an arrow end at {point} is on {len(hits)} nodes"
            ends.append(hits[0])
        edges.append((*ends, arrow))
    return nodes, edges


def expressions(fig):
    """For every named node, the expressions of what its arrows bring in (sorted)."""
    nodes, edges = graph(fig)
    sources = {k: sorted(a for a, b, _ in edges if b == k) for k in range(len(nodes))}

    def expression(k):
        name = nodes[k][1]
        if name not in OPS:
            return name
        return OPS[name] + "(" + ", ".join(sorted(expression(j) for j in sources[k])) + ")"

    named = {}
    for k, (_, name) in enumerate(nodes):
        if name not in OPS:
            assert name not in named, f"{name} is drawn twice"
            named[name] = sorted(expression(j) for j in sources[k])
    return named


@pytest.fixture(scope="module")
def lstm():
    fig = lstm_cell()
    yield fig
    plt.close(fig)


@pytest.fixture(scope="module")
def gru():
    fig = gru_cell()
    yield fig
    plt.close(fig)


A_T = "$a_t = x_t W_x + h_{t-1} W_h + b$"
A_H, A_X = "$h_{t-1} W_h + b_h$", "$x_t W_x + b_x$"


def test_lstm_names_every_gate_product_and_state_once(lstm):
    found = labels(lstm)
    for name in ("$c_{t-1}$", "$c_t$", "$h_{t-1}$", "$h_t$", "$x_t$", A_T):
        assert found[name] == 1, name
    # the four gates, each with its block of a_t in PyTorch's order i, f, g, o
    for k, (name, function) in enumerate(
        (("i", r"\sigma"), ("f", r"\sigma"), ("g", r"\tanh"), ("o", r"\sigma")), start=1
    ):
        assert found[f"${name}_t$"] == 1, name
        assert found[rf"${function}(a_t^{{({k})}})$"] == 1, name
    # three element-wise products (f * c, i * g, o * tanh c), one sum, one tanh of c_t
    assert found[r"$\odot$"] == 3 and found["$+$"] == 1 and found[r"$\tanh$"] == 1


def test_lstm_arrows_connect_what_the_equations_connect(lstm):
    named = expressions(lstm)
    assert named["$c_t$"] == ["+(*($c_{t-1}$, $f_t$), *($g_t$, $i_t$))"]  # c_t
    assert named["$h_t$"] == ["*($o_t$, tanh($c_t$))"]  # h_t = o_t * tanh(c_t)
    for gate in ("$f_t$", "$i_t$", "$g_t$", "$o_t$"):
        assert named[gate] == [A_T], gate
    assert named[A_T] == ["$h_{t-1}$", "$x_t$"]
    assert named["$c_{t-1}$"] == named["$h_{t-1}$"] == named["$x_t$"] == []  # the inputs


def test_lstm_cell_state_path_is_the_thick_line_with_no_matrix_product(lstm):
    nodes, edges = graph(lstm)
    thick = [(nodes[a][1], nodes[b][1]) for a, b, arrow in edges if arrow.get_linewidth() > 2]
    assert thick == [("$c_{t-1}$", r"$\odot$"), (r"$\odot$", "$+$"), ("$+$", "$c_t$")]
    assert {to_hex(arrow.get_edgecolor()) for *_, arrow in edges if arrow.get_linewidth() > 2} == {
        to_hex(COLORS["primary"])
    }


def test_gru_names_every_gate_product_and_state_once(gru):
    found = labels(gru)
    for name in ("$h_{t-1}$", "$h_t$", "$x_t$", "$r_t$", "$z_t$", "$n_t$", A_H, A_X):
        assert found[name] == 1, name
    assert found[r"$\sigma$"] == 2 and found[r"$\tanh$"] == 1
    # products: r * (h W_h^(n) + b_h^(n)), z * h_{t-1}, (1 - z) * n; sums: candidate, state
    assert found[r"$\odot$"] == 3 and found["$+$"] == 2 and found["$1-$"] == 1
    assert found["$(r)$"] == found["$(z)$"] == found["$(n)$"] == 2  # the blocks, per box


def test_gru_arrows_connect_what_the_equations_connect(gru):
    named = expressions(gru)
    # h_t = (1 - z_t) * n_t + z_t * h_{t-1}: z multiplies the old state
    assert named["$h_t$"] == ["+(*($h_{t-1}$, $z_t$), *($n_t$, 1-($z_t$)))"]
    # n_t = tanh(x W_x^(n) + b_x^(n) + r * (h W_h^(n) + b_h^(n))): the reset after W_h
    assert named["$n_t$"] == [f"+({A_X}, *({A_H}, $r_t$))"]  # tanh is in n_t's box
    assert named["$r_t$"] == named["$z_t$"] == [A_H, A_X]
    assert named[A_H] == ["$h_{t-1}$"] and named[A_X] == ["$x_t$"]
    assert named["$h_{t-1}$"] == named["$x_t$"] == []


def test_gru_block_labels_sit_on_the_arrows_that_carry_the_block(gru):
    nodes, edges = graph(gru)
    ax = gru.axes[0]
    block_of = {"$r_t$": "$(r)$", "$z_t$": "$(z)$", r"$\odot$": "$(n)$", "$+$": "$(n)$"}
    for text in ax.texts:
        if text.get_text() not in ("$(r)$", "$(z)$", "$(n)$"):
            continue
        position = np.array(text.get_position())
        a, b, _ = min(edges, key=lambda e: np.min(np.linalg.norm(shaft(e[2]) - position, axis=1)))
        assert nodes[a][1] in (A_H, A_X), text.get_text()
        assert block_of[nodes[b][1]] == text.get_text(), (nodes[a][1], nodes[b][1])


def test_gru_state_path_is_the_thick_line(gru):
    nodes, edges = graph(gru)
    thick = [(nodes[a][1], nodes[b][1]) for a, b, arrow in edges if arrow.get_linewidth() > 2]
    assert thick == [("$h_{t-1}$", r"$\odot$"), (r"$\odot$", "$+$"), ("$+$", "$h_t$")]


@pytest.mark.parametrize("draw", [lstm_cell, gru_cell])
def test_gated_cell_texts_neither_overlap_nor_are_crossed_nor_clipped(draw):
    fig = draw()
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        ax = fig.axes[0]
        texts = [t for t in (*ax.texts, ax.title) if t.get_text()]  # axes are hidden
        boxes = [t.get_window_extent(renderer) for t in texts]
        for k, first in enumerate(boxes):
            assert fig.bbox.contains(first.x0, first.y0) and fig.bbox.contains(
                first.x1, first.y1
            ), texts[k].get_text()
            for j in range(k):
                assert not first.overlaps(boxes[j]), (texts[k].get_text(), texts[j].get_text())
        for arrow in ax.patches:
            if isinstance(arrow, FancyArrowPatch):
                points = ax.transData.transform(shaft(arrow))
                for text, box in zip(texts, boxes, strict=True):
                    inside = (
                        (points[:, 0] > box.x0 + 1)
                        & (points[:, 0] < box.x1 - 1)
                        & (points[:, 1] > box.y0 + 1)
                        & (points[:, 1] < box.y1 - 1)
                    )
                    assert not inside.any(), f"an arrow crosses {text.get_text()}"
        # nodes do not touch one another
        nodes = shapes(ax)
        extents = [patch.get_window_extent(renderer) for patch, _ in nodes]
        for k, first in enumerate(extents):
            for j in range(k):
                assert not first.overlaps(extents[j]), (nodes[k][1], nodes[j][1])
    finally:
        plt.close(fig)


@pytest.mark.parametrize("draw", [lstm_cell, gru_cell])
def test_gated_cells_are_drawn_the_same_every_time(draw):
    first, second = draw(), draw()
    try:
        for fig in (first, second):
            fig.canvas.draw()
        assert np.array_equal(
            np.asarray(first.canvas.buffer_rgba()), np.asarray(second.canvas.buffer_rgba())
        )
    finally:
        plt.close(first)
        plt.close(second)


@pytest.mark.parametrize("draw", [lstm_cell, gru_cell])
def test_gated_cell_title_is_optional_and_checked(draw, tmp_path):
    fig = draw(title=False)
    try:
        assert fig.axes[0].get_title() == ""
        fig.savefig(tmp_path / "cell.png")
        assert (tmp_path / "cell.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="^title must"):
        draw(title="yes")
