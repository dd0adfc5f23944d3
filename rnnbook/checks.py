"""Argument validation: every error names the argument and says what was expected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def float_array(name: str, value: Any, *, allow_complex: bool = False) -> np.ndarray:
    """Return ``value`` as a float64 (or complex128) array, refusing anything else.

    Integer, boolean, object and string arrays are refused rather than silently cast, so that a
    gradient check never runs on integers (where a step of 1e-5 would vanish).
    """
    array = np.asarray(value)
    kinds = "fc" if allow_complex else "f"
    if array.dtype.kind not in kinds:
        wanted = "a float or complex array" if allow_complex else "a float array"
        raise ValueError(f"{name} must be {wanted}, got dtype {array.dtype}")
    if array.dtype.kind == "f" and array.dtype != np.float64:
        raise ValueError(f"{name} must be float64 for gradient checking, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {np.shape(a)} and {np.shape(b)}"
        )


def positive_number(name: str, value: Any) -> float:
    """Return ``value`` as a float after checking it is a finite number greater than zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a positive number, got {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number greater than 0, got {value}")
    return float(value)


def callable_arg(name: str, value: Any) -> Callable[..., Any]:
    """Return ``value`` after checking it can be called."""
    if not callable(value):
        raise ValueError(f"{name} must be callable, got {type(value).__name__}")
    return value


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` after checking it is an int of at least 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)
