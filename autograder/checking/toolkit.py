"""What every assignment's checks (``solutions/*/checks.py``) share: validating the student's
return values, comparing them with a reference within one set of tolerances, naming the likely
mistake (with builders of the mistakes any output can have), checking a backward pass after its
forward pass, making one check per gradient, calling the student's functions safely (on copies,
or checking that they leave their arguments unchanged), and drawing the inputs of a vanilla RNN.

A known mistake is a *variant*: a pair ``(cause, thunk)`` of the message that names it and a
zero-argument callable computing the wrong answer it gives. Thunks run only when an answer is
wrong, in order, until one matches: a right answer costs nothing, a variant may be expensive or
undefined on some inputs (it is skipped when its thunk raises ValueError or ArithmeticError),
and a variant built in a loop stays tied to its own inputs through default arguments.

This module runs in the student's kernel as well as in the grader: it imports only the standard
library, NumPy and :mod:`autograder.checking.api`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from autograder.checking.api import Check, CheckFailed, Student, StudentRaised

Variant = tuple[str, Callable[[], Any]]
Arrays = dict[str, np.ndarray]  # named outputs (and intermediates) of a reference

# Tolerances of every comparison: answer against reference, and answer against a known mistake.
# The checks draw inputs of order 1 (standard normal entries, weights divided by sqrt(fan-in),
# gradient dicts with a global norm between 1 and 10), so answers are of order 1 to 100, and:
# - reassociating sums and products (h @ Wh + x @ Wx for x @ Wx + h @ Wh, einsum for @, another
#   order of accumulation) changes an answer by about 1e-15 of its terms;
# - a conventional epsilon changes it by the epsilon over what it is added to: PyTorch's
#   clip_grad_norm_ divides by total_norm + 1e-6 with total_norm >= 1 (at most 1e-6 relative),
#   a softmax divides by its sum + 1e-8 (or less) with the sum >= 1 after the max shift (1e-8
#   relative); in attention's backward pass such a softmax turns a gradient that is exactly 0
#   (one position, T = 1) into about 1e-8 * |dweights| * |keys|, up to a few 1e-7 absolute.
# Over hundreds of random inputs such answers stay below a quarter of RTOL and ATOL (PyTorch's clip
# below a tenth), while a catalogued mistake is off by at least ten times them on the case where
# its check fails (tests/autograder/test_checks.py runs every mistake and every such alternative).
RTOL, ATOL = 1e-5, 1e-6
# A central-difference estimate (step 1e-5) is compared at 5e-4: loose enough for an x left
# perturbed by the step (a mistake with a check of its own), tight enough for a missing 1/2, a
# wrong sign or an ignored upstream gradient. A one-sided difference, off by h f''/2 (about 1e-5
# for f'' of order 1), passes too: a check of the method needs an f of large curvature.
ESTIMATE_TOL = 5e-4
# An input the student's function must leave unchanged may differ by round-off only (x[i] += h
# then x[i] -= h restores an entry of order 1 to within 1e-16).
RESTORED_ATOL = 1e-12
# What to do instead of changing an argument in place, in the message of call_leaving_inputs.
NEW_ARRAYS = (
    "leave it as it was, the caller may use it again: compute new arrays (y = x * s), never write "
    "into an argument (x *= s, x[i] = ..., np.multiply(x, s, out=x), x.shape = ...)"
)


# --------------------------------------------------------------------------------------------
# Validating a return value
# --------------------------------------------------------------------------------------------


def describe(value: Any) -> str:
    """What ``value`` is, for a message: its type, and its length or shape and dtype."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    name = type(value).__name__
    article = "an" if name[0] in "aeiouAEIOU" else "a"
    if isinstance(value, (tuple, list, dict)):
        return f"{article} {name} of length {len(value)}"
    return f"{article} {name}"


def unpack(function: str, result: Any, names: tuple[str, ...]) -> tuple[Any, ...]:
    """``result`` as a tuple, after checking it is a tuple or list with one entry per name."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise CheckFailed(f"{function} must return ({', '.join(names)}), got {describe(result)}")
    return tuple(result)


def float_array(
    function: str,
    output: str,
    value: Any,
    shape: tuple[int, ...],
    shape_name: str = "",
    hints: dict[tuple[int, ...], str] | None = None,
    hint: str = "",
) -> np.ndarray:
    """``value`` after checking it is a float64 ndarray of the given shape.

    On a wrong shape the message names ``shape_name`` (e.g. "(N, H)") and gives the hint for
    that wrong shape from ``hints``, else "it looks transposed" when it is, else ``hint``.
    """
    if not isinstance(value, np.ndarray):
        raise CheckFailed(f"{function}: {output} must be a numpy array, got {describe(value)}")
    if value.dtype != np.float64:
        raise CheckFailed(
            f"{function}: {output} must have dtype float64, got {value.dtype} (do not convert the "
            "inputs or the result, and build new arrays from float values)"
        )
    if value.shape != tuple(shape):
        why = (hints or {}).get(value.shape)
        if why is None and len(shape) == 2 and value.shape == tuple(shape)[::-1]:
            why = "it looks transposed"
        why = why or hint
        raise CheckFailed(
            f"{function}: {output} has shape {value.shape}, expected {tuple(shape)}"
            + (f" = {shape_name}" if shape_name else "")
            + (f": {why}" if why else "")
        )
    return value


def float_scalar(function: str, output: str, value: Any) -> float:
    """``value`` as a float, after checking it is one number (Python, NumPy or 0-d array)."""
    if isinstance(value, (float, np.floating)) or (
        isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind == "f"
    ):
        return float(value)
    raise CheckFailed(f"{function}: {output} must be a float (one number), got {describe(value)}")


# --------------------------------------------------------------------------------------------
# Comparing with the reference, and naming the likely mistake
# --------------------------------------------------------------------------------------------


def close(actual: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and equal within tolerance (nan matches nan: a wrong variant may be nan)."""
    try:
        actual, expected = np.asarray(actual), np.asarray(expected)
        with np.errstate(all="ignore"):
            return actual.shape == expected.shape and bool(
                np.allclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
            )
    except (TypeError, ValueError):  # not numbers at all
        return False


def diagnose(
    actual: Any,
    expected: Any,
    variants: Iterable[Variant],
    fallback: str,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> str:
    """The cause of the first variant that ``actual`` matches, else ``fallback``.

    A variant that coincides with ``expected`` on these inputs is no mistake here and is skipped.
    """
    for cause, thunk in variants:
        try:
            with np.errstate(all="ignore"):
                wrong = thunk()
        except (ValueError, ArithmeticError):  # the mistake is undefined on these inputs
            continue
        if close(actual, wrong, rtol, atol) and not close(wrong, expected, rtol, atol):
            return cause
    return fallback


def mismatch(
    function: str, output: str, actual: Any, expected: Any, cause: str, case: str = ""
) -> CheckFailed:
    """The failure for a wrong answer: the size of the error, the inputs (``case``), the cause."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    if not np.all(np.isfinite(actual)):
        size = "contains nan or inf"
    else:
        scale = max(float(np.linalg.norm(actual) + np.linalg.norm(expected)), 1e-300)
        relative = float(np.linalg.norm(actual - expected)) / scale
        size = f"max abs error {float(np.max(np.abs(actual - expected))):.1e}, relative error "
        size += f"{relative:.1e}"
    return CheckFailed(
        f"{function}: {output} is off ({size}{f'; {case}' if case else ''}): {cause}"
    )


def compare(
    function: str,
    output: str,
    actual: Any,
    expected: Any,
    variants: Iterable[Variant],
    fallback: str,
    case: str = "",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """Raise :func:`mismatch`, with the cause :func:`diagnose` names, unless ``actual`` is close
    to ``expected``; a variant is matched with the same tolerances."""
    if not close(actual, expected, rtol, atol):
        cause = diagnose(actual, expected, variants, fallback, rtol, atol)
        raise mismatch(function, output, actual, expected, cause, case)


@contextmanager
def prerequisite(function: str, caller: str | None) -> Iterator[None]:
    """Checks of ``function`` whose result ``caller`` needs (a forward pass's cache, say): a
    failure says that ``caller`` cannot be checked yet. With ``caller`` None, failures pass."""
    try:
        yield
    except CheckFailed as failure:
        if caller is None:
            raise
        raise CheckFailed(
            f"{caller} cannot be checked until {function} is right (the backward pass starts "
            f"from its cache). {failure}"
        ) from None


@contextmanager
def prerequisite_on_failure(
    function: str, caller: str, check_function: Callable[[], None]
) -> Iterator[None]:
    """Checks of ``caller`` that, when they fail, run ``check_function`` (checks of
    ``function``) under :func:`prerequisite`: a wrong ``function`` is then the failure, else
    ``caller``'s own failure stands. A right answer of ``caller`` passes whatever ``function``
    does (where running the checks of ``function`` first would fail it)."""
    try:
        yield
    except CheckFailed:
        with prerequisite(function, caller):
            check_function()
        raise


# --------------------------------------------------------------------------------------------
# Known mistakes that any output can have (variant builders)
# --------------------------------------------------------------------------------------------


def _because(cause: str, how: str) -> str:
    return f"{cause}: {how}" if how else cause


def wrong_sign(output: str, expected: Any, how: str = "") -> Variant:
    """``output`` negated; ``how`` says how to get the sign right."""
    return _because(f"{output} has the wrong sign", how), lambda: -expected


def transposed(output: str, expected: np.ndarray, how: str = "") -> Variant:
    """``output`` transposed: a mistake only where the transpose has the same shape (a square
    matrix); elsewhere the shape check names it first."""
    return _because(f"{output} is transposed", how), lambda: np.transpose(expected)


def averaged(output: str, expected: Any, over: str, count: int, how: str = "") -> Variant:
    """``output`` divided by ``count``: the mean over ``over`` ("the batch", "time") of terms
    whose sum is the right answer."""
    cause = f"{output} is averaged over {over} (the mean over {over} instead of the sum)"
    return _because(cause, how), lambda: expected / count


# --------------------------------------------------------------------------------------------
# One check per output of a backward pass
# --------------------------------------------------------------------------------------------


def gradient_checks(
    function: str,
    outputs: Iterable[str],
    check: Callable[[Student, np.random.Generator, str], None],
) -> dict[str, Check]:
    """The checks of the backward ``function``, one per output: grade_id
    ``<function>_<output in lower case>`` -> a check running ``check(student, rng, output)``."""

    def check_of(output: str) -> Check:
        def check_output(student: Student, rng: np.random.Generator) -> None:
            check(student, rng, output)

        check_output.__name__ = f"check_{function}_{output.lower()}"
        check_output.__doc__ = f"{function}: {output} matches the reference."
        return check_output

    return {f"{function}_{output.lower()}": check_of(output) for output in outputs}


# --------------------------------------------------------------------------------------------
# Calling the student's functions
# --------------------------------------------------------------------------------------------


def copy_arrays(value: Any) -> Any:
    """A copy of every array in ``value`` and in its plain tuples, lists and dicts."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if type(value) is dict:
        return {key: copy_arrays(item) for key, item in value.items()}
    if type(value) in (tuple, list):
        return type(value)(copy_arrays(item) for item in value)
    return value


def call_on_copies(student: Student, function: str, *args: Any, **kwargs: Any) -> Any:
    """Call the student's ``function`` on copies of the arrays (any other argument, a cache for
    instance, passes as it is), so that changes made in place cannot reach the references."""
    copies = {name: copy_arrays(value) for name, value in kwargs.items()}
    return student.call(function, *copy_arrays(args), **copies)


def _change(before: Any, after: Any, name: str) -> str:
    """How the argument ``name`` changed from ``before`` to ``after`` ("" if it did not, up to
    RESTORED_ATOL): an array, or a dict of them, compared entry by entry. Anything else (a
    cache, a function, None) is the function's own business and is not compared."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray):
            return f"{name} became {describe(after)}"
        if after.shape != before.shape:
            return f"the shape of {name} became {after.shape} instead of {before.shape}"
        old, new = before.astype(float), after.astype(float)
        if np.allclose(new, old, rtol=0, atol=RESTORED_ATOL, equal_nan=True):
            return ""
        with np.errstate(invalid="ignore"):
            size = float(np.max(np.abs(new - old)))
        return f"entries of {name} changed by up to {size:.1e}"
    if type(before) is dict:
        if type(after) is not dict or set(after) != set(before):
            keys = sorted(map(str, after)) if type(after) is dict else describe(after)
            return f"the keys of {name}, {sorted(before)}, became {keys}"
        changes = (_change(before[key], after[key], f"{name}[{key!r}]") for key in before)
        return next((change for change in changes if change), "")
    return ""


def call_leaving_inputs(
    student: Student,
    function: str,
    names: tuple[str | None, ...],
    *args: Any,
    how: str = NEW_ARRAYS,
    caller: str | None = None,
) -> Any:
    """Call the student's ``function`` on copies of ``args`` (positional only) and return its
    result, after checking that the call left every argument named in ``names`` as it was, to
    RESTORED_ATOL: arrays, and dicts of arrays key by key.

    ``names`` names the positional parameters in order, None for one that is not compared (a
    cache, a function, a number); parameters past ``args`` are left at their defaults. A change
    raises CheckFailed naming the argument, and ``how`` says what to do instead. The copies keep
    the caller's arrays intact for the references, and :meth:`Student.call_seeing_inputs` shows
    them as the function left them, in process and in the sandbox alike. When ``caller`` names
    another function whose check runs ``function`` for its result (a forward pass for its cache,
    as in :func:`prerequisite`), nothing is compared: the checks of ``function`` grade that.
    """
    if caller is not None:
        return call_on_copies(student, function, *args)
    result, after = student.call_seeing_inputs(function, *copy_arrays(args))
    for name, before, now in zip(names[: len(args)], args, after, strict=True):
        change = "" if name is None else _change(before, now, name)
        if change:
            raise CheckFailed(f"{function} modified {name} in place ({change}): {how}")
    return result


def expect_value_error(
    student: Student,
    function: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    *,
    naming: str,
    what: str,
    hint: str,
) -> None:
    """``function(*args, **kwargs)`` must raise ValueError with ``naming`` in its message.

    ``what`` describes the invalid input ("activation='sigmoid'"); ``hint`` says what to do
    when the function accepts it.
    """
    try:
        result = call_on_copies(student, function, *args, **kwargs)
    except StudentRaised as error:
        if error.type_name != "ValueError":
            raise CheckFailed(
                f"{function}: {what} must raise ValueError naming `{naming}`, but it raised "
                f"{error.type_name}: {error.message[:200]}"
            ) from None
        if naming not in error.message:
            raise CheckFailed(
                f"{function}: {what} raised ValueError, but its message does not name "
                f"`{naming}`: {error.message[:200]!r}"
            ) from None
        return
    parts = result if isinstance(result, (tuple, list)) else (result,)
    returned_nan = any(
        isinstance(part, np.ndarray) and part.dtype.kind == "f" and not np.all(np.isfinite(part))
        for part in parts
    )
    detail = " (it returned arrays containing nan or inf)" if returned_nan else ""
    raise CheckFailed(f"{function} accepted {what} without raising ValueError{detail}: {hint}")


# --------------------------------------------------------------------------------------------
# The vanilla RNN of the assignments cells and bptt: activations and random inputs
# --------------------------------------------------------------------------------------------

ACTIVATIONS = ("tanh", "relu")
# ReLU pre-activations are drawn at least this far from the kink at 0. relu'(a) jumps from 0 to 1
# there, so an entry within round-off of 0 (1e-16) could fall on one side of the kink in the
# reference and on the other in a right answer that sums in another order, and its gradient
# would differ by the whole upstream gradient; 1e-3 is far from that, and from any input a
# student's code could produce.
RELU_MARGIN = 1e-3


def activation(a: np.ndarray, name: str) -> np.ndarray:
    """phi(a) for ``name`` "tanh" or "relu"."""
    return np.tanh(a) if name == "tanh" else np.where(a > 0, a, 0.0)


def activation_derivative(a: np.ndarray, name: str) -> np.ndarray:
    """phi'(a), written as 1 / cosh(a)**2 for tanh (not as 1 - tanh(a)**2)."""
    return 1.0 / np.cosh(a) ** 2 if name == "tanh" else np.where(a > 0, 1.0, 0.0)


def _preactivations(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray, name: str
) -> np.ndarray:
    """a_t = x_t Wx + h_(t-1) Wh + b of every step (one step when x is (N, D))."""
    steps = x[:, np.newaxis] if x.ndim == 2 else x
    h, pre = h0, []
    for t in range(steps.shape[1]):
        pre.append(steps[:, t] @ Wx + h @ Wh + b)
        h = activation(pre[-1], name)
    return np.stack(pre)


def rnn_inputs(
    rng: np.random.Generator,
    N: int,
    D: int,
    H: int,
    activation: str = "tanh",
    *,
    T: int | None = None,
    gates: int = 1,
) -> tuple[np.ndarray, ...]:
    """Random ``(x, h0, Wx, Wh, b)``, in the order of the RNN functions' arguments.

    x is (N, D) for one step and (N, T, D) for a sequence of ``T`` steps; h0 (N, H) lies in
    (-1, 1) like a state; Wx (D, gates * H) and Wh (H, gates * H) are divided by the square root
    of their fan-in and b (gates * H,) has standard deviation 0.5, so the pre-activations are of
    order 1 (``gates`` blocks side by side: 4 for an LSTM). For ReLU the draw is repeated until
    the pre-activations of all steps have both signs (the derivative's mask matters) and none
    lies within RELU_MARGIN of the kink.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"rnn_inputs: activation must be 'tanh' or 'relu', got {activation!r}")
    if activation == "relu" and gates != 1:
        raise ValueError(f"rnn_inputs: activation='relu' needs gates=1, got gates={gates}")
    for _ in range(1000):
        x = rng.standard_normal((N, D) if T is None else (N, T, D))
        h0 = np.tanh(rng.standard_normal((N, H)))
        Wx = rng.standard_normal((D, gates * H)) / np.sqrt(D)
        Wh = rng.standard_normal((H, gates * H)) / np.sqrt(H)
        b = 0.5 * rng.standard_normal(gates * H)
        if activation == "tanh":
            return x, h0, Wx, Wh, b
        a = _preactivations(x, h0, Wx, Wh, b, activation)
        if np.min(np.abs(a)) > RELU_MARGIN and np.any(a > 0) and np.any(a < 0):
            return x, h0, Wx, Wh, b
    raise RuntimeError("could not draw ReLU inputs away from the kink")  # never in practice
