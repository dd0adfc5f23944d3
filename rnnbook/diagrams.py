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
