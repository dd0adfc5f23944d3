"""Numerical derivatives used to check analytic gradients (introduced in the Gradients chapter).

Two estimators of the gradient of ``f`` at ``x``:

- :func:`central_difference`: ``(f(x + h e_i) - f(x - h e_i)) / 2h``; error O(h^2) from
  truncation plus O(eps / h) from round-off, so h around 1e-5 to 1e-6 is best in float64.
- :func:`complex_step`: ``Im f(x + i h e_i) / h``; no subtraction, hence no cancellation, so h can
  be tiny (1e-20) and the result is exact to machine precision. ``f`` must be analytic and
  written with operations that accept complex numbers (no ``abs``, ``maximum``, comparisons).

Both accept a scalar-valued ``f`` (``df=None``) or an array-valued ``f`` together with the
upstream gradient ``df = dL/df(x)``; then they return ``dL/dx = sum(df * df(x)/dx_i)``, the
vector-Jacobian product that a backward pass computes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnbook.checks import callable_arg, float_array, positive_number, same_shape


def _contract(name: str, value: np.ndarray, df: np.ndarray | None) -> complex | float:
    """Reduce one output of ``f`` to the scalar that the gradient is taken of."""
    value = np.asarray(value)
    if df is None:
        if value.size != 1:
            raise ValueError(
                f"{name} returned an array of shape {value.shape}; "
                "pass df (the upstream gradient) for array-valued functions"
            )
        return value.reshape(()).item()
    same_shape("f(x)", value, "df", df)
    return np.sum(df * value)


def central_difference(
    f: Callable[[np.ndarray], np.ndarray | float],
    x: np.ndarray,
    df: np.ndarray | None = None,
    h: float = 1e-5,
) -> np.ndarray:
    """Gradient of ``f`` at ``x`` (or of ``sum(df * f(x))``) by central differences.

    ``x`` must be a float64 array; it is perturbed in a copy and never modified.
    """
    f = callable_arg("f", f)
    x = float_array("x", x).copy()
    h = positive_number("h", h)
    if df is not None:
        df = float_array("df", df)
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + h
        plus = _contract("f", f(x.copy()), df)
        x[index] = original - h
        minus = _contract("f", f(x.copy()), df)
        x[index] = original
        grad[index] = (plus - minus) / (2 * h)
    return grad


def complex_step(
    f: Callable[[np.ndarray], np.ndarray | complex],
    x: np.ndarray,
    df: np.ndarray | None = None,
    h: float = 1e-20,
) -> np.ndarray:
    """Gradient of an analytic ``f`` at real ``x`` by the complex-step derivative."""
    f = callable_arg("f", f)
    x = float_array("x", x)
    h = positive_number("h", h)
    if df is not None:
        df = float_array("df", df)
    z = x.astype(np.complex128)
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        z[index] += 1j * h
        grad[index] = np.imag(_contract("f", f(z.copy()), df)) / h
        z[index] = x[index]
    return grad


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """``||actual - expected|| / max(||actual|| + ||expected||, tiny)`` (Frobenius norms).

    0 for identical arrays and never above 1 (the triangle inequality), which it reaches when one
    array is zero or the two are opposite: a scale-free score for comparing an analytic gradient
    with a numerical one. Both arrays must be float64 and of the same shape.
    """
    actual = float_array("actual", actual)
    expected = float_array("expected", expected)
    same_shape("actual", actual, "expected", expected)
    scale = np.linalg.norm(actual) + np.linalg.norm(expected)
    return float(np.linalg.norm(actual - expected) / max(scale, np.finfo(np.float64).tiny))
