"""Numerical derivatives used to check analytic gradients (introduced in the Gradients chapter).

Two estimators of the gradient of a scalar function ``f`` at ``x``, one entry per basis step
``e_i`` (an array of ``x``'s shape with a single 1):

- :func:`central_difference`: ``(f(x + h e_i) - f(x - h e_i)) / 2h``; error O(h^2) from
  truncation plus O(eps / h) from round-off, so h around 1e-5 to 1e-6 is best in float64.
- :func:`complex_step`: ``Im f(x + i h e_i) / h``; no subtraction, hence no cancellation, so h can
  be tiny (1e-20) and the result is exact to machine precision. ``f`` must be written with
  operations that carry the imaginary part through: no ``abs`` or ``np.real``, no conversion to
  float. ReLU is fine away from its kink: NumPy orders complex numbers by their real part, so
  ``np.maximum(a, 0)`` keeps ``a`` (imaginary part included) where ``Re a > 0`` and gives 0
  where ``Re a < 0``. Within one step of the kink both estimators are wrong.

For an array-valued ``g`` and an upstream gradient ``u``, differentiate the scalar
``lambda v: np.sum(u * g(v))``: that gives the vector-Jacobian product a backward pass computes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from rnnbook.checks import callable_arg, float_array, positive_number, same_shape


def _scalar(value: object) -> complex | float:
    """The one number ``f`` returned; anything else is a ValueError naming ``f``."""
    value = np.asarray(value)
    if value.size != 1:
        raise ValueError(
            f"f must return one number, got an array of shape {value.shape}; for an "
            "array-valued g and upstream gradient u, differentiate lambda v: np.sum(u * g(v))"
        )
    return value.reshape(()).item()


def _steps(shape: tuple[int, ...], size: complex | float) -> Iterator[np.ndarray]:
    """``size * e_i`` for every entry ``i`` of an array of ``shape``, in C order."""
    kind = np.complex128 if isinstance(size, complex) else np.float64
    for index in np.ndindex(shape):
        step = np.zeros(shape, dtype=kind)
        step[index] = size
        yield step


def central_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Gradient of the scalar function ``f`` at the float64 array ``x``, by central differences.

    ``f`` is called on new arrays ``x + h e_i`` and ``x - h e_i``; ``x`` itself is never touched.
    """
    f = callable_arg("f", f)
    x = float_array("x", x)
    h = positive_number("h", h)
    slopes = [
        (_scalar(f(x + step)) - _scalar(f(x - step))) / (2 * h) for step in _steps(x.shape, h)
    ]
    return np.reshape(slopes, x.shape)


def complex_step(f: Callable[[np.ndarray], complex], x: np.ndarray, h: float = 1e-20) -> np.ndarray:
    """Gradient of the scalar function ``f`` at real ``x`` by the complex-step derivative."""
    f = callable_arg("f", f)
    x = float_array("x", x)
    h = positive_number("h", h)
    slopes = [np.imag(_scalar(f(x + step))) / h for step in _steps(x.shape, 1j * h)]
    return np.reshape(slopes, x.shape)


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
