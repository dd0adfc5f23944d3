"""Find the graded answers' code in the book: runs of statements equal up to names and numbers.

Each solution region of the assignments (the code between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``) becomes a sequence of statement shapes (:mod:`autograder.pipeline.code_shapes`:
equal up to names, numbers and formatting). A text leaks an answer when ``RUN`` consecutive
shapes of a solution appear consecutively in one of its code blocks: a renamed copy is still a
copy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.pipeline.code_shapes import parse, shapes

RUN = 3
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
FENCE = re.compile(
    r"^(`{3,}|~{3,})\s*(\{code-cell\}\s*)?(ipython3|python)?[^\n]*\n(.*?)^\1", re.M | re.S
)
OPTIONS = re.compile(r"\A(?:---\n.*?\n---\n|(?::[^\n]*\n)+)", re.S)  # a code cell's options


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
