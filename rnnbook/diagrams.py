"""Diagrams of networks drawn with matplotlib (introduced in the chapter "The vanilla RNN cell").

:func:`unrolled_rnn` draws the rolled vanilla RNN (one cell whose state loops back through
``W_h``) next to the same network unrolled over ``T`` steps, in the course notation: inputs
``x_t`` enter through ``W_x``, the cell adds ``b`` and applies ``phi``, the state ``h_t`` goes on
to the next step through ``W_h`` and to the output ``y_hat_t`` through ``W_o``. Every step carries
the same weight names, because every step uses the same weights.

:func:`bptt_graph` (introduced in the chapter "Backpropagation through time") draws the unrolled
network as a computational graph with both flows: the forward pass, the error signals
``delta_t`` carried backwards through ``W_h^T``, and the gradient terms of every step collected
into the one shared copy of the weights.

:func:`lstm_cell` and :func:`gru_cell` (introduced in the chapter "Gated cells: LSTM and GRU")
draw one step of each gated cell as its equations: every gate, every element-wise product and
sum, and the path of the state (the LSTM's cell state, the GRU's hidden state) drawn thick.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from rnnbook.checks import positive_int
from rnnbook.plotting import COLORS, new_figure

MAX_STEPS = 8  # beyond this the unrolled row is too wide to read on a page

_CELL_W, _CELL_H = 1.1, 0.8  # cell box
_NODE_R = 0.28  # radius of a state node
_STEP = 3.0  # horizontal distance from one step to the next
_Y_IN, _Y_CELL, _Y_OUT = 0.0, 1.6, 3.2  # rows of inputs, cells and outputs


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], **kwargs) -> None:
    style = {"arrowstyle": "-|>", "mutation_scale": 12, "linewidth": 1.3, "color": "black"}
    ax.add_patch(FancyArrowPatch(start, end, shrinkA=0, shrinkB=0, **{**style, **kwargs}))


def _weight(ax: Axes, x: float, y: float, name: str, color: str, **kwargs) -> None:
    ax.text(x, y, name, color=color, fontsize=10, ha="center", va="center", **kwargs)


def _cell(ax: Axes, x: float, y: float) -> None:
    """A cell centred at (x, y): it adds b and applies phi."""
    ax.add_patch(
        FancyBboxPatch(
            (x - _CELL_W / 2, y - _CELL_H / 2),
            _CELL_W,
            _CELL_H,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor="#e8eef7",
            edgecolor=COLORS["primary"],
            linewidth=1.5,
        )
    )
    ax.text(x, y + 0.13, r"$\phi$", fontsize=13, ha="center", va="center")
    ax.text(x, y - 0.2, "$b$", fontsize=9, ha="center", va="center", color=COLORS["neutral"])


def _node(ax: Axes, x: float, y: float, label: str, color: str) -> None:
    """A round node (a state) centred at (x, y)."""
    ax.add_patch(Circle((x, y), _NODE_R, facecolor="white", edgecolor=color, linewidth=1.5))
    ax.text(x, y, label, fontsize=10, ha="center", va="center")


def _step(ax: Axes, x: float, t: str) -> None:
    """Input, cell, state and output of step ``t`` (a label such as "1" or "t"), cell at x."""
    x_state = x + _STEP / 2
    ax.text(x, _Y_IN, f"$x_{{{t}}}$", fontsize=11, ha="center", va="center")
    _arrow(ax, (x, _Y_IN + 0.25), (x, _Y_CELL - _CELL_H / 2))
    _weight(ax, x - 0.3, (_Y_IN + _Y_CELL - _CELL_H / 2) / 2, "$W_x$", COLORS["primary"])
    _cell(ax, x, _Y_CELL)
    _node(ax, x_state, _Y_CELL, f"$h_{{{t}}}$", COLORS["secondary"])
    _arrow(ax, (x + _CELL_W / 2, _Y_CELL), (x_state - _NODE_R, _Y_CELL))
    ax.text(x_state, _Y_OUT, rf"$\hat y_{{{t}}}$", fontsize=11, ha="center", va="center")
    _arrow(ax, (x_state, _Y_CELL + _NODE_R), (x_state, _Y_OUT - 0.25))
    _weight(ax, x_state + 0.32, (_Y_CELL + _Y_OUT) / 2, "$W_o$", COLORS["tertiary"])


def unrolled_rnn(T: int = 3, *, title: bool = True) -> Figure:
    """The rolled vanilla RNN (left) and the same network unrolled over ``T`` steps (right).

    ``T`` is an int from 1 to 8. Every step is labelled ``x_t``, ``h_t`` and ``y_hat_t`` and
    carries the shared weights ``W_x``, ``W_h``, ``b`` and ``W_o``; the unrolled row starts
    from the initial state ``h_0``. With ``title`` the axes get a one-line title. Returns the
    figure (drawn with matplotlib only; nothing is read or downloaded).
    """
    T = positive_int("T", T)
    if T > MAX_STEPS:
        raise ValueError(f"T must be at most {MAX_STEPS} steps to fit on a page, got {T}")
    if not isinstance(title, bool):
        raise ValueError(f"title must be True or False, got {title!r}")

    x_equals = _STEP / 2 + 1.3  # where "=" stands, between the two drawings
    x_h0 = x_equals + 1.0  # the initial state of the unrolled row
    x_first = x_h0 + _STEP / 2  # the first unrolled cell
    right = x_first + (T - 1) * _STEP + _STEP / 2 + 0.5
    fig, (ax,) = new_figure(1, width=max(6.4, 0.5 + 0.55 * (right + 0.7)), height=2.6)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-0.7, right)
    ax.set_ylim(-0.85, 3.6)

    # Rolled: one cell, its state fed back to itself through W_h (one step later).
    x_cell = 0.0
    _step(ax, x_cell, "t")
    x_state = x_cell + _STEP / 2
    _arrow(
        ax,
        (x_state, _Y_CELL - _NODE_R),
        (x_cell + 0.3, _Y_CELL - _CELL_H / 2),
        connectionstyle="arc3,rad=-1.1",
        color=COLORS["secondary"],
    )
    _weight(ax, (x_cell + x_state) / 2 + 0.2, _Y_CELL - 1.2, "$W_h$", COLORS["secondary"])
    ax.text(x_state / 2, -0.7, "rolled", fontsize=9, ha="center", color=COLORS["neutral"])

    ax.text(x_equals, _Y_CELL, "$=$", fontsize=20, ha="center", va="center")

    # Unrolled: h_0, then one copy of the same cell per step.
    _node(ax, x_h0, _Y_CELL, "$h_{0}$", COLORS["secondary"])
    for step in range(1, T + 1):
        x = x_first + (step - 1) * _STEP
        x_prev_state = x - _STEP / 2
        _arrow(
            ax,
            (x_prev_state + _NODE_R, _Y_CELL),
            (x - _CELL_W / 2, _Y_CELL),
            color=COLORS["secondary"],
        )
        arrow_middle = (x_prev_state + _NODE_R + x - _CELL_W / 2) / 2
        _weight(ax, arrow_middle, _Y_CELL + 0.3, "$W_h$", COLORS["secondary"])
        _step(ax, x, str(step))
    ax.text(
        (x_h0 + right) / 2,
        -0.7,
        f"unrolled over T = {T} step{'s' if T > 1 else ''}: the same weights at every step",
        fontsize=9,
        ha="center",
        color=COLORS["neutral"],
    )
    if title:
        ax.set_title(
            r"Vanilla RNN: $h_t = \phi(x_t W_x + h_{t-1} W_h + b)$, $\hat y_t = h_t W_o + b_o$"
        )
    return fig


_Y_LOSS = 3.3  # row of the losses in the backward-flow drawing
_Y_SHARED = -1.0  # row of the shared-parameter box


def bptt_graph(T: int = 3, *, losses: str = "every", title: bool = True) -> Figure:
    """The unrolled RNN as a computational graph, with the forward and the backward flow.

    Introduced in the chapter "Backpropagation through time". Black arrows: the forward pass,
    ``h_{t-1}`` and ``x_t`` into the cell of step ``t`` (which forms ``a_t`` and applies ``phi``),
    ``h_t`` to the next step and, through the output layer, to the loss ``L_t``. Red dashed
    arrows: the backward pass, the direct gradient ``dL_t/dh_t`` from the loss down to ``h_t``,
    the gradient ``delta_t W_h^T`` carried from the cell of step ``t`` back to ``h_{t-1}``, and
    the error signal ``delta_t`` of every cell. Green dotted arrows: every step adds its terms to
    the gradients of the one shared copy of ``W_x``, ``W_h`` and ``b``.

    ``T`` is an int from 1 to 8; ``losses`` is ``"every"`` (a loss on every step) or ``"last"``
    (on the last step only); ``title`` adds a one-line title. Returns the figure.
    """
    T = positive_int("T", T)
    if T > MAX_STEPS:
        raise ValueError(f"T must be at most {MAX_STEPS} steps to fit on a page, got {T}")
    if losses not in ("every", "last"):
        raise ValueError(f"losses must be 'every' or 'last', got {losses!r}")
    if not isinstance(title, bool):
        raise ValueError(f"title must be True or False, got {title!r}")

    back, shared = COLORS["secondary"], COLORS["tertiary"]
    box_w = max(T * _STEP - 0.8, 5.6)  # wide enough for its text when T is small
    box_x = T * _STEP / 2 + 0.1 - box_w / 2
    left, right = min(-1.0, box_x - 0.3), max(T * _STEP + 1.2, box_x + box_w + 0.3)
    fig, (ax,) = new_figure(1, width=max(6.4, 0.75 * (right - left + 0.6)), height=4.6)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(left, right)
    ax.set_ylim(_Y_SHARED - 0.75, _Y_LOSS + 0.6)

    _node(ax, 0.0, _Y_CELL, "$h_{0}$", COLORS["secondary"])
    for step in range(1, T + 1):
        x = (step - 0.5) * _STEP  # the cell of this step
        x_prev, x_state = x - _STEP / 2, x + _STEP / 2
        # forward: h_{t-1} and x_t into the cell, the cell to h_t
        _arrow(ax, (x_prev + _NODE_R, _Y_CELL + 0.1), (x - _CELL_W / 2, _Y_CELL + 0.1))
        ax.text(x - 0.6, 0.15, f"$x_{{{step}}}$", fontsize=11, ha="center", va="center")
        _arrow(ax, (x - 0.52, 0.4), (x - 0.3, _Y_CELL - _CELL_H / 2))
        _cell(ax, x, _Y_CELL)
        _node(ax, x_state, _Y_CELL, f"$h_{{{step}}}$", COLORS["secondary"])
        _arrow(ax, (x + _CELL_W / 2, _Y_CELL + 0.1), (x_state - _NODE_R, _Y_CELL + 0.1))
        # backward: delta_t at the cell, carried to h_{t-1} through W_h^T
        ax.text(
            x,
            _Y_CELL + 0.62,
            rf"$\delta_{{{step}}}$",
            color=back,
            fontsize=11,
            ha="center",
            va="center",
        )
        _arrow(
            ax,
            (x - _CELL_W / 2, _Y_CELL - 0.18),
            (x_prev + _NODE_R, _Y_CELL - 0.18),
            color=back,
            linestyle="--",
        )
        ax.text(
            (x_prev + x) / 2 - 0.1,
            _Y_CELL - 0.45,
            rf"$\delta_{{{step}}} W_h^\top$",
            color=back,
            fontsize=8,
            zorder=5,
            ha="center",
            va="center",
        )
        # the loss of this step, and its direct gradient
        if losses == "every" or step == T:
            ax.text(x_state, _Y_LOSS, f"$L_{{{step}}}$", fontsize=11, ha="center", va="center")
            _arrow(ax, (x_state - 0.08, _Y_CELL + _NODE_R), (x_state - 0.08, _Y_LOSS - 0.25))
            _arrow(
                ax,
                (x_state + 0.12, _Y_LOSS - 0.25),
                (x_state + 0.12, _Y_CELL + _NODE_R),
                color=back,
                linestyle="--",
            )
            ax.text(
                x_state + 0.2,
                (_Y_CELL + _Y_LOSS) / 2 + 0.1,
                rf"$\partial L_{{{step}}} / \partial h_{{{step}}}$",
                color=back,
                fontsize=8,
                ha="left",
                va="center",
            )
        # the gradient terms of this step go to the one shared copy of the weights
        _arrow(
            ax,
            (x + 0.3, _Y_CELL - _CELL_H / 2),
            (x + 0.3, _Y_SHARED + 0.3),
            color=shared,
            linestyle=":",
        )
    ax.add_patch(
        FancyBboxPatch(
            (box_x, _Y_SHARED - 0.3),
            box_w,
            0.6,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor="#eaf5ec",
            edgecolor=shared,
            linewidth=1.3,
        )
    )
    ax.text(
        box_x + box_w / 2,
        _Y_SHARED,
        r"one shared $W_x$, $W_h$, $b$: $\partial L / \partial W_h = "
        r"\sum_t h_{t-1}^\top \delta_t$",
        color=shared,
        fontsize=9,
        ha="center",
        va="center",
    )
    if title:
        ax.set_title(
            "Forward (black) and backward (red) through time; "
            + ("a loss at every step" if losses == "every" else "a loss at the last step")
        )
    return fig


# Gated cells (introduced in the chapter "Gated cells: LSTM and GRU"). Every quantity is a node
# (a state, a gate, a product box or an element-wise operation) and every arrow runs from the
# boundary of one node to the boundary of another, so that what the arrows connect can be read
# back from the figure.

_STATE_R = 0.36  # radius of a state node (h_{t-1}, c_t, x_t, ...)
_OP_R = 0.21  # radius of an element-wise operation (a product or a sum)
_GATE_W, _GATE_H = 1.15, 0.78  # a gate box
_PRODUCT_H = 0.5  # a box of matrix products


class _Node:
    """A drawn node: its centre and its shape, a circle of radius r or a box w by h."""

    def __init__(self, x: float, y: float, *, r: float = 0.0, w: float = 0.0, h: float = 0.0):
        self.x, self.y, self.r, self.w, self.h = x, y, r, w, h

    def boundary(self, toward: tuple[float, float]) -> tuple[float, float]:
        """The point of the boundary on the ray from the centre toward a point."""
        dx, dy = toward[0] - self.x, toward[1] - self.y
        if self.r:
            norm = (dx * dx + dy * dy) ** 0.5
            return (self.x + self.r * dx / norm, self.y + self.r * dy / norm)
        scale = min(
            self.w / 2 / abs(dx) if dx else float("inf"),
            self.h / 2 / abs(dy) if dy else float("inf"),
        )
        return (self.x + scale * dx, self.y + scale * dy)


def _state_node(ax: Axes, x: float, y: float, label: str, color: str) -> _Node:
    ax.add_patch(Circle((x, y), _STATE_R, facecolor="white", edgecolor=color, linewidth=1.5))
    ax.text(x, y, label, fontsize=11, ha="center", va="center")
    return _Node(x, y, r=_STATE_R)


def _op_node(ax: Axes, x: float, y: float, symbol: str, color: str) -> _Node:
    """An element-wise operation: symbol is "$\\odot$" (product), "$+$" or "$1-$"."""
    wide = symbol == "$1-$"
    radius = 1.35 * _OP_R if wide else _OP_R
    ax.add_patch(Circle((x, y), radius, facecolor="#fff7e0", edgecolor=color, linewidth=1.4))
    ax.text(x, y, symbol, fontsize=10 if wide else 12, ha="center", va="center")
    return _Node(x, y, r=radius)


def _box_node(
    ax: Axes,
    x: float,
    y: float,
    label: str,
    *,
    detail: str = "",
    w: float = _GATE_W,
    h: float = _GATE_H,
    color: str = COLORS["primary"],
    face: str = "#e8eef7",
) -> _Node:
    """A gate (label, and the function that computes it as detail) or a box of products."""
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.1",
            facecolor=face,
            edgecolor=color,
            linewidth=1.4,
        )
    )
    if detail:
        ax.text(x, y + 0.15, label, fontsize=12, ha="center", va="center")
        ax.text(x, y - 0.2, detail, fontsize=8, ha="center", va="center", color="#333333")
    else:
        ax.text(x, y, label, fontsize=10, ha="center", va="center")
    return _Node(x, y, w=w, h=h)


def _link(
    ax: Axes,
    a: _Node,
    b: _Node,
    *,
    start: tuple[float, float] | None = None,
    end: tuple[float, float] | None = None,
    **kwargs,
) -> None:
    """An arrow from node a to node b, boundary to boundary (or from/to the given points)."""
    start = start or a.boundary(end or (b.x, b.y))
    end = end or b.boundary(start)
    _arrow(ax, start, end, **kwargs)


def _check_title(title: object) -> None:
    if not isinstance(title, bool):
        raise ValueError(f"title must be True or False, got {title!r}")


def _state_path(
    ax: Axes, y: float, ends: tuple[str, str], xs: tuple[float, float, float], color: str
) -> tuple[_Node, _Node, _Node, _Node]:
    """The nodes of a gated cell's state path at height ``y``: the previous state (at x = 0), a
    product and a sum (at ``xs[0]``, ``xs[1]``), and the new state (at ``xs[2]``)."""
    return (
        _state_node(ax, 0.0, y, f"${ends[0]}$", color),
        _op_node(ax, xs[0], y, r"$\odot$", color),
        _op_node(ax, xs[1], y, "$+$", color),
        _state_node(ax, xs[2], y, f"${ends[1]}$", color),
    )


def _cell_figure(right: float, top: float) -> tuple[Figure, Axes]:
    """Bare axes of equal scales, x from -0.6 to ``right``, y from -1.35 to ``top``."""
    fig, (ax,) = new_figure(1, width=6.8, height=4.3)
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-0.6, right)
    ax.set_ylim(-1.35, top)
    return fig, ax


def lstm_cell(*, title: bool = True) -> Figure:
    """One step of the LSTM cell, drawn as the equations of the chapter "Gated cells".

    The pre-activation ``a_t = x_t W_x + h_{t-1} W_h + b`` feeds four gate boxes, each showing
    the gate and the function of its block of ``a_t`` (``i_t = sigma(a_t^(1))``,
    ``f_t = sigma(a_t^(2))``, ``g_t = tanh(a_t^(3))``, ``o_t = sigma(a_t^(4))``, PyTorch's block
    order), drawn left to right in the order in which they act: f, i, g, o. Along the top runs
    the cell-state path (thick, blue): ``c_{t-1}`` is multiplied element-wise by ``f_t``, then
    ``i_t * g_t`` is added, giving ``c_t`` with no matrix product on the way. On the right,
    ``h_t = o_t * tanh(c_t)``. With ``title`` the axes get a one-line title. Returns the figure.
    """
    _check_title(title)
    cell, gate, hidden = COLORS["primary"], COLORS["neutral"], COLORS["secondary"]
    fig, ax = _cell_figure(right=9.0, top=4.45)

    y_c, y_ig, y_gate, y_a = 3.9, 2.95, 1.85, 0.45
    c_prev, forget, add, c_t = _state_path(ax, y_c, ("c_{t-1}", "c_t"), (1.8, 4.3, 8.3), cell)
    gates = {
        name: _box_node(ax, x, y_gate, f"${name}_t$", detail=detail, color=gate, face=face)
        for name, x, detail, face in (
            ("f", 1.8, r"$\sigma(a_t^{(2)})$", "#eef1f4"),
            ("i", 3.5, r"$\sigma(a_t^{(1)})$", "#eef1f4"),
            ("g", 5.1, r"$\tanh(a_t^{(3)})$", "#e8eef7"),
            ("o", 6.8, r"$\sigma(a_t^{(4)})$", "#eef1f4"),
        )
    }
    write = _op_node(ax, 4.3, y_ig, r"$\odot$", cell)
    squash = _box_node(ax, 8.3, y_ig, r"$\tanh$", w=0.8, h=0.44, color=hidden, face="#fbeaec")
    show = _op_node(ax, 8.3, y_gate, r"$\odot$", hidden)
    h_t = _state_node(ax, 8.3, y_a, "$h_t$", hidden)
    a_t = _box_node(
        ax,
        4.3,
        y_a,
        "$a_t = x_t W_x + h_{t-1} W_h + b$",
        w=6.0,
        h=_PRODUCT_H,
        color=gate,
        face="white",
    )
    h_prev = _state_node(ax, 0.0, y_a, "$h_{t-1}$", hidden)
    x_t = _state_node(ax, 4.3, -0.85, "$x_t$", gate)

    # the cell-state path: c_{t-1} -> (times f_t) -> (plus i_t * g_t) -> c_t
    thick = {"color": cell, "linewidth": 2.6, "mutation_scale": 15}
    _link(ax, c_prev, forget, **thick)
    _link(ax, forget, add, **thick)
    _link(ax, add, c_t, **thick)
    # the gates and what they multiply
    _link(ax, gates["f"], forget)
    _link(ax, gates["i"], write)
    _link(ax, gates["g"], write)
    _link(ax, write, add)
    # the hidden state: h_t = o_t * tanh(c_t)
    _link(ax, c_t, squash, color=hidden)
    _link(ax, squash, show, color=hidden)
    _link(ax, gates["o"], show)
    _link(ax, show, h_t, color=hidden)
    # the inputs, and the pre-activation of the four gates
    _link(ax, h_prev, a_t, color=hidden)
    _link(ax, x_t, a_t)
    for node in gates.values():
        _link(ax, a_t, node, start=(node.x, y_a + _PRODUCT_H / 2))
    if title:
        ax.set_title(
            r"LSTM: $c_t = f_t \odot c_{t-1} + i_t \odot g_t$, $h_t = o_t \odot \tanh(c_t)$"
        )
    return fig


def gru_cell(*, title: bool = True) -> Figure:
    """One step of the GRU cell, drawn as the equations of the chapter "Gated cells".

    Two boxes hold the products ``h_{t-1} W_h + b_h`` and ``x_t W_x + b_x``, each with the three
    blocks r, z, n (PyTorch's order); every arrow leaving them is labelled with its block. The
    gates ``r_t`` and ``z_t`` apply sigma to the sum of their blocks. The candidate follows
    PyTorch's placement of the reset gate: ``r_t`` multiplies ``h_{t-1} W_h^(n) + b_h^(n)``
    element-wise, the block ``x_t W_x^(n) + b_x^(n)`` is added, and tanh gives ``n_t``. Along the
    top (thick, red) the state is interpolated: ``z_t * h_{t-1}`` plus ``(1 - z_t) * n_t`` gives
    ``h_t``. With ``title`` the axes get a one-line title. Returns the figure.
    """
    _check_title(title)
    state, gate = COLORS["secondary"], COLORS["neutral"]
    products = gate
    fig, ax = _cell_figure(right=9.4, top=4.85)

    y_h, y_z, y_n, y_x = 4.4, 3.25, 2.0, 0.6
    h_prev, keep, add, h_t = _state_path(ax, y_h, ("h_{t-1}", "h_t"), (4.9, 7.7, 8.9), state)
    Ah = _box_node(
        ax, 1.6, y_z, "$h_{t-1} W_h + b_h$", w=2.4, h=_PRODUCT_H, color=products, face="white"
    )
    z = _box_node(ax, 4.9, y_z, "$z_t$", detail=r"$\sigma$", color=gate, face="#eef1f4")
    flip = _op_node(ax, 6.3, y_z, "$1-$", state)
    write = _op_node(ax, 7.7, y_z, r"$\odot$", state)
    r = _box_node(ax, 1.2, y_n, "$r_t$", detail=r"$\sigma$", color=gate, face="#eef1f4")
    reset = _op_node(ax, 2.9, y_n, r"$\odot$", gate)
    add_n = _op_node(ax, 6.3, y_n, "$+$", gate)
    n = _box_node(ax, 7.7, y_n, "$n_t$", detail=r"$\tanh$", color=gate, face="#e8eef7")
    Ax = _box_node(
        ax, 3.9, y_x, "$x_t W_x + b_x$", w=2.8, h=_PRODUCT_H, color=products, face="white"
    )
    x_t = _state_node(ax, 3.9, -0.75, "$x_t$", gate)

    # the state path: h_t = z_t * h_{t-1} + (1 - z_t) * n_t
    thick = {"color": state, "linewidth": 2.6, "mutation_scale": 15}
    _link(ax, h_prev, keep, **thick)
    _link(ax, keep, add, **thick)
    _link(ax, add, h_t, **thick)
    _link(ax, z, keep)
    _link(ax, z, flip)
    _link(ax, flip, write, color=state)
    _link(ax, n, write)
    _link(ax, write, add, color=state)
    # the candidate: n_t = tanh(x_t W_x^(n) + b_x^(n) + r_t * (h_{t-1} W_h^(n) + b_h^(n)))
    _link(ax, r, reset)
    _link(ax, reset, add_n, color=gate)
    _link(ax, add_n, n, color=gate)
    # the inputs, their products, and the block that each arrow carries
    _link(ax, h_prev, Ah, color=state)
    _link(ax, x_t, Ax)
    block = {"fontsize": 8, "color": products, "ha": "center", "va": "center"}
    _link(ax, Ah, z, color=products)
    ax.text(3.35, y_z + 0.17, "$(z)$", **block)
    _link(ax, Ah, r, start=(r.x, y_z - _PRODUCT_H / 2), color=products)
    ax.text(r.x + 0.25, (y_z + y_n) / 2 + 0.05, "$(r)$", **block)
    _link(ax, Ah, reset, start=(2.5, y_z - _PRODUCT_H / 2), color=products)
    ax.text(2.95, (y_z + y_n) / 2 + 0.15, "$(n)$", **block)
    _link(ax, Ax, r, start=(2.6, y_x + _PRODUCT_H / 2), color=products)
    ax.text(1.8, (y_n + y_x) / 2 - 0.15, "$(r)$", **block)
    _link(ax, Ax, z, start=(z.x, y_x + _PRODUCT_H / 2), color=products)
    ax.text(z.x - 0.25, (y_n + y_x) / 2 - 0.2, "$(z)$", **block)
    _link(ax, Ax, add_n, start=(5.2, y_x + _PRODUCT_H / 2), color=products)
    ax.text(5.95, (y_n + y_x) / 2 - 0.2, "$(n)$", **block)
    if title:
        ax.set_title(
            r"GRU: $h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}$, reset after $W_h^{(n)}$"
        )
    return fig
