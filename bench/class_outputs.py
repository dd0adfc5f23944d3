"""The class report and the similarity report of a class of 1,000 students.

The class is made up, seeded: each student's record fails tests of ``cells`` with messages that
name catalogued mistakes, or none; each student's code takes every answer cell from one of the
three correct solutions (the public one and the two of ``tests/autograder/independent/``), a
mix that gives many flagged pairs, the worst case for the page.
"""

from __future__ import annotations

import random
import re
import tempfile
import time
from pathlib import Path

from autograder import assignments
from autograder.pipeline import class_report, similarity
from autograder.pipeline.results import CellResult, Result

TITLE = "Class report and similarity report of a class (seeded, made-up records and code)"
ASSIGNMENT = "cells"
STUDENTS, TINY_STUDENTS = 1000, 30
TARGET_SECONDS = 10.0
INDEPENDENT = Path(__file__).resolve().parent.parent / "tests" / "autograder" / "independent"


def records(students: int, rng: random.Random) -> list[Result]:
    """One record per student: each test passed, or failed naming a catalogued cause or not."""
    points = assignments.get(ASSIGNMENT).graded_cells()
    phrases = list(class_report.catalogue(ASSIGNMENT))
    results = []
    for number in range(students):
        cells = []
        for grade_id, top in points.items():
            if rng.random() < 0.8:
                cells.append(CellResult(grade_id, top, top, True, top))
            else:
                cause = rng.choice([*phrases, f"something else at {rng.random():.3f}"])
                message = f"{grade_id}: off (max abs error {rng.random():.2e}): {cause}"
                cells.append(CellResult(grade_id, top, 0.0, False, 0.0, message))
        late = rng.random() < 0.1
        results.append(
            Result(
                f"student {number:04d}",
                ASSIGNMENT,
                cells=cells,
                seconds_late=3600.0 * rng.randint(1, 72) if late else 0.0,
                late_penalty=1.0 if late else 0.0,
            )
        )
    return results


def codes(students: int, rng: random.Random) -> list[similarity.Code]:
    """The public solution, then one student per mix of the three correct solutions' cells."""
    known = assignments.get(ASSIGNMENT)
    solution, starter = known.solution_code(), known.starter_code()
    sources = [solution]
    for style in ("loops", "compact"):
        text = (INDEPENDENT / ASSIGNMENT / f"{style}.py").read_text()
        parts = re.split(r"^# %% (\S+)[ \t]*\n", text, flags=re.M)
        sources.append(dict(zip(parts[1::2], parts[2::2], strict=True)))
    found = [similarity.read_code(similarity.PUBLIC, solution, starter)]
    for number in range(students):
        cells = {gid: rng.choice(sources)[gid] for gid in solution}
        found.append(similarity.read_code(f"student {number:04d}", cells, starter))
    return found


def run(tiny: bool = False) -> dict:
    students = TINY_STUDENTS if tiny else STUDENTS
    rng = random.Random(0)
    results, code = records(students, rng), codes(students, rng)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as folder:
        began = time.perf_counter()
        class_report.write_report(Path(folder), results)
        report_seconds = time.perf_counter() - began
        began = time.perf_counter()
        pairs = similarity.flagged_pairs(ASSIGNMENT, code)
        page = similarity.render({ASSIGNMENT: pairs}, similarity.THRESHOLD)
        similarity_seconds = time.perf_counter() - began
    rows = [
        {
            "case": f"class report, {students} students",
            "measured": report_seconds,
            "target": f"<= {TARGET_SECONDS:g} s",
            "ok": report_seconds <= TARGET_SECONDS,
            "timing": "one run, wall clock",
        },
        {
            "case": f"similarity, {students} students ({len(pairs):,} flagged pairs)",
            "measured": similarity_seconds,
            "target": f"<= {TARGET_SECONDS:g} s",
            "ok": similarity_seconds <= TARGET_SECONDS,
            "timing": "one run, wall clock (comparison and page)",
        },
    ]
    return {"rows": rows, "students": students, "pairs": len(pairs), "page_bytes": len(page)}
