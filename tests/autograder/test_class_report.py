"""The class report (autograder/pipeline/class_report.py) on a class of five, every number
written by hand from the records below. The report of the example class, opened in Chromium,
is checked with ``make grade`` (tests/autograder/test_grading.py)."""

from __future__ import annotations

import json
import re

import pytest

from autograder.pipeline import class_report
from autograder.pipeline.results import CellResult, Result

EVIL = "<img src=x onerror=alert(1)>"


def cells(values: float, grads: float, message: str = "", verified: bool | None = None):
    """Two tests of ``cells``: rnn_step_forward_tanh_values (2 points) and
    rnn_step_backward_dwh (2 points)."""
    return [
        CellResult("rnn_step_forward_tanh_values", 2, values, values == 2, values,
                   "" if values == 2 else "rnn_step_forward: h_next is off (N=2): missing bias"),
        CellResult("rnn_step_backward_dwh", 2, 2 if verified is False else grads,
                   grads == 2, grads, message),
    ]  # fmt: skip


CLASS = [
    Result("ann", "cells", cells=cells(2, 2)),
    Result(
        "bob",
        "cells",
        cells=cells(
            2,
            0,
            "rnn_step_backward: dWh is off (max abs error 1.2e+00; N=3): dWh is "
            "transposed: dWh = h_prev.T @ da",
        ),
    ),  # fmt: skip
    Result(
        EVIL,
        "cells",
        cells=cells(2, 0, "rnn_step_backward: dWh is off (N=4, T=[1, 2]): dWh is transposed"),
        seconds_late=30 * 3600,
        late_penalty=0.5,
        duedate="2026-10-05T21:59:00+00:00",
    ),
    Result(
        "cy",
        "cells",
        statuses=["verification_failed"],
        cells=cells(0, 0, "rnn_step_backward: dWh (5.0) differs: something else", verified=False),
    ),
    Result(
        "ed",
        "cells",
        statuses=["invalid_notebook: not JSON"],
        problem="The file is not a notebook.",
        cells=cells(0, 0, "not graded"),
    ),
    Result("di", "cells", statuses=["not_submitted"], cells=cells(0, 0, "not graded")),
]


@pytest.fixture(scope="module")
def summary():
    return class_report.summarise(CLASS)["cells"]


def test_scores_are_counted_over_the_submitted_rows_after_late_penalties(summary):
    assert (summary["rows"], summary["submitted"], summary["max_score"]) == (6, 5, 4)
    assert summary["scores"] == [0, 0, 1.5, 2, 4]  # EVIL: 2 - 0.5
    assert (summary["mean"], summary["median"]) == (1.5, 1.5)
    assert (summary["full_marks"], summary["zero"]) == (1, 2)


def test_pass_rates_are_per_test_in_the_notebook_and_after_verification(summary):
    values, dwh = (
        summary["tests"]["rnn_step_forward_tanh_values"],
        summary["tests"]["rnn_step_backward_dwh"],
    )
    assert (values["notebook_rate"], values["verified_rate"]) == (0.6, 0.6)
    # cy passed dWh in the notebook and failed its verification.
    assert (dwh["notebook"], dwh["verified"]) == (2, 1)
    assert (dwh["notebook_rate"], dwh["verified_rate"]) == (0.4, 0.2)


def test_causes_are_catalogued_phrases_ranked_by_students(summary):
    causes = [(c["cause"], c["students"], c["tests"]) for c in summary["causes"]]
    assert causes[0] == ("transposed", [EVIL, "bob"], ["rnn_step_backward_dwh"])
    assert summary["causes"][0]["catalogued"] == [
        "rnn_step_backward returns dWh transposed (da^T h_prev)"
    ]
    # "missing bias" names the catalogued "bias"; cy's other message names nothing catalogued
    # and is kept as it reads without its numbers. Nothing of di's or ed's ran: no cause.
    rest = {cause: students for cause, students, _ in causes[1:]}
    assert rest == {"bias": ["cy"], "rnn_step_backward: dWh differs: something else": ["cy"]}


def test_a_message_naming_two_causes_counts_for_both_and_a_phrase_inside_another_once():
    phrases = {"transposed": ["a"], "not transposed": ["b"], "bias": ["c"]}
    assert class_report.causes_of("dWh: not transposed, and no bias", phrases) == [
        "not transposed",
        "bias",
    ]
    assert class_report.other_cause("x is off (N=3, T=4): got [1 2 3], 1.5e-03 too far") == (
        "x is off : got [...], # too far"
    )


def test_statuses_and_lateness_are_counted(summary):
    assert summary["statuses"] == {
        "invalid_notebook": 1,
        "not_submitted": 1,
        "ok": 3,
        "verification_failed": 1,
    }
    assert summary["late"] == [{"student": EVIL, "hours_late": 30, "penalty": 0.5}]
    assert summary["points_taken_off"] == 0.5


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("graded")
    path = class_report.write_report(out, CLASS, {"similarity report": "similarity.html"})
    return out, path.read_text()


def test_the_page_escapes_names_and_links_each_student_s_feedback(page):
    _, text = page
    assert EVIL not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text
    assert 'href="feedback/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/cells.html"' in text
    assert 'href="feedback/bob/cells.html"' in text and 'href="similarity.html"' in text


def test_the_page_is_offline_and_every_figure_has_alt_text(page):
    _, text = page
    assert "<script" not in text and "http://" not in text and "https://" not in text
    images = re.findall(r'<img src="data:image/png;base64,[^"]+" alt="([^"]+)">', text)
    assert images == [
        "Histogram of the final scores of cells: 5 submissions out of 4 points, median 1.5, "
        "1 at full marks and 2 at zero.",
        "Bar chart of the pass rate of each of the 2 tests of cells; the lowest is "
        "rnn_step_backward_dwh at 20 %.",
    ]


def test_the_json_holds_the_same_numbers(page, summary):
    out, _ = page
    assert json.loads((out / "report.json").read_text()) == {
        "assignments": {"cells": json.loads(json.dumps(summary))}
    }


def test_an_assignment_nobody_submitted_says_so(tmp_path):
    nobody = [Result("di", "cells", statuses=["not_submitted"], cells=cells(0, 0, "not graded"))]
    text = class_report.write_report(tmp_path, nobody).read_text()
    assert "1 row(s), nothing submitted." in text and "<img" not in text
