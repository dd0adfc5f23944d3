"""Grading on a Dask cluster (``grade --scheduler ADDRESS``), with real components.

A ``distributed.LocalCluster`` of two worker processes on loopback runs in its own process,
from a copy of the ``autograder`` and ``rnnbook`` packages alone: the workers have no
``solutions/``, no course and no submission on their disk, so every instructor file must come
with the task. The cluster's scheduler gives up on a task the first time its worker dies
(``allowed-failures`` 0), so a killed worker is survived by the grader's own retry.

- A worker killed in the middle of a task loses nothing: every submission has its row, and
  the grades equal those of a local run, student by student, with the SQLite gradebook and
  with PostgreSQL (when the server is installed; CI installs it).
- A worker without bubblewrap refuses the task: one clear line, exit status 2, no grade.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from support import ROOT, autograder_cli, read_grades

pytestmark = pytest.mark.slow
ASSIGNMENT = "cells"
CLUSTER = """
import sys

import dask
from distributed import LocalCluster

dask.config.set({"distributed.scheduler.allowed-failures": 0})
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           scheduler_port=0, dashboard_address=None, memory_limit=0)
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()  # until the test closes our stdin
    cluster.close()
"""


@pytest.fixture(scope="module")
def worker_code(tmp_path_factory) -> Path:
    """The packages a worker machine has installed, and nothing of the course."""
    code = tmp_path_factory.mktemp("worker-machine")
    for package in ("autograder", "rnnbook"):
        shutil.copytree(
            ROOT / package, code / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    (code / "cluster.py").write_text(CLUSTER)
    return code


@contextmanager
def cluster(code: Path, path: str | None = None):
    """A LocalCluster run from ``code``; yields its scheduler's address."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    if path is not None:
        env["PATH"] = path
    process = subprocess.Popen(
        [sys.executable, str(code / "cluster.py")],
        cwd=code,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        address = process.stdout.readline().strip()
        assert address.startswith("tcp://127.0.0.1:"), f"the cluster did not start: {address!r}"
        yield address
    finally:
        process.stdin.close()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def small_class(tmp_path_factory) -> Path:
    """Eight submissions of `cells`: right, wrong in several ways, untouched, and copies."""
    examples = tmp_path_factory.mktemp("examples")
    autograder_cli("examples", "--assignment", ASSIGNMENT, "--out", str(examples))
    submitted = tmp_path_factory.mktemp("submitted")
    mistakes = sorted(p.name for p in examples.glob(f"mistake-{ASSIGNMENT}-*"))[:3]
    for name in ["solution", "partial", "untouched", *mistakes]:
        shutil.copytree(examples / name, submitted / name)
    for copy in ("solution-2", "solution-3"):
        shutil.copytree(examples / "solution", submitted / copy)
    return submitted


def grade_command(submitted: Path, out: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(submitted),
        "--out",
        str(out),
        "--assignment",
        ASSIGNMENT,
        "--cell-timeout",
        "10",
        *options,
    ]


@pytest.fixture(scope="module")
def local_grades(small_class, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("local")
    autograder_cli(*grade_command(small_class, out, "--workers", "2")[3:])
    return read_grades(out)


def kill_a_busy_worker(address: str, deadline: float) -> int:
    """SIGKILL a worker process that is grading; its PID."""
    import distributed

    with distributed.Client(address, timeout="20s") as client:
        pids = client.run(os.getpid)
        while time.monotonic() < deadline:
            busy = [worker for worker, keys in client.processing().items() if keys]
            if busy:
                os.kill(pids[busy[0]], signal.SIGKILL)
                return pids[busy[0]]
            time.sleep(0.1)
    raise AssertionError("no worker was busy grading")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_killed_worker_loses_nothing(
    database, request, worker_code, small_class, local_grades, tmp_path
):
    options = []
    if database == "postgresql":
        options = ["--db", request.getfixturevalue("postgres").url()]
    out = tmp_path / "out"
    with cluster(worker_code) as address:
        import distributed

        with distributed.Client(address, timeout="20s") as client:
            seen = client.run(lambda: __import__("autograder.assignments").assignments.REPO)
        assert set(map(Path, seen.values())) == {worker_code}, "workers use the course's copy"
        assert not (worker_code / "solutions").exists()

        command = grade_command(small_class, out, "--scheduler", address, *options)
        grading = subprocess.Popen(
            command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 300
        while not list((out / "records").glob("*/*.json")) and time.monotonic() < deadline:
            time.sleep(0.2)
        killed = kill_a_busy_worker(address, deadline)
        stdout, stderr = grading.communicate(timeout=600)
        with distributed.Client(address, timeout="20s") as client:
            assert killed not in client.run(os.getpid).values()
    assert grading.returncode == 0, stdout[-3000:] + stderr[-3000:]
    assert "graded 8 notebook(s)" in stdout
    cluster_grades = read_grades(out)
    assert sorted(cluster_grades) == sorted(local_grades)
    for key, row in local_grades.items():
        assert cluster_grades[key] == row, key
    assert any(float(row["score"]) == float(row["max_score"]) for row in local_grades.values())
    feedback = out / "feedback" / "solution" / f"{ASSIGNMENT}.html"
    assert "Grading summary" in feedback.read_text()
    assert (out / "course" / "autograded" / "solution" / ASSIGNMENT).is_dir()


def test_a_worker_without_bubblewrap_refuses(worker_code, small_class, tmp_path):
    no_bwrap = str(Path(sys.executable).parent)  # python, but no /usr/bin: no bwrap
    out = tmp_path / "out"
    with cluster(worker_code, path=no_bwrap) as address:
        result = subprocess.run(
            grade_command(small_class, out, "--scheduler", address),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert "bubblewrap" in last and address in last, last
    assert not list((out / "records").glob("*/*.json")), "a submission was graded unprotected"
