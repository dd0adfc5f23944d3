"""Small sympy matrices of named symbols, and derivatives entry by entry.

Introduced in the Forward pass chapter and used to derive every gradient of the course: build
the model on matrices such as ``symbol_matrix("W", 2, 3)``, form a scalar loss, and
``gradient_matrix(loss, W)`` gives the matrix of partial derivatives ``dL/dW[i, j]``, which a
compact matrix formula must then equal (:func:`matrices_equal`).
"""

from __future__ import annotations

import re

import sympy as sp

from rnnbook.checks import positive_int

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\^\{?[A-Za-z0-9]+\}?)?$")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be a letter followed by letters or digits, got {name!r}")
    return name


def symbol_matrix(name: str, rows: int, cols: int, **assumptions: bool) -> sp.Matrix:
    """A ``rows`` x ``cols`` matrix whose entry (i, j) is the symbol ``name_{i+1,j+1}``.

    Indices print 1-based, as in the equations of the book. Symbols are real unless the
    caller passes other assumptions (for example ``positive=True``).
    """
    name = _check_name(name)
    rows = positive_int("rows", rows)
    cols = positive_int("cols", cols)
    assumptions = {"real": True, **assumptions}
    return sp.Matrix(
        rows, cols, lambda i, j: sp.Symbol(f"{name}_{{{i + 1},{j + 1}}}", **assumptions)
    )


def symbol_row(name: str, size: int, **assumptions: bool) -> sp.Matrix:
    """A 1 x ``size`` row vector of symbols ``name_{j+1}`` (the course's vectors are rows)."""
    name = _check_name(name)
    size = positive_int("size", size)
    assumptions = {"real": True, **assumptions}
    return sp.Matrix(1, size, lambda _, j: sp.Symbol(f"{name}_{{{j + 1}}}", **assumptions))


def gradient_matrix(loss: sp.Expr, wrt: sp.Matrix) -> sp.Matrix:
    """The matrix of partial derivatives ``d loss / d wrt[i, j]``, same shape as ``wrt``."""
    if not isinstance(loss, sp.Expr) or isinstance(loss, sp.MatrixBase):
        raise ValueError(f"loss must be a scalar sympy expression, got {type(loss).__name__}")
    if not isinstance(wrt, sp.MatrixBase):
        raise ValueError(f"wrt must be a sympy Matrix of symbols, got {type(wrt).__name__}")
    for entry in wrt:
        if not isinstance(entry, sp.Symbol):
            raise ValueError(f"wrt must contain only symbols, found {entry!r}")
    return wrt.applyfunc(lambda entry: sp.diff(loss, entry))


def matrices_equal(a: sp.Matrix, b: sp.Matrix) -> bool:
    """True when ``a - b`` simplifies to the zero matrix (a proof, not a numerical test).

    Different shapes raise ``ValueError`` instead of returning False, since comparing
    matrices of different shapes is always a bug in the derivation.
    """
    for name, value in (("a", a), ("b", b)):
        if not isinstance(value, sp.MatrixBase):
            raise ValueError(f"{name} must be a sympy Matrix, got {type(value).__name__}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    difference = (a - b).applyfunc(lambda entry: sp.simplify(sp.expand(entry)))
    return bool(difference.is_zero_matrix)
