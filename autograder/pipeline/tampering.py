"""What is wrong with a submitted notebook before and after it runs (each problem a status).

Statuses name problems, they do not grade: a submission with a deleted test cell is still
graded (nbgrader restores the cell from the source), and the status tells the instructor why
its row looks the way it does.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import nbformat

from autograder.assignments import cell_text, nbgrader_cells
from autograder.isolation.policy import MAX_IMAGE_CHARS, MAX_OUTPUT_CHARS


def compare_with_source(submitted: dict, source: dict) -> list[str]:
    """Statuses for test cells deleted, edited, duplicated or re-labelled by the student."""
    statuses = []
    submitted_cells = nbgrader_cells(submitted)
    counts = Counter(cell["metadata"]["nbgrader"].get("grade_id") for cell in submitted_cells)
    by_id = {cell["metadata"]["nbgrader"].get("grade_id"): cell for cell in submitted_cells}
    if any(count > 1 for count in counts.values()):
        statuses.append("duplicate_cells")
    for cell in nbgrader_cells(source):
        meta = cell["metadata"]["nbgrader"]
        if meta.get("solution"):
            continue
        grade_id = meta["grade_id"]
        mine = by_id.get(grade_id)
        if mine is None:
            statuses.append("test_cell_deleted")
            continue
        theirs = mine["metadata"]["nbgrader"]
        keys = ("grade", "solution", "locked", "points")
        if any(theirs.get(key) != meta.get(key) for key in keys):
            statuses.append("metadata_tampered")
        if meta.get("grade") and cell_text(mine).strip() != _visible_part(cell):
            statuses.append("test_cell_modified")
    return sorted(set(statuses), key=statuses.index)


def _visible_part(cell: dict) -> str:
    """The part of a source test cell a student sees (hidden tests are removed on release)."""
    return cell_text(cell).split("### BEGIN HIDDEN TESTS")[0].strip()


def execution_statuses(notebook_path: Path) -> list[str]:
    """Statuses read from the executed notebook; outputs past the size limit are cut short."""
    notebook = nbformat.read(notebook_path, as_version=4)
    statuses, truncated = [], False
    for cell in notebook.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            name = output.get("ename", "")
            text = output.get("evalue", "") + "".join(output.get("traceback", []))
            if name == "CellTimeoutError" or "CellTimeoutError" in text:
                statuses.append("cell_timeout")
            elif name == "DeadKernelError" or "Kernel died" in text or "DeadKernel" in text:
                statuses.append("kernel_died")
            elif name == "MemoryError":
                statuses.append("memory_limit")
            truncated |= _truncate(output)
    if truncated:
        statuses.append("output_truncated")
        nbformat.write(notebook, notebook_path)
    return sorted(set(statuses), key=statuses.index)


def _cut(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    return text[:limit] + "\n[output truncated by the grader]"


def _truncate(output: dict) -> bool:
    """Cut one output's text, error and text-like data to the caps; drop a too large image
    whole (a cut image would be broken). True when anything was cut."""
    cut = False
    if isinstance(output.get("text"), str) and len(output["text"]) > MAX_OUTPUT_CHARS:
        output["text"], cut = _cut(output["text"]), True
    half = MAX_OUTPUT_CHARS // 2  # an error's message and its traceback share one output's cap
    if isinstance(output.get("evalue"), str) and len(output["evalue"]) > half:
        output["evalue"], cut = _cut(output["evalue"], half), True
    traceback = output.get("traceback")
    if isinstance(traceback, list) and len("".join(map(str, traceback))) > half:
        output["traceback"], cut = [_cut("\n".join(map(str, traceback)), half)], True
    data = output.get("data", {})
    for mime, value in list(data.items()):
        if not isinstance(value, str):
            continue
        if mime.startswith("image/") and mime != "image/svg+xml":
            if len(value) > MAX_IMAGE_CHARS:
                del data[mime]
                data.setdefault("text/plain", "[image removed by the grader: too large]")
                cut = True
        elif len(value) > MAX_OUTPUT_CHARS:
            data[mime], cut = _cut(value), True
    return cut


def student_code_cells(submitted: dict, source: dict) -> list[str]:
    """The submitted code the sandbox runs: every code cell except the source's graded tests.

    Graded test cells are identified by the source's grade_ids, so a student cannot smuggle
    code into the sandbox through a test cell. Visible tests and set-up cells do run there;
    a failing cell is recorded and the others still run, as in a notebook.
    """
    graded_ids = {
        cell["metadata"]["nbgrader"]["grade_id"]
        for cell in nbgrader_cells(source)
        if cell["metadata"]["nbgrader"].get("grade")
        and not cell["metadata"]["nbgrader"].get("solution")
    }
    cells = []
    for cell in submitted.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        metadata = cell.get("metadata", {})
        nbgrader = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
        if isinstance(nbgrader, dict) and nbgrader.get("grade_id") in graded_ids:
            continue
        text = cell.get("source", "")
        cells.append("".join(text) if isinstance(text, list) else str(text))
    return cells
