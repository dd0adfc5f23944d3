"""Checks of the assignment *cells*: one step of a vanilla RNN cell and of an LSTM cell.

``CHECKS`` maps the grade_id of every graded test cell of ``cells.ipynb`` to its check. A check
treats the student's functions as black boxes (through :class:`autograder.checking.api.Student`),
draws fresh inputs from the generator it is given, and compares the answers with the references
below. The references are independent of the notebook's solution and written differently from it:
products as ``np.einsum`` sums, ``tanh'`` as ``1 / cosh**2``, the logistic function as
``1 / (1 + exp(-z))`` with derivative ``s(z) s(-z)``, and the LSTM's gate blocks addressed by
name. When an answer is wrong, the check compares it with the answers that known mistakes
produce and names the likely cause.

The backward checks run the student's forward function first, under
:func:`~autograder.checking.toolkit.prerequisite` (its cache is the backward pass's input): a
wrong forward pass fails them too, with the forward's diagnosis.

Every check calls the function it grades through
:func:`~autograder.checking.toolkit.call_leaving_inputs`, which fails when the call changed one of
its array arguments (``ARGUMENTS`` names them); a forward pass run for the cache of a
backward check, and a call that must raise, run on copies.

Properties the statement asks for, and the check that grades each ("mistakes": the entries of
``mistakes.py`` that break the property; besides, ``tests/autograder/test_checks.py`` changes
every array argument of every graded function in place, one at a time, and sees a check of that
function fail):

property                             grade_id                         mistakes
-----------------------------------  -------------------------------  ------------------------------
every function: returns what is      every check of the function      -
asked, in the order asked
every function: float64 arrays (not  every check of the function      rnn_forward_float32
float32, not lists)
every function: outputs of the       every check of the function      rnn_forward_relu_np_max
stated shapes                                                         stack_side_by_side
every function: its arguments come   every check of the function      rnn_dh_next_in_place
back unchanged (to RESTORED_ATOL)                                     rnn_dh_next_multiply_out
                                                                      rnn_relu_mask_in_place
                                                                      lstm_dc_next_in_place
every function: NumPy only (no       every check, in the sandbox      -
rnnbook)
rnn_step_forward: h_next = phi(x Wx  rnn_step_forward_tanh_values     rnn_forward_missing_bias
+ h_prev Wh + b)                     rnn_step_forward_relu_values
rnn_step_forward: tanh when          rnn_step_forward_tanh_values     -
activation is left at its default
rnn_step_forward: relu is max(a, 0)  rnn_step_forward_relu_values     rnn_forward_relu_np_max
entry by entry
rnn_step_forward: another            rnn_step_forward_bad_activation  rnn_forward_any_activation
activation raises ValueError naming
it
rnn_step_backward: the five          rnn_step_backward_<output>       rnn_dwh_transposed
gradients, tanh' = 1 - h**2, relu'                                    rnn_dwh_uses_h_next
= [a > 0]                                                             rnn_dh_prev_wh_not_transposed
                                                                      rnn_missing_tanh_derivative
                                                                      rnn_relu_on_upstream_gradient
rnn_step_backward: db is a sum over  rnn_step_backward_db             rnn_db_mean
the batch, not a mean
rnn_step_backward: the cache keeps   rnn_step_backward_<output>       rnn_relu_uses_tanh_derivative
the activation
stack_weights: Wx on top of Wh, (D   stack_weights_values             stack_side_by_side
+ H, H)                                                               stack_wh_on_top
concat_step_forward: phi([x,         concat_step_forward_values       concat_wrong_order
h_prev] W + b), returned alone
concat_step_forward: another         concat_step_forward_values       concat_any_activation
activation raises ValueError naming
it
lstm_step_forward: gate blocks i,    lstm_step_forward_h_next         lstm_gates_i_f_swapped
f, g, o                              lstm_step_forward_c_next
lstm_step_forward: c_next = f        lstm_step_forward_h_next         lstm_h_without_tanh
c_prev + i g, h_next = o             lstm_step_forward_c_next
tanh(c_next)
lstm_step_backward: the six          lstm_step_backward_<output>      lstm_missing_dc_next
gradients, dc from both paths                                         lstm_missing_tanh_c_derivative
lstm_step_backward: dc_prev = dc *   lstm_step_backward_dc_prev       lstm_dc_prev_missing_forget
f
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations
from typing import Any

import numpy as np

from autograder.checking.api import Check, Student
from autograder.checking.toolkit import (
    ACTIVATIONS,
    Arrays,
    Variant,
    activation_derivative,
    averaged,
    call_leaving_inputs,
    compare,
    expect_value_error,
    float_array,
    gradient_checks,
    prerequisite,
    rnn_inputs,
    transposed,
    unpack,
    wrong_sign,
)
from autograder.checking.toolkit import activation as phi

# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------

GATES = ("i", "f", "g", "o")  # PyTorch's order of the LSTM's gate blocks


def _preactivation(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    return np.einsum("nd,dk->nk", x, Wx) + np.einsum("nj,jk->nk", h_prev, Wh)


def reference_rnn_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
) -> Arrays:
    """Pre-activation ``a`` and next state ``h_next`` of one vanilla RNN step."""
    a = _preactivation(x, h_prev, Wx, Wh) + b[np.newaxis, :]
    return {"a": a, "h_next": phi(a, activation)}


def _rnn_gradients(
    x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, da: np.ndarray
) -> Arrays:
    """The gradients of x, h_prev, Wx, Wh and b, given the pre-activation's gradient ``da``."""
    return {
        "dx": np.einsum("nk,dk->nd", da, Wx),
        "dh_prev": np.einsum("nk,jk->nj", da, Wh),
        "dWx": np.einsum("nd,nk->dk", x, da),
        "dWh": np.einsum("nj,nk->jk", h_prev, da),
        "db": np.einsum("nk->k", da),
    }


def reference_rnn_step_backward(
    dh_next: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
) -> Arrays:
    """The five gradients of one vanilla RNN step, given the upstream gradient ``dh_next``."""
    a = reference_rnn_step_forward(x, h_prev, Wx, Wh, b, activation)["a"]
    return _rnn_gradients(x, h_prev, Wx, Wh, dh_next * activation_derivative(a, activation))


def reference_stack_weights(Wx: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    """W = [[Wx], [Wh]], filled block by block."""
    D, H = Wx.shape
    W = np.empty((D + H, H))
    W[:D], W[D:] = Wx, Wh
    return W


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def reference_lstm_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    order: tuple[str, ...] = GATES,
    bias: bool = True,
) -> Arrays:
    """Pre-activations, gates, ``c_next`` and ``h_next`` of one LSTM step.

    ``order`` names the gates of the column blocks of ``a`` and ``bias=False`` leaves b out
    (both model a mistake).
    """
    H = h_prev.shape[1]
    a = _preactivation(x, h_prev, Wx, Wh) + (b[np.newaxis, :] if bias else 0.0)
    z = {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(order)}
    gates = {
        "i": _sigmoid(z["i"]),
        "f": _sigmoid(z["f"]),
        "g": np.tanh(z["g"]),
        "o": _sigmoid(z["o"]),
    }
    c_next = gates["f"] * c_prev + gates["i"] * gates["g"]
    return {
        "a": a,
        **{f"z{name}": value for name, value in z.items()},
        **gates,
        "c_next": c_next,
        "h_next": gates["o"] * np.tanh(c_next),
    }


def reference_lstm_step_backward(
    dh_next: np.ndarray,
    dc_next: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    *,
    forget: bool = True,
    carry: bool = True,
    tanh_c_derivative: bool = True,
    gate_derivatives: bool = True,
    order: tuple[str, ...] = GATES,
) -> Arrays:
    """The six gradients of one LSTM step.

    The keywords switch off one part of the chain rule (or reorder the gate blocks of the
    pre-activation gradient) to model a mistake; the defaults give the right gradients.
    """
    fw = reference_lstm_step_forward(x, h_prev, c_prev, Wx, Wh, b)
    H = h_prev.shape[1]
    tanh_derivative = activation_derivative(fw["c_next"], "tanh") if tanh_c_derivative else 1.0
    dc = (dc_next if carry else 0.0) + dh_next * fw["o"] * tanh_derivative
    d_gate = {
        "i": dc * fw["g"],
        "f": dc * c_prev,
        "g": dc * fw["i"],
        "o": dh_next * np.tanh(fw["c_next"]),
    }
    if gate_derivatives:
        d_z = {
            name: d_gate[name] * (_sigmoid(fw[f"z{name}"]) * _sigmoid(-fw[f"z{name}"]))
            for name in ("i", "f", "o")
        }
        d_z["g"] = d_gate["g"] * activation_derivative(fw["zg"], "tanh")
    else:
        d_z = d_gate
    da = np.empty_like(fw["a"])
    for k, name in enumerate(order):
        da[:, k * H : (k + 1) * H] = d_z[name]
    grads = _rnn_gradients(x, h_prev, Wx, Wh, da)
    grads["dc_prev"] = dc * fw["f"] if forget else dc
    return grads


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

RNN_SHAPES = [(1, 2, 3), (3, 4, 2), (4, 3, 5)]  # (N, D, H): N = 1, D != H, a general case
CONCAT_SHAPES = [(2, 3, 3), (1, 2, 3), (4, 5, 2)]  # D = H first: a swapped order still runs
STACK_SHAPES = [(3, 3), (1, 3), (4, 2), (2, 5)]  # (D, H); square first: side by side still runs
LSTM_SHAPES = [(1, 2, 3), (3, 4, 2), (4, 3, 5)]


def _lstm_inputs(rng: np.random.Generator, N: int, D: int, H: int) -> tuple[np.ndarray, ...]:
    """Random ``(x, h_prev, c_prev, Wx, Wh, b)`` of one LSTM step (four gate blocks)."""
    x, h_prev, Wx, Wh, b = rnn_inputs(rng, N, D, H, gates=len(GATES))
    return x, h_prev, rng.standard_normal((N, H)), Wx, Wh, b


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

CELL_CHAPTER = (
    "compare with the formula in the chapter *The vanilla RNN cell* (chapters/vanilla_rnn_cell.md)"
)
GRADIENTS_CHAPTER = (
    "compare with the formulas in the chapter *Gradients* (chapters/gradients.md): "
    "da = dh_next * phi'(a), dx = da Wx^T, dh_prev = da Wh^T, dWx = x^T da, dWh = h_prev^T da, "
    "db = column sums of da"
)
LSTM_FORWARD_FORMULA = (
    "compare with the LSTM equations in the notebook: a = x Wx + h_prev Wh + b, gate blocks "
    "i, f, g, o (in this order), c_next = f * c_prev + i * g, h_next = o * tanh(c_next)"
)
LSTM_BACKWARD_FORMULA = (
    "compare with the chain rule in the notebook: "
    "dc = dc_next + dh_next * o * (1 - tanh(c_next)**2), then the gate gradients, their "
    "pre-activation derivatives and the products with Wx, Wh"
)
GRADIENTS = {
    "rnn_step_backward": ("dx", "dh_prev", "dWx", "dWh", "db"),
    "lstm_step_backward": ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db"),
}
SHAPE_NAMES = {
    "rnn_step_backward": {
        "dx": "(N, D)",
        "dh_prev": "(N, H)",
        "dWx": "(D, H)",
        "dWh": "(H, H)",
        "db": "(H,)",
    },
    "lstm_step_backward": {
        "dx": "(N, D)",
        "dh_prev": "(N, H)",
        "dc_prev": "(N, H)",
        "dWx": "(D, 4H)",
        "dWh": "(H, 4H)",
        "db": "(4H,)",
    },
}
SHARED = ("dWx", "dWh", "db")  # gradients of parameters shared by the N examples
# The positional parameters of every graded function, as call_leaving_inputs names them; None for
# one it does not compare (a string, a cache).
ARGUMENTS = {
    "rnn_step_forward": ("x", "h_prev", "Wx", "Wh", "b", None),
    "rnn_step_backward": ("dh_next", None),
    "stack_weights": ("Wx", "Wh"),
    "concat_step_forward": ("x", "h_prev", "W", "b", None),
    "lstm_step_forward": ("x", "h_prev", "c_prev", "Wx", "Wh", "b"),
    "lstm_step_backward": ("dh_next", "dc_next", None),
}


def _compare(
    function: str,
    output: str,
    actual: np.ndarray,
    expected: np.ndarray,
    variants: list[Variant],
    fallback: str,
    case: str,
    batch: int | None = None,
) -> None:
    """:func:`compare`, with the mistakes any output can have after the specific ``variants``:
    the wrong sign, a transpose and, for a parameter shared by the ``batch``, a mean over it."""
    generic = [wrong_sign(output, expected), transposed(output, expected)]
    if batch is not None:
        why = "a parameter shared by all N examples receives the sum of their gradients"
        generic.append(averaged(output, expected, "the batch", batch, why))
    compare(function, output, actual, expected, [*variants, *generic], fallback, case)


def _pick(variants: list[tuple[str, Callable[[], Arrays]]], output: str) -> list[Variant]:
    """Variants computing several outputs at once, narrowed to ``output``."""
    return [(cause, lambda thunk=thunk: thunk()[output]) for cause, thunk in variants]


def _check_gradient(
    student: Student,
    function: str,
    output: str,
    upstream: tuple[np.ndarray, ...],
    cache: Any,
    expected: np.ndarray,
    variants: list[Variant],
    fallback: str,
    case: str,
) -> None:
    """Call the student's backward ``function`` and check one of its gradients."""
    names = GRADIENTS[function]
    result = call_leaving_inputs(student, function, ARGUMENTS[function], *upstream, cache)
    result = unpack(function, result, names)
    N = upstream[0].shape[0]
    hints = {(N, *expected.shape): "sum over the batch (axis 0)"} if output == "db" else None
    actual = float_array(
        function,
        output,
        result[names.index(output)],
        expected.shape,
        SHAPE_NAMES[function][output],
        hints,
    )
    batch = N if output in SHARED else None
    _compare(function, output, actual, expected, variants, fallback, case, batch)


# rnn_step_forward --------------------------------------------------------------------------


def _rnn_forward_variants(inputs: tuple[np.ndarray, ...], activation: str) -> list[Variant]:
    x, h_prev, Wx, Wh, b = inputs
    other = "relu" if activation == "tanh" else "tanh"
    a = _preactivation(x, h_prev, Wx, Wh) + b
    return [
        ("the bias b is missing: a = x Wx + h_prev Wh + b", lambda: phi(a - b, activation)),
        (
            f"you applied {other} although activation={activation!r} (read the activation "
            "argument)",
            lambda: phi(a, other),
        ),
        ("the activation is missing: h_next = phi(a), not a", lambda: a),
        (
            "Wh is transposed: use h_prev @ Wh",
            lambda: phi(a - h_prev @ Wh + h_prev @ Wh.T, activation),
        ),
        ("the term h_prev Wh is missing", lambda: phi(a - h_prev @ Wh, activation)),
        ("the term x Wx is missing", lambda: phi(a - x @ Wx, activation)),
    ]


def _rnn_forward_hints(N: int, H: int) -> dict[tuple[int, ...], str]:
    return {
        (H,): "np.max(a, 0) reduces over the batch; ReLU is the element-wise np.maximum(a, 0)",
        (N,): "np.max(a, 1) reduces over the units; ReLU is the element-wise np.maximum(a, 0)",
    }


def _describe_rnn(inputs: tuple[np.ndarray, ...], activation: str) -> str:
    N, D = inputs[0].shape
    return f"N={N}, D={D}, H={inputs[3].shape[0]}, activation={activation!r}"


def _checked_rnn_forward(
    student: Student,
    inputs: tuple[np.ndarray, ...],
    activation: str,
    caller: str | None = None,
    default: bool = False,
) -> Any:
    """Run the student's rnn_step_forward, check h_next, and return the cache; ``caller`` names
    the function whose check runs it for its cache (None: rnn_step_forward is under test)."""
    args = inputs if default else (*inputs, activation)
    names = ARGUMENTS["rnn_step_forward"]
    result = call_leaving_inputs(student, "rnn_step_forward", names, *args, caller=caller)
    N, H = inputs[1].shape
    with prerequisite("rnn_step_forward", caller):
        h_next, cache = unpack("rnn_step_forward", result, ("h_next", "cache"))
        h_next = float_array(
            "rnn_step_forward", "h_next", h_next, (N, H), "(N, H)", _rnn_forward_hints(N, H)
        )
        _compare(
            "rnn_step_forward",
            "h_next",
            h_next,
            reference_rnn_step_forward(*inputs, activation)["h_next"],
            _rnn_forward_variants(inputs, activation),
            CELL_CHAPTER,
            _describe_rnn(inputs, activation)
            + (" (activation left at its default)" if default else ""),
        )
    return cache


def check_rnn_step_forward_tanh_values(student: Student, rng: np.random.Generator) -> None:
    """rnn_step_forward: h_next with tanh (and tanh is the default activation)."""
    for k, (N, D, H) in enumerate(RNN_SHAPES):
        _checked_rnn_forward(student, rnn_inputs(rng, N, D, H, "tanh"), "tanh", default=k == 0)


def check_rnn_step_forward_relu_values(student: Student, rng: np.random.Generator) -> None:
    """rnn_step_forward: h_next with activation='relu'."""
    for N, D, H in RNN_SHAPES:
        _checked_rnn_forward(student, rnn_inputs(rng, N, D, H, "relu"), "relu")


def check_rnn_step_forward_bad_activation(student: Student, rng: np.random.Generator) -> None:
    """rnn_step_forward: any activation other than 'tanh' or 'relu' raises ValueError."""
    inputs = rnn_inputs(rng, 2, 3, 4)
    for bad in ("sigmoid", "linear"):
        expect_value_error(
            student,
            "rnn_step_forward",
            inputs,
            {"activation": bad},
            naming="activation",
            what=f"activation={bad!r}",
            hint="accept only 'tanh' and 'relu'",
        )


# rnn_step_backward -------------------------------------------------------------------------


def _rnn_backward_variants(
    inputs: tuple[np.ndarray, ...], activation: str, dh_next: np.ndarray, output: str
) -> list[Variant]:
    """Known mistakes of the backward pass: their value of ``output``."""
    x, h_prev, Wx, Wh, _ = inputs
    forward = reference_rnn_step_forward(*inputs, activation)
    a, h = forward["a"], forward["h_next"]
    da = dh_next * activation_derivative(a, activation)
    right = _rnn_gradients(x, h_prev, Wx, Wh, da)
    variants: list[tuple[str, Callable[[], Arrays]]] = []
    if activation == "tanh":
        variants.append(
            (
                "tanh'(a) is 1 - tanh(a)**2 = 1 - h_next**2, not 1 - a**2",
                lambda: _rnn_gradients(x, h_prev, Wx, Wh, dh_next * (1 - a**2)),
            )
        )
    else:
        variants += [
            (
                "with activation='relu' you used the tanh derivative 1 - h_next**2; relu'(a) is 1 "
                "where a > 0 and 0 elsewhere (keep the activation in the cache)",
                lambda: _rnn_gradients(x, h_prev, Wx, Wh, dh_next * (1 - h**2)),
            ),
            (
                "relu was applied to the upstream gradient (max(dh_next, 0)); the derivative "
                "multiplies dh_next by the mask a > 0",
                lambda: _rnn_gradients(x, h_prev, Wx, Wh, np.maximum(dh_next, 0.0)),
            ),
        ]
    variants += [
        (
            "the derivative of the activation is missing: da = dh_next * phi'(a), not dh_next",
            lambda: _rnn_gradients(x, h_prev, Wx, Wh, dh_next),
        ),
        ("Wh is not transposed: dh_prev = da Wh^T", lambda: {**right, "dh_prev": da @ Wh}),
        (
            "dWh uses h_next instead of h_prev: dWh = h_prev^T da",
            lambda: {**right, "dWh": h.T @ da},
        ),
        (
            "dWx uses dh_next instead of da = dh_next * phi'(a)",
            lambda: {**right, "dWx": x.T @ dh_next},
        ),
    ]
    return _pick(variants, output)


def _check_rnn_step_backward(student: Student, rng: np.random.Generator, output: str) -> None:
    """rnn_step_backward: ``output`` matches the reference (tanh and relu)."""
    for activation in ACTIVATIONS:
        for N, D, H in RNN_SHAPES:
            inputs = rnn_inputs(rng, N, D, H, activation)
            cache = _checked_rnn_forward(student, inputs, activation, caller="rnn_step_backward")
            dh_next = rng.standard_normal((N, H))
            _check_gradient(
                student,
                "rnn_step_backward",
                output,
                (dh_next,),
                cache,
                reference_rnn_step_backward(dh_next, *inputs, activation)[output],
                _rnn_backward_variants(inputs, activation, dh_next, output),
                GRADIENTS_CHAPTER,
                _describe_rnn(inputs, activation),
            )


# stack_weights and concat_step_forward -----------------------------------------------------


def check_stack_weights_values(student: Student, rng: np.random.Generator) -> None:
    """stack_weights: W = [[Wx], [Wh]] of shape (D + H, H)."""
    for D, H in STACK_SHAPES:
        Wx, Wh = rng.standard_normal((D, H)), rng.standard_normal((H, H))
        hints = {
            (D, 2 * H): "you placed Wx and Wh side by side; stack Wx on top of Wh (along axis 0)",
            (H, D + H): "stack Wx on top of Wh (along axis 0), not side by side or transposed",
        }
        W = float_array(
            "stack_weights",
            "W",
            call_leaving_inputs(student, "stack_weights", ARGUMENTS["stack_weights"], Wx, Wh),
            (D + H, H),
            "(D + H, H)",
            hints,
        )
        wh_on_top = (
            "you put Wh on top of Wx; Wx must come first (rows 0 to D - 1), then Wh",
            lambda Wx=Wx, Wh=Wh: np.concatenate([Wh, Wx]),
        )
        _compare(
            "stack_weights",
            "W",
            W,
            reference_stack_weights(Wx, Wh),
            [wh_on_top],
            f"Wx must fill the first D rows and Wh the last H rows; {CELL_CHAPTER}",
            f"D={D}, H={H}",
        )


def _concat_variants(inputs: tuple[np.ndarray, ...], activation: str) -> list[Variant]:
    x, h_prev, Wx, Wh, b = inputs
    variants = _rnn_forward_variants(inputs, activation)
    if Wx.shape[0] == Wx.shape[1]:  # D = H: [h_prev, x] W runs, and gives the wrong answer
        variants.append(
            (
                "the concatenation is in the wrong order: the rows of W are Wx then Wh, so the "
                "row must be [x, h_prev]",
                lambda: phi(h_prev @ Wx + x @ Wh + b, activation),
            )
        )
    return variants


def check_concat_step_forward_values(student: Student, rng: np.random.Generator) -> None:
    """concat_step_forward: equals the two-matrix form (tanh and relu), and any other activation
    raises ValueError."""
    for activation in ACTIVATIONS:
        for N, D, H in CONCAT_SHAPES:
            inputs = rnn_inputs(rng, N, D, H, activation)
            x, h_prev, Wx, Wh, b = inputs
            W = reference_stack_weights(Wx, Wh)
            names = ARGUMENTS["concat_step_forward"]
            result = call_leaving_inputs(
                student, "concat_step_forward", names, x, h_prev, W, b, activation
            )
            h_next = float_array(
                "concat_step_forward", "h_next", result, (N, H), "(N, H)", _rnn_forward_hints(N, H)
            )
            _compare(
                "concat_step_forward",
                "h_next",
                h_next,
                reference_rnn_step_forward(*inputs, activation)["h_next"],
                _concat_variants(inputs, activation),
                f"h_next = phi([x, h_prev] W + b); {CELL_CHAPTER}",
                _describe_rnn(inputs, activation),
            )
    x, h_prev, Wx, Wh, b = rnn_inputs(rng, 2, 3, 4)
    expect_value_error(
        student,
        "concat_step_forward",
        (x, h_prev, reference_stack_weights(Wx, Wh), b),
        {"activation": "sigmoid"},
        naming="activation",
        what="activation='sigmoid'",
        hint="the activation works as in rnn_step_forward: accept only 'tanh' and 'relu'",
    )


# lstm_step_forward -------------------------------------------------------------------------


def _describe_lstm(inputs: tuple[np.ndarray, ...]) -> str:
    N, D = inputs[0].shape
    return f"N={N}, D={D}, H={inputs[1].shape[1]}"


def _lstm_forward_variants(inputs: tuple[np.ndarray, ...], output: str) -> list[Variant]:
    """Known mistakes of the forward pass: their ``h_next`` or ``c_next`` (``output``)."""
    c_prev = inputs[2]
    fw = reference_lstm_step_forward(*inputs)
    i, f, g, o = fw["i"], fw["f"], fw["g"], fw["o"]

    def cell(c_next: np.ndarray) -> Arrays:
        return {"c_next": c_next, "h_next": o * np.tanh(c_next)}

    wrong_order = [
        (
            f"the gate blocks are in the wrong order: you read the columns of a as "
            f"({', '.join(order)}); the order is i, f, g, o (input, forget, cell candidate, "
            "output), as in PyTorch",
            lambda order=order: reference_lstm_step_forward(*inputs, order=order),
        )
        for order in permutations(GATES)
        if order != GATES
    ]
    variants = [
        *wrong_order,
        (
            "the bias b is missing: a = x Wx + h_prev Wh + b",
            lambda: reference_lstm_step_forward(*inputs, bias=False),
        ),
        (
            "h_next is missing the tanh: h_next = o * tanh(c_next)",
            lambda: {"c_next": fw["c_next"], "h_next": o * fw["c_next"]},
        ),
        (
            "h_next uses c_prev instead of c_next: h_next = o * tanh(c_next)",
            lambda: {"c_next": fw["c_next"], "h_next": o * np.tanh(c_prev)},
        ),
        ("the input gate is missing: c_next = f * c_prev + i * g", lambda: cell(f * c_prev + g)),
        ("the forget gate is missing: c_next = f * c_prev + i * g", lambda: cell(c_prev + i * g)),
        (
            "the cell candidate g must use tanh, not the sigmoid",
            lambda: cell(f * c_prev + i * _sigmoid(fw["zg"])),
        ),
    ]
    return _pick(variants, output)


def _checked_lstm_forward(
    student: Student,
    inputs: tuple[np.ndarray, ...],
    outputs: tuple[str, ...],
    caller: str | None = None,
) -> Any:
    """Run the student's lstm_step_forward, check the named outputs, and return the cache;
    ``caller`` as in :func:`_checked_rnn_forward`."""
    names = ARGUMENTS["lstm_step_forward"]
    result = call_leaving_inputs(student, "lstm_step_forward", names, *inputs, caller=caller)
    N, H = inputs[1].shape
    expected = reference_lstm_step_forward(*inputs)
    with prerequisite("lstm_step_forward", caller):
        h_next, c_next, cache = unpack("lstm_step_forward", result, ("h_next", "c_next", "cache"))
        for output, value in (("h_next", h_next), ("c_next", c_next)):
            if output not in outputs:
                continue
            _compare(
                "lstm_step_forward",
                output,
                float_array("lstm_step_forward", output, value, (N, H), "(N, H)"),
                expected[output],
                _lstm_forward_variants(inputs, output),
                LSTM_FORWARD_FORMULA,
                _describe_lstm(inputs),
            )
    return cache


def check_lstm_step_forward_h_next(student: Student, rng: np.random.Generator) -> None:
    """lstm_step_forward: h_next matches the reference."""
    for N, D, H in LSTM_SHAPES:
        _checked_lstm_forward(student, _lstm_inputs(rng, N, D, H), ("h_next",))


def check_lstm_step_forward_c_next(student: Student, rng: np.random.Generator) -> None:
    """lstm_step_forward: c_next matches the reference."""
    for N, D, H in LSTM_SHAPES:
        _checked_lstm_forward(student, _lstm_inputs(rng, N, D, H), ("c_next",))


# lstm_step_backward ------------------------------------------------------------------------


def _lstm_backward_variants(
    inputs: tuple[np.ndarray, ...], dh_next: np.ndarray, dc_next: np.ndarray, output: str
) -> list[Variant]:
    args = (dh_next, dc_next, *inputs)
    switched_off = {  # the part of the chain rule the mistake leaves out -> its cause
        "forget": "dc_prev is missing the forget-gate factor: dc_prev = dc * f, where dc = "
        "dc_next + dh_next * o * (1 - tanh(c_next)**2)",
        "carry": "the incoming cell gradient dc_next is not added: dc = dc_next + dh_next * o * "
        "(1 - tanh(c_next)**2)",
        "tanh_c_derivative": "dc is missing the derivative of tanh(c_next): dc = dc_next + "
        "dh_next * o * (1 - tanh(c_next)**2)",
        "gate_derivatives": "the gates' own derivatives are missing: multiply by s * (1 - s) for "
        "i, f, o and by 1 - g**2 for g",
    }
    variants = [
        (cause, lambda part=part: reference_lstm_step_backward(*args, **{part: False}))
        for part, cause in switched_off.items()
    ]
    variants += [
        (
            f"the blocks of the gate gradients are in the wrong order ({', '.join(order)}); they "
            "must follow the forward's order i, f, g, o",
            lambda order=order: reference_lstm_step_backward(*args, order=order),
        )
        for order in permutations(GATES)
        if order != GATES
    ]
    return _pick(variants, output)


def _check_lstm_step_backward(student: Student, rng: np.random.Generator, output: str) -> None:
    """lstm_step_backward: ``output`` matches the reference."""
    for N, D, H in LSTM_SHAPES:
        inputs = _lstm_inputs(rng, N, D, H)
        cache = _checked_lstm_forward(
            student, inputs, ("h_next", "c_next"), caller="lstm_step_backward"
        )
        dh_next, dc_next = rng.standard_normal((N, H)), rng.standard_normal((N, H))
        _check_gradient(
            student,
            "lstm_step_backward",
            output,
            (dh_next, dc_next),
            cache,
            reference_lstm_step_backward(dh_next, dc_next, *inputs)[output],
            _lstm_backward_variants(inputs, dh_next, dc_next, output),
            LSTM_BACKWARD_FORMULA,
            _describe_lstm(inputs),
        )


CHECKS: dict[str, Check] = {
    "rnn_step_forward_tanh_values": check_rnn_step_forward_tanh_values,
    "rnn_step_forward_relu_values": check_rnn_step_forward_relu_values,
    "rnn_step_forward_bad_activation": check_rnn_step_forward_bad_activation,
    **gradient_checks(
        "rnn_step_backward", GRADIENTS["rnn_step_backward"], _check_rnn_step_backward
    ),
    "stack_weights_values": check_stack_weights_values,
    "concat_step_forward_values": check_concat_step_forward_values,
    "lstm_step_forward_h_next": check_lstm_step_forward_h_next,
    "lstm_step_forward_c_next": check_lstm_step_forward_c_next,
    **gradient_checks(
        "lstm_step_backward", GRADIENTS["lstm_step_backward"], _check_lstm_step_backward
    ),
}
