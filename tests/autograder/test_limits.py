"""The caps on what a submission can consume: processes, disk, ``/tmp``, and the supervisor and
control groups that enforce them (:mod:`autograder.isolation.supervisor`,
:mod:`autograder.isolation.cgroups`).

Every hostile program here is bounded, so that a cap that failed could not harm the machine: at
most a few hundred processes, at most 1 GiB on disk.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from support import ROOT, processes_with, wait_until

from autograder.isolation import cgroups, lifeline, policy, supervisor
from autograder.isolation.sandbox import SandboxBroken, SandboxStudent

SUPERVISOR = Path(supervisor.__file__)
MiB = 1024**2
NOBODY = 65534  # an ordinary user that every Linux has


def small_caps(watch: Path, report: Path, **caps) -> dict:
    """Supervisor settings with small caps, watching ``watch``, started by this process."""
    return {
        "procs": [],
        "watch": [str(watch)],
        "disk_bytes": 8 * MiB,
        "max_files": 50,
        "processes": 20,
        "interval": 0.01,
        "report": str(report),
        "pass_fds": [],
        "parent": os.getpid(),
        **caps,
    }


def supervise(tmp_path: Path, code: str, **caps) -> tuple[int, dict]:
    """Run ``python -c code`` under the supervisor with small caps (no bubblewrap); return its
    exit status and report."""
    room = tmp_path / "room"
    room.mkdir(exist_ok=True)
    settings = small_caps(room, tmp_path / "report.json", **caps)
    command = [sys.executable, "-P", str(SUPERVISOR), json.dumps(settings), "--"]
    command += [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=room, capture_output=True, timeout=60)
    return done.returncode, json.loads((tmp_path / "report.json").read_text())


# -- the supervisor alone ------------------------------------------------------------------------
# Each writer that reaches the cap pauses 2 ms per MiB, as a program that computes what it writes
# would: one writing at full speed outruns the looks of a supervisor that a busy machine (the
# suite runs on every core) schedules late, and the bound below (the cap plus what one look
# missed) would measure the scheduler, not the supervisor.
WRITERS = {  # case: (code, the cap it reaches or None)
    "a few small files": ("for i in range(3): open(f'f{i}', 'wb').write(bytes(1000))", None),
    "many MiB": (
        "import time\nfor i in range(64):\n"
        "    open(f'f{i}', 'wb').write(bytes(1 << 20)); time.sleep(0.002)",
        "disk_limit",
    ),
    "many empty files": (
        "import time\nfor i in range(500):\n    open(f'f{i}', 'w').close(); time.sleep(0.001)",
        "disk_limit",
    ),
    "a sparse file": ("f = open('s', 'wb'); f.seek(1 << 30); f.write(b'x')", None),
    "deleted files kept open": (
        "import os, time\nkept = []\nfor i in range(64):\n"
        "    f = open(f'f{i}', 'wb'); f.write(bytes(1 << 20)); f.flush(); os.unlink(f'f{i}')\n"
        "    kept.append(f); time.sleep(0.002)",
        "disk_limit",
    ),
    "memfd files": (
        "import os, time\nkept = []\nfor i in range(64):\n"
        "    fd = os.memfd_create(f'm{i}'); os.write(fd, bytes(1 << 20))\n"
        "    kept.append(fd); time.sleep(0.002)",
        "disk_limit",
    ),
    "a folder closed before it is filled": (  # open only while its files are created, empty
        "import os, time\nos.mkdir('d')\n"
        "files = [open(f'd/f{i}', 'wb') for i in range(64)]\nos.chmod('d', 0)\n"
        "for f in files:\n    f.write(bytes(1 << 20)); f.flush(); time.sleep(0.002)\n"
        "time.sleep(1)",
        "disk_limit",
    ),
}


@pytest.mark.parametrize("case", WRITERS)
def test_the_supervisor_stops_a_writer_past_the_disk_cap_only(tmp_path, case):
    code, cap = WRITERS[case]
    status, report = supervise(tmp_path, code)
    assert report["limit"] == cap, report
    if cap is None:
        assert status == 0 and report["peak_disk_bytes"] < 8 * MiB
    else:
        assert status != 0  # killed
        assert report["peak_disk_bytes"] < 2 * 8 * MiB  # the cap, plus what one look missed
        assert report["peak_files"] < 50 + 20


def test_a_folder_closed_by_an_ordinary_user_is_still_measured():
    """As an ordinary user the supervisor is the submission's own user, not root: a folder the
    submission closes (mode 0) must be opened again, not skipped. (Run as ``nobody`` when the
    tests run as root, with the system's Python: the supervisor needs the standard library.)"""
    root = os.geteuid() == 0
    work = Path(tempfile.mkdtemp(prefix="rnn-closed-", dir="/var/tmp"))
    try:
        work.chmod(0o755)
        room = work / "room"
        room.mkdir()
        script = work / "supervisor.py"
        script.write_text(SUPERVISOR.read_text())
        if root:
            os.chown(room, NOBODY, NOBODY)
            os.chown(work, NOBODY, NOBODY)
        code, cap = WRITERS["a folder closed before it is filled"]
        settings = small_caps(room, work / "report.json")
        python = "/usr/bin/python3" if root else sys.executable
        drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        command = [python, "-P", str(script), json.dumps(settings), "--", python, "-c", code]
        subprocess.run(
            [*drop, *command] if root else command, cwd=room, capture_output=True, timeout=60
        )
        assert json.loads((work / "report.json").read_text())["limit"] == cap
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)


def test_the_supervisor_counts_processes_and_threads_of_the_whole_tree(tmp_path):
    code = (
        "import subprocess, sys, threading, time\n"
        "threads = [threading.Thread(target=time.sleep, args=(1,)) for _ in range(5)]\n"
        "[t.start() for t in threads]\n"
        "children = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(1)'])\n"
        "            for _ in range(3)]\n"
        "[c.wait() for c in children]\n"
    )
    status, report = supervise(tmp_path, code, processes=100)
    assert status == 0 and report["limit"] is None
    assert 1 + 5 + 3 <= report["peak_processes"] <= 1 + 5 + 3 + 2, report
    _, report = supervise(tmp_path, code, processes=6)
    assert report["limit"] == "process_limit"


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.3, 1.0])
def test_the_supervisor_and_its_command_die_with_the_grader(tmp_path, delay):
    """Jupyter starts a kernel in a session of its own: killing the grader's process group does
    not reach it, so the supervisor must die with the process that started it, and its command
    with it, even one killed as it starts (before bubblewrap's --die-with-parent could act): the
    command here never asks to die with its parent, and the grader is killed at moments spread
    over the supervisor's start-up."""
    marker = f"rnn-supervised-{os.getpid()}-{delay}"
    settings = small_caps(tmp_path, tmp_path / "report.json")  # "parent": set by the grader
    supervised = [str(SUPERVISOR), "--", sys.executable, "-c", "import time; time.sleep(60)"]
    grader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import json, os, subprocess, sys, time\n"
            f"settings = {{**{settings!r}, 'parent': os.getpid()}}\n"
            f"argv = {supervised!r} + [{marker!r}]\n"
            "argv[1:1] = [json.dumps(settings)]\n"
            "subprocess.Popen([sys.executable, '-P', *argv], start_new_session=True)\n"
            "time.sleep(60)\n",
        ]
    )
    deadline = time.monotonic() + 30
    if delay >= 1.0:  # both started: the ordinary case
        while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(processes_with(marker)) == 2, "the supervisor and its command did not start"
    else:
        while not processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(delay)
    grader.kill()
    grader.wait()
    wait_until(lambda: not processes_with(marker))
    assert processes_with(marker) == []


def test_what_the_command_starts_ends_with_the_supervisor_through_the_lifeline(tmp_path):
    """A grader killed in the moment a sandbox starts can leave bubblewrap's inner process, the
    sandbox's first, running: it asked to die with the outer one too late. Here the command starts
    a process that nothing else kills either (no death signal, reparented once its parent dies)
    and holds the lifeline, as the kernel and the verification sandbox do: killing the
    supervisor must end it."""
    marker = f"rnn-lifeline-{os.getpid()}"
    ready = tmp_path / "ready"
    inside = (
        f"import sys, time; sys.path.insert(0, {str(SUPERVISOR.parent)!r}); import lifeline\n"
        f"assert lifeline.hold(); open({str(ready)!r}, 'w').close(); time.sleep(60)"
    )
    starter = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {inside!r}, {marker!r}], pass_fds=(200,))\n"
        "time.sleep(60)"
    )
    settings = small_caps(tmp_path, tmp_path / "report.json")
    command = [sys.executable, "-P", str(SUPERVISOR), json.dumps(settings), "--"]
    supervisor_process = subprocess.Popen([*command, sys.executable, "-c", starter])
    wait_until(ready.exists, seconds=30)
    assert len(processes_with(marker)) == 1, "the process inside did not start"
    supervisor_process.kill()
    supervisor_process.wait()
    wait_until(lambda: not processes_with(marker))
    assert processes_with(marker) == []


def test_outside_the_supervisor_there_is_no_lifeline_to_hold():
    assert lifeline.hold() is False  # pytest runs under no supervisor: nothing is watched


def test_the_supervisor_passes_on_the_exit_status(tmp_path):
    assert supervise(tmp_path, "raise SystemExit(3)")[0] == 3


# -- control groups ------------------------------------------------------------------------------
def test_a_control_group_caps_processes_where_one_can_be_made():
    group = cgroups.create(processes=8, memory_bytes=256 * MiB)
    if os.geteuid() != 0:
        assert group is None or group.procs_files()  # an ordinary user: RLIMIT_NPROC instead
        return
    assert group is not None, "as root on this machine a control group must be possible"
    try:
        code = (
            "import subprocess\nstarted = []\n"
            "try:\n"
            "    for _ in range(40):\n"
            "        started.append(subprocess.Popen(['sleep', '5']))\n"
            "except OSError:\n    pass\n"
            "print(len(started))\n"
            "[p.kill() for p in started]\n"
        )

        def enter() -> None:
            for procs in group.procs_files():
                Path(procs).write_text(str(os.getpid()))

        done = subprocess.run(
            [sys.executable, "-c", code], preexec_fn=enter, capture_output=True, text=True
        )
        assert int(done.stdout) < 8, done.stdout  # the python itself is one of the 8
        assert "process_limit" in group.limits_hit()
        assert group.peak_processes() in (None, 8)
    finally:
        group.remove()
    assert not any(folder.exists() for folder in group.folders.values())


def test_the_empty_groups_of_a_grader_that_died_are_removed():
    if os.geteuid() != 0:
        pytest.skip("an ordinary user here makes no control group")
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = cgroups.create(processes=8, memory_bytes=256 * MiB)
    assert stale is not None
    renamed = {}
    for controller, folder in stale.folders.items():
        target = folder.with_name(f"{cgroups.PREFIX}{gone.pid}-stale")
        folder.rename(target)
        renamed[controller] = target
    fresh = cgroups.create(processes=8, memory_bytes=256 * MiB)
    try:
        assert not any(folder.exists() for folder in renamed.values())
    finally:
        fresh.remove()
        cgroups.Cgroup(stale.version, renamed).remove()


# -- the sandbox, isolated: caps and where its files go ------------------------------------------
def test_a_process_flood_in_the_sandbox_stops_at_the_cap():
    flood = (
        "import subprocess\nstarted, error = [], None\n"
        "try:\n"
        "    for _ in range(400):\n"
        "        started.append(subprocess.Popen(['sleep', '20']))\n"
        "except OSError as e:\n    error = str(e)\n"
        "count = len(started)\n"
    )
    with SandboxStudent([flood]) as student:
        count = student.value("count")
    assert 0 < count < policy.MAX_PROCESSES
    assert student.usage["limits"] == ["process_limit"]
    assert student.usage["peak_processes"] <= policy.MAX_PROCESSES + 2  # bubblewrap's own two


@pytest.mark.parametrize("folder", [".", "/tmp", "/dev/shm"])
def test_files_written_anywhere_writable_count_against_the_disk_cap(folder):
    filler = (
        "for i in range(1024):\n"
        f"    with open('{folder}/filler-%d' % i, 'wb') as handle:\n"
        "        handle.write(bytes(1 << 20))\n"
    )
    began = time.monotonic()
    with pytest.raises(SandboxBroken, match="wrote more than 512 MiB") as caught:
        SandboxStudent([filler])
    assert time.monotonic() - began < 30
    assert "stopped" in str(caught.value)


def test_dev_is_read_only_but_its_devices_work():
    code = (
        "import os\n"
        "try:\n    open('/dev/new', 'w')\n    created = True\n"
        "except OSError:\n    created = False\n"
        "open('/dev/null', 'w').write('x')\n"
        "zeros = list(open('/dev/zero', 'rb').read(4))\n"
    )
    with SandboxStudent([code]) as student:
        assert student.value("created") is False
        assert student.value("zeros") == [0, 0, 0, 0]


# -- a whole class, graded by an ordinary user -------------------------------------------------


def reachable_by_anyone(paths: list[Path], scratch: Path) -> list[str]:
    """Shell lines that, in a private mount namespace, make each of ``paths`` reachable by any
    user without changing the machine: a folder closed to others on the way (``/root``, mode
    0700, holds pyenv's Python) is covered by an open tmpfs holding only the one entry needed."""
    lines, done = [], set()
    for path in paths:
        for folder in reversed(path.parents):
            child = path.parts[len(folder.parts)] if len(path.parts) > len(folder.parts) else None
            if child is None or folder in done or folder.stat().st_mode & 0o001:
                continue
            done.add(folder)
            keep = scratch / f"keep-{len(done)}"
            keep.mkdir()
            lines += [
                f"mount --bind '{folder / child}' '{keep}'",
                f"mount -t tmpfs -o mode=0755 tmpfs '{folder}'",
                f"mkdir '{folder / child}'",
                f"mount --bind '{keep}' '{folder / child}'",
            ]
    return lines


@pytest.mark.slow
def test_the_caps_hold_for_a_grader_run_as_an_ordinary_user(cells_notebooks):
    """The exhaustion examples and a bystander, graded by an ordinary user (``nobody`` through
    setpriv, when the tests run as root): RLIMIT_NPROC then caps the processes, per sandbox."""
    from autograder.authoring.examples import EXHAUSTION, _insert_code

    work = Path(tempfile.mkdtemp(prefix="rnn-ordinary-user-", dir="/var/tmp"))
    try:
        work.chmod(0o755)
        solved = cells_notebooks[1]
        notebooks = {"bystander": solved}
        for name, (_, code) in EXHAUSTION.items():
            notebooks[name] = _insert_code(solved, code, after=len(solved["cells"]))
        for name, notebook in notebooks.items():
            folder = work / "submitted" / name / "cells"
            folder.mkdir(parents=True)
            (folder / "cells.ipynb").write_text(json.dumps(notebook))
        (work / "home").mkdir()
        grade = [sys.executable, "-m", "autograder", "grade", str(work / "submitted")]
        grade += ["--out", str(work / "out"), "--cell-timeout", "10"]
        environment = {**os.environ, "HOME": str(work / "home")}
        if os.geteuid() == 0:
            subprocess.run(["chmod", "-R", "a+rX", str(work)], check=True)
            os.chown(work / "home", NOBODY, NOBODY)
            (work / "out").mkdir()
            os.chown(work / "out", NOBODY, NOBODY)
            (work / "mounts").mkdir()
            repo = ROOT
            needed = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), repo, work]
            script = reachable_by_anyone(needed, work / "mounts")
            drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
            drop += ["--inh-caps=-all", "--bounding-set=-all"]
            script.append('exec "$@"')
            grade = ["unshare", "--mount", "sh", "-c", "\n".join(script), "sh", *drop, *grade]
        done = subprocess.run(
            grade,
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        logs = "".join(log.read_text()[-3000:] for log in (work / "out").glob("logs/*"))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:] + logs
        with (work / "out" / "grades.csv").open() as handle:
            rows = {r["student"]: r for r in csv.DictReader(handle) if r["assignment"] == "cells"}
        assert rows["bystander"]["status"] == "ok"
        assert float(rows["bystander"]["score"]) == float(rows["bystander"]["max_score"])
        for name, (status, _) in EXHAUSTION.items():
            assert status in rows[name]["status"].split(";"), rows[name]
        records = [json.loads(p.read_text()) for p in (work / "out" / "records").rglob("*.json")]
        usage = [record["usage"] for record in records if record["usage"]]
        assert len(usage) == len(notebooks)
        assert all(u["peak_processes"] <= policy.MAX_PROCESSES + 2 for u in usage)
        assert all(u["peak_disk_bytes"] <= policy.MAX_DISK_BYTES + 64 * MiB for u in usage)
        owners = {p.stat().st_uid for p in (work / "out").rglob("*")}
        assert owners == {os.geteuid() if os.geteuid() != 0 else NOBODY}  # it ran as that user
    finally:
        subprocess.run(["rm", "-rf", str(work)], check=False)


CANNOT = {  # case: (effective uid, kernel release, a control group possible, told)
    "root, a control group": (0, "6.1.0", True, None),
    "root, none": (0, "6.1.0", False, "runs as root but cannot create a control group"),
    "a user on Linux 5.14": (1000, "5.14.0-1", False, None),
    "a user on Linux 5.10": (1000, "5.10.0-9", False, "older than 5.14"),
    "a user on Linux 5.10, a control group": (1000, "5.10.0-9", True, None),
}


@pytest.mark.parametrize("case", CANNOT)
def test_a_machine_that_cannot_cap_processes_is_told_in_one_line(monkeypatch, case):
    uid, release, possible, told = CANNOT[case]
    group = cgroups.Cgroup(1, {})
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: uid)
    monkeypatch.setattr(cgroups.os, "uname", lambda: os.uname_result(("", "", release, "", "")))
    monkeypatch.setattr(cgroups, "create", lambda *a: group if possible else None)
    reason = cgroups.problem()
    if told is None:
        assert reason is None
    else:
        assert told in reason and "\n" not in reason


def test_the_limits_students_and_instructors_read_are_the_policy():
    students = (ROOT / "docs" / "students.md").read_text()
    for figure in (
        f"{policy.CELL_SECONDS} s per cell",
        f"{policy.KERNEL_MEMORY // policy.GiB} GiB of\nmemory",
        f"{policy.MAX_PROCESSES} processes and threads",
        f"{policy.MAX_DISK_BYTES // MiB} MiB on disk",
        f"files over {policy.KERNEL_FILE_BYTES // MiB} MiB",
    ):
        assert figure in students, figure
    security = (ROOT / "docs" / "security.md").read_text()
    assert f"every {policy.WATCH_SECONDS} s" in security
    assert f"| {policy.MAX_PROCESSES} | {policy.MAX_PROCESSES} |" in security
