"""Due dates, extensions and late penalties (``autograder/pipeline/late.py``).

Fast: the course configuration is read strictly (each mistake one line naming the setting),
due dates in any time zone become nbgrader's naive UTC, and the per-day plugin computes the
penalties worked out by hand below. Slow: a class graded with a configuration, where an
on-time, a late, an extended and an untimed student get the rows, the feedback and the
``nbgrader export`` figures the policy implies; a changed policy changes grades without
grading again; a run without ``--config`` keeps the last policy, an empty one removes it.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest
from support import ROOT, autograder_cli, nbgrader, read_grades

from autograder import assignments
from autograder.pipeline.late import PercentPerDay, PolicyError, load_policy, parse_due

DAY = 86400.0

CONFIG = """\
[due]
cells = "2026-10-05 23:59:00 Europe/Berlin"

[extensions.cells]
extended = 48

[late_penalty]
plugin = "autograder.pipeline.late.PercentPerDay"
percent_per_day = {percent}
max_percent = 50
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-10-05 23:59:00 UTC", datetime(2026, 10, 5, 23, 59)),
        ("2026-10-05 23:59:00 Europe/Berlin", datetime(2026, 10, 5, 21, 59)),  # CEST, +2
        ("2026-11-02 23:59:00 Europe/Berlin", datetime(2026, 11, 2, 22, 59)),  # CET, +1
        ("2026-10-05 23:59:00 -0500", datetime(2026, 10, 6, 4, 59)),
        ("2026-10-05T23:59:00+02:00", datetime(2026, 10, 5, 21, 59)),
    ],
)
def test_a_due_date_in_any_time_zone_is_stored_as_utc(text, expected):
    assert parse_due(text, "due.cells") == expected


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "course.toml"
    path.write_text(text)
    return path


MISTAKES = {
    "no time zone": ('[due]\ncells = "2026-10-05 23:59"', "due.cells", "time zone"),
    "a day only": ("[due]\ncells = 2026-10-05", "due.cells", "time of day"),
    "no date": ('[due]\ncells = "next friday"', "due.cells", "not a date"),
    "unknown zone": ('[due]\ncells = "2026-10-05 23:59 Mars/Olympus"', "due.cells", "Mars"),
    "unknown assignment": (
        '[due]\nrnn = "2026-10-05 23:59 UTC"',
        "due.rnn",
        "attention, bptt, cells",
    ),
    "negative extension": ("[extensions.cells]\nann = -3", "extensions.cells.ann", ">= 0"),
    "extension as text": ('[extensions.cells]\nann = "2 days"', "extensions.cells.ann", "hours"),
    "plugin missing": ('[late_penalty]\nplugin = "nowhere.Plugin"', "late_penalty.plugin", ""),
    "not a plugin": ('[late_penalty]\nplugin = "os.path"', "late_penalty.plugin", "nbgrader"),
    "unknown option": (
        '[late_penalty]\nplugin = "autograder.pipeline.late.PercentPerDay"\npercent = 5',
        "late_penalty.percent",
        "percent_per_day",
    ),
    "option out of range": (
        '[late_penalty]\nplugin = "autograder.pipeline.late.PercentPerDay"\npercent_per_day = 150',
        "late_penalty",
        "100",
    ),
    "stock method unknown": ('[late_penalty]\npenalty_method = "half"', "late_penalty", "zero"),
    "unknown section": ("[deadlines]\ncells = 1", "deadlines", "unknown section"),
    "not TOML": ("[due\n", "course.toml", "TOML"),
}


@pytest.mark.parametrize("case", sorted(MISTAKES))
def test_a_configuration_mistake_is_one_line_naming_the_setting(tmp_path, case):
    text, setting, hint = MISTAKES[case]
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message and setting in message and hint in message, message


def test_the_example_configuration_is_valid():
    policy = load_policy(ROOT / "autograder" / "course.example.toml")
    assert set(policy.due) == set(assignments.names())
    assert isinstance(policy.plugin, PercentPerDay)


@pytest.mark.parametrize(
    ("seconds_late", "percent"),
    [
        (0.0, 0),
        (10 * 60, 0),  # within the 15 minutes of grace
        (16 * 60, 10),  # one started day after the grace
        (DAY + 15 * 60, 10),  # exactly one day after the grace
        (DAY + 16 * 60, 20),
        (30 * 3600, 20),
        (10 * DAY, 40),  # capped at max_percent
    ],
)
def test_percent_per_day_counts_started_days_after_the_grace(seconds_late, percent):
    plugin = PercentPerDay(percent_per_day=10, max_percent=40, grace_minutes=15)
    assert plugin.late_submission_penalty("ann", 30.0, seconds_late) == pytest.approx(
        30.0 * percent / 100
    )


# --- a class graded with a policy -------------------------------------------------------------

LATE = "Lee O'Neil [2]"  # brackets: nbgrader would read them as a glob pattern
STUDENTS = {  # student: (timestamp.txt, None for no file; penalty at 10 % a day, of 34 points)
    "on-time": ("2026-10-05 20:00:00 UTC", 0.0),
    LATE: ("2026-10-07 03:59:00 UTC", 6.8),  # 30 h after 21:59 UTC: 2 started days, 20 %
    "extended": ("2026-10-07 03:59:00 UTC", 0.0),  # 48 h extension
    "untimed": (None, 0.0),
}


def grade(sub: Path, out: Path, *options: str):
    return autograder_cli(
        "grade", str(sub), "--out", str(out), "--assignment", "cells", "--workers", "2", *options
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory, cells_notebooks):
    root = tmp_path_factory.mktemp("late")
    for student, (stamp, _) in STUDENTS.items():
        folder = root / "submitted" / student / "cells"
        folder.mkdir(parents=True)
        (folder / "cells.ipynb").write_text(json.dumps(cells_notebooks[1]))
        if stamp:
            (folder / "timestamp.txt").write_text(stamp)
    config = write(root, CONFIG.format(percent=10))
    result = grade(root / "submitted", root / "out", "--config", str(config))
    return root, result


@pytest.mark.slow
def test_rows_follow_the_due_date_the_extension_and_the_penalty(graded):
    root, result = graded
    rows = read_grades(root / "out")
    for student, (_, penalty) in STUDENTS.items():
        row = rows[(student, "cells")]
        assert float(row["raw_score"]) == 34, row
        assert float(row["late_submission_penalty"]) == pytest.approx(penalty), row
        assert float(row["score"]) == pytest.approx(34 - penalty), row
    assert rows[(LATE, "cells")]["duedate"] == "2026-10-05T21:59:00+00:00"
    assert rows[("extended", "cells")]["duedate"] == "2026-10-07T21:59:00+00:00"
    assert "late: 1 row(s), 6.8 point(s) taken off" in result.stdout


@pytest.mark.slow
def test_the_feedback_names_the_delay_and_the_penalty(graded):
    root, _ = graded
    page = (root / "out" / "feedback" / LATE / "cells.html").read_text()
    assert "Grading summary: 27.2 / 34" in page
    assert "Submitted 30.0 hours after the due date (2026-10-05 21:59:00 UTC)" in page
    assert "10% of the score for each started day late" in page
    assert "Late submission penalty (Score: -6.8)" in page  # nbgrader's own line
    on_time = (root / "out" / "feedback" / "on-time" / "cells.html").read_text()
    assert "Grading summary: 34 / 34" in on_time and "after the due date" not in on_time


@pytest.mark.slow
def test_nbgrader_export_reads_the_same_penalties(graded):
    root, _ = graded
    course, target = root / "out" / "course", root / "export.csv"
    nbgrader(course, "export", "--to", str(target))
    with target.open(newline="") as handle:
        exported = {row["student_id"]: row for row in csv.DictReader(handle)}
    for student, (stamp, penalty) in STUDENTS.items():
        row = exported[student]
        assert float(row["late_submission_penalty"]) == pytest.approx(penalty), row
        assert float(row["score"]) == pytest.approx(34 - penalty), row
        assert row["duedate"] == "2026-10-05 21:59:00"
        assert bool(row["timestamp"]) == bool(stamp)


@pytest.mark.slow
def test_a_new_policy_changes_grades_without_grading_again(graded):
    root, _ = graded
    out = root / "out"
    config = write(root, CONFIG.format(percent=25))
    again = grade(root / "submitted", out, "--config", str(config))
    assert "graded 0 notebook(s)" in again.stdout
    assert read_grades(out)[(LATE, "cells")]["score"] == "17"  # 50 % of 34
    assert "Grading summary: 17 / 34" in (out / "feedback" / LATE / "cells.html").read_text()
    kept = grade(root / "submitted", out)  # no --config: the last one is kept in OUT
    assert "graded 0 notebook(s)" in kept.stdout
    assert read_grades(out)[(LATE, "cells")]["score"] == "17"
    assert (out / "course.toml").read_text() == config.read_text()
    cleared = grade(root / "submitted", out, "--config", str(write(root, "")))
    assert "graded 0 notebook(s)" in cleared.stdout
    late = read_grades(out)[(LATE, "cells")]
    assert (late["score"], late["duedate"], late["late_submission_penalty"]) == ("34", "", "0")
