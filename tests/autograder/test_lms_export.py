"""``python -m autograder export`` (``autograder/pipeline/lms_export.py``): the grades of a
grading folder as Canvas, Moodle and Blackboard import them, or as a plain table.

No grading: a grading folder is built as ``grade`` leaves it, from :class:`Result` records and
a SQLite gradebook filled by :func:`outputs.record` (which applies the late penalty). The class:

==========================  ==================  ==============================  ============
student                     cells (of 5)        bptt (of 10)                    roster
==========================  ==================  ==============================  ============
ann                         5                   10                              yes
Müller, Anna (amueller)     2, 12 h late: 1.8   6                               yes
=1+2                        3                   nothing submitted: 0            yes
bob                         grader error        4                               yes
zed                         5                   10                              no
cy                          (no folder)         (no folder)                     yes
==========================  ==================  ==============================  ============

``lms_samples/`` holds, written by hand from each system's documentation (cited in the module
docstring of ``lms_export``), the file each format must be for this class and
``lms_samples/roster.csv``: ``canvas.csv`` as Canvas's own gradebook export lays it out (header,
``Points Possible`` row, one row per student), ``moodle.csv``, ``blackboard.csv`` (every cell
quoted, the column id after ``|``), ``csv.csv``, and ``problems.csv``, the students the export
could not give every grade to.
"""

from __future__ import annotations

import codecs
import csv
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from support import read_grades

from autograder.authoring.examples import LMS_NAMES
from autograder.cli import main
from autograder.pipeline import late, lms_export, outputs
from autograder.pipeline.class_run import load_records
from autograder.pipeline.nbgrader_course import create_gradebook
from autograder.pipeline.results import CellResult, Result

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own
SAMPLES = Path(__file__).parent / "lms_samples"
ROSTER = SAMPLES / "roster.csv"
POINTS = {
    "cells": [("step_values", 2), ("step_grads", 3)],
    "bptt": [("bptt_grads", 6), ("bptt_clip", 4)],
}
DUE = datetime(2026, 10, 5, 21, 59)  # cells, UTC
LATE = "2026-10-06 09:59:00 UTC"  # 12 hours after it: 10% off
GRADER_ERROR = "grader_error: failed 2 times (RuntimeError, RuntimeError)"


def result(student: str, assignment: str, earned: list[float], *statuses: str, **extra) -> Result:
    cells = [
        CellResult(grade_id, points, got, got == points, got)
        for (grade_id, points), got in zip(POINTS[assignment], earned, strict=True)
    ]
    return Result(student, assignment, statuses=list(statuses), cells=cells, **extra)


CLASS = [
    result("ann", "cells", [2, 3]),
    result("ann", "bptt", [6, 4]),
    result("Müller, Anna (amueller)", "cells", [2, 0], timestamp=LATE),
    result("Müller, Anna (amueller)", "bptt", [6, 0]),
    result("=1+2", "cells", [0, 3]),
    result("=1+2", "bptt", [0, 0], "not_submitted"),
    result("bob", "cells", [0, 0], GRADER_ERROR),
    result("bob", "bptt", [0, 4]),
    result("zed", "cells", [2, 3]),
    result("zed", "bptt", [6, 4]),
]


def grading_folder(path: Path, results: list[Result]) -> Path:
    """A grading folder as ``grade`` leaves it: the gradebook (cells due on DUE, 10% a day
    late) and one record per result."""
    path.mkdir()
    url = f"sqlite:///{path / 'gradebook.db'}"
    create_gradebook(url)
    with Gradebook(url) as gradebook:
        for assignment, cells in POINTS.items():
            due = DUE if assignment == "cells" else None
            gradebook.update_or_create_assignment(assignment, duedate=due)
            gradebook.update_or_create_notebook(assignment, assignment)
            for grade_id, points in cells:
                gradebook.update_or_create_grade_cell(
                    grade_id, assignment, assignment, max_score=points, cell_type="code"
                )
    policy = late.Policy(plugin=late.PercentPerDay(percent_per_day=10), source="")
    for graded in results:
        outputs.record(url, graded, policy)
        graded.save(path / "records" / graded.student / f"{graded.assignment}.json")
    return path


@pytest.fixture(scope="module")
def the_class(tmp_path_factory) -> Path:
    return grading_folder(tmp_path_factory.mktemp("class") / "graded", CLASS)


@pytest.fixture
def graded(the_class, tmp_path) -> Path:
    """A fresh copy of the class's grading folder for one test."""
    return Path(shutil.copytree(the_class, tmp_path / "graded"))


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


# --- each format --------------------------------------------------------------------------------

IDS = {"canvas": {"cells": "2001"}, "blackboard": {"cells": "1281892"}}


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "blackboard", "csv"])
def test_the_file_is_the_systems_sample(graded, fmt):
    """Header names and order, one row per roster student graded, in roster order, and each
    number (cells after the late penalty), as the hand-written sample has them."""
    done = lms_export.export(graded, fmt, roster=ROSTER, column_ids=IDS.get(fmt))
    assert done.path == graded / f"export-{fmt}.csv"
    assert lines(done.path) == lines(SAMPLES / f"{fmt}.csv")
    assert not done.path.read_bytes().startswith(codecs.BOM_UTF8)
    assert (done.students, done.assignments) == (4, ["bptt", "cells"])


def test_the_score_is_the_gradebooks_after_the_late_penalty(graded):
    """As in grades.csv: a score changed in the gradebook (formgrader) is the one exported, and
    the late penalty (10% of 2 points) is taken off."""
    with Gradebook(f"sqlite:///{graded / 'gradebook.db'}") as gradebook:
        gradebook.find_grade("step_grads", "cells", "cells", "ann").manual_score = 1
        gradebook.db.commit()
    done = lms_export.export(graded, "csv", assignments=["cells"])
    table = {row[0]: row[1] for row in rows(done.path)[1:]}
    assert table["ann"] == "3" and table["Müller, Anna (amueller)"] == "1.8"


def test_every_exported_score_is_the_score_of_grades_csv(graded):
    records = load_records(graded)
    url = f"sqlite:///{graded / 'gradebook.db'}"
    scores = outputs.gradebook_scores(url, ["bptt", "cells"])
    outputs.write_csv(graded / "grades.csv", list(records.values()), scores)
    expected = {
        (folder, assignment): row["score"]
        for (folder, assignment), row in read_grades(graded).items()
        if not row["status"].startswith("grader_error")
    }
    exported = lms_export.export(graded, "csv")
    header, *body = rows(exported.path)
    found = {
        (row[0].removeprefix("'"), assignment): cell
        for row in body
        for assignment, cell in zip(header[1:-1], row[1:-1], strict=True)
        if cell
    }
    assert found == expected and len(found) == 9


def test_records_graded_against_two_versions_of_an_assignment_are_refused(tmp_path):
    older = Result("bob", "cells", cells=[CellResult("step_values", 2, 2, True, 2)])
    graded = grading_folder(tmp_path / "graded", [result("ann", "cells", [2, 3]), older])
    with pytest.raises(
        lms_export.ExportError, match="^GRADED: the records of cells are worth 2 or 5"
    ):
        lms_export.export(graded, "csv")


# --- students: roster, mismatches, names --------------------------------------------------------


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "blackboard", "csv"])
def test_roster_mismatches_are_listed_with_their_grades_and_none_is_lost(graded, fmt):
    done = lms_export.export(graded, fmt, roster=ROSTER, column_ids=IDS.get(fmt))
    assert done.problems_path == graded / f"export-{fmt}.problems.csv"
    assert lines(done.problems_path) == lines(SAMPLES / "problems.csv")
    assert [p.student for p in done.problems] == ["bob", "cy", "zed"]
    everyone = {"ann", "Müller, Anna (amueller)", "=1+2", "bob", "zed", "cy"}
    in_file = {"ann", "Müller, Anna (amueller)", "=1+2", "bob"}  # the roster's graded students
    assert in_file | {p.student for p in done.problems} == everyone
    assert sorted(p.name for p in graded.iterdir()) == [
        "export-" + fmt + ".csv",
        "export-" + fmt + ".problems.csv",
        "gradebook.db",
        "records",
    ]  # nothing else, no temporary file


def test_without_a_roster_every_graded_student_is_a_row_named_by_folder(graded):
    done = lms_export.export(graded, "moodle")
    assert lines(done.path) == [
        "Username,bptt,cells",
        "'=1+2,0,3",
        '"Müller, Anna (amueller)",6,1.8',
        "ann,10,5",
        "bob,4,",
        "zed,10,5",
    ]
    assert done.identified_by == "Username"
    assert [(p.student, p.text) for p in done.problems] == [
        ("bob", "no grade for cells (grader_error): left empty")
    ]


def test_a_student_never_graded_for_an_assignment_gets_an_empty_cell_and_is_listed(tmp_path):
    graded = grading_folder(
        tmp_path / "graded", [result("ann", "cells", [2, 3]), result("bob", "bptt", [6, 4])]
    )
    done = lms_export.export(graded, "csv")
    assert lines(done.path) == ["student,bptt,cells,total", "ann,,5,", "bob,10,,"]
    assert [p.text for p in done.problems] == [
        "no grade for bptt (never graded): left empty",
        "no grade for cells (never graded): left empty",
    ]


def test_a_sidecar_from_an_earlier_export_goes_when_nothing_is_wrong(graded):
    stale = graded / "export-csv.problems.csv"
    stale.write_text("student,problem\nold,old\n")
    done = lms_export.export(graded, "csv", assignments=["bptt"])
    assert done.problems == [] and done.problems_path is None and not stale.exists()


def test_a_roster_may_name_a_student_as_grades_csv_writes_them(graded, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("student,username\n'=1+2,fred\nann,ann\n", encoding="utf-8")
    done = lms_export.export(graded, "blackboard", roster=roster, assignments=["cells"])
    assert [row[2:] for row in rows(done.path)[1:]] == [["fred", "3"], ["ann", "5"]]


HOSTILE = {  # a folder name -> the cell that holds it: text, never a formula, never two rows
    **{name: name for name in LMS_NAMES if not name.startswith(outputs.FORMULA_STARTS)},
    "=1+2": "'=1+2",
    "+1+1": "'+1+1",
    "-1+1": "'-1+1",
    "@SUM(1+1)": "'@SUM(1+1)",
    "two\nlines": "two\nlines",
    'say "hi", then': 'say "hi", then',
}
NAME_COLUMN = {"canvas": 0, "moodle": 0, "blackboard": 2, "csv": 0}


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "blackboard", "csv"])
def test_hostile_names_are_exported_as_text(tmp_path, fmt):
    graded = grading_folder(tmp_path / "graded", [result(n, "cells", [2, 3]) for n in HOSTILE])
    done = lms_export.export(graded, fmt)
    body = rows(done.path)[2 if fmt == "canvas" else 1 :]
    assert sorted(row[NAME_COLUMN[fmt]] for row in body) == sorted(HOSTILE.values())
    assert all(row[-1 if fmt != "csv" else -2] == "5" for row in body)


# --- the command line ---------------------------------------------------------------------------


def test_the_command_reports_each_problem_on_one_line_and_a_count(graded, capsys):
    code = main(["export", str(graded), "--format", "canvas", "--roster", str(ROSTER)])
    out, err = capsys.readouterr()
    assert code == 0
    assert err.splitlines() == [
        "python -m autograder export: 'bob': no grade for cells (grader_error): left empty",
        "python -m autograder export: 'cy': in the roster, nothing graded: left out of the file",
        "python -m autograder export: 'zed': graded, not in the roster: left out of the file",
        f"3 problem(s), listed with their grades in {graded / 'export-canvas.problems.csv'}",
    ]
    assert out.splitlines() == [
        f"wrote {graded / 'export-canvas.csv'}: 4 student(s), 2 assignment(s), canvas format"
    ]


def test_without_a_roster_the_command_says_what_stands_for_the_identifier(graded, capsys):
    out_file = graded / "bb.csv"
    main(["export", str(graded), "--format", "blackboard", "--out", str(out_file)])
    out = capsys.readouterr().out
    assert "no --roster: each student's Username is their folder name" in out
    assert out_file.is_file()


def test_help_says_what_each_format_is_for(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for fmt, spec in lms_export.FORMATS.items():
        assert f"{fmt}: {spec.purpose}" in text


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


MISTAKES = {  # case: (arguments after `export`, files to make, the argument named)
    "graded missing": (["{t}/nowhere", "--format", "csv"], "GRADED"),
    "graded without records": (["{t}/empty", "--format", "csv"], "GRADED"),
    "graded without gradebook": (["{t}/nodb", "--format", "csv"], "GRADED"),
    "format missing": (["{g}"], "--format"),
    "format unknown": (["{g}", "--format", "excel"], "--format"),
    "roster missing": (["{g}", "--format", "csv", "--roster", "{t}/none.csv"], "--roster"),
    "roster not utf-8": (["{g}", "--format", "csv", "--roster", "{t}/latin1.csv"], "--roster"),
    "roster a workbook": (["{g}", "--format", "csv", "--roster", "{t}/book.xlsx"], "--roster"),
    "roster not csv": (["{g}", "--format", "csv", "--roster", "{t}/quote.csv"], "--roster"),
    "roster empty": (["{g}", "--format", "csv", "--roster", "{t}/empty.csv"], "--roster"),
    "roster without student": (["{g}", "--format", "csv", "--roster", "{t}/nostu.csv"], "--roster"),
    "roster without username": (
        ["{g}", "--format", "moodle", "--roster", "{t}/nouser.csv"],
        "--roster",
    ),
    "roster row without username": (
        ["{g}", "--format", "blackboard", "--roster", "{t}/blank.csv"],
        "--roster",
    ),
    "roster row without any canvas id": (
        ["{g}", "--format", "canvas", "--roster", "{t}/noid.csv"],
        "--roster",
    ),
    "roster student twice": (["{g}", "--format", "csv", "--roster", "{t}/twice.csv"], "--roster"),
    "roster username twice": (
        ["{g}", "--format", "moodle", "--roster", "{t}/sameuser.csv"],
        "--roster",
    ),
    "roster column twice": (["{g}", "--format", "csv", "--roster", "{t}/twocol.csv"], "--roster"),
    "roster ragged row": (["{g}", "--format", "csv", "--roster", "{t}/ragged.csv"], "--roster"),
    "out a folder": (["{g}", "--format", "csv", "--out", "{t}"], "--out"),
    "out in no folder": (["{g}", "--format", "csv", "--out", "{t}/no/x.csv"], "--out"),
    "out over grades.csv": (["{g}", "--format", "csv", "--out", "{g}/grades.csv"], "--out"),
    "out over the roster": (
        ["{g}", "--format", "csv", "--roster", "{t}/ok.csv", "--out", "{t}/ok.csv"],
        "--out",
    ),
    "assignment unknown": (["{g}", "--format", "csv", "--assignment", "rnn"], "assignment"),
    "assignment not graded": (["{g}", "--format", "csv", "--assignment", "attention"], "--assign"),
    "column id malformed": (["{g}", "--format", "canvas", "--column-id", "cells"], "--column-id"),
    "column id not a number": (
        ["{g}", "--format", "canvas", "--column-id", "cells=x1"],
        "--column-id",
    ),
    "column id for moodle": (
        ["{g}", "--format", "moodle", "--column-id", "cells=1"],
        "--column-id",
    ),
    "column id of no export": (
        ["{g}", "--format", "canvas", "--assignment", "bptt", "--column-id", "cells=1"],
        "--column-id",
    ),
    "db not a url": (["{g}", "--format", "csv", "--db", "grades"], "--db"),
    "db no sqlite file": (["{g}", "--format", "csv", "--db", "sqlite:///{t}/no.db"], "--db"),
    "record unreadable": (["{t}/badrecord", "--format", "csv"], "GRADED"),
}
ROSTERS = {
    "latin1.csv": "student,username\nM\u00fcller,m\n".encode("latin-1"),
    "book.xlsx": b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xb5U0#\xf4\x00\x00\x00",
    "quote.csv": 'student,username\n"ann,ann\n',
    "empty.csv": "",
    "nostu.csv": "name,username\nann,ann\n",
    "nouser.csv": "student,login\nann,ann\n",
    "blank.csv": "student,username\nann,ann\nbob,\n",
    "noid.csv": "student,id,sis_login_id\nann,101,\nbob,,\n",
    "twice.csv": "student\nann\nbob\nann\n",
    "sameuser.csv": "student,username\nann,ann\nbob,ann\n",
    "twocol.csv": "student,student\nann,ann\n",
    "ragged.csv": "student,username\nann,ann,extra\n",
    "ok.csv": "student\nann\n",
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_a_mistake_is_one_line_naming_the_argument(graded, tmp_path, capsys, case):
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty" / "gradebook.db", b"")
    shutil.copytree(graded, tmp_path / "nodb")
    (tmp_path / "nodb" / "gradebook.db").unlink()
    shutil.copytree(graded, tmp_path / "badrecord")
    write(tmp_path / "badrecord" / "records" / "ann" / "cells.json", "{not json")
    for name, text in ROSTERS.items():
        write(tmp_path / name, text)
    before = sorted(p.name for p in graded.iterdir())
    args, argument = MISTAKES[case]
    args = [a.replace("{t}", str(tmp_path)).replace("{g}", str(graded)) for a in args]
    with pytest.raises(SystemExit) as stopped:
        main(["export", *args])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("python -m autograder") and argument in last, err
    assert sorted(p.name for p in graded.iterdir()) == before  # nothing written
