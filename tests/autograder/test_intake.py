"""Finding a student's notebook in a folder of submissions (``autograder/pipeline/intake.py``).

Each case is a tiny student folder ``submitted/ada/...`` built in ``tmp_path``: nbgrader's layout,
what learning-management systems make of it (letter case, renamed and extra notebooks), what
cannot be graded (nothing, a file, symbolic links, files that are no notebook) and nbgrader's
``timestamp.txt``. Every status intake gives has a case here; the slow end-to-end class in
``test_class_runs.py`` grades the same kinds of folders.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.isolation.policy import MAX_NOTEBOOK_BYTES
from autograder.pipeline.intake import Submission, find_submission, read_notebook, stand_in

NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
VALID = nbformat.writes(NOTEBOOK)
OTHER = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 2")]))
STAMP = "2026-10-05 20:00:00 UTC"
ZONE_FILE = Path("/usr/share/zoneinfo/Europe/Berlin")


def put(root: Path, files: dict[str, str | bytes | None]) -> None:
    """Create ``files`` under ``root`` (relative path -> content; None makes a folder)."""
    for name, content in files.items():
        path = root / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)


def find(tmp_path: Path, files: dict[str, str | bytes | None]) -> Submission:
    """Ada's submission of ``cells`` when her folder holds ``files``."""
    put(tmp_path / "submitted" / "ada", files)
    return find_submission(tmp_path / "submitted", "ada", "cells")


# --- layouts that are graded ------------------------------------------------------------------

GRADED = {  # case: (files, statuses, file graded)
    "nbgrader layout": ({"cells/cells.ipynb": VALID}, [], "cells/cells.ipynb"),
    "folder in upper case": ({"CELLS/cells.ipynb": VALID}, [], "CELLS/cells.ipynb"),
    "exact folder beside another case": (
        {"cells/cells.ipynb": VALID, "Cells/cells.ipynb": OTHER},
        [],
        "cells/cells.ipynb",
    ),
    "LMS copy": (
        {"cells/cells (1).ipynb": VALID},
        ["renamed_notebook: cells (1).ipynb"],
        "cells/cells (1).ipynb",
    ),
    "Untitled": (
        {"cells/Untitled.ipynb": VALID},
        ["renamed_notebook: Untitled.ipynb"],
        "cells/Untitled.ipynb",
    ),
    "notebook in other case": (
        {"cells/Cells.ipynb": VALID},
        ["renamed_notebook: Cells.ipynb"],
        "cells/Cells.ipynb",
    ),
    "expected beside a copy": (
        {"cells/cells.ipynb": VALID, "cells/cells (1).ipynb": OTHER},
        ["several_notebooks: cells (1).ipynb, cells.ipynb (graded cells.ipynb)"],
        "cells/cells.ipynb",
    ),
    "one LMS copy beside a stranger": (
        {"cells/cells (2).ipynb": VALID, "cells/scratch.ipynb": OTHER},
        [
            "several_notebooks: cells (2).ipynb, scratch.ipynb (graded cells (2).ipynb)",
            "renamed_notebook: cells (2).ipynb",
        ],
        "cells/cells (2).ipynb",
    ),
    "hidden files and other files": (
        {
            "cells/cells.ipynb": VALID,
            "cells/.cells.ipynb": "{",
            "cells/.ipynb_checkpoints/cells-checkpoint.ipynb": OTHER,
            "cells/notes.txt": "draft",
        },
        [],
        "cells/cells.ipynb",
    ),
    "a folder named like a notebook": (
        {"cells/cells.ipynb/": None, "cells/mine.ipynb": VALID},
        ["renamed_notebook: mine.ipynb"],
        "cells/mine.ipynb",
    ),
    "separators in the name": (
        {"cells/a;b\nc.ipynb": VALID},
        ["renamed_notebook: a b c.ipynb"],
        "cells/a;b\nc.ipynb",
    ),
}


@pytest.mark.parametrize("case", GRADED)
def test_a_gradable_layout_is_graded_with_its_statuses(tmp_path, case):
    files, statuses, name = GRADED[case]
    found = find(tmp_path, files)
    assert (found.statuses, found.name, found.problem) == (statuses, name, "")
    assert found.notebook == json.loads(VALID)


def test_a_long_name_is_cut_short_in_its_status(tmp_path):
    found = find(tmp_path, {f"cells/{'x' * 240}.ipynb": VALID})
    assert found.statuses == [f"renamed_notebook: {'x' * 200}"]


# --- what cannot be graded -------------------------------------------------------------------

UNGRADABLE = {  # case: (files, statuses, words of the problem told to the student)
    "nothing submitted": ({"bptt/bptt.ipynb": VALID}, ["not_submitted"], "no folder cells/"),
    "an empty student folder": ({"": None}, ["not_submitted"], "no folder cells/"),
    "several folders, none exact": (
        {"Cells/cells.ipynb": VALID, "CELLS/cells.ipynb": OTHER},
        ["several_folders: CELLS, Cells"],
        "keep only one",
    ),
    "a file instead of the folder": (
        {"cells": VALID},
        ["missing_notebook: cells is not a folder"],
        "should be a folder holding cells.ipynb",
    ),
    "an empty folder": ({"cells/": None}, ["missing_notebook"], "it holds: nothing"),
    "no notebook in the folder": (
        {"cells/cells.py": "x = 1"},
        ["missing_notebook"],
        "it holds: cells.py",
    ),
    "several notebooks, none expected": (
        {"cells/a.ipynb": VALID, "cells/b.ipynb": OTHER},
        ["several_notebooks: a.ipynb, b.ipynb"],
        "keep only cells.ipynb",
    ),
    "two LMS copies": (
        {"cells/cells (1).ipynb": VALID, "cells/cells (2).ipynb": OTHER},
        ["several_notebooks: cells (1).ipynb, cells (2).ipynb"],
        "keep only cells.ipynb",
    ),
}


@pytest.mark.parametrize("case", UNGRADABLE)
def test_an_ungradable_layout_says_why(tmp_path, case):
    files, statuses, problem = UNGRADABLE[case]
    found = find(tmp_path, files)
    assert (found.statuses, found.notebook) == (statuses, None)
    assert problem in found.problem


# --- symbolic links are never followed ---------------------------------------------------------


def secret(tmp_path: Path) -> Path:
    """The instructor's notebook, outside the submissions, that a link points at."""
    put(tmp_path, {"instructor/cells/cells.ipynb": OTHER})
    return tmp_path / "instructor" / "cells"


LINKS = {  # case: (link in ada's folder, its target, files beside it, statuses, file graded)
    "linked folder": ("cells", "", {"": None}, ["symlink_refused: cells"], None),
    "linked notebook": (
        "cells/cells.ipynb",
        "cells.ipynb",
        {"cells/": None},
        ["symlink_refused: cells.ipynb", "missing_notebook"],
        None,
    ),
    "linked notebook beside a real one": (
        "cells/theirs.ipynb",
        "cells.ipynb",
        {"cells/cells.ipynb": VALID},
        ["symlink_refused: theirs.ipynb"],
        "cells/cells.ipynb",
    ),
}


@pytest.mark.parametrize("case", LINKS)
def test_a_symbolic_link_is_refused_and_never_read(tmp_path, case):
    link, target, files, statuses, name = LINKS[case]
    put(tmp_path / "submitted" / "ada", files)
    (tmp_path / "submitted" / "ada" / link).symlink_to(secret(tmp_path) / target)
    found = find(tmp_path, {})
    assert (found.statuses, found.name) == (statuses, name)
    assert found.notebook in (None, json.loads(VALID))  # never the instructor's


def test_a_linked_timestamp_is_not_read(tmp_path):
    put(tmp_path, {"elsewhere.txt": STAMP})
    put(tmp_path / "submitted" / "ada", {"cells/cells.ipynb": VALID})
    (tmp_path / "submitted" / "ada" / "cells" / "timestamp.txt").symlink_to(
        tmp_path / "elsewhere.txt"
    )
    found = find(tmp_path, {})
    assert (found.timestamp, found.statuses) == (None, [])


# --- files that are no notebook ---------------------------------------------------------------

INVALID = {  # case: (content, why)
    "not JSON": ('{"cells": [', "not JSON (line 1, column 12)"),
    "a JSON list": ("[]", "not a JSON object"),
    "a JSON string": ('"notebook"', "not a JSON object"),
    "empty": ("", "an empty file"),
    "blank": (" \n\t", "an empty file"),
    "not UTF-8": (b'{"a": "\xff\xfe"}', "not UTF-8 text"),
    "no nbformat": ("{}", "nbformat None, expected 4"),
    "nbformat 3": (
        '{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}',
        "nbformat 3, expected 4",
    ),
    "no metadata": (
        '{"nbformat": 4, "nbformat_minor": 5, "cells": []}',
        "not a valid notebook ('metadata' is a required property)",
    ),
    "a cell that is a number": (
        '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1]}',
        "not a valid notebook (",
    ),
}


@pytest.mark.parametrize("case", INVALID)
def test_an_invalid_notebook_says_what_is_wrong(tmp_path, case):
    content, why = INVALID[case]
    found = find(tmp_path, {"cells/cells.ipynb": content})
    assert found.notebook is None and found.name == "cells/cells.ipynb"
    assert len(found.statuses) == 1 and found.statuses[0].startswith(f"invalid_notebook: {why}")
    assert found.problem.startswith(f"cells.ipynb could not be read as a notebook: {why}")


def test_a_notebook_over_the_size_limit_is_not_read(tmp_path):
    path = tmp_path / "big.ipynb"
    with path.open("wb") as handle:
        handle.truncate(MAX_NOTEBOOK_BYTES + 1)  # sparse: nothing is written
    assert read_notebook(path) == (None, f"larger than {MAX_NOTEBOOK_BYTES // 1024**2} MB")


def test_an_unreadable_notebook_says_so(tmp_path, monkeypatch):
    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    found = find(tmp_path, {"cells/cells.ipynb": VALID})
    assert found.statuses == ["invalid_notebook: unreadable (Permission denied)"]


@pytest.mark.parametrize(
    "content",
    [
        "[" * 3000 + "]" * 3000,
        '{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {"x": '
        + "[" * 800
        + "]" * 800
        + "}}",
    ],
    ids=["nested brackets", "nested metadata"],
)
def test_deeply_nested_json_is_an_invalid_notebook(tmp_path, content):
    found = find(tmp_path, {"cells/cells.ipynb": content})
    assert found.statuses == ["invalid_notebook: nested too deeply"]


# --- nbgrader's timestamp.txt -----------------------------------------------------------------

TIMESTAMPS = {  # case: (files beside the notebook, the timestamp kept, statuses)
    "none": ({}, None, []),
    "nbgrader's": ({"cells/timestamp.txt": STAMP}, STAMP, []),
    "with blank lines": ({"cells/timestamp.txt": f"\n{STAMP}\n\n"}, STAMP, []),
    "ISO with an offset": (
        {"cells/timestamp.txt": "2026-10-05T20:00:00+02:00"},
        "2026-10-05T20:00:00+02:00",
        [],
    ),
    "a folder": ({"cells/timestamp.txt/": None}, None, []),
    "not a date": ({"cells/timestamp.txt": "yesterday"}, None, ["invalid_timestamp: yesterday"]),
    "empty": ({"cells/timestamp.txt": ""}, None, ["invalid_timestamp: "]),
    "out of range": (
        {"cells/timestamp.txt": "9999-12-31 23:59:59 -1400"},
        None,
        ["invalid_timestamp: 9999-12-31 23:59:59 -1400"],
    ),
    "with separators": (
        {"cells/timestamp.txt": "soon;\nlater"},
        None,
        ["invalid_timestamp: soon later"],
    ),
    "not UTF-8": ({"cells/timestamp.txt": b"\xff\xfe"}, None, ["invalid_timestamp: \ufffd\ufffd"]),
}


@pytest.mark.parametrize("case", TIMESTAMPS)
def test_the_timestamp_is_kept_when_valid(tmp_path, case):
    files, kept, statuses = TIMESTAMPS[case]
    found = find(tmp_path, {"cells/cells.ipynb": VALID, **files})
    assert (found.timestamp, found.statuses) == (kept, statuses)
    assert found.notebook is not None  # a bad timestamp does not stop grading


ZONE_TRICKS = {
    "a path out of the zone database": "2026-10-05 20:00:00 ../../../etc/localtime",
    "a file anywhere": "2026-10-05 20:00:00 {tmp_path}/zone",
}


@pytest.mark.parametrize("case", ZONE_TRICKS)
def test_a_time_zone_that_is_a_file_path_is_an_invalid_timestamp(tmp_path, case):
    if not ZONE_FILE.is_file():
        pytest.skip(f"no time zone database at {ZONE_FILE.parent.parent}")
    shutil.copy(ZONE_FILE, tmp_path / "zone")  # a valid zone file outside the database
    stamp = ZONE_TRICKS[case].format(tmp_path=tmp_path)
    found = find(tmp_path, {"cells/cells.ipynb": VALID, "cells/timestamp.txt": stamp})
    assert found.timestamp is None and found.statuses[0].startswith("invalid_timestamp: ")


# --- the digest: unchanged content, unchanged digest -----------------------------------------

CHANGES = {  # case: (what ada changes in her folder, whether the digest changes)
    "an unrelated file": (lambda folder: (folder / "notes.txt").write_text("draft"), False),
    "the notebook": (lambda folder: (folder / "cells.ipynb").write_text(OTHER), True),
    "its name": (lambda folder: (folder / "cells.ipynb").rename(folder / "cells (1).ipynb"), True),
    "blanks after the time": (
        lambda folder: (folder / "timestamp.txt").write_text(f"{STAMP}\n"),
        False,
    ),
    "the time": (lambda folder: (folder / "timestamp.txt").write_text(STAMP[:-3] + "CET"), True),
    "a status": (lambda folder: (folder / "extra.ipynb").write_text(VALID), True),
}


@pytest.mark.parametrize("case", CHANGES)
def test_the_digest_changes_with_what_is_graded(tmp_path, case):
    change, changes = CHANGES[case]
    before = find(tmp_path, {"cells/cells.ipynb": VALID, "cells/timestamp.txt": STAMP}).digest
    change(tmp_path / "submitted" / "ada" / "cells")
    assert (find(tmp_path, {}).digest != before) == changes


def test_a_folder_name_that_is_not_utf8_is_named_and_not_graded(tmp_path):
    name = os.fsdecode(b"M\xfcller")  # Latin-1 bytes, as an archive from another system has them
    (tmp_path / name / "cells").mkdir(parents=True)
    (tmp_path / name / "cells" / "cells.ipynb").write_text("{}")
    found = find_submission(tmp_path, name, "cells")
    assert found.student == "M\\xfcller (not UTF-8)"
    assert found.statuses == ["invalid_student_id: the folder name is not valid UTF-8"]
    assert found.notebook is None and "rename" in found.problem
    found.student.encode("utf-8")  # storable anywhere


def test_the_stand_in_of_a_long_name_still_fits_a_folder_name():
    names = [os.fsdecode(bytes([0xFC, i]) * 120) for i in (0x61, 0x62)]  # 240 bytes each
    stand_ins = [stand_in(name) for name in names]
    assert all(len(s.encode()) < 255 for s in stand_ins) and len(set(stand_ins)) == 2
