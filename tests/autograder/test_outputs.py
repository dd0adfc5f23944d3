"""What a grading run hands out (``autograder/pipeline/outputs.py``), without nbgrader's exporters.

Results are built by hand; the gradebook is a SQLite file in ``tmp_path`` made as the grader
makes it (``create_gradebook``) and filled as ``nbgrader autograde`` fills it. Feedback pages
are checked on the pieces the pipeline writes itself (summary, lateness, the page of what was
expected) and on ``offline_page`` over the scripts nbconvert's templates put in a page.
"""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import jinja2
import nbformat
import pytest
from jupyter_core.paths import jupyter_path
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.api import Gradebook

from autograder.pipeline import late, outputs
from autograder.pipeline.nbgrader_course import create_gradebook
from autograder.pipeline.results import CellResult, Result

pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own
STAMP = "2026-10-06 09:59:00 UTC"  # 12 hours after the due date below
DUE = datetime(2026, 10, 5, 21, 59)


def write_notebook(path: Path, notebook: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


def result(**fields) -> Result:
    """Ada's result for ``cells``: one test passed (2 points), one failed (3 points)."""
    cells = [
        CellResult("step_values", 2, 2, True, 2),
        CellResult("step_grads", 3, 3, False, 0, "step: <dx> is wrong"),
    ]
    return Result(**{"student": "ada", "assignment": "cells", "cells": cells, **fields})


LATE = {
    "seconds_late": 30 * 3600,
    "duedate": "2026-10-05T21:59:00+00:00",
    "late_penalty": 0.5,
    "late_policy": "10% a day",
}


# --- summary and lateness -----------------------------------------------------------------------

SUMMARIES = {  # case: (result, what the summary holds)
    "on time": (
        result(),
        ["## Grading summary: 2 / 5", "Status: **ok**", "passed", "step: &lt;dx&gt; is wrong"],
    ),
    "late": (result(**LATE), ["## Grading summary: 1.5 / 5", "Submitted 30.0 hours after"]),
    "a penalty past the score": (result(**{**LATE, "late_penalty": 9}), ["summary: 0 / 5"]),
    "statuses": (
        result(statuses=["renamed_notebook: <b>.ipynb", "output_truncated"]),
        ["Status: **renamed_notebook: &lt;b&gt;.ipynb;output_truncated**"],
    ),
    "no tests": (result(cells=[]), ["## Grading summary: 0 / 0", "<tbody></tbody>"]),
}


@pytest.mark.parametrize("case", SUMMARIES)
def test_the_summary_opens_with_the_score_and_lists_every_test(case):
    graded, expected = SUMMARIES[case]
    summary = outputs.summary_html(graded)
    assert all(part in summary for part in expected), summary
    assert summary.count("<tr>") == 1 + len(graded.cells)
    assert "<dx>" not in summary


LATENESS = {  # case: (lateness, the sentence)
    "on time": ({}, ""),
    "hours": (
        LATE,
        "Submitted 30.0 hours after the due date (2026-10-05 21:59:00 UTC). "
        "Late penalty: <b>&minus;0.5</b> points (10% a day).\n\n",
    ),
    "days": ({**LATE, "seconds_late": 72 * 3600}, "Submitted 3.0 days after"),
    "just under two days": ({**LATE, "seconds_late": 47.9 * 3600}, "Submitted 47.9 hours after"),
    "no penalty": ({**LATE, "late_penalty": 0.0}, "UTC). No points were taken off."),
    "no due date": ({**LATE, "duedate": None}, "after the due date (). "),
    "a policy in HTML": ({**LATE, "late_policy": "<i>10%</i>"}, "(&lt;i&gt;10%&lt;/i&gt;)."),
}


@pytest.mark.parametrize("case", LATENESS)
def test_lateness_names_the_delay_the_due_date_and_the_penalty(case):
    lateness, sentence = LATENESS[case]
    text = outputs.lateness_html(result(**lateness))
    assert sentence in text and bool(text) == bool(sentence)


# --- offline_page -----------------------------------------------------------------------------


def nbconvert_mathjax() -> str:
    """What nbgrader's feedback template puts in a page's head: nbconvert's ``mathjax()``."""
    folders = [Path(p) for p in jupyter_path("nbconvert", "templates", "base")]
    loader = jinja2.FileSystemLoader([str(p) for p in folders if (p / "mathjax.html.j2").is_file()])
    macro = '{% from "mathjax.html.j2" import mathjax %}{{ mathjax() }}'
    return jinja2.Environment(loader=loader).from_string(macro).render()


def page(head: str = "", body: str = "<p>$x_t$</p>") -> str:
    return f"<!DOCTYPE html><html><head><title>cells</title>{head}</head><body>{body}</body></html>"


LOCAL_MATHJAX = '<script src="../mathjax/tex-chtml.js" defer></script>'


def test_nbconverts_mathjax_is_replaced_by_the_local_copy():
    head = nbconvert_mathjax()
    assert "cdnjs.cloudflare.com" in head and "x-mathjax-config" in head  # what the page had
    offline = outputs.offline_page(page(head))
    assert "://" not in offline and "x-mathjax-config" not in offline
    assert offline.count(LOCAL_MATHJAX) == 1
    assert offline.index(LOCAL_MATHJAX) < offline.index("</head>")
    assert "<p>$x_t$</p>" in offline


REMOTE = [
    pytest.param('<script src="https://cdn.example/a.js"></script>', id="https"),
    pytest.param('<script type="text/javascript" src="//cdn.example/a.js"> </script>', id="//"),
    pytest.param('<SCRIPT SRC="http://cdn.example/a.js"></SCRIPT>', id="capitals"),
    pytest.param("<script src='https://cdn.example/a.js'></script>", id="single quotes"),
    pytest.param("<script src=https://cdn.example/a.js></script>", id="no quotes"),
    pytest.param('<script src="https://cdn.example/a.js">go()</script>', id="content"),
]


@pytest.mark.parametrize("script", REMOTE)
def test_no_script_from_another_host_survives(script):
    assert "cdn.example" not in outputs.offline_page(page(body=f"<p>plot</p>{script}"))


@pytest.mark.parametrize(
    "script",
    ['<script src="custom.js"></script>', "<script>var x = 1;</script>"],
    ids=["local file", "inline"],
)
def test_local_and_inline_scripts_are_kept(script):
    assert script in outputs.offline_page(page(head=script))


# --- problem_page -----------------------------------------------------------------------------


def test_the_problem_page_says_what_was_expected():
    ungraded = result(statuses=["several_notebooks: a.ipynb, b.ipynb"], problem="Keep <one>.")
    shown = outputs.problem_page(ungraded)
    for part in [
        "<title>cells: ada</title>",
        "Score 0 / 5.",
        "Status: <b>several_notebooks: a.ipynb, b.ipynb</b>",
        "<p>Keep &lt;one&gt;.</p>",
        "<code>cells/cells.ipynb</code>",
        "<code>step_values</code></td><td",
        ">0 / 2</td>",
        ">0 / 3</td>",
    ]:
        assert part in shown, part
    assert "<script" not in shown and "<one>" not in shown


def test_the_problem_page_has_a_message_without_a_problem():
    assert "<p>The notebook could not be graded.</p>" in outputs.problem_page(result())


class FakeNbgrader:
    """nbgrader's API as feedback_page uses it: it writes ``page`` as the feedback, or nothing."""

    def __init__(self, course: Path, page: str | None) -> None:
        self.course, self.page, self.calls = course, page, 0

    def generate_feedback(self, assignment: str, student: str, force: bool) -> None:
        self.calls += 1
        if self.page is not None:
            target = self.course / "feedback" / student / assignment / f"{assignment}.html"
            target.parent.mkdir(parents=True)
            target.write_text(self.page)


FEEDBACK = {  # case: (autograded notebook there, nbgrader's page, problem, which page, calls)
    "graded": (True, page(nbconvert_mathjax()), "", "offline", 1),
    "nothing autograded": (False, page(), "", "problem", 0),
    "not gradable": (True, page(), "No folder cells/.", "problem", 0),
    "nbgrader made no page": (True, None, "", "problem", 1),
}


@pytest.mark.parametrize("case", FEEDBACK)
def test_the_feedback_is_nbgraders_page_offline_or_the_problem_page(tmp_path, case):
    autograded, produced, problem, kind, calls = FEEDBACK[case]
    if autograded:
        write_notebook(tmp_path / "autograded/ada/cells/cells.ipynb", new_notebook())
    api, graded = FakeNbgrader(tmp_path, produced), result(problem=problem)
    shown = outputs.feedback_page(api, tmp_path, graded)
    expected = outputs.offline_page(produced) if kind == "offline" else outputs.problem_page(graded)
    assert (shown, api.calls) == (expected, calls)


def test_a_student_graded_under_another_id_is_named_on_every_page(tmp_path):
    """The task grades under one fixed id; nbgrader's page and the problem page come from that
    id's files, and the problem page names the student."""
    graded = result(student="Lee, Ann [2]", statuses=["kernel_died", "disk_limit"])
    api = FakeNbgrader(tmp_path, page())
    problem = outputs.feedback_page(api, tmp_path, graded, student_id="student")
    assert "cells: Lee, Ann [2]" in problem and "student" not in problem.split("<h1>")[1][:40]
    assert "your code wrote more than 512 MiB" in problem  # the cap reached, named
    write_notebook(tmp_path / "autograded/student/cells/cells.ipynb", new_notebook())
    shown = outputs.feedback_page(api, tmp_path, graded, student_id="student")
    assert (shown, api.calls) == (outputs.offline_page(page()), 1)


# --- the autograded notebook ------------------------------------------------------------------


def autograded(tmp_path: Path) -> Path:
    """An executed notebook: a failed graded test (hidden traceback) and a failed own cell."""
    failure = new_output("error", ename="CheckFailed", evalue="dx is wrong", traceback=["hidden"])
    test = new_code_cell("check()", outputs=[failure])
    test.metadata["nbgrader"] = {"grade_id": "step_grads", "grade": True, "points": 3}
    mistake = new_output("error", ename="NameError", evalue="mine", traceback=["own traceback"])
    own = new_code_cell("mine()", outputs=[mistake])
    notebook = new_notebook(cells=[new_markdown_cell("# Step"), test, own])
    return write_notebook(tmp_path / "autograded/ada/cells/cells.ipynb", notebook)


def test_the_autograded_notebook_opens_with_the_summary_and_hides_grading_tracebacks(tmp_path):
    path = autograded(tmp_path)
    outputs.annotate_autograded(path, result(), {"step_values", "step_grads"})
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].metadata[outputs.SUMMARY_KEY] and cells[0].source == outputs.summary_html(
        result()
    )
    assert cells[2].outputs[0].traceback == ["CheckFailed: dx is wrong"]
    assert cells[3].outputs[0].traceback == ["own traceback"]  # the student's own cell


def test_a_new_late_penalty_rewrites_the_summary_only(tmp_path):
    path = autograded(tmp_path)
    outputs.annotate_autograded(path, result(), {"step_grads"})
    outputs.refresh_summary(tmp_path, result(**LATE))
    cells = nbformat.read(path, as_version=4).cells
    assert len(cells) == 4 and cells[0].source == outputs.summary_html(result(**LATE))


def test_a_notebook_without_a_summary_is_not_rewritten(tmp_path):
    path = autograded(tmp_path)
    before = path.read_text()
    outputs.refresh_summary(tmp_path, result(**LATE))
    outputs.refresh_summary(tmp_path, result(student="bob"))  # no notebook at all
    assert path.read_text() == before


# --- grades.csv -------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_grades_csv_has_one_row_per_result_with_the_gradebooks_scores(tmp_path):
    results = [
        result(student="bob", timestamp=STAMP, isolated=False, **LATE),
        result(statuses=["renamed_notebook: x.ipynb"]),
        result(assignment="bptt", cells=[], statuses=["not_submitted"]),
    ]
    scores = {("bob", "cells"): (4.0, 1.5), ("ada", "cells"): (2.0, 3.0)}
    outputs.write_csv(tmp_path / "grades.csv", results, scores)
    assert (tmp_path / "grades.csv").read_text().splitlines()[0] == ",".join(outputs.CSV_COLUMNS)
    rows = [list(row.values()) for row in read_csv(tmp_path / "grades.csv")]
    assert rows == [
        ["ada", "bptt", "0", "0", "not_submitted", "", "bubblewrap", "", "", "0", "0"],
        ["ada", "cells", "0", "5", "renamed_notebook: x.ipynb", "step_grads", "bubblewrap"]
        + ["", "", "2", "3"],
        ["bob", "cells", "2.5", "5", "ok", "step_grads", "none", STAMP, LATE["duedate"]]
        + ["4", "1.5"],
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]  # no temporary file left


def test_without_the_gradebook_the_results_own_scores_are_written(tmp_path):
    outputs.write_csv(tmp_path / "grades.csv", [result(**LATE)], {})
    row = read_csv(tmp_path / "grades.csv")[0]
    assert (row["score"], row["raw_score"], row["late_submission_penalty"]) == ("1.5", "2", "0.5")


# --- the closing table ------------------------------------------------------------------------


def test_the_closing_table_counts_rows_by_status(tmp_path):
    results = [
        result(),
        result(student="bob", statuses=["renamed_notebook: a.ipynb", "output_truncated"]),
        result(student="cy", statuses=["renamed_notebook: b.ipynb"], **LATE),
        result(student="di", statuses=["not_submitted"], **{**LATE, "late_penalty": 2}),
    ]
    table = outputs.closing_table(
        results, 3, 1, 4, 61.4, tmp_path, tmp_path / "course.toml", flagged=7
    )
    assert table.splitlines() == [
        "graded 3 notebook(s) in 61 s; 4 unchanged since the last run; 1 new row(s) with "
        "nothing submitted",
        f"{'status':<24} rows",
        f"{'not_submitted':<24} 1",
        f"{'ok':<24} 1",
        f"{'output_truncated':<24} 1",
        f"{'renamed_notebook':<24} 2",
        "late: 2 row(s), 2.5 point(s) taken off in all",
        f"grades:   {tmp_path / 'grades.csv'}",
        f"feedback: {tmp_path / 'feedback'}",
        f"report:   {tmp_path / 'report.html'}",
        f"similar:  {tmp_path / 'similarity.html'} (7 flagged pair(s))",
        f"to an LMS: python -m autograder export {tmp_path} --format canvas (or moodle, "
        "blackboard, csv; --roster FILE)",
        f"due dates and late penalty: {tmp_path / 'course.toml'}",
    ]


def test_the_closing_table_leaves_out_lateness_and_configuration_it_has_not(tmp_path):
    table = outputs.closing_table([result()], 1, 0, 0, 2.0, tmp_path)
    assert "late:" not in table and "due dates" not in table and "similar:" not in table


# --- the gradebook ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory) -> Path:
    """A gradebook holding ``cells`` and its two graded cells, as nbgrader autograde left it."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    create_gradebook(f"sqlite:///{path}")
    with Gradebook(f"sqlite:///{path}") as gradebook:
        gradebook.update_or_create_assignment("cells", duedate=DUE)
        gradebook.update_or_create_notebook("cells", "cells")
        for grade_id, points in [("step_values", 2), ("step_grads", 3)]:
            gradebook.update_or_create_grade_cell(
                grade_id, "cells", "cells", max_score=points, cell_type="code"
            )
    return path


@pytest.fixture
def db_url(empty_gradebook, tmp_path) -> str:
    """A fresh copy of the gradebook for one test."""
    shutil.copy(empty_gradebook, tmp_path / "gradebook.db")
    return f"sqlite:///{tmp_path / 'gradebook.db'}"


PER_DAY = late.Policy(plugin=late.PercentPerDay(percent_per_day=10), source="")


def test_a_recorded_result_is_in_the_gradebook(db_url):
    outputs.record(db_url, result(), late.Policy())
    assert outputs.gradebook_scores(db_url, ["cells", "bptt"]) == {("ada", "cells"): (2.0, 0.0)}
    with Gradebook(db_url) as gradebook:
        assert gradebook.find_submission("cells", "ada").timestamp is None


def test_a_late_result_gets_its_penalty_in_the_gradebook_and_in_the_result(db_url):
    graded = result(timestamp=STAMP)
    outputs.record(db_url, graded, PER_DAY)
    assert outputs.gradebook_scores(db_url, ["cells"]) == {("ada", "cells"): (2.0, 0.2)}
    assert (graded.seconds_late, graded.late_penalty) == (12 * 3600, 0.2)
    with Gradebook(db_url) as gradebook:
        assert gradebook.find_submission("cells", "ada").timestamp == datetime(2026, 10, 6, 9, 59)


def test_grading_again_replaces_every_score_manual_ones_too(db_url):
    outputs.record(db_url, result(), late.Policy())
    with Gradebook(db_url) as gradebook:
        gradebook.find_grade("step_grads", "cells", "cells", "ada").manual_score = 3
        gradebook.db.commit()
    regraded = result(cells=[CellResult("step_values", 2, 2, True, 1), *result().cells[1:]])
    outputs.record(db_url, regraded, late.Policy())
    assert outputs.gradebook_scores(db_url, ["cells"]) == {("ada", "cells"): (1.0, 0.0)}


def test_nothing_submitted_is_not_recorded(db_url):
    outputs.record(db_url, result(statuses=["not_submitted"]), late.Policy())
    assert outputs.gradebook_scores(db_url, ["cells"]) == {}


SPREADSHEET = {  # case: (text in a row, as grades.csv holds it)
    "formula": ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
    "plus": ("+1+1", "'+1+1"),
    "minus": ("-1+1", "'-1+1"),
    "at": ("@SUM(1)", "'@SUM(1)"),
    "tab": ("\t=1", "'\t=1"),
    "carriage return": ("\r=1", "'\r=1"),
    "equals inside": ("a=1+2", "a=1+2"),
    "a name with a comma": ("Müller, Anna (amueller)", "Müller, Anna (amueller)"),
    "empty": ("", ""),
}


@pytest.mark.parametrize("case", SPREADSHEET)
def test_a_cell_that_a_spreadsheet_would_compute_is_written_as_text(case):
    text, written = SPREADSHEET[case]
    assert outputs.spreadsheet_text(text) == written
