"""Checks of the assignment *Backpropagation through time* (``bptt``).

Every graded test cell of ``bptt.ipynb`` runs one check of :data:`CHECKS` on the student's
functions, treated as black boxes through the public contract of the notebook. The references
the checks compare against are written here, independently of the notebook's solution: einsum
instead of matrix products, the whole backward pass as "all the ``da`` first, then the
parameters", ``1 / cosh**2`` instead of ``1 - h**2``. When an answer is wrong, the check
compares it with known-wrong variants of the reference to name the likely cause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import sympy as sp

from autograder.harness import CheckFailed, Student, StudentRaised

FWD_CHAPTER = "the chapter *Forward pass and loss* (chapters/forward_pass_and_loss.md)"
GRAD_CHAPTER = "the chapter *Gradients* (chapters/gradients.md)"
BPTT_SECTION = "the notebook's section on backpropagation through time"
RTOL, ATOL = 1e-7, 1e-9
BACKWARD_OUTPUTS = ("dx", "dh0", "dWx", "dWh", "db")


# ---------------------------------------------------------------------------------------------
# Validation and comparison helpers
# ---------------------------------------------------------------------------------------------


def _copy(value: Any) -> Any:
    """A deep copy of arrays in plain containers, so that a student cannot alter our inputs."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) in (tuple, list):
        return type(value)(_copy(item) for item in value)
    return value


def _call(student: Student, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call the student's function on copies of the arguments."""
    return student.call(name, *[_copy(a) for a in args], **{k: _copy(v) for k, v in kwargs.items()})


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def _unpack(result: Any, function: str, names: tuple[str, ...]) -> tuple[Any, ...]:
    """The student's result as a tuple of ``len(names)`` items, or CheckFailed."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed(f"{function} must return ({', '.join(names)}), got {_describe(result)}")
    return tuple(result)


def _array(value: Any, function: str, output: str, shape: tuple[int, ...], hint: str = "") -> Any:
    """Check that ``value`` is a finite float64 array of the given shape."""
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{function}: {output} must be a numpy array, got {_describe(value)}")
    if value.dtype != np.float64:
        raise CheckFailed(
            f"{function}: {output} must have dtype float64, got {value.dtype} "
            "(integer or boolean arithmetic somewhere? build arrays with float values)"
        )
    if value.shape != tuple(shape):
        extra = f": {hint}" if hint else ""
        raise CheckFailed(
            f"{function}: {output} must have shape {tuple(shape)}, got {value.shape}{extra}"
        )
    if not np.all(np.isfinite(value)):
        raise CheckFailed(f"{function}: {output} contains nan or inf")
    return value


def _scalar(value: Any, function: str, output: str) -> float:
    """Check that ``value`` is a float (Python, NumPy or a 0-d float array) and return it."""
    if isinstance(value, (float, np.floating)):
        number = float(value)
    elif isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind == "f":
        number = float(value)
    else:
        got = _describe(value)
        raise CheckFailed(f"{function}: {output} must be a float (one number), got {got}")
    if not np.isfinite(number):
        raise CheckFailed(f"{function}: {output} is {number}")
    return number


def _close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    actual, expected = np.asarray(actual), np.asarray(expected)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol, atol))


def _compare(
    function: str,
    output: str,
    actual: Any,
    expected: Any,
    variants: list[tuple[Any, str]],
    fallback: str,
    note: str = "",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """CheckFailed naming the error and the first known-wrong variant the answer matches."""
    if _close(actual, expected, rtol, atol):
        return
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    max_abs = float(np.max(np.abs(actual - expected)))
    scale = np.linalg.norm(actual) + np.linalg.norm(expected)
    relative = float(np.linalg.norm(actual - expected) / max(scale, np.finfo(float).tiny))
    cause = next((why for wrong, why in variants if _close(actual, wrong, rtol, atol)), fallback)
    raise CheckFailed(
        f"{function}: {output} is off (max abs error {max_abs:.1e}, relative error "
        f"{relative:.1e}): {cause}{note}"
    )


# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def _phi(a: np.ndarray, activation: str) -> np.ndarray:
    return np.tanh(a) if activation == "tanh" else np.where(a > 0, a, 0.0)


def _dphi(a: np.ndarray, activation: str) -> np.ndarray:
    return 1.0 / np.cosh(a) ** 2 if activation == "tanh" else np.where(a > 0, 1.0, 0.0)


def ref_rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
    recurrent: str = "Wh",
) -> tuple[np.ndarray, np.ndarray]:
    """States h_1..h_T (N, T, H) and pre-activations a_1..a_T.

    ``recurrent`` selects a known-wrong variant: "WhT" (h_prev Wh^T), "h0" (h0 at every step),
    "none" (no activation).
    """
    states, pre = [h0], []
    for t in range(x.shape[1]):
        prev = h0 if recurrent == "h0" else states[-1]
        weights = Wh.T if recurrent == "WhT" else Wh
        a = np.einsum("nd,dh->nh", x[:, t], Wx) + np.einsum("nk,kh->nh", prev, weights) + b
        pre.append(a)
        states.append(a if recurrent == "none" else _phi(a, activation))
    return np.stack(states[1:], axis=1), np.stack(pre, axis=1)


def ref_rnn_backward(
    dh: np.ndarray,
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str,
    carry: bool = True,
    dphi: bool = True,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """BPTT as "every da_t first, then all the parameter gradients at once" (einsum).

    ``carry=False`` and ``dphi=False`` give known-wrong variants (no gradient carried back from
    step t+1; activation derivative missing). Returns the gradients and some intermediates.
    """
    h, a = ref_rnn_forward(x, h0, Wx, Wh, b, activation)
    prev = np.concatenate([h0[:, None, :], h[:, :-1]], axis=1)  # h_{t-1} beside every h_t
    da, total = np.zeros_like(a), np.zeros_like(a)
    back = np.zeros_like(h0)
    for t in range(x.shape[1] - 1, -1, -1):
        total[:, t] = dh[:, t] + (back if carry else 0.0)
        da[:, t] = total[:, t] * (_dphi(a[:, t], activation) if dphi else 1.0)
        back = np.einsum("nh,kh->nk", da[:, t], Wh)
    grads = {
        "dx": np.einsum("nth,dh->ntd", da, Wx),
        "dh0": back,
        "dWx": np.einsum("ntd,nth->dh", x, da),
        "dWh": np.einsum("ntk,nth->kh", prev, da),
        "db": np.einsum("nth->h", da),
    }
    return grads, {"da": da, "total": total, "prev": prev, "h": h}


def ref_mse(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    count = pred.size
    residual = pred - target
    return float(residual.ravel() @ residual.ravel() / count), residual * (2.0 / count)


def ref_clip(grads: dict[str, np.ndarray], max_norm: float) -> tuple[dict[str, np.ndarray], float]:
    total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads.values()])))
    factor = min(1.0, max_norm / total)
    return {name: factor * g for name, g in grads.items()}, total


# ---------------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------------


def _rnn_inputs(
    rng: np.random.Generator, N: int, T: int, D: int, H: int, activation: str
) -> tuple[np.ndarray, ...]:
    """Random RNN inputs; for ReLU every pre-activation stays at least 1e-3 away from the kink."""
    for _ in range(1000):
        x = rng.normal(size=(N, T, D))
        h0 = rng.normal(size=(N, H))
        Wx = rng.normal(size=(D, H)) / np.sqrt(D)
        Wh = rng.normal(size=(H, H)) / np.sqrt(H)
        b = 0.3 * rng.normal(size=H)
        _, a = ref_rnn_forward(x, h0, Wx, Wh, b, activation)
        if activation == "tanh" or np.min(np.abs(a)) > 1e-3:
            return x, h0, Wx, Wh, b
    raise RuntimeError("could not draw ReLU inputs away from the kink")  # pragma: no cover


FORWARD_SHAPES = ((1, 3, 2, 4), (3, 4, 3, 2), (2, 5, 3, 3))  # (N, T, D, H): N = 1, D != H
BACKWARD_SHAPES = ((1, 4, 3, 2), (3, 3, 2, 4), (2, 5, 3, 3), (2, 1, 2, 3))  # T >= 3, and T = 1


# ---------------------------------------------------------------------------------------------
# rnn_forward
# ---------------------------------------------------------------------------------------------


def _forward_h(student: Student, inputs: tuple[np.ndarray, ...], activation: str | None) -> Any:
    """The student's h (validated) for ``inputs``; activation None uses the default argument."""
    x, h0, Wx, Wh, b = inputs
    N, T, _ = x.shape
    H = Wh.shape[0]
    kwargs = {} if activation is None else {"activation": activation}
    h, _ = _unpack(_call(student, "rnn_forward", *inputs, **kwargs), "rnn_forward", ("h", "cache"))
    if isinstance(h, np.ndarray) and h.shape == (N, T + 1, H):
        hint = "h must not include h0: it holds the T new states h_1 ... h_T"
    elif isinstance(h, np.ndarray) and T == 1 and h.shape == (N, H):
        hint = "keep the time axis: h has shape (N, T, H) even when T = 1"
    else:
        hint = "h holds one state of H units per example and per time step"
    return _array(h, "rnn_forward", "h", (N, T, H), hint)


def _check_forward_values(
    student: Student, inputs: tuple[np.ndarray, ...], activation: str, default: bool
) -> None:
    x, h0, Wx, Wh, b = inputs
    h = _forward_h(student, inputs, None if default else activation)
    expected, _ = ref_rnn_forward(x, h0, Wx, Wh, b, activation)
    other = "relu" if activation == "tanh" else "tanh"
    shifted = np.concatenate([h0[:, None, :], expected[:, :-1]], axis=1)
    called = "activation left at its default" if default else f"activation={activation!r}"
    variants = [
        (
            shifted,
            "h[:, 0] equals h0 and every state comes one step late: off by one in time; "
            "h must hold the new states h_1 ... h_T, not h0 ... h_{T-1}",
        ),
        (
            ref_rnn_forward(x, h0, Wx, Wh, b, other)[0],
            f"this is the {other} network: with {called} the activation must be {activation}",
        ),
        (
            ref_rnn_forward(x, h0, Wx, Wh, np.zeros_like(b), activation)[0],
            "the bias b is missing from the pre-activation",
        ),
        (
            ref_rnn_forward(x, h0, Wx, Wh, b, activation, recurrent="WhT")[0],
            "the recurrent term uses Wh transposed; in the row convention it is h_{t-1} @ Wh",
        ),
        (
            ref_rnn_forward(x, h0, Wx, Wh, b, activation, recurrent="h0")[0],
            "every step uses h0 as its previous state; step t must use the state h_{t-1} that "
            "step t-1 just computed",
        ),
        (
            ref_rnn_forward(x, h0, Wx, Wh, b, activation, recurrent="none")[0],
            f"the activation ({activation}) is not applied: h_t = phi(a_t)",
        ),
    ]
    _compare(
        "rnn_forward",
        f"h ({called})",
        h,
        expected,
        variants,
        f"compare with h_t = phi(x_t Wx + h_(t-1) Wh + b) in {FWD_CHAPTER}",
    )


def check_rnn_forward_tanh(student: Student, rng: np.random.Generator) -> None:
    """tanh, with the default argument and with activation="tanh"; N = 1, D != H, T > 1."""
    for shape in FORWARD_SHAPES:
        inputs = _rnn_inputs(rng, *shape, "tanh")
        _check_forward_values(student, inputs, "tanh", default=True)
        _check_forward_values(student, inputs, "tanh", default=False)


def check_rnn_forward_relu(student: Student, rng: np.random.Generator) -> None:
    for shape in FORWARD_SHAPES:
        _check_forward_values(student, _rnn_inputs(rng, *shape, "relu"), "relu", default=False)


def check_rnn_forward_t1(student: Student, rng: np.random.Generator) -> None:
    """A sequence of one step: h has shape (N, 1, H) and holds h_1."""
    for N, D, H in ((1, 2, 3), (4, 3, 2)):
        for activation in ("tanh", "relu"):
            inputs = _rnn_inputs(rng, N, 1, D, H, activation)
            _check_forward_values(student, inputs, activation, default=False)


def check_rnn_forward_bad_activation(student: Student, rng: np.random.Generator) -> None:
    inputs = _rnn_inputs(rng, 2, 3, 2, 3, "tanh")
    for bad in ("sigmoid", "Tanh", "RELU", ""):
        try:
            _call(student, "rnn_forward", *inputs, activation=bad)
        except StudentRaised as error:
            if error.type_name != "ValueError":
                raise CheckFailed(
                    f"rnn_forward(activation={bad!r}) raised {error.type_name} ({error.message}); "
                    "it must raise ValueError"
                ) from None
            if "activation" not in error.message:
                raise CheckFailed(
                    f"rnn_forward(activation={bad!r}) raised ValueError({error.message!r}); its "
                    'message must name the argument `activation`, e.g. "activation must be '
                    "'tanh' or 'relu', got 'sigmoid'\""
                ) from None
        else:
            raise CheckFailed(
                f"rnn_forward accepted activation={bad!r} without raising ValueError; only "
                '"tanh" and "relu" are valid (check the argument before the loop)'
            )


# ---------------------------------------------------------------------------------------------
# rnn_backward
# ---------------------------------------------------------------------------------------------


def _backward_variants(
    output: str,
    ref: dict[str, np.ndarray],
    extra: dict[str, np.ndarray],
    wrong: dict[str, dict[str, np.ndarray]],
    inputs: tuple[np.ndarray, ...],
) -> list[tuple[Any, str]]:
    x, h0, Wx, Wh, b = inputs
    N, T, _ = x.shape
    da, prev = extra["da"], extra["prev"]
    carry = (
        "the gradient carried back from step t+1 is missing: the total gradient of h_t "
        "is dh[:, t] plus the carry da_(t+1) @ Wh.T (zero only after the last step)"
    )
    no_dphi = (
        "the activation derivative is missing: da_t = (dh[:, t] + carry) * phi'(a_t), "
        "with phi' = 1 - h_t**2 for tanh and (a_t > 0) for relu"
    )
    variants: list[tuple[Any, str]] = [
        (wrong["no_carry"][output], carry),
        (wrong["no_dphi"][output], no_dphi),
    ]
    last_step = {
        "dWx": np.einsum("nd,nh->dh", x[:, -1], da[:, -1]),
        "dWh": np.einsum("nk,nh->kh", prev[:, -1], da[:, -1]),
        "db": da[:, -1].sum(axis=0),
    }
    if output in ("dWx", "dWh", "db"):
        variants += [
            (ref[output] / N, f"{output} is averaged over the batch; sum it over the examples"),
            (
                ref[output] / T,
                f"{output} is averaged over time; the weights are shared, so "
                "their gradient is the SUM of the contributions of all T steps",
            ),
            (
                last_step[output],
                f"{output} holds the contribution of one step only; a shared "
                "weight's gradient is summed over all T steps (accumulate with +=)",
            ),
        ]
    if output in ("dWx", "dWh"):
        variants.append(
            (
                ref[output].T,
                f"{output} is transposed: {output} = sum over t of "
                f"{'x_t' if output == 'dWx' else 'h_(t-1)'}.T @ da_t",
            )
        )
    if output == "dWh":
        variants.append(
            (
                np.einsum("ntk,nth->kh", extra["h"], da),
                "dWh uses h_t where it needs the previous state h_(t-1) "
                "(h0 at the first step): dWh = sum over t of h_(t-1).T @ da_t",
            )
        )
    if output == "dh0":
        variants += [
            (np.zeros_like(h0), "dh0 is zero; it is the carry out of the first step, da_1 @ Wh.T"),
            (
                extra["total"][:, 0],
                "dh0 equals the total gradient of h_1; pass it back "
                "through the first cell: dh0 = da_1 @ Wh.T",
            ),
        ]
    if output == "dx":
        only_last = np.zeros_like(ref["dx"])
        only_last[:, -1] = ref["dx"][:, -1]
        variants.append(
            (only_last, "dx is right at the last step only; fill dx[:, t] at every step")
        )
    return variants


def _check_backward(student: Student, rng: np.random.Generator, output: str) -> None:
    position = BACKWARD_OUTPUTS.index(output)
    for N, T, D, H in BACKWARD_SHAPES:
        for activation in ("tanh", "relu"):
            inputs = _rnn_inputs(rng, N, T, D, H, activation)
            x, h0, Wx, Wh, b = inputs
            dh = rng.normal(size=(N, T, H))
            h, cache = _unpack(
                _call(student, "rnn_forward", *inputs, activation=activation),
                "rnn_forward",
                ("h", "cache"),
            )
            result = _unpack(
                _call(student, "rnn_backward", dh, cache), "rnn_backward", BACKWARD_OUTPUTS
            )
            shapes = {
                "dx": x.shape,
                "dh0": h0.shape,
                "dWx": Wx.shape,
                "dWh": Wh.shape,
                "db": b.shape,
            }
            hint = "sum db over the batch and over time" if output == "db" else ""
            actual = _array(result[position], "rnn_backward", output, shapes[output], hint)
            ref, extra = ref_rnn_backward(dh, *inputs, activation)
            forward_ok = _close(h, extra["h"])
            note = "" if forward_ok else " (rnn_forward's h is wrong too: fix rnn_forward first)"
            wrong = {
                "no_carry": ref_rnn_backward(dh, *inputs, activation, carry=False)[0],
                "no_dphi": ref_rnn_backward(dh, *inputs, activation, dphi=False)[0],
            }
            _compare(
                "rnn_backward",
                f"{output} ({activation}, N={N}, T={T}, D={D}, H={H})",
                actual,
                ref[output],
                _backward_variants(output, ref, extra, wrong, inputs),
                f"compare with the BPTT formulas in {BPTT_SECTION} and {GRAD_CHAPTER}",
                note,
            )


def check_rnn_backward_dx(student: Student, rng: np.random.Generator) -> None:
    _check_backward(student, rng, "dx")


def check_rnn_backward_dh0(student: Student, rng: np.random.Generator) -> None:
    _check_backward(student, rng, "dh0")


def check_rnn_backward_dwx(student: Student, rng: np.random.Generator) -> None:
    _check_backward(student, rng, "dWx")


def check_rnn_backward_dwh(student: Student, rng: np.random.Generator) -> None:
    _check_backward(student, rng, "dWh")


def check_rnn_backward_db(student: Student, rng: np.random.Generator) -> None:
    _check_backward(student, rng, "db")


# ---------------------------------------------------------------------------------------------
# temporal_affine_forward / temporal_affine_backward
# ---------------------------------------------------------------------------------------------

AFFINE_SHAPES = ((1, 3, 4, 2), (3, 1, 2, 3), (2, 4, 3, 3))  # (N, T, H, O): N = 1, T = 1, H = O


def _affine_inputs(rng: np.random.Generator, N: int, T: int, H: int, n_out: int) -> tuple:
    return rng.normal(size=(N, T, H)), rng.normal(size=(H, n_out)), rng.normal(size=n_out)


def check_temporal_affine_forward_values(student: Student, rng: np.random.Generator) -> None:
    for N, T, H, n_out in AFFINE_SHAPES:
        h, Wo, bo = _affine_inputs(rng, N, T, H, n_out)
        out, _ = _unpack(
            _call(student, "temporal_affine_forward", h, Wo, bo),
            "temporal_affine_forward",
            ("out", "cache"),
        )
        out = _array(out, "temporal_affine_forward", "out", (N, T, n_out))
        expected = np.einsum("nth,ho->nto", h, Wo) + bo
        variants = [(expected - bo, "the bias bo is missing")]
        if H == n_out:
            variants.append(
                (np.einsum("nth,oh->nto", h, Wo) + bo, "uses Wo transposed: out_t = h_t @ Wo + bo")
            )
        _compare(
            "temporal_affine_forward",
            f"out (N={N}, T={T}, H={H}, O={n_out})",
            out,
            expected,
            variants,
            f"out[:, t] = h[:, t] @ Wo + bo at every step, see {FWD_CHAPTER}",
        )


def _check_affine_backward(student: Student, rng: np.random.Generator, output: str) -> None:
    names = ("dh", "dWo", "dbo")
    for N, T, H, n_out in AFFINE_SHAPES:
        h, Wo, bo = _affine_inputs(rng, N, T, H, n_out)
        dout = rng.normal(size=(N, T, n_out))
        out, cache = _unpack(
            _call(student, "temporal_affine_forward", h, Wo, bo),
            "temporal_affine_forward",
            ("out", "cache"),
        )
        result = _unpack(
            _call(student, "temporal_affine_backward", dout, cache),
            "temporal_affine_backward",
            names,
        )
        shapes = {"dh": h.shape, "dWo": Wo.shape, "dbo": bo.shape}
        hints = {
            "dh": "dh[:, t] = dout[:, t] @ Wo.T",
            "dWo": "dWo = sum over t of h[:, t].T @ dout[:, t]",
            "dbo": "sum dout over both the batch axis and the time axis",
        }
        actual = _array(
            result[names.index(output)],
            "temporal_affine_backward",
            output,
            shapes[output],
            hints[output],
        )
        ref = {
            "dh": np.einsum("nto,ho->nth", dout, Wo),
            "dWo": np.einsum("nth,nto->ho", h, dout),
            "dbo": np.einsum("nto->o", dout),
        }
        variants = {
            "dh": [(np.einsum("nto,oh->nth", dout, Wo), "uses Wo instead of Wo.T")]
            if H == n_out
            else [],
            "dWo": [
                (ref["dWo"].T, "dWo is transposed: dWo = sum over t of h_t.T @ dout_t"),
                (
                    ref["dWo"] / (N * T),
                    "dWo is averaged over batch and time; sum instead "
                    "(the 1/(N*T*O) of the mean already sits in dout)",
                ),
                (ref["dWo"] / N, "dWo is averaged over the batch; sum instead"),
                (
                    np.einsum("nh,no->ho", h[:, -1], dout[:, -1]),
                    "dWo holds the last step "
                    "only; Wo is shared by all steps, so sum the contributions of every step",
                ),
            ],
            "dbo": [
                (ref["dbo"] / (N * T), "dbo is averaged over batch and time; sum instead"),
                (ref["dbo"] / N, "dbo is averaged over the batch; sum instead"),
                (dout[:, -1].sum(axis=0), "dbo holds the last step only; sum over every step"),
            ],
        }[output]
        note = ""
        if not _close(out, np.einsum("nth,ho->nto", h, Wo) + bo):
            note = " (temporal_affine_forward is wrong too: fix it first)"
        _compare(
            "temporal_affine_backward",
            f"{output} (N={N}, T={T}, H={H}, O={n_out})",
            actual,
            ref[output],
            variants,
            f"{hints[output]}; see {GRAD_CHAPTER}",
            note,
        )


def check_temporal_affine_backward_dh(student: Student, rng: np.random.Generator) -> None:
    _check_affine_backward(student, rng, "dh")


def check_temporal_affine_backward_dwo(student: Student, rng: np.random.Generator) -> None:
    _check_affine_backward(student, rng, "dWo")


def check_temporal_affine_backward_dbo(student: Student, rng: np.random.Generator) -> None:
    _check_affine_backward(student, rng, "dbo")


# ---------------------------------------------------------------------------------------------
# mse_loss
# ---------------------------------------------------------------------------------------------

MSE_SHAPES = ((1, 3, 2), (4, 1, 3), (3, 5, 2))  # every case has T * O > 1 and size > N


def check_mse_loss_value(student: Student, rng: np.random.Generator) -> None:
    for shape in MSE_SHAPES:
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        loss, _ = _unpack(_call(student, "mse_loss", pred, target), "mse_loss", ("loss", "dpred"))
        loss = _scalar(loss, "mse_loss", "loss")
        expected, _ = ref_mse(pred, target)
        N, T = shape[:2]
        squares = float(np.sum((pred - target) ** 2))
        variants = [
            (
                squares,
                "this is the sum of squares; the loss is their mean, so use the mean "
                "instead of the sum (divide by N*T*O)",
            ),
            (squares / N, "divided by the batch size N only; the mean runs over all N*T*O entries"),
            (squares / (N * T), "divided by N*T; the mean runs over all N*T*O entries"),
            (expected / 2, "there is an extra factor 1/2"),
            (np.sqrt(expected), "this is the root of the mean squared error; drop the sqrt"),
            (float(np.mean(np.abs(pred - target))), "this is the mean ABSOLUTE error"),
        ]
        _compare(
            "mse_loss",
            f"loss (shape {shape})",
            loss,
            expected,
            variants,
            f"loss = mean of (pred - target)**2 over all entries, see {FWD_CHAPTER}",
        )


def check_mse_loss_dpred(student: Student, rng: np.random.Generator) -> None:
    for shape in MSE_SHAPES:
        pred, target = rng.normal(size=shape), rng.normal(size=shape)
        _, dpred = _unpack(_call(student, "mse_loss", pred, target), "mse_loss", ("loss", "dpred"))
        dpred = _array(dpred, "mse_loss", "dpred", shape, "dpred has the shape of pred")
        _, expected = ref_mse(pred, target)
        N, T = shape[:2]
        residual = pred - target
        variants = [
            (
                2 * residual / N,
                "divided by the batch size N only; the loss is a mean over all "
                "N*T*O entries, so dpred = 2 (pred - target) / (N*T*O)",
            ),
            (
                2 * residual / (N * T),
                "divided by N*T; the loss is a mean over all N*T*O entries, so divide by N*T*O",
            ),
            (
                2 * residual,
                "no division: this is the gradient of the sum of squares, not of "
                "their mean; divide by N*T*O",
            ),
            (residual / pred.size, "the factor 2 from the square's derivative is missing"),
            (-expected, "wrong sign: the derivative of (pred - target)**2 is 2 (pred - target)"),
        ]
        _compare(
            "mse_loss",
            f"dpred (shape {shape})",
            dpred,
            expected,
            variants,
            f"dpred = 2 (pred - target) / (N*T*O), see {GRAD_CHAPTER}",
        )


# ---------------------------------------------------------------------------------------------
# clip_by_global_norm
# ---------------------------------------------------------------------------------------------


def _grad_dicts(rng: np.random.Generator) -> Iterator[dict[str, np.ndarray]]:
    """Gradient dicts of two to five arrays of different shapes and very different norms."""
    for D, H, n_out, names in (
        (3, 2, 1, ("Wx", "Wh", "b", "Wo", "bo")),
        (2, 4, 3, ("Wh", "b")),
        (1, 3, 2, ("Wx", "Wo", "bo")),
    ):
        shapes = {"Wx": (D, H), "Wh": (H, H), "b": (H,), "Wo": (H, n_out), "bo": (n_out,)}
        yield {name: rng.normal(size=shapes[name]) * 10 ** rng.uniform(-1, 1) for name in names}


def _clip_cases(rng: np.random.Generator, above: bool) -> Iterator[tuple[dict, float]]:
    for grads in _grad_dicts(rng):
        _, total = ref_clip(grads, np.inf)
        factor = rng.uniform(0.05, 0.8) if above else rng.uniform(1.1, 3.0)
        yield grads, total * factor


def _clipped(result: Any, grads: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Any]:
    clipped, total_norm = _unpack(result, "clip_by_global_norm", ("clipped", "total_norm"))
    if not isinstance(clipped, dict):
        raise CheckFailed(f"clip_by_global_norm: clipped must be a dict, got {_describe(clipped)}")
    if set(clipped) != set(grads):
        raise CheckFailed(
            f"clip_by_global_norm: clipped must have the keys of grads {sorted(grads)}, got "
            f"{sorted(map(str, clipped))}"
        )
    for name, g in grads.items():
        _array(clipped[name], "clip_by_global_norm", f"clipped[{name!r}]", g.shape)
    return clipped, total_norm


def _flat(arrays: dict[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.concatenate([np.ravel(arrays[name]) for name in names])


def check_clip_by_global_norm_below_threshold(student: Student, rng: np.random.Generator) -> None:
    for grads, max_norm in _clip_cases(rng, above=False):
        clipped, _ = _clipped(_call(student, "clip_by_global_norm", grads, max_norm), grads)
        names = sorted(grads)
        expected = _flat(grads, names)
        _, total = ref_clip(grads, max_norm)
        variants = [
            (
                expected * max_norm / total,
                "the arrays were scaled although total_norm is "
                "below max_norm; scale only when total_norm > max_norm",
            ),
        ]
        _compare(
            "clip_by_global_norm",
            f"clipped (total_norm {total:.3g} <= max_norm {max_norm:.3g}, keys {names})",
            _flat(clipped, names),
            expected,
            variants,
            "below the threshold every array must come back unchanged",
            rtol=1e-10,
        )


def check_clip_by_global_norm_scaling(student: Student, rng: np.random.Generator) -> None:
    for grads, max_norm in _clip_cases(rng, above=True):
        clipped, _ = _clipped(_call(student, "clip_by_global_norm", grads, max_norm), grads)
        names = sorted(grads)
        ref, total = ref_clip(grads, max_norm)
        original = _flat(grads, names)
        norms = {name: np.linalg.norm(g) for name, g in grads.items()}
        per_array = {n: g * min(1.0, max_norm / norms[n]) for n, g in grads.items()}
        variants = [
            (
                _flat(per_array, names),
                "each array was clipped separately to max_norm; clip "
                "globally instead: scale ALL arrays by the same factor max_norm / total_norm, "
                "where total_norm is the norm of all the entries together",
            ),
            (original, "nothing was scaled although total_norm > max_norm"),
            (
                original * total / max_norm,
                "the factor is inverted; multiply by max_norm / total_norm",
            ),
            (
                original * max_norm / sum(norms.values()),
                "total_norm is the sum of the arrays' "
                "norms; it is the square root of the sum of ALL squared entries",
            ),
            (original * max_norm / total**2, "the square root is missing from total_norm"),
        ]
        _compare(
            "clip_by_global_norm",
            f"clipped (total_norm {total:.3g} > max_norm {max_norm:.3g}, keys {names})",
            _flat(clipped, names),
            _flat(ref, names),
            variants,
            "clipped[k] = grads[k] * max_norm / total_norm for every key k",
            rtol=1e-10,
        )


def check_clip_by_global_norm_total_norm(student: Student, rng: np.random.Generator) -> None:
    for above in (False, True):
        for grads, max_norm in _clip_cases(rng, above):
            _, total_norm = _unpack(
                _call(student, "clip_by_global_norm", grads, max_norm),
                "clip_by_global_norm",
                ("clipped", "total_norm"),
            )
            total_norm = _scalar(total_norm, "clip_by_global_norm", "total_norm")
            _, expected = ref_clip(grads, max_norm)
            norms = [float(np.linalg.norm(g)) for g in grads.values()]
            variants = [
                (
                    sum(norms),
                    "this is the sum of the arrays' norms; total_norm is the square "
                    "root of the sum of ALL squared entries",
                ),
                (expected**2, "the square root is missing"),
                (
                    min(expected, max_norm),
                    "this is the norm AFTER clipping; return the norm "
                    "of the gradients before clipping",
                ),
                (max(norms), "this is the largest norm of one array"),
            ]
            _compare(
                "clip_by_global_norm",
                f"total_norm (keys {sorted(grads)})",
                total_norm,
                expected,
                variants,
                "total_norm = sqrt(sum of squares of every entry of every array)",
                rtol=1e-10,
            )


def check_clip_by_global_norm_inputs_unchanged(student: Student, rng: np.random.Generator) -> None:
    for above in (False, True):
        for grads, max_norm in _clip_cases(rng, above):
            saved = _copy(grads)
            _, (grads, _) = student.call_seeing_inputs("clip_by_global_norm", grads, max_norm)
            if set(grads) != set(saved):
                raise CheckFailed(
                    f"clip_by_global_norm modified its input dict grads (keys {sorted(saved)} "
                    f"became {sorted(grads)}); build a new dict"
                )
            for name in saved:
                if not (
                    isinstance(grads[name], np.ndarray)
                    and grads[name].shape == saved[name].shape
                    and np.array_equal(grads[name], saved[name])
                ):
                    raise CheckFailed(
                        f"clip_by_global_norm modified its input grads[{name!r}] in place "
                        f"(total_norm {'>' if above else '<='} max_norm); return new arrays "
                        "(g * scale), never write into the caller's arrays (g *= scale)"
                    )


# ---------------------------------------------------------------------------------------------
# numerical_gradient
# ---------------------------------------------------------------------------------------------

NUMGRAD_SHAPES = ((3, 2, 4), (1, 3, 2), (4, 3, None))  # (N, D, K); K None: x is a vector (D,)
F_SOURCE = "lambda W: np.tanh(X @ W)"


def _numgrad_case(rng: np.random.Generator, N: int, D: int, K: int | None) -> tuple:
    X = rng.normal(size=(N, D))
    W = rng.normal(size=(D,) if K is None else (D, K)) / np.sqrt(D)
    df = rng.normal(size=(N,) if K is None else (N, K))
    return X, W, df


def _unrestored(X: np.ndarray, W: np.ndarray, df: np.ndarray, h: float) -> np.ndarray:
    """The known-wrong central difference that never restores x after x[i] - h."""
    x, grad = W.copy(), np.zeros_like(W)
    for index in np.ndindex(x.shape):
        x[index] += h
        plus = np.tanh(X @ x)
        x[index] -= 2 * h
        grad[index] = np.sum(df * (plus - np.tanh(X @ x))) / (2 * h)
    return grad


def check_numerical_gradient_vjp(student: Student, rng: np.random.Generator) -> None:
    """The formula, up to the accuracy of a numerical estimate: the tolerance (5e-4) lets an
    x left perturbed by h (the target of the x_unchanged check) pass here, and still catches a
    missing 1/2, a wrong sign or an ignored df."""
    for (N, D, K), step in zip(NUMGRAD_SHAPES, (None, 1e-6, None), strict=True):
        X, W, df = _numgrad_case(rng, N, D, K)
        f = student.function(F_SOURCE, X=X)
        kwargs = {} if step is None else {"h": step}
        grad = _call(student, "numerical_gradient", f, W, df, **kwargs)
        grad = _array(
            grad, "numerical_gradient", "the result", W.shape, "the gradient has the shape of x"
        )
        expected = X.T @ (df / np.cosh(X @ W) ** 2)  # the analytic vector-Jacobian product
        ones = X.T @ (np.ones_like(df) / np.cosh(X @ W) ** 2)
        variants = [
            (2 * expected, "twice too large: divide the difference by 2h, not by h"),
            (expected / 2, "half too small: divide the difference by 2h"),
            (-expected, "wrong sign: (f(x + h e_i) - f(x - h e_i)) / (2h)"),
            (
                ones,
                "the upstream gradient df is ignored: entry i is "
                "sum(df * (f(x + h e_i) - f(x - h e_i))) / (2h)",
            ),
            (
                _unrestored(X, W, df, 1e-5 if step is None else step),
                "x is not restored after each perturbation, so later entries are evaluated at a "
                "shifted point: reset x[i] to its original value after the two evaluations",
            ),
        ]
        _compare(
            "numerical_gradient",
            f"the result (x of shape {W.shape}, h={'default' if step is None else step})",
            grad,
            expected,
            variants,
            f"entry i must be sum(df * (f(x + h e_i) - f(x - h e_i))) / (2h), see {GRAD_CHAPTER}",
            rtol=5e-4,
            atol=5e-4,
        )


def check_numerical_gradient_x_unchanged(student: Student, rng: np.random.Generator) -> None:
    """x is never left modified: f only ever sees x with one entry perturbed, and x after the
    call equals x before it."""
    # f returns nan as soon as it is called with an x in which two or more entries differ from
    # the original (a perturbation that was not undone); this works in a separate process too.
    source = (
        "lambda W: np.tanh(X @ W) + (0.0 if np.shape(W) == np.shape(W0) and "
        "np.count_nonzero(np.abs(W - W0) > 1e-12) <= 1 else np.nan)"
    )
    for N, D, K in NUMGRAD_SHAPES:
        X, W, df = _numgrad_case(rng, N, D, K)
        f = student.function(source, X=X, W0=W.copy())
        x = W.copy()
        grad = student.call("numerical_gradient", f, x, df)
        if isinstance(grad, np.ndarray) and grad.dtype.kind == "f" and np.isnan(grad).any():
            raise CheckFailed(
                "numerical_gradient modified x: f was called with an x in which an earlier "
                "entry was still perturbed (the change of x[i] was not undone before moving "
                "on to the next entry); put x[i] back to its original value after the two "
                "evaluations, or perturb a copy of x"
            )
        if not (isinstance(x, np.ndarray) and np.allclose(x, W, rtol=0, atol=1e-12)):
            change = float(np.max(np.abs(np.asarray(x) - W)))
            raise CheckFailed(
                f"numerical_gradient modified x: after the call x differs from before by up to "
                f"{change:.1e}; restore every perturbed entry (save the original value and put "
                "it back) or work on a copy"
            )


# ---------------------------------------------------------------------------------------------
# The symbolic question: dL/dw for a one-unit RNN over two steps
# ---------------------------------------------------------------------------------------------

SYMBOL_NAMES = ("w", "u", "h0", "x1", "x2", "y")
SYMBOLS = dict(zip(SYMBOL_NAMES, sp.symbols(SYMBOL_NAMES, real=True), strict=True))


def _truth() -> tuple[sp.Expr, list[tuple[sp.Expr, str]]]:
    """dL/dw by SymPy's own differentiation, and some wrong answers (for the diagnosis)."""
    w, u, h0, x1, x2, y = (SYMBOLS[name] for name in SYMBOL_NAMES)
    h1 = sp.tanh(w * h0 + u * x1)
    h2 = sp.tanh(w * h1 + u * x2)
    loss = (h2 - y) ** 2 / 2
    truth = sp.diff(loss, w)
    g1, g2 = 1 - h1**2, 1 - h2**2
    wrong = [
        (
            (h2 - y) * g2 * h1,
            "the path through h1 is missing: w also acts at step 1, and h1 reaches the loss "
            "through step 2, so dL/dw = dL/da2 * (h1 + w * tanh'(a1) * h0) (BPTT's carry)",
        ),
        (
            (h2 - y) * g2 * (h1 + g1 * h0),
            "in the term carried back through h1 the factor w is missing: dh2/dh1 = tanh'(a2) * w",
        ),
        (
            (h2 - y) * g2 * (h1 + w * h0),
            "tanh' of the first step is missing: dh1/dw = tanh'(a1) * h0",
        ),
        ((h2 - y) * (h1 + w * g1 * h0), "tanh' of the second step is missing: dh2/da2 = 1 - h2**2"),
        (-truth, "wrong sign: dL/dh2 = h2 - y"),
        (2 * truth, "twice too large: the loss has a factor 1/2"),
        (sp.diff(loss, u), "this is dL/du, the derivative with respect to the INPUT weight u"),
        (sp.diff(loss, h0), "this is dL/dh0"),
    ]
    return truth, wrong


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


def _numbers(expr: sp.Expr, points: list[dict[sp.Symbol, float]]) -> np.ndarray:
    values = []
    for point in points:
        try:
            values.append(complex(expr.xreplace(point).evalf()))
        except (TypeError, ValueError):  # a malformed expression has no value
            values.append(complex(np.nan))
    return np.array(values)


def check_dl_dw_symbolic(student: Student, rng: np.random.Generator) -> None:
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
    truth, wrong = _truth()
    points = [
        {
            SYMBOLS[n]: sp.Float(v)
            for n, v in zip(SYMBOL_NAMES, rng.uniform(-1.5, 1.5, 6), strict=True)
        }
        for _ in range(5)
    ]
    got, expected = _numbers(answer, points), _numbers(truth, points)
    if np.allclose(got, expected, rtol=1e-9, atol=1e-12):
        if _equal(answer, truth):
            return
        raise CheckFailed(
            "dL_dw agrees with dL/dw at random points but SymPy could not prove the two equal; "
            "write it with tanh (and 1 - tanh(...)**2 for tanh') of w*h0 + u*x1 and "
            "w*tanh(w*h0 + u*x1) + u*x2"
        )
    cause = next(
        (
            why
            for expr, why in wrong
            if np.allclose(got, _numbers(expr, points), rtol=1e-9, atol=1e-12)
        ),
        "compare with the chain rule through both steps (BPTT): w is used at step 1 AND at step 2",
    )
    error = float(np.nanmax(np.abs(got - expected))) if np.isfinite(got).any() else float("nan")
    raise CheckFailed(f"dL_dw is not dL/dw (max abs error {error:.1e} at random points): {cause}")


CHECKS: dict[str, Callable[[Student, np.random.Generator], None]] = {
    "rnn_forward_tanh": check_rnn_forward_tanh,
    "rnn_forward_relu": check_rnn_forward_relu,
    "rnn_forward_t1": check_rnn_forward_t1,
    "rnn_forward_bad_activation": check_rnn_forward_bad_activation,
    "temporal_affine_forward_values": check_temporal_affine_forward_values,
    "temporal_affine_backward_dh": check_temporal_affine_backward_dh,
    "temporal_affine_backward_dwo": check_temporal_affine_backward_dwo,
    "temporal_affine_backward_dbo": check_temporal_affine_backward_dbo,
    "mse_loss_value": check_mse_loss_value,
    "mse_loss_dpred": check_mse_loss_dpred,
    "numerical_gradient_vjp": check_numerical_gradient_vjp,
    "numerical_gradient_x_unchanged": check_numerical_gradient_x_unchanged,
    "rnn_backward_dx": check_rnn_backward_dx,
    "rnn_backward_dh0": check_rnn_backward_dh0,
    "rnn_backward_dwx": check_rnn_backward_dwx,
    "rnn_backward_dwh": check_rnn_backward_dwh,
    "rnn_backward_db": check_rnn_backward_db,
    "clip_by_global_norm_below_threshold": check_clip_by_global_norm_below_threshold,
    "clip_by_global_norm_scaling": check_clip_by_global_norm_scaling,
    "clip_by_global_norm_total_norm": check_clip_by_global_norm_total_norm,
    "clip_by_global_norm_inputs_unchanged": check_clip_by_global_norm_inputs_unchanged,
    "dl_dw_symbolic": check_dl_dw_symbolic,
}
