"""The grading pipeline on the example submissions (see autograder/authoring/examples.py).

Runs exactly the README's demonstration, ``make grade`` (build the examples into
``_build/examples``, grade them with one worker per core into ``_build/graded``), and asserts
the exact outcome of each: full marks for the solution and for every alternative correct
answer, nothing for the untouched release, the targeted points lost (and named) for each
mistake, a status for each broken notebook, nothing for each cheat or attack, and everybody
else unaffected. Around the run it records every file of the repository, a listener on the
loopback, and the processes on the machine: hostile submissions must change, reach and leave
behind nothing. The class report and the similarity report of the run are checked against
``grades.csv`` and the catalogue, and opened offline in Chromium.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest
from support import (
    BUILD,
    ROOT,
    autograder_cli,
    offline_page,
    processes_with,
    read_grades,
)

from autograder import assignments
from autograder.authoring.examples import (
    CHEATS,
    EXHAUSTION,
    HOSTILE,
    LMS_NAMES,
    ORPHAN_MARKER,
    SERVICE_PORTS,
)
from autograder.isolation.policy import (
    KERNEL_MEMORY,
    LIMIT_MESSAGES,
    MAX_DISK_BYTES,
    MAX_PROCESSES,
    SANDBOX_MEMORY,
    MiB,
)
from autograder.pipeline.results import Result

pytestmark = pytest.mark.slow
BAD = "cells"
NOT_COURSE_FILES = {".git", "_build", "exercises", "__pycache__", ".pytest_cache", ".ruff_cache"}


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (but build output and caches) -> its SHA-256; the virtual
    environment's files by size and modification time."""
    files = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in NOT_COURSE_FILES and not d.endswith(".egg-info")]
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                files[str(path)] = f"link:{os.readlink(path)}" if path.is_symlink() else "other"
            elif ".venv" in path.relative_to(root).parts:
                stat = path.stat()
                files[str(path)] = f"{stat.st_size}:{stat.st_mtime_ns}"
            else:
                files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def grade_rows(submitted, out, *options):
    """Grade through the command line; return grades.csv as {(student, assignment): row}."""
    autograder_cli("grade", str(submitted), "--out", str(out), "--cell-timeout", "10", *options)
    return read_grades(out)


class Machine:
    """The machine's memory in use, processes and free disk, sampled every 0.1 s while a class is
    graded: the peaks above what they were before."""

    def __init__(self) -> None:
        self.memory = self.processes = self.disk = 0
        self._stop = threading.Event()

    @staticmethod
    def sample() -> tuple[int, int, int]:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        in_use = (int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])) * 1024
        processes = sum(entry.isdigit() for entry in os.listdir("/proc"))
        used = shutil.disk_usage(tempfile.gettempdir()).used
        return in_use, processes, used

    def _watch(self) -> None:
        base = self.sample()
        while not self._stop.wait(0.1):
            now = self.sample()
            self.memory, self.processes, self.disk = (
                max(peak, value - start)
                for peak, value, start in zip(
                    (self.memory, self.processes, self.disk), now, base, strict=True
                )
            )

    def __enter__(self) -> Machine:
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture(scope="module")
def graded():
    """``make grade``, exactly as the README runs it, watched from outside."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    # Set-up first (make reinstalls .venv when requirements changed): only grading is watched.
    subprocess.run(["make", ".venv/.installed"], cwd=ROOT, env=env, check=True, timeout=1800)
    before = snapshot(ROOT)
    groups_before = control_groups()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", SERVICE_PORTS[-1]))
    listener.listen()
    with Machine() as machine:
        result = subprocess.run(
            ["make", "grade"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    listener.setblocking(False)
    try:
        listener.accept()
        reached = True
    except BlockingIOError:
        reached = False
    listener.close()
    return SimpleNamespace(
        submitted=BUILD / "examples",
        out=BUILD / "graded",
        rows=read_grades(BUILD / "graded"),
        changed=sorted(set(snapshot(ROOT).items()) ^ set(before.items())),
        reached=reached,
        orphans=processes_with(ORPHAN_MARKER),
        log=result.stdout + result.stderr,
        machine=machine,
        groups_left=control_groups() - groups_before,
    )


def control_groups() -> set[Path]:
    """The grader's control groups on this machine (named ``rnn-grading-*``)."""
    return set(Path("/sys/fs/cgroup").rglob("rnn-grading-*"))


def max_score(assignment):
    return sum(assignments.get(assignment).graded_cells().values())


def failed(row):
    return set(row["failed_tests"].split())


@pytest.mark.parametrize("assignment", assignments.names())
def test_solution_gets_full_marks(graded, assignment):
    rows = graded.rows
    row = rows[("solution", assignment)]
    assert float(row["score"]) == max_score(assignment) == float(row["max_score"]), row
    assert row["status"] == "ok"


LATE = {  # student -> {assignment: late penalty as a share of the score}, course.example.toml
    "solution": dict.fromkeys(assignments.names(), 0.0),  # 2 h early
    "late-solution": dict.fromkeys(assignments.names(), 0.2),  # 30 h late: two started days at 10 %
    "late-extended": {**dict.fromkeys(assignments.names(), 0.2), "bptt": 0.0},  # 72 h extension
}


@pytest.mark.parametrize("student", sorted(LATE))
def test_the_example_due_dates_and_penalty_apply(graded, student):
    for assignment, share in LATE[student].items():
        row = graded.rows[(student, assignment)]
        full = max_score(assignment)
        assert float(row["raw_score"]) == full, row
        assert float(row["late_submission_penalty"]) == pytest.approx(share * full), row
        assert float(row["score"]) == pytest.approx((1 - share) * full), row
        assert row["timestamp"] and row["duedate"], row


@pytest.mark.parametrize("assignment", assignments.names())
def test_untouched_release_gets_zero(graded, assignment):
    rows = graded.rows
    assert float(rows[("untouched", assignment)]["score"]) == 0


@pytest.mark.parametrize("assignment", assignments.names())
def test_partial_answer_gets_partial_marks(graded, assignment):
    rows = graded.rows
    assert 0 < float(rows[("partial", assignment)]["score"]) < max_score(assignment)


MISTAKE_CASES = [
    (a, name, m) for a in assignments.names() for name, m in assignments.get(a).mistakes().items()
]


@pytest.mark.parametrize(
    "assignment, name, mistake", MISTAKE_CASES, ids=[f"{a}-{n}" for a, n, _ in MISTAKE_CASES]
)
def test_each_mistake_loses_exactly_its_points_and_is_named(graded, assignment, name, mistake):
    rows = graded.rows
    student = f"mistake-{assignment}-{name}"
    row = rows[(student, assignment)]
    points = assignments.get(assignment).graded_cells()
    assert failed(row) == set(mistake["lost"]), row
    expected = max_score(assignment) - sum(points[g] for g in mistake["lost"])
    assert float(row["score"]) == expected
    feedback = (graded.out / "feedback" / student / f"{assignment}.html").read_text()
    assert mistake["feedback"].lower() in feedback.lower()


EXPECTED_STATUS = {
    "bad-invalid-json": "invalid_notebook: not JSON (line 1, column 13)",
    "bad-missing-notebook": "missing_notebook",
    "bad-not-an-object": "invalid_notebook: not a JSON object",
    "bad-renamed-notebook": "renamed_notebook: Untitled.ipynb",
    "bad-lms-copies": "several_notebooks: cells (1).ipynb, cells.ipynb (graded cells.ipynb)",
    "bad-deleted-test-cell": "test_cell_deleted",
    "bad-edited-test-cell": "test_cell_modified",
    "bad-tampered-metadata": "metadata_tampered",
    "bad-duplicated-cells": "duplicate_cells",
    "bad-infinite-loop": "cell_timeout",
    "bad-kernel-dies": "kernel_died",
    "bad-memory-hog": "memory_limit",
    "bad-huge-output": "output_truncated",
}
UNGRADABLE = {"bad-invalid-json", "bad-missing-notebook", "bad-not-an-object"}


@pytest.mark.parametrize("student", sorted(EXPECTED_STATUS))
def test_bad_submission_gets_its_status_and_a_row(graded, student):
    rows = graded.rows
    row = rows[(student, BAD)]
    assert EXPECTED_STATUS[student] in row["status"].split(";"), row
    assert (graded.out / "feedback" / student / f"{BAD}.html").is_file()
    if student in UNGRADABLE:
        assert float(row["score"]) == 0


HARMLESS = [
    "bad-renamed-notebook",
    "bad-edited-test-cell",
    "bad-tampered-metadata",
    "bad-duplicated-cells",
    "bad-huge-output",
    "bad-memory-hog",
    "bad-infinite-loop",
]


@pytest.mark.parametrize("student", HARMLESS)
def test_harmless_tampering_changes_nothing_but_the_status(graded, student):
    """Test cells and metadata come from the source, and the answers themselves are right."""
    rows = graded.rows
    assert float(rows[(student, BAD)]["score"]) == max_score(BAD)


def test_a_deleted_test_cell_loses_exactly_its_points(graded):
    rows = graded.rows
    row = rows[("bad-deleted-test-cell", BAD)]
    first = next(iter(assignments.get(BAD).graded_cells()))
    assert failed(row) == {first}
    assert float(row["score"]) == max_score(BAD) - assignments.get(BAD).graded_cells()[first]


CHEATERS = sorted([*CHEATS, *HOSTILE, "cheat-read-solution"])


@pytest.mark.parametrize("student", CHEATERS)
def test_cheating_earns_nothing(graded, student):
    rows = graded.rows
    row = rows[(student, BAD)]
    assert float(row["score"]) == 0, row


def test_cheats_that_fooled_the_notebook_are_flagged(graded):
    rows = graded.rows
    flagged = [s for s in CHEATERS if "verification_failed" in rows[(s, BAD)]["status"]]
    assert set(flagged) >= {"cheat-patch-harness", "cheat-ipython-transformer"}


def test_every_student_and_assignment_has_a_row(graded):
    rows = graded.rows
    students = {p.name for p in graded.submitted.iterdir()}
    assert set(rows) == {(s, a) for s in students for a in assignments.names()}


def test_gradebook_holds_the_final_scores(graded):
    from nbgrader.api import Gradebook

    rows = graded.rows
    with Gradebook(f"sqlite:///{graded.out / 'gradebook.db'}") as gradebook:
        for (student, assignment), row in rows.items():
            if row["status"] == "not_submitted":
                continue
            submission = gradebook.find_submission(assignment, student)
            assert submission.score == pytest.approx(float(row["raw_score"])), (student, assignment)
            penalty = submission.late_submission_penalty
            assert penalty == pytest.approx(float(row["late_submission_penalty"])), row
            assert float(row["score"]) == pytest.approx(max(0, submission.score - penalty)), row


def test_one_worker_gives_the_same_grades_and_rerunning_is_idempotent(graded, tmp_path):
    rows = graded.rows
    subset = tmp_path / "submitted"
    for student in [
        "solution",
        "partial",
        f"mistake-cells-{next(iter(assignments.get('cells').mistakes()))}",
        "cheat-read-solution",
    ]:
        shutil.copytree(graded.submitted / student / "cells", subset / student / "cells")
    for _ in range(2):  # the second run re-grades into the same folder
        again = grade_rows(subset, tmp_path / "out", "--workers", "1", "--assignment", "cells")
        for key, row in again.items():
            assert (row["score"], row["status"], row["failed_tests"]) == (
                rows[key]["score"],
                rows[key]["status"],
                rows[key]["failed_tests"],
            ), key


@pytest.mark.parametrize("assignment", assignments.names())
def test_the_demonstration_gives_the_solution_full_marks_and_the_release_zero(graded, assignment):
    """What the README promises for `make grade`, read from its own grades.csv."""
    rows = graded.rows
    assert rows[("solution", assignment)]["score"] == rows[("solution", assignment)]["max_score"]
    assert float(rows[("untouched", assignment)]["score"]) == 0
    assert {row["isolation"] for row in rows.values()} == {"bubblewrap"}


ALTERNATIVE_CASES = [
    (a, name) for a in assignments.names() for name in assignments.get(a).alternatives()
]


@pytest.mark.parametrize("assignment, name", ALTERNATIVE_CASES)
def test_a_correct_answer_written_differently_gets_full_marks(graded, assignment, name):
    row = graded.rows[(f"alternative-{assignment}-{name}", assignment)]
    assert float(row["score"]) == max_score(assignment), row
    assert row["status"] == "ok"


def test_no_submission_changed_a_file_of_the_repository(graded):
    """Remounting, un-mounting and writing into the repository changed nothing at all."""
    assert graded.changed == []
    assert not (ROOT / "PWNED.txt").exists()


def test_the_course_folder_still_holds_the_instructor_sources(graded):
    for assignment in assignments.names():
        copy = graded.out / "course" / "source" / assignment / f"{assignment}.ipynb"
        original = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        assert copy.read_bytes() == original.read_bytes()


def test_no_submission_reached_a_service_on_the_machine(graded):
    assert graded.reached is False


def test_no_process_a_submission_started_outlives_the_grading(graded):
    assert graded.orphans == []
    assert graded.groups_left == set()  # each control group went with its submission
    row = graded.rows[("hostile-detached-processes", BAD)]
    assert float(row["score"]) == max_score(BAD)  # the answers are right: full marks


def test_a_bystander_graded_beside_the_attacks_keeps_full_marks(graded):
    assert float(graded.rows[("solution", BAD)]["score"]) == max_score(BAD)


def test_the_console_shows_no_kernel_banner(graded):
    assert "To connect another client" not in graded.log
    assert "without encryption" not in graded.log


@pytest.mark.parametrize("name", LMS_NAMES)
def test_a_student_named_as_a_learning_management_system_writes_it_gets_full_marks(graded, name):
    row = graded.rows[(name, BAD)]
    assert (float(row["score"]), row["status"]) == (max_score(BAD), "ok"), row
    as_text = f"'{name}" if name[0] in "=+-@" else name  # a spreadsheet shows it, not computes it
    assert row["student"] == as_text
    assert (graded.out / "feedback" / name / f"{BAD}.html").is_file()


def test_no_page_shows_a_name_as_html_and_no_cell_of_grades_csv_is_a_formula(graded):
    markup = next(name for name in LMS_NAMES if name.startswith("<"))
    pages = [p.read_text(errors="replace") for p in graded.out.rglob("*.html")]
    assert not any(markup in page for page in pages)
    assert any(html.escape(markup, quote=False) in page for page in pages)  # shown, escaped
    with (graded.out / "grades.csv").open(newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


@pytest.mark.parametrize("student", EXHAUSTION)
def test_a_submission_that_exhausts_a_resource_gets_the_status_of_its_cap(graded, student):
    status, _ = EXHAUSTION[student]
    row = graded.rows[(student, BAD)]
    assert status in row["status"].split(";"), row
    page = (graded.out / "feedback" / student / f"{BAD}.html").read_text()
    assert html.escape(LIMIT_MESSAGES[status], quote=False) in page
    assert f"{BAD}: student<" not in page  # the page of the student, not of the grader's own id


# Stated margins over the caps: past half the disk cap the supervisor looks every tenth of
# WATCH_SECONDS, so a writer may add what the disk takes in that time (about 10 MiB here) before
# it is stopped; the processes counted from outside include bubblewrap's own two.
DISK_MARGIN, PROCESS_MARGIN = 64 * MiB, 2


def test_no_submission_went_past_its_caps_and_the_machine_kept_its_resources(graded):
    """The peaks of every submission, as recorded, and of the machine while the class was graded
    (above what it held before), against the caps of the isolation policy."""
    usage = [Result.load(path).usage for path in (graded.out / "records").rglob("*.json")]
    usage = [u for u in usage if u]
    processes = max(u["peak_processes"] for u in usage)
    disk = max(u["peak_disk_bytes"] for u in usage)
    workers = os.cpu_count() or 1
    machine = graded.machine
    print(
        f"most of one submission: {processes} processes and threads (cap {MAX_PROCESSES}), "
        f"{disk / MiB:.0f} MiB on disk (cap {MAX_DISK_BYTES // MiB} MiB); the machine, above "
        f"its start: {machine.processes} processes, {machine.memory / MiB:.0f} MiB of memory, "
        f"{machine.disk / MiB:.0f} MiB of disk ({workers} workers)"
    )
    assert processes <= MAX_PROCESSES + PROCESS_MARGIN
    assert MAX_DISK_BYTES < disk <= MAX_DISK_BYTES + DISK_MARGIN  # the filler reached the cap
    # Every worker grades one submission at a time: its kernel and its sandbox at once at most.
    assert machine.processes <= workers * (2 * (MAX_PROCESSES + PROCESS_MARGIN) + 10)
    assert machine.memory <= workers * (KERNEL_MEMORY + SANDBOX_MEMORY)
    assert machine.disk <= workers * (MAX_DISK_BYTES + DISK_MARGIN) + 512 * MiB  # + the outputs
    assert "most of one submission:" in graded.log


# --- the class report and the similarity report of the example class -------------------------


def report(graded) -> dict:
    return json.loads((graded.out / "report.json").read_text())["assignments"]


@pytest.mark.parametrize("assignment", assignments.names())
def test_the_class_report_counts_what_grades_csv_holds(graded, assignment):
    """Scores and pass rates, recomputed from grades.csv alone."""
    rows = [r for (_, a), r in graded.rows.items() if a == assignment]
    handed_in = [r for r in rows if not r["status"].startswith("not_submitted")]
    summary = report(graded)[assignment]
    assert (summary["rows"], summary["submitted"]) == (len(rows), len(handed_in))
    assert summary["scores"] == sorted(float(r["score"]) for r in handed_in)
    assert summary["full_marks"] == sum(
        float(r["score"]) == max_score(assignment) for r in handed_in
    )
    for test, numbers in summary["tests"].items():
        passing = sum(test not in failed(r) for r in handed_in)
        assert numbers["verified"] == passing, test
    late = {r["student"] for r in rows if float(r["late_submission_penalty"]) > 0}
    assert {row["student"] for row in summary["late"] if row["penalty"] > 0} == late


@pytest.mark.parametrize("assignment, name, mistake", MISTAKE_CASES)
def test_the_class_report_names_each_mistake_as_a_cause_of_its_student(
    graded, assignment, name, mistake
):
    student = f"mistake-{assignment}-{name}"
    causes = [c["cause"] for c in report(graded)[assignment]["causes"] if student in c["students"]]
    assert any(mistake["feedback"].lower() in cause.lower() for cause in causes), causes


def test_the_similarity_report_flags_copies_of_the_solution_and_nothing_else(graded):
    with (graded.out / "similarity.csv").open(newline="") as handle:
        pairs = list(csv.DictReader(handle))
    flagged = {(p["assignment"], p["first"], p["second"]) for p in pairs}
    for assignment in assignments.names():
        copies = ["solution", "late-solution"]
        copies += [
            f"alternative-{assignment}-{name}"
            for name in assignments.get(assignment).alternatives()
        ]
        for student in copies:
            assert (assignment, "(public solution)", student) in flagged, (assignment, student)
    named = {name for _, first, second in flagged for name in (first, second)}
    assert not {"untouched", "partial", "cheat-read-solution"} & named
    between = [p for p in flagged if p[1] != "(public solution)"]
    assert not between, f"two students flagged for what the public solution explains: {between}"


def test_the_reports_render_offline_with_their_figures_and_links(graded):
    found = {}
    with offline_page() as (page, requested):
        for name in ("report.html", "similarity.html"):
            page.goto((graded.out / name).as_uri(), wait_until="load")
            found[name] = page.evaluate(
                """() => ({
                  images: [...document.images].map(i => [i.naturalWidth, i.alt]),
                  links: [...document.links].map(a => a.getAttribute("href")),
                  ids: [...document.querySelectorAll("[id]")].map(e => e.id),
                  text: document.body.innerText,
                })"""
            )
            (BUILD / "screenshots").mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(BUILD / "screenshots" / name.replace(".html", ".png")))
    assert all(url.startswith("file://") for url in requested), requested
    figures = found["report.html"]["images"]
    assert len(figures) == 2 * len(assignments.names())  # a histogram and a bar chart each
    assert all(width > 0 and alt.strip() for width, alt in figures), figures
    assert "Causes of failure" in found["report.html"]["text"]
    assert "a reason to look, not proof" in found["similarity.html"]["text"]
    for name, page_found in found.items():
        for href in page_found["links"]:
            if href.startswith("#"):
                assert href[1:] in page_found["ids"], (name, href)
            else:
                target = graded.out / urllib.parse.unquote(href)
                assert target.is_file(), (name, href)
