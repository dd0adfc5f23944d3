"""Python code as a list of statement *shapes*: equal up to names, numbers and formatting.

A statement's shape is its syntax tree with every variable name and every number or string
abstracted (``_``, ``0``), attribute and keyword names kept (``np.tanh`` is not ``np.maximum``),
and a compound statement (``for``, ``if``, ``def``) reduced to its header, its body following in
order. A dictionary display assigned or returned counts as one statement per value
(``grads = {"Wx": x.T @ da, ...}`` is ``dWx = x.T @ da``, ...). Docstrings are left out.

Renaming, reformatting and changing constants leave the shapes as they were. The no-answers test
of the book (``tests/book/answer_leaks.py``) and the similarity report
(:mod:`autograder.pipeline.similarity`) both compare code this way.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass

COMPOUND_BODIES = ("body", "orelse", "finalbody", "handlers")


class _Abstract(ast.NodeTransformer):
    """Every name, and every look-up by a constant key (``p["x"]``, a name by another name),
    becomes ``_``; every number, string or bytes constant ``0``."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.copy_location(ast.Name(id="_", ctx=ast.Load()), node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant):
            if isinstance(node.slice.value, str):
                return ast.copy_location(ast.Name(id="_", ctx=ast.Load()), node)
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.copy_location(ast.arg(arg="_"), node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.copy_location(ast.Constant(value=0), node)


def _header(statement: ast.stmt) -> ast.stmt:
    shallow = type(statement)(**{k: getattr(statement, k) for k in statement._fields})
    for name in COMPOUND_BODIES:
        if hasattr(shallow, name):
            setattr(shallow, name, [])
    if isinstance(shallow, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        shallow.name = "_"
        shallow.decorator_list = []
        shallow.returns = None
    return shallow


@dataclass(frozen=True)
class Statement:
    """One statement's shape and the lines of the code it was read from (1-based, inclusive;
    a compound statement's header only)."""

    shape: str
    first: int
    last: int

    @property
    def size(self) -> int:
        """How much the shape says: the number of syntax-tree nodes in it."""
        return self.shape.count("(")


def statements(tree: ast.AST) -> list[Statement]:
    """The statements of ``tree``, in order, nested bodies flattened after their header."""
    found: list[Statement] = []

    def walk(body: list[ast.stmt]) -> None:
        for statement in body:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue
            nested = [
                child
                for name in COMPOUND_BODIES
                for child in getattr(statement, name, []) or []
                if isinstance(child, ast.AST)
            ]
            first, last = statement.lineno, statement.end_lineno or statement.lineno
            if nested:
                last = max(first, min(c.lineno for c in nested) - 1)
            entries: list[ast.expr] = []
            if isinstance(statement, ast.Assign | ast.Return) and isinstance(
                statement.value, ast.Dict
            ):
                entries = statement.value.values
                statement = type(statement)(
                    **{
                        **{k: getattr(statement, k) for k in statement._fields},
                        "value": ast.Dict([], []),
                    }
                )
            shape = ast.dump(_Abstract().visit(_header(statement)))
            found.append(Statement(shape, first, last))
            for value in entries:
                pseudo = ast.Assign(targets=[ast.Name(id="_", ctx=ast.Store())], value=value)
                shape = ast.dump(_Abstract().visit(pseudo))
                found.append(Statement(shape, value.lineno, value.end_lineno or value.lineno))
            for child in nested:
                walk([child] if isinstance(child, ast.stmt) else child.body)

    walk(tree.body)
    return found


def shapes(tree: ast.AST) -> list[str]:
    """The statement shapes of ``tree``, in order (see :func:`statements`)."""
    return [statement.shape for statement in statements(tree)]


def parse(code: str) -> ast.Module | None:
    """``code`` parsed, IPython magics and shell lines blanked; None when it is not Python.

    Lines keep their numbers, so a statement's lines are those of ``code``."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError):  # ValueError: a null byte in the source
        return None
