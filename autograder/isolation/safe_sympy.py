"""Rebuild a SymPy expression from ``srepr`` text without evaluating any code.

A student's answer to a symbolic question arrives from the sandbox as text. ``sympify`` would
``eval`` that text in the grader's process, so instead the text is parsed with :mod:`ast` and
only calls of whitelisted SymPy classes, with literal arguments, are rebuilt.
"""

from __future__ import annotations

import ast

import sympy as sp

ALLOWED = {
    name: getattr(sp, name)
    for name in (
        "Add",
        "Mul",
        "Pow",
        "Symbol",
        "Integer",
        "Rational",
        "Float",
        "pi",
        "E",
        "exp",
        "log",
        "sin",
        "cos",
        "tan",
        "sinh",
        "cosh",
        "tanh",
        "sech",
        "csch",
        "coth",
        "sqrt",
        "Abs",
        "Max",
        "Min",
        "Heaviside",
        "sign",
        "Piecewise",
        "StrictGreaterThan",
        "StrictLessThan",
        "GreaterThan",
        "LessThan",
        "true",
        "false",
        "oo",
        "zoo",
        "nan",
    )
}
ALLOWED["ExprCondPair"] = sp.functions.elementary.piecewise.ExprCondPair


class UnsafeExpression(ValueError):
    """The text is not a plain SymPy expression tree."""


def _build(node: ast.AST) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _build(node.operand)
        if isinstance(operand, (int, float)):
            return -operand
    if isinstance(node, ast.Tuple):
        return tuple(_build(item) for item in node.elts)
    if isinstance(node, ast.Name) and node.id in ALLOWED:
        return ALLOWED[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ALLOWED:
        args = [_build(arg) for arg in node.args]
        kwargs = {}
        for keyword in node.keywords:
            value = _build(keyword.value)
            if keyword.arg is None or not isinstance(value, (bool, int, float, str)):
                raise UnsafeExpression("only literal keyword arguments are allowed")
            kwargs[keyword.arg] = value
        return ALLOWED[node.func.id](*args, **kwargs)
    raise UnsafeExpression(f"not allowed in an expression: {ast.dump(node)[:80]}")


def parse_srepr(text: str) -> sp.Basic:
    """The expression that ``sympy.srepr`` printed as ``text``; raises UnsafeExpression."""
    if not isinstance(text, str) or len(text) > 200_000:
        raise UnsafeExpression("the expression text is missing or too long")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise UnsafeExpression(f"unreadable expression: {error}") from None
    value = _build(tree.body)
    if not isinstance(value, sp.Basic):
        raise UnsafeExpression(f"not a SymPy expression: {type(value).__name__}")
    return value
