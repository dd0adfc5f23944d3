"""The allow-list sandbox (bubblewrap) that student code runs in: what it sees and can do.

Each test runs hostile code in the verification sandbox (:class:`SandboxStudent`, which uses
:mod:`autograder.isolation.bubblewrap` exactly as the grading kernel does) and asserts that it gains
and changes nothing. bubblewrap is required: these tests fail, not skip, where it cannot run.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, processes_with, wait_until

from autograder.isolation import bubblewrap
from autograder.isolation.sandbox import SandboxStudent


@pytest.fixture(scope="module", autouse=True)
def bubblewrap_works():
    reason = bubblewrap.problem()
    assert reason is None, f"these tests need bubblewrap: {reason}"


def run(code: str, **options) -> SandboxStudent:
    return SandboxStudent([code], **options)


def test_only_the_python_installation_is_visible():
    probe = (
        "import os\n"
        "top = sorted(os.listdir('/'))\n"
        f"repo = sorted(os.listdir({str(ROOT)!r})) if os.path.isdir({str(ROOT)!r}) else []\n"
        f"python = {[str(t) for _, t in bubblewrap.python_folders()]!r}\n"
        "tmp = sorted(f for root, _, files in os.walk('/tmp') for f in files\n"
        "             if not any(root.startswith(p) for p in python))\n"
        "home = os.listdir(os.environ['HOME'])\n"
        "env = sorted(os.environ)\n"
    )
    with run(probe) as s:
        allowed_top = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc"}
        allowed_top |= {"proc", "dev", "tmp"}
        allowed_top |= {target.parts[1] for _, target in bubblewrap.python_folders()}
        assert set(s.value("top")) <= allowed_top, s.value("top")
        # Of the repository only the virtual environment (the Python installation) is there.
        assert set(s.value("repo")) <= {".venv"}, s.value("repo")
        assert s.value("home") == []
        assert s.value("tmp") == ["lifeline.py", "sandbox_child.py", "wire.py"]  # its scripts
        assert "PYTHONPATH" not in s.value("env") and len(s.value("env")) < 12


@pytest.mark.slow
def test_a_search_of_the_file_system_finds_no_course_file():
    """Every readable notebook or Python file, read in full: none mentions a graded function."""
    search = (
        "import os\n"
        "found = []\n"
        "for root, dirs, files in os.walk('/'):\n"
        "    if root.startswith(('/proc', '/sys', '/dev')):\n"
        "        dirs[:] = []\n"
        "        continue\n"
        "    for name in files:\n"
        "        if name.endswith(('.ipynb', '.py', '.json', '.md')):\n"
        "            try:\n"
        "                text = open(os.path.join(root, name), 'rb').read()\n"
        "            except OSError:\n"
        "                continue\n"
        "            if b'rnn_step_forward' in text or b'attention_backward' in text:\n"
        "                found.append(os.path.join(root, name))\n"
    )
    with run(search, cell_seconds=120, call_timeout=120) as s:
        assert s.value("found") == []


def test_mounts_cannot_be_undone_or_made_writable(tmp_path):
    target = ROOT / "solutions" / "cells" / "checks.py"
    before = target.read_bytes()
    attack = (
        "import ctypes, os, subprocess\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "results = []\n"
        "for path in ['/', '/usr', '/tmp', os.getcwd()]:\n"
        "    results.append(libc.mount(None, path.encode(), None, 32 | 4096, None))\n"
        "    results.append(libc.umount2(path.encode(), 2))\n"
        "    results.append(subprocess.run(['mount', '-o', 'remount,bind,rw', path],\n"
        "                                  capture_output=True).returncode)\n"
        "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')][0].split()[1]\n"
        "try:\n"
        "    open('/usr/lib/os-release-written', 'w')\n"
        "    wrote = True\n"
        "except OSError:\n"
        "    wrote = False\n"
    )
    with run(attack) as s:
        assert all(code != 0 for code in s.value("results")), s.value("results")
        assert int(s.value("caps"), 16) == 0
        assert s.value("wrote") is False
    assert target.read_bytes() == before
    assert not Path("/usr/lib/os-release-written").exists()


def test_no_network_not_even_the_loopback():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    port = server.getsockname()[1]
    attack = (
        "import socket\n"
        "try:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
        "    reached = True\n"
        "except OSError:\n"
        "    reached = False\n"
    )
    with run(attack) as s:
        assert s.value("reached") is False
    with pytest.raises(socket.timeout):
        server.accept()
    server.close()


def test_no_other_process_is_visible():
    probe = "import os\npids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    with run(probe) as s:
        assert len(s.value("pids")) <= 3, s.value("pids")  # bwrap's init, python, maybe /proc/self


def test_the_sandbox_holds_the_lifeline_of_its_supervisor():
    probe = "import os, stat, threading\n"
    probe += "pipe = stat.S_ISFIFO(os.fstat(200).st_mode)\n"
    probe += "watched = any(t.name == 'lifeline' for t in threading.enumerate())\n"
    with run(probe) as s:
        assert s.value("pipe") is True and s.value("watched") is True


def orphans(marker: str) -> list[int]:
    return [pid for pid in processes_with(marker) if pid != os.getpid()]


def test_processes_it_starts_end_with_it():
    marker = f"orphan-test-{os.getpid()}"
    detach = (
        "import os, subprocess, sys\n"
        "for _ in range(3):\n"
        "    subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)',"
        f" {marker!r}], start_new_session=True)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(300)',"
        f" {marker!r}])\n"
        "    os._exit(0)\n"
    )
    with run(detach):
        wait_until(lambda: len(orphans(marker)) >= 4)
        assert len(orphans(marker)) == 4  # they did start
    wait_until(lambda: not orphans(marker))
    assert orphans(marker) == []


def test_killing_the_grader_kills_the_sandbox():
    marker = f"grader-death-{os.getpid()}"
    grader = (
        "from autograder.isolation.sandbox import SandboxStudent\n"
        f"s = SandboxStudent(['import subprocess, sys\\n"
        f'subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", '
        f'"{marker}"], start_new_session=True)\\n\'])\n'
        "print('ready', s.cell_errors, flush=True)\n"
        "import time; time.sleep(300)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", grader], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    ready = process.stdout.readline().strip()
    assert ready == "ready []", ready  # the cell that starts the process ran without an error
    assert wait_until(lambda: orphans(marker))  # it did start (failed once in CI: see above)
    process.kill()
    process.wait()
    wait_until(lambda: not orphans(marker))
    assert orphans(marker) == []


def test_a_missing_bubblewrap_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(bubblewrap.shutil, "which", lambda name: None)
    with pytest.raises(bubblewrap.IsolationUnavailable, match="apt-get install bubblewrap"):
        bubblewrap.wrap(["true"], room=Path("/tmp"), scratch=Path("/tmp"))
    with pytest.raises(bubblewrap.IsolationUnavailable, match="--no-isolation"):
        SandboxStudent(["x = 1"])


def test_grading_without_bubblewrap_stops_with_one_line(tmp_path, monkeypatch):
    """The command line refuses to grade unprotected unless told so, in one line."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (tmp_path / "submitted").mkdir()
    python = Path(sys.executable)
    env = {**os.environ, "PATH": f"{fake_bin}:{python.parent}"}  # no /usr/bin: no bwrap
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(tmp_path / "submitted")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "bubblewrap" in lines[0] and "--no-isolation" in lines[0], lines


def test_the_grading_kernel_sees_only_the_check_api_of_the_grader(tmp_path):
    """The kernel's own mounts and environment (its kernelspec's bubblewrap arguments), with a
    probe in place of ipykernel: of ``autograder/`` only the check API, and one checks.py."""
    from autograder.isolation.kernel import GRADER_KERNEL, install_kernelspec

    room, checks = tmp_path / "room", tmp_path / "checks"
    room.mkdir()
    (checks / "cells").mkdir(parents=True)
    (checks / "cells" / "checks.py").write_text((ROOT / "solutions/cells/checks.py").read_text())
    (tmp_path / "scratch").mkdir()
    install_kernelspec(
        tmp_path / "jupyter",
        room=room,
        checks=checks,
        isolated=True,
        scratch=tmp_path / "scratch",
        report=tmp_path / "limits.json",
    )
    spec = (tmp_path / "jupyter" / "kernels" / GRADER_KERNEL / "kernel.json").read_text()
    argv = json.loads(spec)["argv"]  # the supervisor, then bubblewrap: its last "--" is bwrap's
    probe = (
        "import json, os, importlib.util as u\n"
        f"package = {str(ROOT / 'autograder')!r}\n"
        "seen = sorted(os.path.relpath(os.path.join(r, f), package)\n"
        "              for r, _, files in os.walk(package) for f in files if f.endswith('.py'))\n"
        "from autograder.harness import run_check\n"
        "from autograder.checking.toolkit import compare\n"
        "import rnnbook\n"
        "checks = sorted(os.listdir(os.environ['AUTOGRADER_SOLUTIONS']))\n"
        "import stat\n"
        "lifeline = stat.S_ISFIFO(os.fstat(200).st_mode)  # the supervisor's, through bwrap\n"
        "print(json.dumps({'seen': seen, 'checks': checks, 'lifeline': lifeline,\n"
        "                  'pipeline': u.find_spec('autograder.pipeline') is not None}))\n"
    )
    command = [*argv[: len(argv) - argv[::-1].index("--")], sys.executable, "-c", probe]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    view = json.loads(result.stdout)
    check_api = {"__init__.py", "harness.py", "checking/__init__.py"}
    check_api |= {"checking/api.py", "checking/toolkit.py", "isolation/kernel_child.py"}
    check_api |= {"isolation/lifeline.py"}
    assert set(view["seen"]) == check_api, view["seen"]
    assert view["checks"] == ["cells"] and view["pipeline"] is False
    assert view["lifeline"] is True


@pytest.mark.slow
def test_a_virtual_environment_reached_through_a_link_grades(tmp_path, cells_notebooks):
    """``.venv -> /elsewhere/venv`` in a folder whose name has spaces: the grader started as
    ``<link>/bin/python`` mounts the environment where that command names it, and grades."""
    folder = tmp_path / "a course folder"
    folder.mkdir()
    link = folder / ".venv"
    link.symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    python = link / "bin" / Path(sys.executable).name
    submitted = folder / "submitted" / "ada lovelace" / "cells"
    submitted.mkdir(parents=True)
    (submitted / "cells.ipynb").write_text(json.dumps(cells_notebooks[1]))
    out = folder / "graded"
    result = subprocess.run(
        [str(python), "-m", "autograder", "grade", str(folder / "submitted"), "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    with (out / "grades.csv").open() as handle:
        row = next(row for row in csv.DictReader(handle) if row["assignment"] == "cells")
    assert row["student"] == "ada lovelace" and row["status"] == "ok", row
    assert float(row["score"]) == float(row["max_score"]) > 0, row
