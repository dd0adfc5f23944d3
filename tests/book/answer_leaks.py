"""Find the graded answers' code in the book: runs of statements equal up to names and numbers.

Each solution region of the assignments (the code between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``) becomes a sequence of statement *shapes*: the statement's syntax tree with every
variable name and every number abstracted (``_``, ``0``), attribute and keyword names kept
(``np.tanh`` is not ``np.maximum``), and compound statements (``for``, ``if``, ``def``) reduced
to their header, their body following in order. A dictionary display assigned or returned
counts as one statement per value (``grads = {"Wx": x.T @ da, ...}`` is ``dWx = x.T @ da``, ...).
A text leaks an answer when
``RUN`` consecutive shapes of a solution appear consecutively in one of its code blocks: a
renamed copy is still a copy.
"""

from __future__ import annotations

import ast
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

RUN = 3
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
FENCE = re.compile(
    r"^(`{3,}|~{3,})\s*(\{code-cell\}\s*)?(ipython3|python)?[^\n]*\n(.*?)^\1", re.M | re.S
)
OPTIONS = re.compile(r"\A(?:---\n.*?\n---\n|(?::[^\n]*\n)+)", re.S)  # a code cell's options
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


def shapes(tree: ast.AST) -> list[str]:
    """The statement shapes of ``tree``, in order, nested bodies flattened after their header.

    A docstring is not a statement of the code: it is left out."""
    found: list[str] = []

    def walk(statements: list[ast.stmt]) -> None:
        for statement in statements:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue
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
            found.append(ast.dump(_Abstract().visit(_header(statement))))
            for value in entries:
                pseudo = ast.Assign(targets=[ast.Name(id="_", ctx=ast.Store())], value=value)
                found.append(ast.dump(_Abstract().visit(pseudo)))
            for name in COMPOUND_BODIES:
                for child in getattr(statement, name, []) or []:
                    walk([child] if isinstance(child, ast.stmt) else child.body)

    walk(tree.body)
    return found


def parse(code: str) -> ast.Module | None:
    """``code`` parsed, IPython magics and shell lines dropped; None when it is not Python."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except SyntaxError:
        return None


@dataclass(frozen=True)
class Answer:
    """One solution region: where it is and its statement shapes."""

    name: str
    shapes: tuple[str, ...]


def answers(solutions: Path) -> list[Answer]:
    """Every solution region of every assignment source notebook under ``solutions``."""
    found = []
    for path in sorted(solutions.glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell["cell_type"] != "code" or not meta.get("solution"):
                continue
            source = "".join(cell["source"])
            for number, region in enumerate(SOLUTION.findall(source)):
                tree = parse(region)
                assert tree is not None, f"{path.name} {meta.get('grade_id')}: not Python"
                name = f"{path.stem}:{meta.get('grade_id')}#{number}"
                found.append(Answer(name, tuple(shapes(tree))))
    return found


def code_blocks(path: Path) -> list[str]:
    """The Python a reader can copy from ``path``: a module, or a MyST page's code cells and
    fenced Python blocks."""
    text = path.read_text()
    if path.suffix == ".py":
        return [text]
    blocks = [m.group(4) for m in FENCE.finditer(text) if m.group(2) or m.group(3)]
    return [OPTIONS.sub("", block) for block in blocks]


def leaks(path: Path, known: list[Answer], run: int = RUN) -> list[str]:
    """The answers of which ``run`` consecutive statements appear in ``path``, with the first
    line of the copy."""
    windows: dict[tuple[str, ...], str] = {}
    for answer in known:
        for start in range(len(answer.shapes) - run + 1):
            windows.setdefault(answer.shapes[start : start + run], answer.name)
    found = []
    for block in code_blocks(path):
        tree = parse(block)
        if tree is None:
            continue
        sequence = shapes(tree)
        for start in range(len(sequence) - run + 1):
            name = windows.get(tuple(sequence[start : start + run]))
            if name:
                first = block.strip().splitlines()[0][:60]
                found.append(f"{name} (block starting {first!r})")
                break
    return found
