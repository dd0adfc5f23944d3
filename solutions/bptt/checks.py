"""Checks of the assignment *Backpropagation through time* (``bptt``).

``CHECKS`` maps the grade_id of every graded test cell of ``bptt.ipynb`` to its check. A check
treats the student's functions as black boxes (through :class:`autograder.checking.api.Student`),
draws fresh inputs from the generator it is given, and compares the answers with the references
below. The references are independent of the notebook's solution and written differently from it:
einsum instead of matrix products, the whole backward pass as "all the ``da`` first, then the
parameters", ``1 / cosh**2`` instead of ``1 - h**2``, dL/dw by SymPy's own differentiation. When
an answer is wrong, the check compares it with known-wrong variants of the reference to name the
likely cause.

rnn_backward and temporal_affine_backward read only the cache of their forward pass, so they are
graded on their own: a right gradient passes whatever the forward's other output is. A wrong
gradient whose forward pass is wrong too fails with the forward's diagnosis, through
:func:`~autograder.checking.toolkit.prerequisite_on_failure`.

Every check calls the function it grades through
:func:`~autograder.checking.toolkit.call_leaving_inputs`, which fails when the call changed one of
its array arguments (``ARGUMENTS`` names them); a forward pass run for the cache of a backward
check, and a call that must raise, run on copies. numerical_gradient and clip_by_global_norm are
the exceptions: their statement makes "arguments unchanged" a property of its own, graded by a
check of its own (numerical_gradient_x_unchanged, clip_by_global_norm_inputs_unchanged), and
their other checks call them on copies.

Properties the statement asks for, and the check that grades each ("mistakes": the entries of
``mistakes.py`` that break the property; besides, ``tests/autograder/test_checks.py`` changes
every array argument of every graded function in place, one at a time, and sees a check of that
function fail):

property                          grade_id                              mistakes
--------------------------------  ------------------------------------  ----------------------------
every function: float64 arrays,   every check of the function           h_float32
numbers as floats
every function: outputs of the    every check of the function           -
stated shapes
every function: its arguments     every check of rnn_forward,           bptt_dh_in_place
come back unchanged (to           rnn_backward, temporal_affine_*,      dout_flattened_in_place
RESTORED_ATOL)                    mse_loss;                             numgrad_not_restored
                                  numerical_gradient_x_unchanged        clip_in_place
                                  clip_by_global_norm_inputs_unchanged
every function: NumPy only (no    every check, in the sandbox           -
rnnbook)
rnn_forward: h_t = phi(x_t Wx +   rnn_forward_tanh                      h_includes_h0
h_(t-1) Wh + b); h holds h_1 ...  rnn_forward_relu
h_T                               rnn_forward_t1
rnn_forward: tanh by default      rnn_forward_tanh                      -
rnn_forward: h is (N, T, H) also  rnn_forward_t1                        -
when T = 1
rnn_forward: another activation   rnn_forward_bad_activation            no_activation_check
(case matters) raises ValueError                                        activation_case_insensitive
naming it
temporal_affine_forward: out = h  temporal_affine_forward_values        -
Wo + bo at every step
temporal_affine_backward: dh,     temporal_affine_backward_<output>     dbo_batch_only
and dWo, dbo summed over the
steps
mse_loss: the mean over all N T   mse_loss_value                        mse_loss_sum
O entries, one float
mse_loss: dpred = 2 (pred -       mse_loss_dpred                        mse_dpred_divides_by_n
target) / (N T O)
numerical_gradient: sum(df *      numerical_gradient_vjp                -
...) for every entry, the shape
of x (a vector too)
numerical_gradient: the central   numerical_gradient_vjp                numgrad_forward_difference
difference
numerical_gradient: with the      numerical_gradient_vjp                numgrad_fixed_step
step h it is given
numerical_gradient: x left as     numerical_gradient_x_unchanged        numgrad_not_restored
found, one entry perturbed at a
time
rnn_backward: the five            rnn_backward_<output>                 bptt_no_carry
gradients, with the carry from                                          dwh_transposed
step t + 1, any T >= 1
rnn_backward: shared weights'     rnn_backward_dwx                      db_mean_over_batch
gradients summed over time and    rnn_backward_dwh
batch                             rnn_backward_db
clip_by_global_norm: below        clip_by_global_norm_below_threshold   -
max_norm, nothing changes
clip_by_global_norm: above it,    clip_by_global_norm_scaling           clip_per_array
every array scaled by max_norm /
total_norm
clip_by_global_norm: total_norm   clip_by_global_norm_total_norm        -
before clipping, a float
clip_by_global_norm: clipped is   every check of the function           -
a dict with the keys of grads
dL_dw: a SymPy expression equal   dl_dw_symbolic                        dl_dw_no_carry
to dL/dw
dL_dw: only the symbols w, u,     dl_dw_symbolic                        dl_dw_new_symbol
h0, x1, x2, y
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import sympy as sp

from autograder.checking.api import Check, CheckFailed, Student
from autograder.checking.toolkit import (
    ACTIVATIONS,
    ESTIMATE_TOL,
    RESTORED_ATOL,
    Arrays,
    Variant,
    activation_derivative,
    averaged,
    call_leaving_inputs,
    call_on_copies,
    close,
    compare,
    describe,
    diagnose,
    expect_value_error,
    float_array,
    float_scalar,
    gradient_checks,
    prerequisite,
    prerequisite_on_failure,
    rnn_inputs,
    transposed,
    unpack,
    wrong_sign,
)
from autograder.checking.toolkit import activation as phi

# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def reference_rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
    recurrent: str = "Wh",
) -> Arrays:
    """States ``h`` (h_1..h_T, shape (N, T, H)) and pre-activations ``a`` (a_1..a_T).

    ``recurrent`` selects a known-wrong variant: "WhT" (h_prev Wh^T), "h0" (h0 at every step),
    "none" (no activation).
    """
    states, pre = [h0], []
    for t in range(x.shape[1]):
        prev = h0 if recurrent == "h0" else states[-1]
        weights = Wh.T if recurrent == "WhT" else Wh
        a = np.einsum("nd,dh->nh", x[:, t], Wx) + np.einsum("nk,kh->nh", prev, weights) + b
        pre.append(a)
        states.append(a if recurrent == "none" else phi(a, activation))
    return {"h": np.stack(states[1:], axis=1), "a": np.stack(pre, axis=1)}


def reference_rnn_backward(
    dh: np.ndarray,
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
    carry: bool = True,
    dphi: bool = True,
) -> Arrays:
    """BPTT as "every da_t first, then all the parameter gradients at once" (einsum).

    Returns the five gradients and the intermediates ``da``, ``total`` (the total gradient of
    every h_t), ``prev`` (h_(t-1) beside every h_t) and ``h``. ``carry=False`` and
    ``dphi=False`` give known-wrong variants (no gradient carried back from step t+1;
    activation derivative missing).
    """
    forward = reference_rnn_forward(x, h0, Wx, Wh, b, activation)
    h, a = forward["h"], forward["a"]
    prev = np.concatenate([h0[:, None, :], h[:, :-1]], axis=1)
    da, total = np.zeros_like(a), np.zeros_like(a)
    back = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        total[:, t] = dh[:, t] + (back if carry else 0.0)
        da[:, t] = total[:, t] * (activation_derivative(a[:, t], activation) if dphi else 1.0)
        back = np.einsum("nh,kh->nk", da[:, t], Wh)
    return {
        "dx": np.einsum("nth,dh->ntd", da, Wx),
        "dh0": back,
        "dWx": np.einsum("ntd,nth->dh", x, da),
        "dWh": np.einsum("ntk,nth->kh", prev, da),
        "db": np.einsum("nth->h", da),
        "da": da,
        "total": total,
        "prev": prev,
        "h": h,
    }


def reference_temporal_affine_forward(h: np.ndarray, Wo: np.ndarray, bo: np.ndarray) -> np.ndarray:
    """out[:, t] = h[:, t] Wo + bo at every step."""
    return np.einsum("nth,ho->nto", h, Wo) + bo


def reference_temporal_affine_backward(dout: np.ndarray, h: np.ndarray, Wo: np.ndarray) -> Arrays:
    """The gradients of h, Wo and bo, given the upstream gradient ``dout``."""
    return {
        "dh": np.einsum("nto,ho->nth", dout, Wo),
        "dWo": np.einsum("nth,nto->ho", h, dout),
        "dbo": np.einsum("nto->o", dout),
    }


def reference_mse_loss(pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """The mean of the squared errors (``loss``, a float) and its gradient ``dpred``."""
    count = pred.size
    residual = pred - target
    return {
        "loss": float(residual.ravel() @ residual.ravel() / count),
        "dpred": residual * (2.0 / count),
    }


def reference_clip_by_global_norm(grads: Arrays, max_norm: float) -> dict[str, Any]:
    """The ``clipped`` arrays (a dict) and the ``total_norm`` before clipping."""
    total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()])))
    factor = min(1.0, max_norm / total)
    return {"clipped": {name: factor * g for name, g in grads.items()}, "total_norm": total}


def reference_numerical_gradient(X: np.ndarray, W: np.ndarray, df: np.ndarray) -> np.ndarray:
    """What numerical_gradient estimates for f(W) = tanh(X W): the exact vector-Jacobian
    product X^T (df / cosh(X W)**2)."""
    return X.T @ (df / np.cosh(X @ W) ** 2)


SYMBOL_NAMES = ("w", "u", "h0", "x1", "x2", "y")
SYMBOLS = dict(zip(SYMBOL_NAMES, sp.symbols(SYMBOL_NAMES, real=True), strict=True))


def _two_steps() -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """The loss (h2 - y)**2 / 2 of a one-unit RNN over two steps, and its states h1 and h2."""
    w, u, h0, x1, x2, y = (SYMBOLS[name] for name in SYMBOL_NAMES)
    h1 = sp.tanh(w * h0 + u * x1)
    h2 = sp.tanh(w * h1 + u * x2)
    return (h2 - y) ** 2 / 2, h1, h2


def reference_dl_dw() -> sp.Expr:
    """dL/dw by SymPy's own differentiation."""
    return sp.diff(_two_steps()[0], SYMBOLS["w"])


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------

FORWARD_SHAPES = ((1, 3, 2, 4), (3, 4, 3, 2), (2, 5, 3, 3))  # (N, T, D, H): N = 1, D != H
BACKWARD_SHAPES = ((1, 4, 3, 2), (3, 3, 2, 4), (2, 5, 3, 3), (2, 1, 2, 3))  # T >= 3, and T = 1
AFFINE_SHAPES = ((1, 3, 4, 2), (3, 1, 2, 3), (2, 4, 3, 3))  # (N, T, H, O): N = 1, T = 1, H = O
MSE_SHAPES = ((1, 3, 2), (4, 1, 3), (3, 5, 2))  # every case has T * O > 1 and size > N
NUMGRAD_SHAPES = ((3, 2, 4), (1, 3, 2), (4, 3, None))  # (N, D, K); K None: x is a vector (D,)
F_SOURCE = "lambda W: np.tanh(X @ W)"  # the f given to numerical_gradient
DEFAULT_STEP = 1e-5  # numerical_gradient's default h, in the statement
# f'' of the quadratic f of check_numerical_gradient_vjp: there the central difference is exact
# up to round-off (about 1e5 * 1e-16), and a one-sided difference is off by h f''/2 = 0.5 times
# df at the default step (still 5e-3 at h = 1e-7), far beyond ESTIMATE_TOL.
CURVATURE = 1e5
# The step passed with f(x) = sin(x - x0) at x0: every difference with this step is sin(h)/h,
# 4% below the derivative 1, so an estimate that does not use the h it is given is off by far
# more than ESTIMATE_TOL.
LARGE_STEP = 0.5
# The positional parameters of the graded functions, as call_leaving_inputs names them; None for
# one it does not compare (a function, a number, a string, a cache).
ARGUMENTS = {
    "rnn_forward": ("x", "h0", "Wx", "Wh", "b", None),
    "rnn_backward": ("dh", None),
    "temporal_affine_forward": ("h", "Wo", "bo"),
    "temporal_affine_backward": ("dout", None),
    "mse_loss": ("pred", "target"),
    "numerical_gradient": (None, "x", "df"),
    "clip_by_global_norm": ("grads", None),
}


def _affine_inputs(
    rng: np.random.Generator, N: int, T: int, H: int, n_out: int
) -> tuple[np.ndarray, ...]:
    """Random ``(h, Wo, bo)`` of temporal_affine_forward."""
    return rng.normal(size=(N, T, H)), rng.normal(size=(H, n_out)), rng.normal(size=n_out)


def _total_norm(grads: Arrays) -> float:
    """The global norm of all the arrays of ``grads``."""
    return reference_clip_by_global_norm(grads, np.inf)["total_norm"]


def _grad_dicts(rng: np.random.Generator) -> Iterator[Arrays]:
    """Gradient dicts of two to five arrays of different shapes and very different norms.

    Their global norm lies between 1 and 10, so an epsilon of 1e-6 added to it (as PyTorch's
    clip_grad_norm_ does) stays within the tolerances of autograder.checking.toolkit.
    """
    for D, H, n_out, names in (
        (3, 2, 1, ("Wx", "Wh", "b", "Wo", "bo")),
        (2, 4, 3, ("Wh", "b")),
        (1, 3, 2, ("Wx", "Wo", "bo")),
    ):
        shapes = {"Wx": (D, H), "Wh": (H, H), "b": (H,), "Wo": (H, n_out), "bo": (n_out,)}
        grads = {name: rng.normal(size=shapes[name]) * 10 ** rng.uniform(-1, 1) for name in names}
        factor = 10 ** rng.uniform(0, 1) / _total_norm(grads)
        yield {name: g * factor for name, g in grads.items()}


def _clip_cases(rng: np.random.Generator, above: bool) -> Iterator[tuple[Arrays, float]]:
    """(grads, max_norm) with total_norm above max_norm (and max_norm >= 0.1), or below it."""
    for grads in _grad_dicts(rng):
        factor = rng.uniform(0.1, 0.8) if above else rng.uniform(1.1, 3.0)
        yield grads, _total_norm(grads) * factor


def _numgrad_case(
    rng: np.random.Generator, N: int, D: int, K: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X of f(W) = tanh(X W), the point W and the upstream gradient df."""
    X = rng.normal(size=(N, D))
    W = rng.normal(size=(D,) if K is None else (D, K)) / np.sqrt(D)
    df = rng.normal(size=(N,) if K is None else (N, K))
    return X, W, df


def _symbol_points(rng: np.random.Generator) -> list[dict[sp.Symbol, sp.Float]]:
    """Five random values of the symbols, in [-1.5, 1.5]."""
    return [
        {
            SYMBOLS[n]: sp.Float(v)
            for n, v in zip(SYMBOL_NAMES, rng.uniform(-1.5, 1.5, 6), strict=True)
        }
        for _ in range(5)
    ]


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

FWD_CHAPTER = "the chapter *Forward pass and loss* (chapters/forward_pass_and_loss.md)"
GRAD_CHAPTER = "the chapter *Gradients* (chapters/gradients.md)"
BPTT_SECTION = "the notebook's section on backpropagation through time"
BACKWARD_OUTPUTS = ("dx", "dh0", "dWx", "dWh", "db")
AFFINE_OUTPUTS = ("dh", "dWo", "dbo")


def _sizes(**sizes: int) -> str:
    return ", ".join(f"{name}={size}" for name, size in sizes.items())


# rnn_forward -------------------------------------------------------------------------------


def _call_rnn_forward(
    student: Student,
    inputs: tuple[np.ndarray, ...],
    activation: str | None,
    caller: str | None = None,
) -> tuple[Any, Any]:
    """The student's (h, cache); activation None uses the default argument. ``caller`` names
    the function whose check runs rnn_forward for its cache (None: rnn_forward is under test, and
    its arguments must come back unchanged)."""
    args = inputs if activation is None else (*inputs, activation)
    names = ARGUMENTS["rnn_forward"]
    result = call_leaving_inputs(student, "rnn_forward", names, *args, caller=caller)
    return unpack("rnn_forward", result, ("h", "cache"))


def _check_rnn_forward_h(
    h: Any, inputs: tuple[np.ndarray, ...], activation: str, default: bool
) -> None:
    """The student's h (for ``inputs``) matches the reference."""
    x, h0, Wx, Wh, b = inputs
    N, T, D = x.shape
    H = Wh.shape[0]
    hints = {(N, T + 1, H): "h must not include h0: it holds the T new states h_1 ... h_T"}
    if T == 1:
        hints[(N, H)] = "keep the time axis: h has shape (N, T, H) even when T = 1"
    hint = "h holds one state of H units per example and per time step"
    h = float_array("rnn_forward", "h", h, (N, T, H), "(N, T, H)", hints, hint)
    expected = reference_rnn_forward(*inputs, activation)["h"]
    other = "relu" if activation == "tanh" else "tanh"
    called = "activation left at its default" if default else f"activation={activation!r}"

    def wrong(**changes: Any) -> Callable[[], np.ndarray]:
        arguments = {"x": x, "h0": h0, "Wx": Wx, "Wh": Wh, "b": b, "activation": activation}
        return lambda: reference_rnn_forward(**{**arguments, **changes})["h"]

    variants = [
        (
            "h[:, 0] equals h0 and every state comes one step late: off by one in time; "
            "h must hold the new states h_1 ... h_T, not h0 ... h_{T-1}",
            lambda: np.concatenate([h0[:, None, :], expected[:, :-1]], axis=1),
        ),
        (
            f"this is the {other} network: with {called} the activation must be {activation}",
            wrong(activation=other),
        ),
        ("the bias b is missing from the pre-activation", wrong(b=np.zeros_like(b))),
        (
            "the recurrent term uses Wh transposed; in the row convention it is h_{t-1} @ Wh",
            wrong(recurrent="WhT"),
        ),
        (
            "every step uses h0 as its previous state; step t must use the state h_{t-1} that "
            "step t-1 just computed",
            wrong(recurrent="h0"),
        ),
        (
            f"the activation ({activation}) is not applied: h_t = phi(a_t)",
            wrong(recurrent="none"),
        ),
    ]
    compare(
        "rnn_forward",
        "h",
        h,
        expected,
        variants,
        f"compare with h_t = phi(x_t Wx + h_(t-1) Wh + b) in {FWD_CHAPTER}",
        f"{called}, {_sizes(N=N, T=T, D=D, H=H)}",
    )


def _check_rnn_forward(
    student: Student, inputs: tuple[np.ndarray, ...], activation: str, default: bool
) -> None:
    h, _ = _call_rnn_forward(student, inputs, None if default else activation)
    _check_rnn_forward_h(h, inputs, activation, default)


def check_rnn_forward_tanh(student: Student, rng: np.random.Generator) -> None:
    """tanh, with the default argument and with activation="tanh"; N = 1, D != H, T > 1."""
    for N, T, D, H in FORWARD_SHAPES:
        inputs = rnn_inputs(rng, N, D, H, "tanh", T=T)
        _check_rnn_forward(student, inputs, "tanh", default=True)
        _check_rnn_forward(student, inputs, "tanh", default=False)


def check_rnn_forward_relu(student: Student, rng: np.random.Generator) -> None:
    """activation="relu"; N = 1, D != H, T > 1."""
    for N, T, D, H in FORWARD_SHAPES:
        _check_rnn_forward(student, rnn_inputs(rng, N, D, H, "relu", T=T), "relu", default=False)


def check_rnn_forward_t1(student: Student, rng: np.random.Generator) -> None:
    """A sequence of one step: h has shape (N, 1, H) and holds h_1."""
    for N, D, H in ((1, 2, 3), (4, 3, 2)):
        for activation in ACTIVATIONS:
            inputs = rnn_inputs(rng, N, D, H, activation, T=1)
            _check_rnn_forward(student, inputs, activation, default=False)


def check_rnn_forward_bad_activation(student: Student, rng: np.random.Generator) -> None:
    """Any activation other than "tanh" or "relu" (case matters) raises ValueError."""
    inputs = rnn_inputs(rng, 2, 2, 3, T=3)
    for bad in ("sigmoid", "Tanh", "RELU", ""):
        expect_value_error(
            student,
            "rnn_forward",
            inputs,
            {"activation": bad},
            naming="activation",
            what=f"activation={bad!r}",
            hint='only "tanh" and "relu" are valid (check the argument before the loop)',
        )


# rnn_backward ------------------------------------------------------------------------------


def _rnn_backward_variants(
    output: str, dh: np.ndarray, inputs: tuple[np.ndarray, ...], activation: str, ref: Arrays
) -> list[Variant]:
    """Known mistakes of rnn_backward: their value of ``output`` (``ref``: the reference)."""
    x, h0, _, _, _ = inputs
    N, T, _ = x.shape
    da, prev = ref["da"], ref["prev"]

    def without(**part: bool) -> Callable[[], np.ndarray]:
        return lambda: reference_rnn_backward(dh, *inputs, activation, **part)[output]

    variants = [
        (
            "the gradient carried back from step t+1 is missing: the total gradient of h_t "
            "is dh[:, t] plus the carry da_(t+1) @ Wh.T (zero only after the last step)",
            without(carry=False),
        ),
        (
            "the activation derivative is missing: da_t = (dh[:, t] + carry) * phi'(a_t), "
            "with phi' = 1 - h_t**2 for tanh and (a_t > 0) for relu",
            without(dphi=False),
        ),
    ]
    last_step = {
        "dWx": lambda: np.einsum("nd,nh->dh", x[:, -1], da[:, -1]),
        "dWh": lambda: np.einsum("nk,nh->kh", prev[:, -1], da[:, -1]),
        "db": lambda: da[:, -1].sum(axis=0),
    }
    if output in last_step:
        variants += [
            averaged(output, ref[output], "the batch", N, "sum it over the examples"),
            averaged(
                output,
                ref[output],
                "time",
                T,
                "the weights are shared, so their gradient is the SUM of the contributions of "
                "all T steps",
            ),
            (
                f"{output} holds the contribution of one step only; a shared "
                "weight's gradient is summed over all T steps (accumulate with +=)",
                last_step[output],
            ),
        ]
    if output in ("dWx", "dWh"):
        factor = "x_t" if output == "dWx" else "h_(t-1)"
        variants.append(
            transposed(output, ref[output], f"{output} = sum over t of {factor}.T @ da_t")
        )
    if output == "dWh":
        variants.append(
            (
                "dWh uses h_t where it needs the previous state h_(t-1) "
                "(h0 at the first step): dWh = sum over t of h_(t-1).T @ da_t",
                lambda: np.einsum("ntk,nth->kh", ref["h"], da),
            )
        )
    if output == "dh0":
        variants += [
            (
                "dh0 is zero; it is the carry out of the first step, da_1 @ Wh.T",
                lambda: np.zeros_like(h0),
            ),
            (
                "dh0 equals the total gradient of h_1; pass it back "
                "through the first cell: dh0 = da_1 @ Wh.T",
                lambda: ref["total"][:, 0],
            ),
        ]
    if output == "dx":
        only_last = np.zeros_like(ref["dx"])
        only_last[:, -1] = ref["dx"][:, -1]
        variants.append(
            ("dx is right at the last step only; fill dx[:, t] at every step", lambda: only_last)
        )
    return variants


def _check_rnn_backward(student: Student, rng: np.random.Generator, output: str) -> None:
    """rnn_backward: ``output`` matches the reference (tanh and relu; T >= 3, and T = 1)."""
    for N, T, D, H in BACKWARD_SHAPES:
        for activation in ACTIVATIONS:
            inputs = rnn_inputs(rng, N, D, H, activation, T=T)
            _check_rnn_backward_case(
                student, output, inputs, rng.normal(size=(N, T, H)), activation
            )


def _check_rnn_backward_case(
    student: Student, output: str, inputs: tuple[np.ndarray, ...], dh: np.ndarray, activation: str
) -> None:
    """One case of :func:`_check_rnn_backward`: forward, then backward with upstream ``dh``."""
    with prerequisite("rnn_forward", "rnn_backward"):
        h, cache = _call_rnn_forward(student, inputs, activation, "rnn_backward")
    with prerequisite_on_failure(
        "rnn_forward", "rnn_backward", lambda: _check_rnn_forward_h(h, inputs, activation, False)
    ):
        result = call_leaving_inputs(student, "rnn_backward", ARGUMENTS["rnn_backward"], dh, cache)
        result = unpack("rnn_backward", result, BACKWARD_OUTPUTS)
        ref = reference_rnn_backward(dh, *inputs, activation)
        hint = "sum db over the batch and over time" if output == "db" else ""
        actual = float_array(
            "rnn_backward",
            output,
            result[BACKWARD_OUTPUTS.index(output)],
            ref[output].shape,
            hint=hint,
        )
        N, T, D = inputs[0].shape
        compare(
            "rnn_backward",
            output,
            actual,
            ref[output],
            _rnn_backward_variants(output, dh, inputs, activation, ref),
            f"compare with the BPTT formulas in {BPTT_SECTION} and {GRAD_CHAPTER}",
            f"{activation}, {_sizes(N=N, T=T, D=D, H=dh.shape[2])}",
        )


# temporal_affine_forward and temporal_affine_backward --------------------------------------


def _call_affine_forward(
    student: Student, h: np.ndarray, Wo: np.ndarray, bo: np.ndarray, caller: str | None = None
) -> tuple[Any, Any]:
    """The student's (out, cache); ``caller`` as in :func:`_call_rnn_forward`."""
    names = ARGUMENTS["temporal_affine_forward"]
    result = call_leaving_inputs(
        student, "temporal_affine_forward", names, h, Wo, bo, caller=caller
    )
    return unpack("temporal_affine_forward", result, ("out", "cache"))


def _check_affine_out(out: Any, h: np.ndarray, Wo: np.ndarray, bo: np.ndarray) -> None:
    """The student's out (for h, Wo, bo) matches the reference."""
    N, T, H = h.shape
    n_out = Wo.shape[1]
    out = float_array("temporal_affine_forward", "out", out, (N, T, n_out), "(N, T, O)")
    variants = [("the bias bo is missing", lambda: np.einsum("nth,ho->nto", h, Wo))]
    if H == n_out:
        variants.append(
            (
                "uses Wo transposed: out_t = h_t @ Wo + bo",
                lambda: np.einsum("nth,oh->nto", h, Wo) + bo,
            )
        )
    compare(
        "temporal_affine_forward",
        "out",
        out,
        reference_temporal_affine_forward(h, Wo, bo),
        variants,
        f"out[:, t] = h[:, t] @ Wo + bo at every step, see {FWD_CHAPTER}",
        _sizes(N=N, T=T, H=H, O=n_out),
    )


def check_temporal_affine_forward_values(student: Student, rng: np.random.Generator) -> None:
    """temporal_affine_forward: out matches the reference; N = 1, T = 1, H = O."""
    for shape in AFFINE_SHAPES:
        h, Wo, bo = _affine_inputs(rng, *shape)
        out, _ = _call_affine_forward(student, h, Wo, bo)
        _check_affine_out(out, h, Wo, bo)


AFFINE_HINTS = {
    "dh": "dh[:, t] = dout[:, t] @ Wo.T",
    "dWo": "dWo = sum over t of h[:, t].T @ dout[:, t]",
    "dbo": "sum dout over both the batch axis and the time axis",
}


def _affine_backward_variants(
    output: str, h: np.ndarray, Wo: np.ndarray, dout: np.ndarray, expected: np.ndarray
) -> list[Variant]:
    N, T, H = h.shape
    if output == "dh":
        if H != Wo.shape[1]:
            return []
        return [("uses Wo instead of Wo.T", lambda: np.einsum("nto,oh->nth", dout, Wo))]
    if output == "dWo":
        return [
            transposed("dWo", expected, "dWo = sum over t of h_t.T @ dout_t"),
            averaged(
                "dWo",
                expected,
                "the batch and time",
                N * T,
                "the 1/(N*T*O) of the mean already sits in dout",
            ),
            averaged("dWo", expected, "the batch", N),
            (
                "dWo holds the last step only; Wo is shared by all steps, so sum the "
                "contributions of every step",
                lambda: np.einsum("nh,no->ho", h[:, -1], dout[:, -1]),
            ),
        ]
    return [
        averaged("dbo", expected, "the batch and time", N * T),
        averaged("dbo", expected, "the batch", N),
        ("dbo holds the last step only; sum over every step", lambda: dout[:, -1].sum(axis=0)),
    ]


def _check_affine_backward(student: Student, rng: np.random.Generator, output: str) -> None:
    """temporal_affine_backward: ``output`` matches the reference; N = 1, T = 1, H = O."""
    for N, T, H, n_out in AFFINE_SHAPES:
        inputs = _affine_inputs(rng, N, T, H, n_out)
        _check_affine_backward_case(student, output, inputs, rng.normal(size=(N, T, n_out)))


def _check_affine_backward_case(
    student: Student, output: str, inputs: tuple[np.ndarray, ...], dout: np.ndarray
) -> None:
    """One case of :func:`_check_affine_backward`: forward, then backward with upstream ``dout``."""
    h, Wo, _ = inputs
    with prerequisite("temporal_affine_forward", "temporal_affine_backward"):
        out, cache = _call_affine_forward(student, *inputs, "temporal_affine_backward")
    with prerequisite_on_failure(
        "temporal_affine_forward",
        "temporal_affine_backward",
        lambda: _check_affine_out(out, *inputs),
    ):
        names = ARGUMENTS["temporal_affine_backward"]
        result = call_leaving_inputs(student, "temporal_affine_backward", names, dout, cache)
        result = unpack("temporal_affine_backward", result, AFFINE_OUTPUTS)
        expected = reference_temporal_affine_backward(dout, h, Wo)[output]
        actual = float_array(
            "temporal_affine_backward",
            output,
            result[AFFINE_OUTPUTS.index(output)],
            expected.shape,
            hint=AFFINE_HINTS[output],
        )
        N, T, H = h.shape
        compare(
            "temporal_affine_backward",
            output,
            actual,
            expected,
            _affine_backward_variants(output, h, Wo, dout, expected),
            f"{AFFINE_HINTS[output]}; see {GRAD_CHAPTER}",
            _sizes(N=N, T=T, H=H, O=Wo.shape[1]),
        )


# mse_loss ----------------------------------------------------------------------------------


def _mse_variants(output: str, pred: np.ndarray, target: np.ndarray) -> list[Variant]:
    N, T, _ = pred.shape
    reference = reference_mse_loss(pred, target)
    residual = pred - target
    squares = float(np.sum(residual**2))
    if output == "loss":
        loss = reference["loss"]
        return [
            (
                "this is the sum of squares; the loss is their mean, so use the mean "
                "instead of the sum (divide by N*T*O)",
                lambda: squares,
            ),
            (
                "divided by the batch size N only; the mean runs over all N*T*O entries",
                lambda: squares / N,
            ),
            ("divided by N*T; the mean runs over all N*T*O entries", lambda: squares / (N * T)),
            ("there is an extra factor 1/2", lambda: loss / 2),
            ("this is the root of the mean squared error; drop the sqrt", lambda: np.sqrt(loss)),
            ("this is the mean ABSOLUTE error", lambda: float(np.mean(np.abs(residual)))),
        ]
    return [
        (
            "divided by the batch size N only; the loss is a mean over all "
            "N*T*O entries, so dpred = 2 (pred - target) / (N*T*O)",
            lambda: 2 * residual / N,
        ),
        (
            "divided by N*T; the loss is a mean over all N*T*O entries, so divide by N*T*O",
            lambda: 2 * residual / (N * T),
        ),
        (
            "no division: this is the gradient of the sum of squares, not of "
            "their mean; divide by N*T*O",
            lambda: 2 * residual,
        ),
        ("the factor 2 from the square's derivative is missing", lambda: residual / pred.size),
        wrong_sign(
            "dpred", reference["dpred"], "the derivative of (pred - target)**2 is 2 (pred - target)"
        ),
    ]


def _check_mse(student: Student, rng: np.random.Generator, output: str) -> None:
    formulas = {
        "loss": f"loss = mean of (pred - target)**2 over all entries, see {FWD_CHAPTER}",
        "dpred": f"dpred = 2 (pred - target) / (N*T*O), see {GRAD_CHAPTER}",
    }
    for shape in MSE_SHAPES:
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        result = call_leaving_inputs(student, "mse_loss", ARGUMENTS["mse_loss"], pred, target)
        loss, dpred = unpack("mse_loss", result, ("loss", "dpred"))
        if output == "loss":
            actual = float_scalar("mse_loss", "loss", loss)
        else:
            actual = float_array("mse_loss", "dpred", dpred, shape, hint="the shape of pred")
        compare(
            "mse_loss",
            output,
            actual,
            reference_mse_loss(pred, target)[output],
            _mse_variants(output, pred, target),
            formulas[output],
            f"shape {shape}",
        )


def check_mse_loss_value(student: Student, rng: np.random.Generator) -> None:
    """mse_loss: the loss is the mean of the squared errors."""
    _check_mse(student, rng, "loss")


def check_mse_loss_dpred(student: Student, rng: np.random.Generator) -> None:
    """mse_loss: dpred is the gradient of that mean."""
    _check_mse(student, rng, "dpred")


# clip_by_global_norm -----------------------------------------------------------------------


def _clip(student: Student, grads: Arrays, max_norm: float) -> tuple[dict, Any]:
    """The student's (clipped, total_norm), after checking that clipped is a dict of arrays."""
    clipped, total_norm = unpack(
        "clip_by_global_norm",
        call_on_copies(student, "clip_by_global_norm", grads, max_norm),
        ("clipped", "total_norm"),
    )
    if not isinstance(clipped, dict):
        raise CheckFailed(f"clip_by_global_norm: clipped must be a dict, got {describe(clipped)}")
    if set(clipped) != set(grads):
        raise CheckFailed(
            f"clip_by_global_norm: clipped must have the keys of grads {sorted(grads)}, got "
            f"{sorted(map(str, clipped))}"
        )
    for name, g in grads.items():
        float_array("clip_by_global_norm", f"clipped[{name!r}]", clipped[name], g.shape)
    return clipped, total_norm


def _flat(arrays: Arrays, names: list[str]) -> np.ndarray:
    return np.concatenate([np.ravel(arrays[name]) for name in names])


def _scaled_anyway(grads: Arrays, max_norm: float) -> list[Variant]:
    total = _total_norm(grads)
    return [
        (
            "the arrays were scaled although total_norm is "
            "below max_norm; scale only when total_norm > max_norm",
            lambda: _flat(grads, sorted(grads)) * max_norm / total,
        )
    ]


def check_clip_by_global_norm_below_threshold(student: Student, rng: np.random.Generator) -> None:
    """clip_by_global_norm: below the threshold every array comes back unchanged."""
    for grads, max_norm in _clip_cases(rng, above=False):
        clipped, _ = _clip(student, grads, max_norm)
        names = sorted(grads)
        compare(
            "clip_by_global_norm",
            "clipped",
            _flat(clipped, names),
            _flat(grads, names),
            _scaled_anyway(grads, max_norm),
            "below the threshold every array must come back unchanged",
            f"total_norm {_total_norm(grads):.3g} <= max_norm {max_norm:.3g}, keys {names}",
        )


def _scaling_variants(grads: Arrays, max_norm: float) -> list[Variant]:
    names = sorted(grads)
    total = _total_norm(grads)
    original = _flat(grads, names)
    norms = {name: np.linalg.norm(g) for name, g in grads.items()}
    per_array = {n: g * min(1.0, max_norm / norms[n]) for n, g in grads.items()}
    return [
        (
            "each array was clipped separately to max_norm; clip "
            "globally instead: scale ALL arrays by the same factor max_norm / total_norm, "
            "where total_norm is the norm of all the entries together",
            lambda: _flat(per_array, names),
        ),
        ("nothing was scaled although total_norm > max_norm", lambda: original),
        (
            "the factor is inverted; multiply by max_norm / total_norm",
            lambda: original * total / max_norm,
        ),
        (
            "total_norm is the sum of the arrays' "
            "norms; it is the square root of the sum of ALL squared entries",
            lambda: original * max_norm / sum(norms.values()),
        ),
        (
            "the square root is missing from total_norm",
            lambda: original * max_norm / total**2,
        ),
    ]


def check_clip_by_global_norm_scaling(student: Student, rng: np.random.Generator) -> None:
    """clip_by_global_norm: above the threshold every array is scaled by max_norm / total."""
    for grads, max_norm in _clip_cases(rng, above=True):
        clipped, _ = _clip(student, grads, max_norm)
        names = sorted(grads)
        compare(
            "clip_by_global_norm",
            "clipped",
            _flat(clipped, names),
            _flat(reference_clip_by_global_norm(grads, max_norm)["clipped"], names),
            _scaling_variants(grads, max_norm),
            "clipped[k] = grads[k] * max_norm / total_norm for every key k",
            f"total_norm {_total_norm(grads):.3g} > max_norm {max_norm:.3g}, keys {names}",
        )


def _total_norm_variants(grads: Arrays, max_norm: float) -> list[Variant]:
    expected = _total_norm(grads)
    norms = [float(np.linalg.norm(g)) for g in grads.values()]
    return [
        (
            "this is the sum of the arrays' norms; total_norm is the square "
            "root of the sum of ALL squared entries",
            lambda: sum(norms),
        ),
        ("the square root is missing", lambda: expected**2),
        (
            "this is the norm AFTER clipping; return the norm of the gradients before clipping",
            lambda: min(expected, max_norm),
        ),
        ("this is the largest norm of one array", lambda: max(norms)),
    ]


def check_clip_by_global_norm_total_norm(student: Student, rng: np.random.Generator) -> None:
    """clip_by_global_norm: total_norm is the norm before clipping (below and above)."""
    for above in (False, True):
        for grads, max_norm in _clip_cases(rng, above):
            _, total_norm = _clip(student, grads, max_norm)
            compare(
                "clip_by_global_norm",
                "total_norm",
                float_scalar("clip_by_global_norm", "total_norm", total_norm),
                _total_norm(grads),
                _total_norm_variants(grads, max_norm),
                "total_norm = sqrt(sum of squares of every entry of every array)",
                f"keys {sorted(grads)}",
            )


def check_clip_by_global_norm_inputs_unchanged(student: Student, rng: np.random.Generator) -> None:
    """clip_by_global_norm: the input dict and its arrays are left as they were (below and
    above the threshold). The other checks of clip_by_global_norm call it on copies: this
    property, which the statement stresses, has a test of its own."""
    for above in (False, True):
        for grads, max_norm in _clip_cases(rng, above):
            call_leaving_inputs(
                student,
                "clip_by_global_norm",
                ARGUMENTS["clip_by_global_norm"],
                grads,
                max_norm,
                how="build a new dict of new arrays (g * scale), never write into the caller's "
                "dict or arrays (g *= scale)",
            )


# numerical_gradient ------------------------------------------------------------------------


def _unrestored(X: np.ndarray, W: np.ndarray, df: np.ndarray, h: float) -> np.ndarray:
    """The known-wrong central difference that never restores x after x[i] - h."""
    x, grad = W.copy(), np.zeros_like(W)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = np.tanh(X @ x)
        x[index] -= 2 * h
        grad[index] = np.sum(df * (plus - np.tanh(X @ x))) / (2 * h)
    return grad


def _scale_variants(expected: np.ndarray) -> list[Variant]:
    """A wrong factor or sign, which any estimate can have."""
    return [
        ("twice too large: divide the difference by 2h, not by h", lambda: 2 * expected),
        ("half too small: divide the difference by 2h", lambda: expected / 2),
        wrong_sign("the result", expected, "(f(x + h e_i) - f(x - h e_i)) / (2h)"),
    ]


def _numgrad_variants(
    X: np.ndarray, W: np.ndarray, df: np.ndarray, h: float, expected: np.ndarray
) -> list[Variant]:
    return [
        *_scale_variants(expected),
        (
            "the upstream gradient df is ignored: entry i is "
            "sum(df * (f(x + h e_i) - f(x - h e_i))) / (2h)",
            lambda: reference_numerical_gradient(X, W, np.ones_like(df)),
        ),
        (
            "x is not restored after each perturbation, so later entries are evaluated at a "
            "shifted point: reset x[i] to its original value after the two evaluations",
            lambda: _unrestored(X, W, df, h),
        ),
    ]


def _one_sided_variants(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float
) -> list[Variant]:
    """A forward or a backward difference, for an element-wise ``f`` (every entry at once)."""
    central = (
        "the statement asks for the central difference: take f(x + h e_i) - f(x - h e_i), "
        "weight it by df, sum, and divide by 2h"
    )
    return [
        (
            "this is a forward difference, (f(x + h e_i) - f(x)) / h, which is "
            f"off by about h f''/2 (large here); {central}",
            lambda: df * (f(x + h) - f(x)) / h,
        ),
        (
            "this is a backward difference, (f(x) - f(x - h e_i)) / h, which is "
            f"off by about h f''/2 (large here); {central}",
            lambda: df * (f(x) - f(x - h)) / h,
        ),
    ]


def _check_estimate(
    student: Student,
    f: Any,
    x: np.ndarray,
    df: np.ndarray,
    step: float | None,
    expected: np.ndarray,
    variants: list[Variant],
    case: str,
) -> None:
    """numerical_gradient(f, x, df), with h=step unless None, matches ``expected`` up to
    ESTIMATE_TOL."""
    kwargs = {} if step is None else {"h": step}
    grad = call_on_copies(student, "numerical_gradient", f, x, df, **kwargs)
    grad = float_array(
        "numerical_gradient", "the result", grad, x.shape, hint="it has the shape of x"
    )
    compare(
        "numerical_gradient",
        "the result",
        grad,
        expected,
        variants,
        f"entry i must be sum(df * (f(x + h e_i) - f(x - h e_i))) / (2h), see {GRAD_CHAPTER}",
        f"{case}, x of shape {x.shape}, h={'default' if step is None else step}",
        rtol=ESTIMATE_TOL,
        atol=ESTIMATE_TOL,
    )


def _check_curved(student: Student, rng: np.random.Generator) -> None:
    """An element-wise quadratic of large curvature: its central difference is exact, its
    one-sided differences are off by h f''/2."""
    a, x0, df = (rng.normal(size=(2, 3)) for _ in range(3))
    f = student.function(f"lambda x: a * x + {CURVATURE / 2} * (x - x0) ** 2", a=a, x0=x0)
    expected = a * df  # the derivative at x0, which the central difference gives exactly

    def quadratic(x: np.ndarray) -> np.ndarray:
        return a * x + CURVATURE / 2 * (x - x0) ** 2

    variants = [*_one_sided_variants(quadratic, x0, df, DEFAULT_STEP), *_scale_variants(expected)]
    case = f"f(x) = a * x + {CURVATURE / 2:g} * (x - x0)**2 at x0, where f'' = {CURVATURE:g}"
    _check_estimate(student, f, x0, df, None, expected, variants, case)


def _check_large_step(student: Student, rng: np.random.Generator) -> None:
    """sin(x - x0) at x0 with h = LARGE_STEP: the function is odd about every entry, so every
    difference scheme gives sin(h)/h there (times df), and only the derivative 1 as h -> 0."""
    x0, df = rng.normal(size=4), rng.normal(size=4)
    expected = df * np.sin(LARGE_STEP) / LARGE_STEP
    variants = [
        (
            f"the step h is not used: this is the derivative, not the central difference with "
            f"h={LARGE_STEP}; perturb x[i] by the h that numerical_gradient is given",
            lambda: df,
        ),
        *_scale_variants(expected),
    ]
    f = student.function("lambda x: np.sin(x - x0)", x0=x0)
    _check_estimate(student, f, x0, df, LARGE_STEP, expected, variants, "f(x) = sin(x - x0) at x0")


def check_numerical_gradient_vjp(student: Student, rng: np.random.Generator) -> None:
    """The estimate on f(W) = tanh(X W), up to the accuracy of a numerical estimate
    (ESTIMATE_TOL): an x left perturbed by h (the target of the x_unchanged check) passes here.
    Then the method, on two element-wise f (where an entry left perturbed changes no other
    entry's estimate), one property each: the central difference (:func:`_check_curved`),
    with the given step (:func:`_check_large_step`)."""
    for (N, D, K), step in zip(NUMGRAD_SHAPES, (None, 1e-6, None), strict=True):
        X, W, df = _numgrad_case(rng, N, D, K)
        expected = reference_numerical_gradient(X, W, df)
        variants = _numgrad_variants(X, W, df, step or DEFAULT_STEP, expected)
        f = student.function(F_SOURCE, X=X)
        _check_estimate(student, f, W, df, step, expected, variants, "f(W) = tanh(X @ W)")
    _check_curved(student, rng)
    _check_large_step(student, rng)


def check_numerical_gradient_x_unchanged(student: Student, rng: np.random.Generator) -> None:
    """x and df come back unchanged (to round-off), and f only ever sees x with one entry
    perturbed. The vjp check calls numerical_gradient on copies: this property, which the
    statement stresses, has a test of its own."""
    # f returns nan as soon as it is called with an x in which two or more entries differ from
    # the original (a perturbation that was not undone); this works in a separate process too.
    source = (
        "lambda W: np.tanh(X @ W) + (0.0 if np.shape(W) == np.shape(W0) and "
        f"np.count_nonzero(np.abs(W - W0) > {RESTORED_ATOL}) <= 1 else np.nan)"
    )
    for N, D, K in NUMGRAD_SHAPES:
        X, W, df = _numgrad_case(rng, N, D, K)
        grad = call_leaving_inputs(
            student,
            "numerical_gradient",
            ARGUMENTS["numerical_gradient"],
            student.function(source, X=X, W0=W),
            W,
            df,
            how="put every perturbed entry of x back to its original value after its two "
            "evaluations (or perturb a copy of x), and never write into df",
        )
        if isinstance(grad, np.ndarray) and grad.dtype.kind == "f" and np.isnan(grad).any():
            raise CheckFailed(
                "numerical_gradient modified x: f was called with an x in which an earlier "
                "entry was still perturbed (the change of x[i] was not undone before moving "
                "on to the next entry); put x[i] back to its original value after the two "
                "evaluations, or perturb a copy of x"
            )


# The symbolic question: dL/dw for a one-unit RNN over two steps ----------------------------


def _dl_dw_variants() -> list[tuple[str, sp.Expr]]:
    """Wrong answers for dL/dw, each with its cause."""
    loss, h1, h2 = _two_steps()
    w, u, h0, _, _, y = (SYMBOLS[name] for name in SYMBOL_NAMES)
    truth = reference_dl_dw()
    g1, g2 = 1 - h1**2, 1 - h2**2
    return [
        (
            "the path through h1 is missing: w also acts at step 1, and h1 reaches the loss "
            "through step 2, so dL/dw = dL/da2 * (h1 + w * tanh'(a1) * h0) (BPTT's carry)",
            (h2 - y) * g2 * h1,
        ),
        (
            "in the term carried back through h1 the factor w is missing: dh2/dh1 = tanh'(a2) * w",
            (h2 - y) * g2 * (h1 + g1 * h0),
        ),
        (
            "tanh' of the first step is missing: dh1/dw = tanh'(a1) * h0",
            (h2 - y) * g2 * (h1 + w * h0),
        ),
        ("tanh' of the second step is missing: dh2/da2 = 1 - h2**2", (h2 - y) * (h1 + w * g1 * h0)),
        ("wrong sign: dL/dh2 = h2 - y", -truth),
        ("twice too large: the loss has a factor 1/2", 2 * truth),
        ("this is dL/du, the derivative with respect to the INPUT weight u", sp.diff(loss, u)),
        ("this is dL/dh0", sp.diff(loss, h0)),
    ]


def _rational_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every hyperbolic function or exponential of a_1 = w h0 + u x1 and of
    a_2 = w tanh(a_1) + u x2 (or of a rational multiple of them) written as a rational function
    of e_i = exp(a_i): two answers are then equal exactly when their difference cancels to 0."""
    w, u, h0, x1, x2 = (SYMBOLS[name] for name in SYMBOL_NAMES[:5])
    e1, e2 = sp.symbols("e1 e2", positive=True)
    t1 = (e1**2 - 1) / (e1**2 + 1)
    arguments = ((w * h0 + u * x1, e1), (w * t1 + u * x2, e2))
    formulas: dict[type, Callable[[sp.Expr], sp.Expr]] = {
        sp.exp: lambda E: E,
        sp.tanh: lambda E: (E**2 - 1) / (E**2 + 1),
        sp.coth: lambda E: (E**2 + 1) / (E**2 - 1),
        sp.sinh: lambda E: (E**2 - 1) / (2 * E),
        sp.cosh: lambda E: (E**2 + 1) / (2 * E),
        sp.sech: lambda E: 2 * E / (E**2 + 1),
        sp.csch: lambda E: 2 * E / (E**2 - 1),
    }

    def walk(node: sp.Basic) -> sp.Basic:
        if not node.args:
            return node
        args = [walk(arg) for arg in node.args]
        if type(node) in formulas:
            for argument, e in arguments:
                ratio = sp.cancel(args[0] / argument)
                if ratio.is_Rational:
                    return formulas[type(node)](e**ratio)
        return node.func(*args)

    return walk(expr)


def _equal(student: sp.Expr, truth: sp.Expr) -> bool:
    """Proof (not a numerical test) that the two expressions are equal. Call it only when they
    already agree numerically: ``simplify`` can take very long on two different expressions."""
    difference = sp.cancel(sp.together(_rational_form(student) - _rational_form(truth)))
    if difference == 0:
        return True
    if not difference.atoms(sp.Function):  # a nonzero rational function: they differ
        return False
    return sp.simplify(student - truth) == 0


def _numbers(expr: sp.Expr, points: list[dict[sp.Symbol, sp.Float]]) -> np.ndarray:
    values = []
    for point in points:
        try:
            values.append(complex(expr.xreplace(point).evalf()))
        except (TypeError, ValueError):  # a malformed expression has no value
            values.append(complex(np.nan))
    return np.array(values)


def check_dl_dw_symbolic(student: Student, rng: np.random.Generator) -> None:
    """dL_dw is a SymPy expression equal to dL/dw (proved, after agreeing at random points)."""
    answer = student.sympy_value("dL_dw")
    if not isinstance(answer, sp.Expr) or isinstance(answer, sp.MatrixBase):
        raise CheckFailed(f"dL_dw must be a scalar SymPy expression, got {type(answer).__name__}")
    names = {str(symbol) for symbol in answer.free_symbols}
    unknown = sorted(names - set(SYMBOL_NAMES))
    if unknown:
        raise CheckFailed(
            f"dL_dw contains symbols that are not defined in the setup cell: {', '.join(unknown)}; "
            f"write it with {', '.join(SYMBOL_NAMES)} only (build h1 and h2 as expressions, e.g. "
            "h1 = sp.tanh(w*h0 + u*x1), not as new symbols)"
        )
    # The same names with other assumptions (sp.Symbol("w") without real=True) mean the same.
    answer = answer.xreplace({s: SYMBOLS[str(s)] for s in answer.free_symbols})
    truth = reference_dl_dw()
    points = _symbol_points(rng)
    got, expected = _numbers(answer, points), _numbers(truth, points)
    if close(got, expected):
        if _equal(answer, truth):
            return
        raise CheckFailed(
            "dL_dw agrees with dL/dw at random points but SymPy could not prove the two equal; "
            "write it with tanh (and 1 - tanh(...)**2 for tanh') of w*h0 + u*x1 and "
            "w*tanh(w*h0 + u*x1) + u*x2"
        )
    cause = diagnose(
        got,
        expected,
        [(why, lambda expr=expr: _numbers(expr, points)) for why, expr in _dl_dw_variants()],
        "compare with the chain rule through both steps (BPTT): w is used at step 1 AND at step 2",
    )
    error = float(np.nanmax(np.abs(got - expected))) if np.isfinite(got).any() else float("nan")
    raise CheckFailed(f"dL_dw is not dL/dw (max abs error {error:.1e} at random points): {cause}")


CHECKS: dict[str, Check] = {
    "rnn_forward_tanh": check_rnn_forward_tanh,
    "rnn_forward_relu": check_rnn_forward_relu,
    "rnn_forward_t1": check_rnn_forward_t1,
    "rnn_forward_bad_activation": check_rnn_forward_bad_activation,
    "temporal_affine_forward_values": check_temporal_affine_forward_values,
    **gradient_checks("temporal_affine_backward", AFFINE_OUTPUTS, _check_affine_backward),
    "mse_loss_value": check_mse_loss_value,
    "mse_loss_dpred": check_mse_loss_dpred,
    "numerical_gradient_vjp": check_numerical_gradient_vjp,
    "numerical_gradient_x_unchanged": check_numerical_gradient_x_unchanged,
    **gradient_checks("rnn_backward", BACKWARD_OUTPUTS, _check_rnn_backward),
    "clip_by_global_norm_below_threshold": check_clip_by_global_norm_below_threshold,
    "clip_by_global_norm_scaling": check_clip_by_global_norm_scaling,
    "clip_by_global_norm_total_norm": check_clip_by_global_norm_total_norm,
    "clip_by_global_norm_inputs_unchanged": check_clip_by_global_norm_inputs_unchanged,
    "dl_dw_symbolic": check_dl_dw_symbolic,
}
