"""Example submissions: the solution, the untouched release, a partial answer, every mistake and
every alternative correct answer in ``solutions/<assignment>/mistakes.py``, and the broken,
cheating and hostile notebooks the pipeline must survive. ``write_examples`` lays them out as
nbgrader expects: ``OUT/<student>/<assignment>/<assignment>.ipynb``.

The solution and two late copies of it carry nbgrader's ``timestamp.txt``, relative to the due
dates of ``course.example.toml`` (which gives ``late-extended`` an extension for ``bptt``).

Broken, cheating and hostile examples are built for the ``cells`` assignment (the mechanisms
they test do not depend on the assignment); the others for every assignment.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from autograder import assignments as registry
from autograder.assignments import SOLUTIONS, nbgrader_cells
from autograder.authoring.release import release
from autograder.pipeline.late import load_policy

BAD_AND_CHEATING_ASSIGNMENT = "cells"

Notebook = dict
EXAMPLE_CONFIG = registry.REPO / "autograder" / "course.example.toml"
SUBMITTED_AT = {  # student -> when the solution was handed in, relative to the due date
    "solution": timedelta(hours=-2),
    "late-solution": timedelta(hours=30),
    "late-extended": timedelta(hours=30),
}


def fill(student: Notebook, code: dict[str, str]) -> Notebook:
    """The student notebook with the given solution cells' code filled in."""
    notebook = copy.deepcopy(student)
    for cell in nbgrader_cells(notebook):
        grade_id = cell["metadata"]["nbgrader"]["grade_id"]
        if grade_id in code:
            cell["source"] = code[grade_id]
    return notebook


def apply_edits(code: dict[str, str], edits: list[tuple[str, str]]) -> dict[str, str]:
    """Apply (old, new) replacements; each ``old`` must occur exactly once in all the code."""
    code = dict(code)
    for old, new in edits:
        places = [gid for gid, text in code.items() if old in text]
        total = sum(code[gid].count(old) for gid in places)
        if total != 1:
            raise ValueError(f"edit {old!r} must match exactly once, matched {total} times")
        code[places[0]] = code[places[0]].replace(old, new)
    return code


def _insert_code(notebook: Notebook, source: str, after: int = 1) -> Notebook:
    notebook = copy.deepcopy(notebook)
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": source,
    }
    notebook["cells"].insert(after, cell)
    return notebook


def _first_test_cell(notebook: Notebook) -> int:
    for index, cell in enumerate(notebook["cells"]):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            return index
    raise ValueError("the notebook has no graded test cell")


READ_SOLUTION = f"""\
# Cheat: read the instructor's code for this cell from the course folder and run it.
import json, pathlib, re
_path = pathlib.Path({str(SOLUTIONS)!r}) / "{{a}}" / "{{a}}.ipynb"
for _cell in json.loads(_path.read_text())["cells"]:
    if _cell["metadata"].get("nbgrader", {{}}).get("grade_id") == "{{grade_id}}":
        exec(re.sub(r"### (BEGIN|END) SOLUTION", "", "".join(_cell["source"])))
"""


CHEATS: dict[str, str] = {
    # Patch NumPy's comparison helpers so that every comparison in the tests passes.
    "cheat-patch-numpy": (
        "import numpy as np\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(a, b).shape, bool)\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "np.array_equal = lambda *args, **kwargs: True\n"
    ),
    # Replace the grading harness's entry point, which the hidden tests call, and the
    # notebook's own stub detector.
    "cheat-patch-harness": (
        "import sys, types\n"
        "_fake = types.ModuleType('autograder.harness')\n"
        "_fake.run_check = lambda *args, **kwargs: print('passed')\n"
        "sys.modules['autograder'] = types.ModuleType('autograder')\n"
        "sys.modules['autograder.harness'] = _fake\n"
        "assert_answered = lambda *answers: None\n"
    ),
    # Make every later cell run as `pass`, so the hidden tests never execute.
    "cheat-ipython-transformer": (
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n"
    ),
    # Patch builtins so that failing asserts are swallowed.
    "cheat-patch-builtins": (
        "import builtins\n"
        "class _Never(Exception):\n    pass\n"
        "builtins.AssertionError = _Never\n"
        "import autograder.harness as _h\n"
        "_h.CheckFailed = _Never\n"
        "_orig = _h.run_check\n"
        "def _quiet(*args, **kwargs):\n"
        "    try:\n        _orig(*args, **kwargs)\n    except Exception:\n        print('passed')\n"
        "_h.run_check = _quiet\n"
    ),
}


REPO_PATH = str(SOLUTIONS.parent)
SERVICE_PORTS = (5432, 8786, 8888, 47123)  # PostgreSQL, Dask, Jupyter, and the tests' listener
ORPHAN_MARKER = "rnn-grading-orphan"

# Attacks on the machine rather than on the kernel. Each runs in the notebook's kernel and in the
# verification sandbox; each is wrapped in ``try`` so that the rest of the notebook still runs.
HOSTILE: dict[str, str] = {
    # Make the course writable again, or uncover it, then replace the checks with ones that pass.
    "hostile-remount": f"""\
import ctypes, pathlib, subprocess
_repo = pathlib.Path({REPO_PATH!r})
_libc = ctypes.CDLL(None, use_errno=True)
for _folder in [_repo, _repo / "solutions", _repo / "solutions" / "{{a}}", pathlib.Path("/")]:
    subprocess.run(["mount", "-o", "remount,bind,rw", str(_folder)], capture_output=True)
    _libc.mount(None, str(_folder).encode(), None, 32 | 4096, None)  # MS_REMOUNT | MS_BIND
    _libc.umount2(str(_folder).encode(), 2)  # MNT_DETACH
_checks = _repo / "solutions" / "{{a}}" / "checks.py"
try:  # every check passes from now on, for this student, later runs and everybody else
    _checks.write_text(
        _checks.read_text() + "\\nCHECKS = {{k: (lambda s, r: None) for k in CHECKS}}\\n"
    )
except OSError:
    pass
""",
    # Write into the repository: a new file, and the grader's own code.
    "hostile-write-repository": f"""\
import pathlib
_repo = pathlib.Path({REPO_PATH!r})
for _target in [_repo / "PWNED.txt", _repo / "autograder" / "harness.py",
                _repo / "solutions" / "{{a}}" / "checks.py", _repo / "README.md"]:
    try:
        _target.write_text("written by a submission\\n")
    except OSError:
        pass
""",
    # Search every readable folder for the instructor's notebook and run its solution cells.
    "hostile-search-filesystem": """\
import json, os, re
for _root, _dirs, _files in os.walk("/"):
    if _root.startswith(("/proc", "/sys", "/dev")):
        _dirs[:] = []
        continue
    for _name in _files:
        if not _name.endswith(".ipynb"):
            continue
        try:
            _cells = json.load(open(os.path.join(_root, _name)))["cells"]
        except Exception:
            continue
        for _cell in _cells:
            _text = "".join(_cell.get("source", ""))
            if "### BEGIN SOLUTION" in _text:
                try:
                    exec(re.sub(r"### (BEGIN|END) SOLUTION", "", _text))
                except Exception:
                    pass
""",
    # Talk to services on the machine (a gradebook server, a scheduler, a notebook server).
    "hostile-connect-service": f"""\
import glob, socket
connected = []
for _port in {SERVICE_PORTS!r}:
    try:
        with socket.create_connection(("127.0.0.1", _port), timeout=1) as _s:
            _s.sendall(b"submission was here")
            connected.append(_port)
    except OSError:
        pass
for _path in glob.glob("/run/**/*", recursive=True) + glob.glob("/tmp/**/*", recursive=True):
    try:
        with socket.socket(socket.AF_UNIX) as _s:
            _s.connect(_path)
            connected.append(_path)
    except OSError:
        pass
""",
}

# Correct submissions that also try to exhaust the machine, each bounded so that it cannot harm
# it even if its cap failed: each gets the status of its cap, and the solution graded beside them
# keeps full marks (tests/autograder/test_grading.py measures the peaks).
EXHAUSTION: dict[str, tuple[str, str]] = {  # name: (status, code added after the answers)
    "exhaust-processes": (
        "process_limit",
        """\
import subprocess
started = []
try:
    for _ in range(400):  # at most 400 processes, were the cap of 64 not enforced
        started.append(subprocess.Popen(["sleep", "20"]))
except OSError as error:
    print(f"stopped after {len(started)} processes: {error}")
""",
    ),
    "exhaust-disk": (
        "disk_limit",
        """\
for i in range(1024):  # at most 1 GiB, were the cap of 512 MiB not enforced
    with open(f"filler-{i}.bin", "wb") as handle:
        handle.write(bytes(1 << 20))
""",
    ),
    "exhaust-tmp": (
        "disk_limit",
        """\
for i in range(1024):  # 1 GiB of memory, were /tmp a tmpfs and nothing counted it
    with open(f"/tmp/filler-{i}.bin", "wb") as handle:
        handle.write(bytes(1 << 20))
""",
    ),
}

# Students named as learning-management systems name folders (commas, apostrophes, brackets,
# letters beyond ASCII), or as an attacker would (HTML; a spreadsheet formula). Each submits the
# solution: full marks, the name escaped in every page and written as text in grades.csv.
LMS_NAMES = (
    "Müller, Anna (amueller)",
    "José María O'Neil",
    "Lee, Ann [2]",
    "<img src=x onerror=alert(1)>",
    "=1+2",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
)

# A correct submission that also leaves processes behind: it must keep full marks, and the
# processes must end with its grading.
DETACHED = f"""\
import os, subprocess, sys
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{ORPHAN_MARKER}"],
                     start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:  # a daemon by double fork
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)",
                                  "{ORPHAN_MARKER}"])
    os._exit(0)
"""


def bad_examples(student: Notebook, solved: Notebook) -> dict[str, Callable[[Path], None]]:
    """name -> writer of the notebook path, for every broken-submission case."""

    def write(notebook: Notebook) -> Callable[[Path], None]:
        return lambda path: path.write_text(json.dumps(notebook))

    test_index = _first_test_cell(solved)
    deleted = copy.deepcopy(solved)
    del deleted["cells"][test_index]
    edited = copy.deepcopy(solved)
    edited["cells"][test_index]["source"] = '"""Edited by the student."""\nprint("ok")\n'
    tampered = copy.deepcopy(solved)
    tampered["cells"][test_index]["metadata"]["nbgrader"]["points"] = 100
    duplicated = copy.deepcopy(solved)
    duplicated["cells"].insert(test_index, copy.deepcopy(solved["cells"][test_index]))
    return {
        "bad-invalid-json": lambda path: path.write_text('{"cells": [ this is not json'),
        "bad-missing-notebook": lambda path: (path.parent / "notes.txt").write_text("my work"),
        "bad-renamed-notebook": lambda path: (path.parent / "Untitled.ipynb").write_text(
            json.dumps(solved)
        ),
        "bad-lms-copies": lambda path: (
            path.write_text(json.dumps(student)),
            (path.parent / f"{path.stem} (1).ipynb").write_text(json.dumps(solved)),
        ),
        "bad-not-an-object": lambda path: path.write_text("[]"),
        "bad-deleted-test-cell": write(deleted),
        "bad-edited-test-cell": write(edited),
        "bad-tampered-metadata": write(tampered),
        "bad-duplicated-cells": write(duplicated),
        "bad-infinite-loop": write(_insert_code(solved, "while True:\n    pass\n")),
        "bad-kernel-dies": write(
            _insert_code(solved, "import os\nos._exit(1)\n", after=len(solved["cells"]))
        ),
        "bad-memory-hog": write(
            _insert_code(
                solved,
                "import numpy as np\nhog = np.ones((1024, 1024, 1024, 4))\n",
                after=len(solved["cells"]),
            )
        ),
        "bad-huge-output": write(
            _insert_code(
                solved, "for _ in range(20000):\n    print('x' * 200)\n", after=len(solved["cells"])
            )
        ),
    }


def write_examples(out: Path, assignments: list[str]) -> list[Path]:
    """Write every example submission under ``out``; return the notebook paths written."""
    out = Path(out)
    written = []

    def put(student_id: str, assignment: str, writer: Callable[[Path], None]) -> None:
        path = out / student_id / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(path)
        written.append(path)

    with tempfile.TemporaryDirectory() as tmp:
        released = release(Path(tmp), assignments, validate=False)
        for assignment in assignments:
            student = json.loads(released[assignment].read_text())
            known = registry.get(assignment)
            code = known.solution_code()
            solved = fill(student, code)
            first = next(iter(code))
            as_json = lambda nb: lambda path: path.write_text(json.dumps(nb))  # noqa: E731
            due = load_policy(EXAMPLE_CONFIG).due.get(assignment)
            for name, delay in SUBMITTED_AT.items():
                put(name, assignment, as_json(solved))
                if due is not None:  # an assignment without a due date is never late
                    stamp = f"{due + delay:%Y-%m-%d %H:%M:%S.%f} UTC"
                    (out / name / assignment / "timestamp.txt").write_text(stamp)
            put("untouched", assignment, as_json(student))
            put("partial", assignment, as_json(fill(student, {first: code[first]})))
            for name, mistake in known.mistakes().items():
                wrong = fill(student, apply_edits(code, mistake["edits"]))
                put(f"mistake-{assignment}-{name}", assignment, as_json(wrong))
            for name, alternative in known.alternatives().items():
                right = fill(student, apply_edits(code, alternative["edits"]))
                put(f"alternative-{assignment}-{name}", assignment, as_json(right))
            if assignment == BAD_AND_CHEATING_ASSIGNMENT:
                for name, writer in bad_examples(student, solved).items():
                    put(name, assignment, writer)
                for name, cheat in {**CHEATS, **HOSTILE}.items():
                    cheat = cheat.replace("{a}", assignment)
                    put(name, assignment, as_json(_insert_code(student, cheat, after=2)))
                for name in LMS_NAMES:
                    put(name, assignment, as_json(solved))
                for name, (_, code) in EXHAUSTION.items():
                    put(
                        name,
                        assignment,
                        as_json(_insert_code(solved, code, after=len(solved["cells"]))),
                    )
                put(
                    "hostile-detached-processes",
                    assignment,
                    as_json(_insert_code(solved, DETACHED)),
                )
                # Every answer cell reads the instructor's code for itself from the disk.
                reading = {
                    gid: READ_SOLUTION.replace("{a}", assignment).replace("{grade_id}", gid)
                    for gid in code
                }
                put("cheat-read-solution", assignment, as_json(fill(student, reading)))
    return written
