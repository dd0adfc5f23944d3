"""The course's assignments, discovered from ``solutions/*/``: one :class:`Assignment` each.

An assignment is a folder ``solutions/<name>/`` holding

- ``<name>.ipynb``, the nbgrader source notebook: solutions between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``, and graded test cells that call
  ``run_check("<name>", "<grade_id>", globals())``;
- ``checks.py``, whose ``CHECKS`` maps every graded cell's ``grade_id`` to its check
  (:mod:`autograder.checking`);
- ``mistakes.py`` (optional): ``MISTAKES`` and ``ALTERNATIVES``, the common mistakes that must
  lose points and the correct answers written differently that must not.

Everything else (release, examples, grading, the book's loader, the tests) asks this module.
"""

from __future__ import annotations

import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n.*?### END SOLUTION\n?", re.S)


def nbgrader_cells(notebook: dict) -> list[dict]:
    """The cells of a notebook that carry nbgrader metadata, in order."""
    return [
        cell
        for cell in notebook.get("cells", [])
        if isinstance(cell, dict) and isinstance(cell.get("metadata", {}).get("nbgrader"), dict)
    ]


def cell_text(cell: dict) -> str:
    """A cell's source as one string (nbformat allows a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def graded_cells(notebook: dict) -> dict[str, float]:
    """grade_id -> points of every graded cell of a source notebook."""
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: float(cell["metadata"]["nbgrader"]["points"])
        for cell in nbgrader_cells(notebook)
        if cell["metadata"]["nbgrader"].get("grade")
    }


def _solution_cells(notebook: dict) -> dict[str, str]:
    """grade_id -> the source of every solution code cell, as the notebook holds it."""
    return {
        cell["metadata"]["nbgrader"]["grade_id"]: cell_text(cell)
        for cell in nbgrader_cells(notebook)
        if cell["metadata"]["nbgrader"].get("solution") and cell["cell_type"] == "code"
    }


def solution_code(notebook: dict) -> dict[str, str]:
    """grade_id -> the instructor's code (markers removed) of every solution cell."""
    return {gid: SOLUTION_MARKER.sub("", text) for gid, text in _solution_cells(notebook).items()}


def starter_code(notebook: dict) -> dict[str, str]:
    """grade_id -> what students are given in every solution cell: the cell without its
    solution regions (signatures, docstrings)."""
    return {gid: SOLUTION_REGION.sub("", text) for gid, text in _solution_cells(notebook).items()}


@dataclass(frozen=True)
class Assignment:
    """One assignment: its files under ``solutions/<name>/`` and what they define."""

    name: str
    folder: Path

    @property
    def notebook(self) -> Path:
        """The nbgrader source notebook (solutions and hidden tests)."""
        return self.folder / f"{self.name}.ipynb"

    @property
    def checks(self) -> Path:
        """The module of checks that decide the grades."""
        return self.folder / "checks.py"

    def source(self) -> dict:
        """The source notebook, parsed."""
        return json.loads(self.notebook.read_text())

    def graded_cells(self) -> dict[str, float]:
        """grade_id -> points of every graded cell."""
        return graded_cells(self.source())

    def solution_code(self) -> dict[str, str]:
        """grade_id -> the instructor's code (markers removed) of every solution cell."""
        return solution_code(self.source())

    def starter_code(self) -> dict[str, str]:
        """grade_id -> the code students are given in every solution cell."""
        return starter_code(self.source())

    def _mistakes_module(self) -> ModuleType | None:
        path = self.folder / "mistakes.py"
        if not path.is_file():
            return None
        spec = importlib.util.spec_from_file_location(f"mistakes_{self.name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def mistakes(self) -> dict[str, dict]:
        """name -> ``{"edits": [...], "lost": [...], ...}``: each must lose exactly those cells."""
        return dict(getattr(self._mistakes_module(), "MISTAKES", {}))

    def alternatives(self) -> dict[str, dict]:
        """name -> ``{"edits": [...]}``: correct answers written differently (full marks)."""
        return dict(getattr(self._mistakes_module(), "ALTERNATIVES", {}))


def discover(root: Path = SOLUTIONS) -> dict[str, Assignment]:
    """Every assignment under ``root``, by name: each folder holding ``<name>/<name>.ipynb``
    (none when ``root`` is missing, as in a course that does not publish its checks)."""
    if not Path(root).is_dir():
        return {}
    return {
        folder.name: Assignment(folder.name, folder)
        for folder in sorted(Path(root).iterdir())
        if (folder / f"{folder.name}.ipynb").is_file()
    }


def names(root: Path = SOLUTIONS) -> list[str]:
    """The names of every assignment under ``root``, sorted."""
    return list(discover(root))


def get(name: str, root: Path = SOLUTIONS) -> Assignment:
    """The assignment called ``name``; an unknown name is a ValueError saying which exist."""
    return discover(root)[select([name], root)[0]]


def select(chosen: list[str] | tuple[str, ...] | None, root: Path = SOLUTIONS) -> list[str]:
    """The assignments to work on (all by default); unknown names are a ValueError."""
    known = names(root)
    if not chosen:
        return known
    unknown = [name for name in chosen if name not in known]
    if unknown:
        raise ValueError(f"assignment must be one of {', '.join(known)}; got {unknown}")
    return list(chosen)
