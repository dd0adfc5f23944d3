"""Grades as a learning-management system imports them: ``python -m autograder export``.

Universities keep the grades that count in Canvas, Moodle or Blackboard Learn, and each imports
a CSV file of its own shape. :func:`export` writes one from a grading folder (``GRADED``, the
``--out`` of ``python -m autograder grade``): one row per student, one column per assignment
holding the points after the late penalty, exactly as ``grades.csv``'s ``score``
(:func:`autograder.pipeline.outputs.scored`, over the records and the gradebook).

Each format follows its system's documentation, checked against the code that reads the file:

- ``canvas``: the Gradebook import of Canvas LMS, whose guide is "How do I import grades in the
  Gradebook?"
  (https://community.canvaslms.com/t5/Instructor-Guide/How-do-I-import-grades-in-the-Gradebook/ta-p/807),
  followed as the code of instructure/canvas-lms reads such a file
  (``app/models/gradebook_importer.rb``) and writes one (``app/models/gradebook_exporter.rb``):
  the header ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
  assignment, ``<assignment> (<Canvas id>)`` with ``--column-id`` (without an id Canvas takes
  the assignment of that title, or creates it); then a row ``    Points Possible`` with each
  column's points. A row is matched to a student by ID, else SIS User ID, else SIS Login ID,
  else the name. UTF-8 without a byte-order mark, as Canvas exports unless a user asks for one.
- ``moodle``: Moodle's CSV grade import (https://docs.moodle.org/405/en/Grade_import), as
  ``grade/import/csv/classes/load_data.php`` of moodle/moodle reads it: at import the teacher
  maps one identifier column ("Map from" ``Username``, ``ID number`` or ``Email address``) and
  each grade column (to a grade item, or a new one). The file has no place for points, and a
  row whose identifier is empty or unknown stops the whole import. UTF-8, chosen in the import
  form; no byte-order mark (Moodle strips one).
- ``blackboard``: the Grade Center upload of Blackboard Learn, Original Course View
  ("Uploading or Downloading Grade Center Items for Working Offline",
  http://library.blackboard.com/ref/3ea64795-6ecc-4abd-b595-0a9a8dfdec94/Content/_instructor_grade_center/grade_center_upload_download.htm):
  a student is matched by ``Username`` alone, a column by the column id after ``|`` in its
  header, written as Grade Center downloads name columns, ``<assignment> [Total Pts: <points>
  Score] |<column id>``; a header without an id makes a new text column worth 0 points. Every
  cell of a comma-delimited file must be in quotes. The page names no encoding: UTF-8, no
  byte-order mark.
- ``csv``: a plain table for other systems: ``student``, one column per assignment, ``total``.

Without a roster, each student's folder name stands for the identifier (:attr:`Format.default`).
With one (:func:`read_roster`), the file holds the roster's students in its order, and the
export never guesses: an empty grade cell does not mean "unchanged" to these importers (Moodle
turns it into no grade, Canvas posts it as a change that removes the grade), and Moodle stops at
an unknown identifier. So a student graded but not in the roster, and a roster student with
nothing graded, are left out of the file, which leaves their grades in the LMS as they are, and
listed with whatever grades they have in ``<FILE stem>.problems.csv`` beside it. A student in the
file without a grade for an assignment (never graded, or one of the statuses :data:`NO_GRADE`)
gets an empty cell and is listed there too: that cell removes a grade the LMS already holds.

The command line lists :data:`FORMATS` in its help, so this module imports only the standard
library at once, and the grader's modules (nbgrader's, slow to import) where they are used.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Statuses that mean the grader gave no grade (grades.csv scores them 0, the reason beside it):
# the grader failed on the notebook, or could not name the student.
NO_GRADE = ("grader_error", "invalid_student_id")


class ExportError(ValueError):
    """Input :func:`export` cannot use: one line that starts with the argument it is about."""


@dataclass(frozen=True)
class Format:
    """One system's import file."""

    purpose: str  # what it is for, in the command's --help
    identifiers: dict[str, str]  # roster column -> the header it is written under, in order
    every: bool  # each identifier column the roster has is filled in every row (else one of them)
    default: str | None  # the identifier the folder name stands for without a roster
    names: tuple[str, ...] = ()  # optional roster columns shown in the file
    column_ids: bool = False  # a header can name the LMS's own column (--column-id)
    quoting: int = csv.QUOTE_MINIMAL


FORMATS = {
    "canvas": Format(
        "Canvas LMS (Grades > Import)",
        {"id": "ID", "sis_user_id": "SIS User ID", "sis_login_id": "SIS Login ID"},
        every=False,
        default="sis_login_id",
        names=("name", "section"),
        column_ids=True,
    ),
    "moodle": Format(
        "Moodle (Grades > Import > CSV file)",
        {"username": "Username", "idnumber": "ID number", "email": "Email address"},
        every=True,
        default="username",
    ),
    "blackboard": Format(
        "Blackboard Learn, Original Course View (Grade Center > Work Offline > Upload)",
        {"username": "Username"},
        every=True,
        default="username",
        names=("last_name", "first_name"),
        column_ids=True,
        quoting=csv.QUOTE_ALL,
    ),
    "csv": Format(
        "any other system: a plain table of student, points per assignment, total",
        {},
        every=True,
        default=None,
    ),
}


def roster_columns(fmt: str) -> str:
    """The roster columns of format ``fmt``, in words (for --help and errors)."""
    spec = FORMATS[fmt]
    needed = "student"
    if spec.identifiers:
        *others, last = spec.identifiers
        needed += f" and {', '.join(others)} or {last}" if others else f" and {last}"
        if not spec.every:
            needed += " (at least one filled in each row)"
        else:
            needed += " (each one given filled in every row)" if others else " (in every row)"
    return needed + (f"; optional: {', '.join(spec.names)}" if spec.names else "")


@dataclass
class Student:
    """One student's grades for the exported assignments."""

    name: str  # as the grader names them: their folder
    scores: dict[str, float] = field(default_factory=dict)  # assignment -> points, after penalty
    no_grade: dict[str, str] = field(default_factory=dict)  # assignment -> why there is none


@dataclass(frozen=True)
class Problem:
    """A student the export could not give every grade to, and what the file holds for them."""

    student: str
    text: str
    scores: dict[str, float]


@dataclass
class Export:
    """What :func:`export` wrote."""

    path: Path
    students: int  # rows of students in the file
    assignments: list[str]
    problems: list[Problem]
    problems_path: Path | None  # the sidecar listing them, None when there are none
    identified_by: str | None  # without a roster: the column that holds each folder name


def _folder_name(text: str) -> str:
    """A student as ``grades.csv`` writes them (:func:`outputs.spreadsheet_text`) -> the folder."""
    from autograder.pipeline.outputs import FORMULA_STARTS

    quoted = text[:1] == "'" and text[1:].startswith(FORMULA_STARTS)
    return text[1:] if quoted else text


def read_roster(path: Path, fmt: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The roster at ``path`` for format ``fmt``: its header, and each row by student (in the
    file's order). ``student`` is the folder name (also as ``grades.csv`` writes it, with a
    leading ``'``); the identifier columns are those of :data:`FORMATS`; other columns are not
    read. A missing column, an empty or repeated student or identifier, or a file that is not a
    UTF-8 CSV is an :class:`ExportError`."""
    spec = FORMATS[fmt]
    where = f"--roster: {path}"
    rows: list[tuple[int, list[str]]] = []
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                rows.extend((reader.line_num, cells) for cells in reader)
            except csv.Error as error:
                raise ExportError(f"{where}: line {reader.line_num} is not CSV ({error})") from None
    except OSError as error:
        raise ExportError(f"{where}: cannot read it ({error.strerror})") from None
    except UnicodeDecodeError:
        raise ExportError(f"{where} is not UTF-8 text: save it as CSV (UTF-8)") from None
    if not rows:
        raise ExportError(f"{where} is empty: expected a header row with {roster_columns(fmt)}")
    (_, header), *body = rows
    repeated = [column for column, count in Counter(header).items() if count > 1]
    if repeated:
        raise ExportError(f"{where}: the header has the column {repeated[0]!r} twice")
    present = [column for column in spec.identifiers if column in header]
    if "student" not in header or (spec.identifiers and not present):
        raise ExportError(f"{where}: the {fmt} format needs the columns {roster_columns(fmt)}")
    roster: dict[str, dict[str, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for line, cells in body:
        if not any(cells):
            continue  # a blank line, or one of empty cells as spreadsheets leave them
        if len(cells) != len(header):
            raise ExportError(
                f"{where}: line {line} has {len(cells)} cells, the header {len(header)}"
            )
        row = dict(zip(header, cells, strict=True))
        student = _folder_name(row["student"])
        if not student:
            raise ExportError(f"{where}: line {line} has no student")
        empty = [column for column in present if not row[column]]
        if empty and (spec.every or len(empty) == len(present)):
            raise ExportError(f"{where}: line {line} ({student!r}) has no {' or '.join(empty)}")
        keys = [("student", student)] + [(c, row[c]) for c in present if row[c]]
        for column, value in keys:
            if (column, value) in seen:
                first = seen[(column, value)]
                raise ExportError(
                    f"{where}: line {line} repeats the {column} {value!r} of line {first}"
                )
            seen[(column, value)] = line
        roster[student] = row
    return header, roster


def parse_column_ids(items: Iterable[str]) -> dict[str, str]:
    """``--column-id`` values, ``ASSIGNMENT=ID``, as {assignment: id}."""
    ids = {}
    for item in items:
        assignment, equals, number = item.partition("=")
        if not (equals and assignment and number.isdigit()):
            raise ExportError(
                f"--column-id: expected ASSIGNMENT=ID with a numeric id, got {item!r}"
            )
        if assignment in ids:
            raise ExportError(f"--column-id: {assignment} is given twice")
        ids[assignment] = number
    return ids


def _cells(student: Student, assignments: list[str]) -> list[str]:
    return [f"{student.scores[a]:g}" if a in student.scores else "" for a in assignments]


def _rows(
    fmt: str,
    students: list[tuple[Student, dict[str, str]]],
    columns: list[str],
    assignments: list[str],
    points: dict[str, float],
    ids: dict[str, str],
) -> Iterator[list[str]]:
    """The file of format ``fmt``: the header, then each (student, roster row) in order;
    ``columns`` are the roster's (or, without one, the default identifier's)."""
    if fmt == "canvas":
        titles = [f"{a} ({ids[a]})" if a in ids else a for a in assignments]
        yield ["Student", *FORMATS["canvas"].identifiers.values(), "Section", *titles]
        yield ["    Points Possible", "", "", "", "", *(f"{points[a]:g}" for a in assignments)]
        for student, who in students:
            identity = [who.get(column, "") for column in FORMATS["canvas"].identifiers]
            name = who.get("name") or student.name
            yield [name, *identity, who.get("section", ""), *_cells(student, assignments)]
    elif fmt == "moodle":
        present = [c for c in FORMATS["moodle"].identifiers if c in columns]
        yield [FORMATS["moodle"].identifiers[c] for c in present] + assignments
        for student, who in students:
            yield [who[c] for c in present] + _cells(student, assignments)
    elif fmt == "blackboard":
        titles = [
            f"{a} [Total Pts: {points[a]:g} Score]" + (f" |{ids[a]}" if a in ids else "")
            for a in assignments
        ]
        yield ["Last Name", "First Name", "Username", *titles]
        for student, who in students:
            last, first = who.get("last_name") or student.name, who.get("first_name", "")
            yield [last, first, who["username"], *_cells(student, assignments)]
    else:
        yield ["student", *assignments, "total"]
        for student, _ in students:
            complete = all(a in student.scores for a in assignments)
            total = f"{sum(student.scores[a] for a in assignments):g}" if complete else ""
            yield [student.name, *_cells(student, assignments), total]


def _write(path: Path, rows: Iterable[list[str]], quoting: int = csv.QUOTE_MINIMAL) -> None:
    """``rows`` as a UTF-8 CSV file at ``path``, atomically; a cell that starts like a formula
    is written as text (:func:`outputs.spreadsheet_text`)."""
    from autograder.pipeline.outputs import spreadsheet_text

    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, quoting=quoting)
        writer.writerows([spreadsheet_text(cell) for cell in row] for row in rows)
    os.replace(temporary, path)


def class_grades(
    graded: Path, assignments: list[str] | None, db_url: str
) -> tuple[dict[str, Student], dict[str, float]]:
    """Every student of ``graded`` with a record of ``assignments`` (default: every assignment
    graded there), with their points, and each assignment's points possible."""
    from sqlalchemy.exc import SQLAlchemyError

    from autograder.pipeline import outputs
    from autograder.pipeline.class_run import load_records

    try:
        records = load_records(graded)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportError(
            f"GRADED: a record in {graded / 'records'} is unreadable ({error})"
        ) from None
    known = sorted({assignment for _, assignment in records})
    if not known:
        raise ExportError(
            f"GRADED: {graded} has no records/<student>/<assignment>.json: grade first"
        )
    chosen = assignments or known
    for assignment in chosen:
        if assignment not in known:
            raise ExportError(f"--assignment: {graded} has no grades for {assignment}")
    try:
        scores = outputs.gradebook_scores(db_url, chosen)
    except SQLAlchemyError as error:
        first = str(error).strip().splitlines()[0]
        raise ExportError(f"--db: cannot read the gradebook {db_url} ({first})") from None
    points: dict[str, float] = {}
    students: dict[str, Student] = {}
    for assignment in chosen:
        results = [r for (_, a), r in sorted(records.items()) if a == assignment]
        maxima = sorted({r.max_score for r in results})
        if len(maxima) > 1:
            worth = " or ".join(f"{m:g}" for m in maxima)
            raise ExportError(
                f"GRADED: the records of {assignment} are worth {worth} points (graded against "
                "different versions): grade it again"
            )
        points[assignment] = maxima[0]
        for result in results:
            student = students.setdefault(result.student, Student(result.student))
            stopped = [s.split(":")[0] for s in result.statuses if s.startswith(NO_GRADE)]
            if stopped:
                student.no_grade[assignment] = stopped[0]
            else:
                student.scores[assignment] = outputs.scored(result, scores)[0]
    for student in students.values():
        for assignment in chosen:
            if assignment not in student.scores and assignment not in student.no_grade:
                student.no_grade[assignment] = "never graded"
    return students, points


def export(
    graded: Path,
    fmt: str,
    out: Path | None = None,
    *,
    roster: Path | None = None,
    assignments: list[str] | None = None,
    column_ids: dict[str, str] | None = None,
    db_url: str | None = None,
) -> Export:
    """Write the grades of the grading folder ``graded`` in format ``fmt`` (a key of
    :data:`FORMATS`) to ``out`` (default: ``graded/export-<fmt>.csv``), and the students it
    could not give every grade to in ``<out stem>.problems.csv`` (see the module docstring).

    ``assignments`` limits the export (default: every assignment graded); ``column_ids`` names
    the LMS's own column of an assignment (Canvas, Blackboard); ``db_url`` is the gradebook
    (default: ``graded/gradebook.db``). Bad input is an :class:`ExportError`."""
    spec = FORMATS[fmt]
    graded = Path(graded)
    if not graded.is_dir():
        raise ExportError(f"GRADED must be the --out folder of `grade`: {graded} is not a folder")
    if db_url is None:
        if not (graded / "gradebook.db").is_file():
            raise ExportError(
                f"GRADED: {graded} has no gradebook.db: give --db, the gradebook `grade` used"
            )
        db_url = f"sqlite:///{graded / 'gradebook.db'}"
    elif db_url.startswith("sqlite:") and not Path(db_url.partition(":///")[2]).is_file():
        raise ExportError(f"--db: {db_url} names no gradebook file (sqlite:///PATH)")
    out = Path(out) if out is not None else graded / f"export-{fmt}.csv"
    kept = {(graded / "grades.csv").resolve(): "GRADED/grades.csv"}
    if roster is not None:
        kept[Path(roster).resolve()] = "the roster"
    if out.resolve() in kept:
        raise ExportError(f"--out: {out} would overwrite {kept[out.resolve()]}")
    if out.is_dir() or not out.parent.is_dir():
        raise ExportError(f"--out must be a file in an existing folder, got {out}")
    ids = column_ids or {}
    if ids and not spec.column_ids:
        raise ExportError(f"--column-id: the {fmt} format has no column ids")
    header, entries = read_roster(roster, fmt) if roster is not None else ([], {})
    students, points = class_grades(graded, assignments, db_url)
    chosen = list(points)
    for assignment in ids:
        if assignment not in chosen:
            raise ExportError(f"--column-id: {assignment} is not exported ({', '.join(chosen)})")

    problems = []
    if roster is None:
        listed = [(students[name], {spec.default: name}) for name in sorted(students)]
        columns = [spec.default] if spec.default else []
    else:
        listed = [(students[name], row) for name, row in entries.items() if name in students]
        columns = header
        problems += [
            Problem(name, "in the roster, nothing graded: left out of the file", {})
            for name in entries
            if name not in students
        ]
        problems += [
            Problem(name, "graded, not in the roster: left out of the file", student.scores)
            for name, student in students.items()
            if name not in entries
        ]
    for student, _ in listed:
        if student.no_grade:
            why = ", ".join(f"{a} ({reason})" for a, reason in sorted(student.no_grade.items()))
            problems.append(
                Problem(student.name, f"no grade for {why}: left empty", student.scores)
            )
    problems.sort(key=lambda problem: problem.student)

    _write(out, _rows(fmt, listed, columns, chosen, points, ids), spec.quoting)
    sidecar = out.with_name(f"{out.stem}.problems.csv")
    if problems:
        header_row = ["student", "problem", *chosen]
        body = [
            [p.student, p.text, *_cells(Student(p.student, p.scores), chosen)] for p in problems
        ]
        _write(sidecar, [header_row, *body])
    else:
        sidecar.unlink(missing_ok=True)  # left by an earlier export: it would mislead
    return Export(
        path=out,
        students=len(listed),
        assignments=chosen,
        problems=problems,
        problems_path=sidecar if problems else None,
        identified_by=spec.identifiers.get(spec.default or "") if roster is None else None,
    )
