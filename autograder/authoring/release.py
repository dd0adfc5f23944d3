"""Release: validate the source notebooks, then generate the student versions with nbgrader.

nbgrader's ``generate_assignment`` replaces every solution region with a stub and removes every
hidden-test region. The student versions land in ``OUT/<assignment>/<assignment>.ipynb`` (and
nothing else does: the instructor sources stay in a course folder outside ``OUT``); with
``pages`` they are also copied, with a short reader's note, as the book's exercise pages.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import nbformat

from autograder.pipeline.nbgrader_course import copy_sources, run_nbgrader, write_config

PAGE_NOTE = """\
```{{note}}
This is the student version of the **{name}** assignment, exactly as students receive it: the
functions are stubs and only the visible tests are shown; the hidden tests that decide the grade
run when it is graded. Download the notebook ({{download}}`{name}.ipynb <notebooks/{name}.ipynb>`),
open it in Jupyter in the course environment, fill in the functions and run all cells: the
visible tests give immediate feedback. To grade it as it will be graded, hidden tests included,
run `python -m autograder check path/to/{name}.ipynb` (or `make check NB=path/to/{name}.ipynb`)
in the course's repository: it prints your score and the cause of each failed test, and writes
the feedback page (`docs/students.md` says more).
```
"""
CHAPTER_PATH = re.compile(r"`chapters/(\w+)\.md`")


def validate_sources(course: Path, assignments: list[str]) -> None:
    """Run each source notebook with nbgrader: the instructor solution must pass every test."""
    for name in assignments:
        log = run_nbgrader(course, "validate", f"source/{name}/{name}.ipynb")
        if "Success!" not in log:
            raise RuntimeError(f"the source notebook of {name} does not pass its tests:\n{log}")


def release(
    out: Path,
    assignments: list[str],
    *,
    validate: bool = True,
    pages: Path | None = None,
    course: Path | None = None,
) -> dict[str, Path]:
    """Write what students receive into ``out``; return {assignment: notebook path}.

    ``out/<assignment>/`` holds the student notebook and any data files, nothing else. nbgrader's
    working course (with the instructor sources) lives in ``course``, by default a temporary
    folder removed afterwards; it may not lie inside ``out``.
    """
    out = Path(out).resolve()
    if course is None:
        with tempfile.TemporaryDirectory(prefix="rnn-release-") as tmp:
            return release(out, assignments, validate=validate, pages=pages, course=Path(tmp))
    course = Path(course).resolve()
    if course == out or course.is_relative_to(out):
        raise ValueError(f"course must lie outside out ({out}): it holds the solutions")
    if course.exists():
        shutil.rmtree(course)
    write_config(course, f"sqlite:///{course / 'gradebook.db'}")
    copy_sources(course, assignments)
    if validate:
        validate_sources(course, assignments)
    released = {}
    for name in assignments:
        run_nbgrader(course, "generate_assignment", name, "--force")
        folder = out / name
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(course / "release" / name, folder)
        released[name] = folder / f"{name}.ipynb"
        if pages is not None:
            write_page(released[name], Path(pages) / f"{name}.ipynb", name)
    return released


def write_page(student_notebook: Path, page: Path, name: str) -> None:
    """The book's page for an assignment: the student version plus a note, never executed. The
    chapters the statement names by path (`` `chapters/gradients.md` ``) become links."""
    notebook = nbformat.read(student_notebook, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = CHAPTER_PATH.sub(r"[`chapters/\1.md`](../chapters/\1.md)", cell.source)
    title_cell = notebook.cells[0]
    note = nbformat.v4.new_markdown_cell(PAGE_NOTE.format(name=name))
    notebook.cells = [title_cell, note, *notebook.cells[1:]]
    notebook.metadata["mystnb"] = {"execution_mode": "off"}
    page.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, page)
    (page.parent / "notebooks").mkdir(exist_ok=True)
    shutil.copy(student_notebook, page.parent / "notebooks" / f"{name}.ipynb")
