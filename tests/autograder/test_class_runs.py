"""A class as real courses produce it, graded over several runs.

One class holds, beside correct students, every malformed case we know of (LMS names, letter
case, several notebooks, JSON that is no notebook, empty and binary files, folders named like
notebooks, symbolic links out of the folder, a stray file). Every case gets its row and status,
and the correct students keep full marks. Then the runs: a second run grades nothing, a
changed notebook is graded again alone, ``--regrade`` grades all, grading another assignment or
one student keeps every other row, and an interrupted run, run again, ends with the grades of
an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import ROOT, autograder_cli, read_grades

pytestmark = pytest.mark.slow
FULL = "34"


def grade(submitted: Path, out: Path, *options: str):
    return autograder_cli(
        "grade",
        str(submitted),
        "--out",
        str(out),
        "--assignment",
        "cells",
        "--cell-timeout",
        "10",
        *options,
    )


rows = read_grades


def put(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)


EXPECTED = {
    # student: (status, score); score None: not checked (the notebook decides)
    "correct": ("ok", FULL),
    "lms-name": ("renamed_notebook: cells (1).ipynb", FULL),
    "untitled": ("renamed_notebook: Untitled.ipynb", FULL),
    "upper-case-folder": ("ok", FULL),
    "two-notebooks": ("several_notebooks: cells (1).ipynb, cells.ipynb (graded cells.ipynb)", "0"),
    "two-strangers": ("several_notebooks: a.ipynb, b.ipynb", "0"),
    "json-list": ("invalid_notebook: not a JSON object", "0"),
    "json-string": ("invalid_notebook: not a JSON object", "0"),
    "empty-file": ("invalid_notebook: an empty file", "0"),
    "binary-file": ("invalid_notebook: not UTF-8 text", "0"),
    "nbformat-3": ("invalid_notebook: nbformat 3, expected 4", "0"),
    "no-cells": ("invalid_notebook", "0"),
    "folder-named-notebook": ("missing_notebook", "0"),
    "only-a-text-file": ("missing_notebook", "0"),
    "assignment-is-a-file": ("missing_notebook: cells is not a folder", "0"),
    "empty-student": ("not_submitted", "0"),
    "link-to-instructor": ("symlink_refused: cells.ipynb", "0"),
    "link-to-folder": ("symlink_refused: cells", "0"),
    "with-timestamp": ("ok", FULL),
    "bad-timestamp": ("invalid_timestamp: yesterday-ish", FULL),
    # A folder name in Latin-1 (an archive from another system): not stored, said so.
    "M\\xfcller (not UTF-8)": ("invalid_student_id: the folder name is not valid UTF-8", "0"),
}


@pytest.fixture(scope="module")
def messy(tmp_path_factory, cells_notebooks):
    student, solved = cells_notebooks
    root = tmp_path_factory.mktemp("messy")
    sub = root / "submitted"
    good = json.dumps(solved)
    put(sub / "correct" / "cells" / "cells.ipynb", good)
    put(sub / "lms-name" / "cells" / "cells (1).ipynb", good)
    put(sub / "untitled" / "cells" / "Untitled.ipynb", good)
    put(sub / "upper-case-folder" / "CELLS" / "cells.ipynb", good)
    put(sub / "two-notebooks" / "cells" / "cells.ipynb", json.dumps(student))
    put(sub / "two-notebooks" / "cells" / "cells (1).ipynb", good)
    put(sub / "two-strangers" / "cells" / "a.ipynb", good)
    put(sub / "two-strangers" / "cells" / "b.ipynb", good)
    put(sub / "json-list" / "cells" / "cells.ipynb", "[]")
    put(sub / "json-string" / "cells" / "cells.ipynb", '"hello"')
    put(sub / "empty-file" / "cells" / "cells.ipynb", "")
    put(sub / "binary-file" / "cells" / "cells.ipynb", bytes(range(256)))
    put(sub / "nbformat-3" / "cells" / "cells.ipynb", json.dumps({**solved, "nbformat": 3}))
    put(sub / "no-cells" / "cells" / "cells.ipynb", json.dumps({**solved, "cells": "none"}))
    (sub / "folder-named-notebook" / "cells" / "cells.ipynb").mkdir(parents=True)
    put(sub / "only-a-text-file" / "cells" / "notes.txt", "I did it on paper")
    put(sub / "assignment-is-a-file" / "cells", good)
    (sub / "empty-student").mkdir()
    (sub / "link-to-instructor" / "cells").mkdir(parents=True)
    (sub / "link-to-instructor" / "cells" / "cells.ipynb").symlink_to(
        ROOT / "solutions" / "cells" / "cells.ipynb"
    )
    (sub / "link-to-folder").mkdir()
    (sub / "link-to-folder" / "cells").symlink_to(sub / "correct" / "cells")
    (sub / "linked-student").symlink_to(sub / "correct")
    put(sub / "with-timestamp" / "cells" / "cells.ipynb", good)
    put(sub / "with-timestamp" / "cells" / "timestamp.txt", "2026-11-20 10:00:00.000000 UTC")
    put(sub / "bad-timestamp" / "cells" / "cells.ipynb", good)
    put(sub / "bad-timestamp" / "cells" / "timestamp.txt", "yesterday-ish")
    put(sub / "stray.txt", "not a student")
    put(sub / os.fsdecode(b"M\xfcller") / "cells" / "cells.ipynb", good)
    result = grade(sub, root / "out", "--workers", "2")
    return root, result


def test_every_case_gets_its_row_and_status(messy):
    root, _ = messy
    got = rows(root / "out")
    assert {s for s, _ in got} == set(EXPECTED)  # no row for the link, the stray file
    for student, (status, score) in EXPECTED.items():
        row = got[(student, "cells")]
        statuses = [s.strip() for s in row["status"].split(";")]
        assert status in statuses or any(s.startswith(status + ":") for s in statuses), row
        assert row["score"] == score, row
        assert (root / "out" / "feedback" / student / "cells.html").is_file()


def test_the_feedback_of_an_ungradable_notebook_says_what_was_expected(messy):
    root, _ = messy
    page = (root / "out" / "feedback" / "json-list" / "cells.html").read_text()
    assert "not a JSON object" in page and "cells/cells.ipynb" in page


def test_timestamps_are_recorded_and_exported(messy):
    from nbgrader.api import Gradebook

    root, _ = messy
    assert rows(root / "out")[("with-timestamp", "cells")]["timestamp"].startswith("2026-11-20")
    with Gradebook(f"sqlite:///{root / 'out' / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission("cells", "with-timestamp")
        assert submission.timestamp.year == 2026 and submission.timestamp.day == 20


def test_the_console_is_quiet_and_ends_with_a_table(messy):
    _, result = messy
    assert "Warning" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    assert "[IPKernelApp]" not in result.stderr + result.stdout
    summary = result.stdout
    assert "graded 20 notebook(s)" in summary and "1 new row(s) with nothing" in summary
    assert "grades.csv" in summary, summary
    assert "invalid_notebook" in summary and "not_submitted" in summary


def test_a_second_run_grades_nothing_and_a_changed_notebook_alone(messy, tmp_path):
    root, _ = messy
    sub, out = tmp_path / "submitted", tmp_path / "out"
    shutil.copytree(root / "submitted", sub, symlinks=True)
    shutil.copytree(root / "out", out)
    before = rows(out)
    assert "graded 0 notebook(s)" in grade(sub, out).stdout
    assert rows(out) == before
    notebook = sub / "json-list" / "cells" / "cells.ipynb"
    shutil.copy(sub / "correct" / "cells" / "cells.ipynb", notebook)
    assert "graded 1 notebook(s)" in grade(sub, out).stdout
    after = rows(out)
    assert after[("json-list", "cells")]["score"] == FULL
    assert {k: v for k, v in after.items() if k[0] != "json-list"} == {
        k: v for k, v in before.items() if k[0] != "json-list"
    }
    assert "graded 20 notebook(s)" in grade(sub, out, "--regrade").stdout
    assert rows(out) == after


def test_grading_one_student_keeps_every_other_row(messy, tmp_path):
    root, _ = messy
    out = tmp_path / "out"
    shutil.copytree(root / "out", out)
    before = rows(out)
    result = grade(root / "submitted", out, "--student", "correct", "--regrade")
    assert "graded 1 notebook(s)" in result.stdout
    assert rows(out) == before


def class_of_four(root: Path, notebooks: tuple[dict, dict]) -> Path:
    student, solved = notebooks
    sub = root / "submitted"
    for name in ("ann", "ben", "cat", "dan"):
        put(sub / name / "cells" / "cells.ipynb", json.dumps(solved))
    put(sub / "eve" / "cells" / "cells.ipynb", json.dumps(student))
    return sub


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_run_finishes_with_the_same_grades(tmp_path, cells_notebooks, how):
    """Stopped once two grades are recorded, the run is taken up again by the same command. The
    grader starts with SIGINT's default action, as a command run at a terminal does: started in
    the background by a script (as `.ci/run &` is), it would inherit SIGINT ignored, as the
    shell leaves it for background jobs, and Python would keep it ignored."""
    sub = class_of_four(tmp_path, cells_notebooks)
    reference = tmp_path / "reference"
    grade(sub, reference, "--workers", "1")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(sub), "--out", str(out)]
    command += ["--assignment", "cells", "--cell-timeout", "10", "--workers", "1"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 600
    while len(list((out / "records").glob("*/*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    seen = len(list((out / "records").glob("*/*.json")))
    os.killpg(process.pid, how)
    stdout, stderr = process.communicate(timeout=120)
    done = len(list((out / "records").glob("*/*.json")))
    assert 2 <= done < 5, (seen, done, stdout.decode()[-2000:], stderr.decode()[-3000:])
    result = grade(sub, out, "--workers", "1")
    assert f"graded {5 - done} notebook(s)" in result.stdout
    assert rows(out) == rows(reference)
