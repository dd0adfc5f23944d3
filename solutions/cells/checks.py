"""Trusted checks of the assignment *cells*: one step of a vanilla RNN cell and of an LSTM cell.

``CHECKS`` maps the grade_id of every graded test cell of ``cells.ipynb`` to its check. A check
treats the student's functions as black boxes (through :class:`autograder.harness.Student`),
draws fresh inputs from the generator it is given, and compares the answers with the references
below. The references are independent of the notebook's solution and written differently from it:
products as ``np.einsum`` sums, ``tanh'`` as ``1 / cosh**2``, the logistic function as
``1 / (1 + exp(-z))`` with derivative ``s(z) s(-z)``, and the LSTM's gate blocks addressed by
name. When an answer is wrong, the check compares it with the answers that known mistakes
produce and names the likely cause.

The backward checks run the student's forward function first (its cache is the backward pass's
input) and stop with the forward's diagnosis when the forward pass is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import permutations
from typing import Any

import numpy as np

from autograder.harness import CheckFailed, Student, StudentRaised

Arrays = dict[str, np.ndarray]
Variants = list[tuple[str, np.ndarray]]

RTOL, ATOL = 1e-7, 1e-9  # a correct float64 answer is within round-off of the reference
MATCH_RTOL, MATCH_ATOL = 1e-6, 1e-8  # "the answer is this known mistake"
RELU_MARGIN = 1e-3  # ReLU pre-activations are kept this far from the kink at 0

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

RNN_SHAPES = [(1, 2, 3), (3, 4, 2), (4, 3, 5)]  # (N, D, H): N = 1, D != H, a general case
CONCAT_SHAPES = [(2, 3, 3), (1, 2, 3), (4, 5, 2)]  # D = H first: a swapped order still runs
STACK_SHAPES = [(3, 3), (1, 3), (4, 2), (2, 5)]  # (D, H); square first: side by side still runs
LSTM_SHAPES = [(1, 2, 3), (3, 4, 2), (4, 3, 5)]
GATES = ("i", "f", "g", "o")  # PyTorch's order of the LSTM's gate blocks
RNN_GRADIENTS = ("dx", "dh_prev", "dWx", "dWh", "db")
LSTM_GRADIENTS = ("dx", "dh_prev", "dc_prev", "dWx", "dWh", "db")


# --------------------------------------------------------------------------------------------
# Comparing an answer with the reference, and naming the likely mistake
# --------------------------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, tuple):
        return f"a tuple of length {len(value)}"
    if isinstance(value, list):
        return f"a list of length {len(value)}"
    if isinstance(value, np.ndarray):
        return f"an ndarray of shape {value.shape}"
    return f"a {type(value).__name__}"


def _unpack(function: str, result: Any, names: tuple[str, ...]) -> tuple:
    """The student's returned tuple, after checking that it has one entry per output."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed(
            f"{function} must return the tuple ({', '.join(names)}), got {_describe(result)}"
        )
    return tuple(result)


def _array(
    function: str,
    output: str,
    value: Any,
    shape: tuple[int, ...],
    shape_name: str,
    hints: dict[tuple[int, ...], str] | None = None,
) -> np.ndarray:
    """``value`` after checking that it is a float64 ndarray of the expected shape."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{function}: {output} must be a numpy array, got {_describe(value)}")
    if value.dtype != np.float64:
        raise CheckFailed(
            f"{function}: {output} must have dtype float64, got {value.dtype} "
            "(do not convert the inputs or the result to another type)"
        )
    if value.shape != shape:
        hint = (hints or {}).get(value.shape)
        if hint is None and len(shape) == 2 and value.shape == shape[::-1]:
            hint = "it looks transposed"
        raise CheckFailed(
            f"{function}: {output} has shape {value.shape}, expected {shape} = {shape_name}"
            + (f": {hint}" if hint else "")
        )
    return value


def _relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    scale = np.linalg.norm(actual) + np.linalg.norm(expected)
    return float(np.linalg.norm(actual - expected) / max(scale, np.finfo(np.float64).tiny))


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> bool:
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=atol)
    )


def _generic_variants(expected: np.ndarray, batch: int | None) -> Variants:
    """Mistakes that can hit any output: sign, transpose, and a mean over the batch."""
    variants: Variants = [("wrong sign", -expected)]
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1]:
        variants.append(("it is transposed", expected.T))
    if batch is not None and batch > 1:
        variants.append(
            (
                "it is the mean over the batch instead of the sum (a parameter shared by all N "
                "examples receives the sum of their gradients)",
                expected / batch,
            )
        )
    return variants


def _compare(
    function: str,
    output: str,
    actual: np.ndarray,
    expected: np.ndarray,
    variants: Callable[[], Variants],
    fallback: str,
    inputs: str,
    batch: int | None = None,
) -> None:
    """Raise :class:`CheckFailed`, naming the likely cause, unless ``actual`` is ``expected``.

    ``variants`` computes (cause, wrong answer) pairs, most specific first; it is called only
    when the answer is wrong. ``fallback`` is the cause when no known mistake matches.
    """
    if _close(actual, expected, RTOL, ATOL):
        return
    cause = fallback
    for reason, wrong in [*variants(), *_generic_variants(expected, batch)]:
        if _close(wrong, expected, MATCH_RTOL, MATCH_ATOL):
            continue  # on these inputs the mistake happens to give the right answer
        if _close(actual, wrong, MATCH_RTOL, MATCH_ATOL):
            cause = reason
            break
    with np.errstate(all="ignore"):
        error = float(np.max(np.abs(actual - expected)))
        relative = _relative_error(actual, expected)
    raise CheckFailed(
        f"{function}: {output} is off (max abs error {error:.1e}, relative error "
        f"{relative:.1e}): {cause} (inputs: {inputs})"
    )


def _call(student: Student, function: str, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function on copies of the arrays (a cache is passed as it is), so
    that changes made in place cannot reach the references."""
    copies = [arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args]
    return student.call(function, *copies, **kwargs)


# --------------------------------------------------------------------------------------------
# Vanilla RNN cell: reference, inputs, known mistakes
# --------------------------------------------------------------------------------------------


def _phi(a: np.ndarray, activation: str) -> np.ndarray:
    return np.tanh(a) if activation == "tanh" else np.where(a > 0, a, 0.0)


def _preactivation(x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    return np.einsum("nd,dk->nk", x, Wx) + np.einsum("nj,jk->nk", h_prev, Wh)


def rnn_forward_reference(
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
) -> Arrays:
    """Pre-activation ``a`` and next state ``h`` of one vanilla RNN step."""
    a = _preactivation(x, h_prev, Wx, Wh) + b[np.newaxis, :]
    return {"a": a, "h": _phi(a, activation)}


def _rnn_gradients(
    x: np.ndarray, h_prev: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, da: np.ndarray
) -> Arrays:
    return {
        "dx": np.einsum("nk,dk->nd", da, Wx),
        "dh_prev": np.einsum("nk,jk->nj", da, Wh),
        "dWx": np.einsum("nd,nk->dk", x, da),
        "dWh": np.einsum("nj,nk->jk", h_prev, da),
        "db": np.einsum("nk->k", da),
    }


def rnn_backward_reference(
    dh_next: np.ndarray,
    x: np.ndarray,
    h_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
) -> Arrays:
    """The five gradients of one vanilla RNN step, given the upstream gradient ``dh_next``."""
    a = rnn_forward_reference(x, h_prev, Wx, Wh, b, activation)["a"]
    dphi = 1.0 / np.cosh(a) ** 2 if activation == "tanh" else (a > 0).astype(np.float64)
    return _rnn_gradients(x, h_prev, Wx, Wh, dh_next * dphi)


def _rnn_inputs(rng: np.random.Generator, N: int, D: int, H: int, activation: str) -> Arrays:
    """Random inputs; for ReLU, pre-activations of both signs and none near the kink."""
    for _ in range(1000):
        p = {
            "x": rng.standard_normal((N, D)),
            "h_prev": np.tanh(rng.standard_normal((N, H))),
            "Wx": rng.standard_normal((D, H)) / np.sqrt(D),
            "Wh": rng.standard_normal((H, H)) / np.sqrt(H),
            "b": 0.5 * rng.standard_normal(H),
        }
        a = _preactivation(p["x"], p["h_prev"], p["Wx"], p["Wh"]) + p["b"]
        if activation == "tanh" or (
            np.min(np.abs(a)) > RELU_MARGIN and np.any(a > 0) and np.any(a < 0)
        ):
            return p
    raise RuntimeError("could not draw ReLU inputs away from the kink")  # never in practice


def _rnn_args(p: Arrays) -> tuple[np.ndarray, ...]:
    return p["x"], p["h_prev"], p["Wx"], p["Wh"], p["b"]


def _rnn_forward_variants(p: Arrays, activation: str) -> Variants:
    x, h_prev, Wx, Wh, b = _rnn_args(p)
    other = "relu" if activation == "tanh" else "tanh"
    a = _preactivation(x, h_prev, Wx, Wh) + b
    return [
        ("the bias b is missing: a = x Wx + h_prev Wh + b", _phi(a - b, activation)),
        (
            f"you applied {other} although activation={activation!r} (read the activation "
            "argument)",
            _phi(a, other),
        ),
        ("the activation is missing: h_next = phi(a), not a", a),
        ("Wh is transposed: use h_prev @ Wh", _phi(a - h_prev @ Wh + h_prev @ Wh.T, activation)),
        ("the term h_prev Wh is missing", _phi(a - h_prev @ Wh, activation)),
        ("the term x Wx is missing", _phi(a - x @ Wx, activation)),
    ]


def _rnn_forward_hints(N: int, H: int) -> dict[tuple[int, ...], str]:
    return {
        (H,): "np.max(a, 0) reduces over the batch; ReLU is the element-wise np.maximum(a, 0)",
        (N,): "np.max(a, 1) reduces over the units; ReLU is the element-wise np.maximum(a, 0)",
    }


def _describe_rnn(p: Arrays, activation: str) -> str:
    N, D = p["x"].shape
    return f"N={N}, D={D}, H={p['Wh'].shape[0]}, activation={activation!r}"


def _checked_rnn_forward(
    student: Student, p: Arrays, activation: str, caller: str | None = None, default: bool = False
) -> Any:
    """Run the student's rnn_step_forward, check h_next, and return the cache."""
    kwargs = {} if default else {"activation": activation}
    result = _call(student, "rnn_step_forward", *_rnn_args(p), **kwargs)
    N, H = p["h_prev"].shape
    try:
        h_next, cache = _unpack("rnn_step_forward", result, ("h_next", "cache"))
        h_next = _array(
            "rnn_step_forward", "h_next", h_next, (N, H), "(N, H)", _rnn_forward_hints(N, H)
        )
        expected = rnn_forward_reference(*_rnn_args(p), activation)["h"]
        inputs = _describe_rnn(p, activation) + (
            " (activation left at its default)" if default else ""
        )
        _compare(
            "rnn_step_forward",
            "h_next",
            h_next,
            expected,
            lambda: _rnn_forward_variants(p, activation),
            CELL_CHAPTER,
            inputs,
        )
    except CheckFailed as failure:
        if caller is None:
            raise
        raise CheckFailed(
            f"{caller} cannot be checked until rnn_step_forward is right (the backward pass "
            f"starts from its cache). {failure}"
        ) from None
    return cache


def _rnn_backward_variants(
    p: Arrays, activation: str, dh_next: np.ndarray, output: str
) -> Variants:
    """Known mistakes of the backward pass: their value of ``output``."""
    x, h_prev, Wx, Wh, b = _rnn_args(p)
    forward = rnn_forward_reference(x, h_prev, Wx, Wh, b, activation)
    a, h = forward["a"], forward["h"]
    dphi = 1.0 / np.cosh(a) ** 2 if activation == "tanh" else (a > 0).astype(np.float64)
    da = dh_next * dphi
    right = _rnn_gradients(x, h_prev, Wx, Wh, da)
    variants = []
    if activation == "tanh":
        variants.append(
            (
                "tanh'(a) is 1 - tanh(a)**2 = 1 - h_next**2, not 1 - a**2",
                _rnn_gradients(x, h_prev, Wx, Wh, dh_next * (1 - a**2)),
            )
        )
    else:
        variants += [
            (
                "with activation='relu' you used the tanh derivative 1 - h_next**2; relu'(a) is 1 "
                "where a > 0 and 0 elsewhere (keep the activation in the cache)",
                _rnn_gradients(x, h_prev, Wx, Wh, dh_next * (1 - h**2)),
            ),
            (
                "relu was applied to the upstream gradient (max(dh_next, 0)); the derivative "
                "multiplies dh_next by the mask a > 0",
                _rnn_gradients(x, h_prev, Wx, Wh, np.maximum(dh_next, 0.0)),
            ),
        ]
    variants += [
        (
            "the derivative of the activation is missing: da = dh_next * phi'(a), not dh_next",
            _rnn_gradients(x, h_prev, Wx, Wh, dh_next),
        ),
        ("Wh is not transposed: dh_prev = da Wh^T", {**right, "dh_prev": da @ Wh}),
        ("dWh uses h_next instead of h_prev: dWh = h_prev^T da", {**right, "dWh": h.T @ da}),
        ("dWx uses dh_next instead of da = dh_next * phi'(a)", {**right, "dWx": x.T @ dh_next}),
    ]
    return [(cause, grads[output]) for cause, grads in variants]


def _rnn_backward_check(output: str) -> Callable[[Student, np.random.Generator], None]:
    """A check of one output of rnn_step_backward, for tanh and for relu."""
    shape_names = {
        "dx": "(N, D)",
        "dh_prev": "(N, H)",
        "dWx": "(D, H)",
        "dWh": "(H, H)",
        "db": "(H,)",
    }
    index = RNN_GRADIENTS.index(output)

    def check(student: Student, rng: np.random.Generator) -> None:
        for activation in ("tanh", "relu"):
            for N, D, H in RNN_SHAPES:
                p = _rnn_inputs(rng, N, D, H, activation)
                cache = _checked_rnn_forward(student, p, activation, caller="rnn_step_backward")
                dh_next = rng.standard_normal((N, H))
                result = _unpack(
                    "rnn_step_backward",
                    _call(student, "rnn_step_backward", dh_next, cache),
                    RNN_GRADIENTS,
                )
                expected = rnn_backward_reference(dh_next, *_rnn_args(p), activation)[output]
                hints = {(N, H): "sum da over the batch (axis 0)"} if output == "db" else None
                actual = _array(
                    "rnn_step_backward",
                    output,
                    result[index],
                    expected.shape,
                    shape_names[output],
                    hints,
                )
                _compare(
                    "rnn_step_backward",
                    output,
                    actual,
                    expected,
                    partial(_rnn_backward_variants, p, activation, dh_next, output),
                    GRADIENTS_CHAPTER,
                    _describe_rnn(p, activation),
                    batch=N if output in ("dWx", "dWh", "db") else None,
                )

    check.__name__ = f"check_rnn_step_backward_{output.lower()}"
    check.__doc__ = f"rnn_step_backward: {output} matches the reference (tanh and relu)."
    return check


def check_rnn_step_forward_tanh_values(student: Student, rng: np.random.Generator) -> None:
    """rnn_step_forward: h_next with tanh (and tanh is the default activation)."""
    for k, (N, D, H) in enumerate(RNN_SHAPES):
        p = _rnn_inputs(rng, N, D, H, "tanh")
        _checked_rnn_forward(student, p, "tanh", default=k == 0)


def check_rnn_step_forward_relu_values(student: Student, rng: np.random.Generator) -> None:
    """rnn_step_forward: h_next with activation='relu'."""
    for N, D, H in RNN_SHAPES:
        _checked_rnn_forward(student, _rnn_inputs(rng, N, D, H, "relu"), "relu")


def check_rnn_step_forward_bad_activation(student: Student, rng: np.random.Generator) -> None:
    """rnn_step_forward: any activation other than 'tanh' or 'relu' raises ValueError."""
    p = _rnn_inputs(rng, 2, 3, 4, "tanh")
    for bad in ("sigmoid", "linear"):
        try:
            _call(student, "rnn_step_forward", *_rnn_args(p), activation=bad)
        except StudentRaised as error:
            if error.type_name != "ValueError":
                raise CheckFailed(
                    f"rnn_step_forward: activation={bad!r} must raise ValueError, it raised "
                    f"{error.type_name}: {error.message}"
                ) from None
            if "activation" not in error.message:
                raise CheckFailed(
                    f"rnn_step_forward: the ValueError for activation={bad!r} must name the "
                    f"argument 'activation' in its message, got: {error.message!r}"
                ) from None
            continue
        raise CheckFailed(
            f"rnn_step_forward: activation={bad!r} must raise ValueError, but the function "
            "returned normally: accept only 'tanh' and 'relu'"
        )


# --------------------------------------------------------------------------------------------
# One matrix on the concatenated input
# --------------------------------------------------------------------------------------------


def _stack_reference(Wx: np.ndarray, Wh: np.ndarray) -> np.ndarray:
    D, H = Wx.shape
    W = np.empty((D + H, H))
    W[:D], W[D:] = Wx, Wh
    return W


def _stack_variants(Wx: np.ndarray, Wh: np.ndarray) -> Variants:
    return [
        (
            "you put Wh on top of Wx; Wx must come first (rows 0 to D - 1), then Wh",
            np.concatenate([Wh, Wx]),
        )
    ]


def check_stack_weights_values(student: Student, rng: np.random.Generator) -> None:
    """stack_weights: W = [[Wx], [Wh]] of shape (D + H, H)."""
    for D, H in STACK_SHAPES:
        Wx, Wh = rng.standard_normal((D, H)), rng.standard_normal((H, H))
        hints = {
            (D, 2 * H): "you placed Wx and Wh side by side; stack Wx on top of Wh (along axis 0)",
            (H, D + H): "stack Wx on top of Wh (along axis 0), not side by side or transposed",
        }
        W = _array(
            "stack_weights",
            "W",
            _call(student, "stack_weights", Wx, Wh),
            (D + H, H),
            "(D + H, H)",
            hints,
        )
        _compare(
            "stack_weights",
            "W",
            W,
            _stack_reference(Wx, Wh),
            partial(_stack_variants, Wx, Wh),
            f"Wx must fill the first D rows and Wh the last H rows; {CELL_CHAPTER}",
            f"D={D}, H={H}",
        )


def _concat_variants(p: Arrays, activation: str) -> Variants:
    x, h_prev, Wx, Wh, b = _rnn_args(p)
    variants = _rnn_forward_variants(p, activation)
    if Wx.shape[0] == Wx.shape[1]:  # D = H: [h_prev, x] W runs, and gives the wrong answer
        variants.append(
            (
                "the concatenation is in the wrong order: the rows of W are Wx then Wh, so the "
                "row must be [x, h_prev]",
                _phi(h_prev @ Wx + x @ Wh + b, activation),
            )
        )
    return variants


def check_concat_step_forward_values(student: Student, rng: np.random.Generator) -> None:
    """concat_step_forward: equals the two-matrix form (tanh and relu)."""
    for activation in ("tanh", "relu"):
        for N, D, H in CONCAT_SHAPES:
            p = _rnn_inputs(rng, N, D, H, activation)
            x, h_prev, Wx, Wh, b = _rnn_args(p)
            W = _stack_reference(Wx, Wh)
            result = _call(student, "concat_step_forward", x, h_prev, W, b, activation=activation)
            h_next = _array(
                "concat_step_forward", "h_next", result, (N, H), "(N, H)", _rnn_forward_hints(N, H)
            )
            expected = rnn_forward_reference(x, h_prev, Wx, Wh, b, activation)["h"]
            _compare(
                "concat_step_forward",
                "h_next",
                h_next,
                expected,
                partial(_concat_variants, p, activation),
                f"h_next = phi([x, h_prev] W + b); {CELL_CHAPTER}",
                _describe_rnn(p, activation),
            )


# --------------------------------------------------------------------------------------------
# LSTM cell: reference, inputs, known mistakes
# --------------------------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def lstm_forward_reference(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    order: tuple[str, ...] = GATES,
    bias: bool = True,
) -> Arrays:
    """Pre-activations, gates, c_next (``c``) and h_next (``h``) of one LSTM step.

    ``order`` names the gates of the column blocks of ``a`` (a wrong order models a mistake).
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
    c = gates["f"] * c_prev + gates["i"] * gates["g"]
    return {
        "a": a,
        **{f"z{name}": value for name, value in z.items()},
        **gates,
        "c": c,
        "h": gates["o"] * np.tanh(c),
    }


def lstm_backward_reference(
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
    fw = lstm_forward_reference(x, h_prev, c_prev, Wx, Wh, b)
    H = h_prev.shape[1]
    tanh_derivative = 1.0 / np.cosh(fw["c"]) ** 2 if tanh_c_derivative else 1.0
    dc = (dc_next if carry else 0.0) + dh_next * fw["o"] * tanh_derivative
    d_gate = {
        "i": dc * fw["g"],
        "f": dc * c_prev,
        "g": dc * fw["i"],
        "o": dh_next * np.tanh(fw["c"]),
    }
    if gate_derivatives:
        d_z = {
            name: d_gate[name] * (_sigmoid(fw[f"z{name}"]) * _sigmoid(-fw[f"z{name}"]))
            for name in ("i", "f", "o")
        }
        d_z["g"] = d_gate["g"] / np.cosh(fw["zg"]) ** 2
    else:
        d_z = d_gate
    da = np.empty_like(fw["a"])
    for k, name in enumerate(order):
        da[:, k * H : (k + 1) * H] = d_z[name]
    grads = _rnn_gradients(x, h_prev, Wx, Wh, da)
    grads["dc_prev"] = dc * fw["f"] if forget else dc
    return grads


def _lstm_inputs(rng: np.random.Generator, N: int, D: int, H: int) -> Arrays:
    return {
        "x": rng.standard_normal((N, D)),
        "h_prev": np.tanh(rng.standard_normal((N, H))),
        "c_prev": rng.standard_normal((N, H)),
        "Wx": rng.standard_normal((D, 4 * H)) / np.sqrt(D),
        "Wh": rng.standard_normal((H, 4 * H)) / np.sqrt(H),
        "b": 0.5 * rng.standard_normal(4 * H),
    }


def _lstm_args(p: Arrays) -> tuple[np.ndarray, ...]:
    return p["x"], p["h_prev"], p["c_prev"], p["Wx"], p["Wh"], p["b"]


def _describe_lstm(p: Arrays) -> str:
    N, D = p["x"].shape
    return f"N={N}, D={D}, H={p['h_prev'].shape[1]}"


def _lstm_forward_variants(p: Arrays, output: str) -> Variants:
    """Known mistakes of the forward pass: their ``h`` or ``c`` (``output``)."""
    args = _lstm_args(p)
    c_prev = p["c_prev"]
    fw = lstm_forward_reference(*args)
    i, f, g, o = fw["i"], fw["f"], fw["g"], fw["o"]
    wrong_order = [
        (
            f"the gate blocks are in the wrong order: you read the columns of a as "
            f"({', '.join(order)}); the order is i, f, g, o (input, forget, cell candidate, "
            "output), as in PyTorch",
            lstm_forward_reference(*args, order=order),
        )
        for order in permutations(GATES)
        if order != GATES
    ]
    c_sigmoid_g = f * c_prev + i * _sigmoid(fw["zg"])
    variants = [
        *wrong_order,
        (
            "the bias b is missing: a = x Wx + h_prev Wh + b",
            lstm_forward_reference(*args, bias=False),
        ),
        ("h_next is missing the tanh: h_next = o * tanh(c_next)", {"c": fw["c"], "h": o * fw["c"]}),
        (
            "h_next uses c_prev instead of c_next: h_next = o * tanh(c_next)",
            {"c": fw["c"], "h": o * np.tanh(c_prev)},
        ),
        (
            "the input gate is missing: c_next = f * c_prev + i * g",
            {"c": f * c_prev + g, "h": o * np.tanh(f * c_prev + g)},
        ),
        (
            "the forget gate is missing: c_next = f * c_prev + i * g",
            {"c": c_prev + i * g, "h": o * np.tanh(c_prev + i * g)},
        ),
        (
            "the cell candidate g must use tanh, not the sigmoid",
            {"c": c_sigmoid_g, "h": o * np.tanh(c_sigmoid_g)},
        ),
    ]
    return [(cause, values[output]) for cause, values in variants]


def _checked_lstm_forward(
    student: Student, p: Arrays, outputs: tuple[str, ...], caller: str | None = None
) -> Any:
    """Run the student's lstm_step_forward, check the named outputs, and return the cache."""
    result = _call(student, "lstm_step_forward", *_lstm_args(p))
    N, H = p["h_prev"].shape
    expected = lstm_forward_reference(*_lstm_args(p))
    try:
        h_next, c_next, cache = _unpack("lstm_step_forward", result, ("h_next", "c_next", "cache"))
        for output, value in (("h_next", h_next), ("c_next", c_next)):
            if output not in outputs:
                continue
            value = _array("lstm_step_forward", output, value, (N, H), "(N, H)")
            key = output[0]
            _compare(
                "lstm_step_forward",
                output,
                value,
                expected[key],
                partial(_lstm_forward_variants, p, key),
                LSTM_FORWARD_FORMULA,
                _describe_lstm(p),
            )
    except CheckFailed as failure:
        if caller is None:
            raise
        raise CheckFailed(
            f"{caller} cannot be checked until lstm_step_forward is right (the backward pass "
            f"starts from its cache). {failure}"
        ) from None
    return cache


def _lstm_backward_variants(
    p: Arrays, dh_next: np.ndarray, dc_next: np.ndarray, output: str
) -> Variants:
    args = (dh_next, dc_next, *_lstm_args(p))
    variants = [
        (
            "dc_prev is missing the forget-gate factor: dc_prev = dc * f, where dc = dc_next + "
            "dh_next * o * (1 - tanh(c_next)**2)",
            lstm_backward_reference(*args, forget=False),
        ),
        (
            "the incoming cell gradient dc_next is not added: dc = dc_next + dh_next * o * "
            "(1 - tanh(c_next)**2)",
            lstm_backward_reference(*args, carry=False),
        ),
        (
            "dc is missing the derivative of tanh(c_next): dc = dc_next + dh_next * o * "
            "(1 - tanh(c_next)**2)",
            lstm_backward_reference(*args, tanh_c_derivative=False),
        ),
        (
            "the gates' own derivatives are missing: multiply by s * (1 - s) for i, f, o and by "
            "1 - g**2 for g",
            lstm_backward_reference(*args, gate_derivatives=False),
        ),
    ]
    variants += [
        (
            f"the blocks of the gate gradients are in the wrong order ({', '.join(order)}); they "
            "must follow the forward's order i, f, g, o",
            lstm_backward_reference(*args, order=order),
        )
        for order in permutations(GATES)
        if order != GATES
    ]
    return [(cause, grads[output]) for cause, grads in variants]


def _lstm_backward_check(output: str) -> Callable[[Student, np.random.Generator], None]:
    """A check of one output of lstm_step_backward."""
    shape_names = {
        "dx": "(N, D)",
        "dh_prev": "(N, H)",
        "dc_prev": "(N, H)",
        "dWx": "(D, 4H)",
        "dWh": "(H, 4H)",
        "db": "(4H,)",
    }
    index = LSTM_GRADIENTS.index(output)

    def check(student: Student, rng: np.random.Generator) -> None:
        for N, D, H in LSTM_SHAPES:
            p = _lstm_inputs(rng, N, D, H)
            cache = _checked_lstm_forward(
                student, p, ("h_next", "c_next"), caller="lstm_step_backward"
            )
            dh_next, dc_next = rng.standard_normal((N, H)), rng.standard_normal((N, H))
            result = _unpack(
                "lstm_step_backward",
                _call(student, "lstm_step_backward", dh_next, dc_next, cache),
                LSTM_GRADIENTS,
            )
            expected = lstm_backward_reference(dh_next, dc_next, *_lstm_args(p))[output]
            hints = {(N, 4 * H): "sum over the batch (axis 0)"} if output == "db" else None
            actual = _array(
                "lstm_step_backward",
                output,
                result[index],
                expected.shape,
                shape_names[output],
                hints,
            )
            _compare(
                "lstm_step_backward",
                output,
                actual,
                expected,
                partial(_lstm_backward_variants, p, dh_next, dc_next, output),
                LSTM_BACKWARD_FORMULA,
                _describe_lstm(p),
                batch=N if output in ("dWx", "dWh", "db") else None,
            )

    check.__name__ = f"check_lstm_step_backward_{output.lower()}"
    check.__doc__ = f"lstm_step_backward: {output} matches the reference."
    return check


def check_lstm_step_forward_h_next(student: Student, rng: np.random.Generator) -> None:
    """lstm_step_forward: h_next matches the reference."""
    for N, D, H in LSTM_SHAPES:
        _checked_lstm_forward(student, _lstm_inputs(rng, N, D, H), ("h_next",))


def check_lstm_step_forward_c_next(student: Student, rng: np.random.Generator) -> None:
    """lstm_step_forward: c_next matches the reference."""
    for N, D, H in LSTM_SHAPES:
        _checked_lstm_forward(student, _lstm_inputs(rng, N, D, H), ("c_next",))


CHECKS: dict[str, Callable[[Student, np.random.Generator], None]] = {
    "rnn_step_forward_tanh_values": check_rnn_step_forward_tanh_values,
    "rnn_step_forward_relu_values": check_rnn_step_forward_relu_values,
    "rnn_step_forward_bad_activation": check_rnn_step_forward_bad_activation,
    **{f"rnn_step_backward_{name.lower()}": _rnn_backward_check(name) for name in RNN_GRADIENTS},
    "stack_weights_values": check_stack_weights_values,
    "concat_step_forward_values": check_concat_step_forward_values,
    "lstm_step_forward_h_next": check_lstm_step_forward_h_next,
    "lstm_step_forward_c_next": check_lstm_step_forward_c_next,
    **{f"lstm_step_backward_{name.lower()}": _lstm_backward_check(name) for name in LSTM_GRADIENTS},
}
