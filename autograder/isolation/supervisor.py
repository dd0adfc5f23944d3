"""The process between the grader and bubblewrap (standard library only): it starts the isolated
command in the submission's control group, watches what the submission writes and how many
processes it runs, stops it at the disk cap, and reports what it saw.

``python -P supervisor.py SETTINGS -- COMMAND...``, where SETTINGS is a JSON object:

- ``procs``: the ``cgroup.procs`` files the command enters before it starts (none without a
  control group, :mod:`autograder.isolation.cgroups`);
- ``watch``: the folders the submission may write (its room and scratch folder), whose bytes on
  disk and number of entries are measured every ``interval`` seconds (a tenth of it past half a
  cap), with the files its processes hold open that no folder shows (deleted, or ``memfd``);
- ``disk_bytes``, ``max_files``: past either, the command is killed (status ``disk_limit``);
- ``processes``: a count of processes and threads at or above it is the cap reached (status
  ``process_limit``; the cap itself is ``RLIMIT_NPROC`` or the control group's ``pids.max``);
- ``report``: the JSON file written with the peaks and the cap reached, if any;
- ``pass_fds``: descriptors handed on to the command;
- ``parent``: the PID of the grader process that starts this one, which it dies with.

The command also gets the read end of a lifeline on descriptor 200, whose write end only this
process holds (:mod:`autograder.isolation.lifeline`): what runs inside the sandbox ends with it.

The grader reads the report; nothing crosses from the submission to this process. It exits with
the command's exit status. It dies with the grader process that started it, and killed itself,
it takes the command with it, from before the command starts.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.isolation.cgroups import Cgroup


def disk_usage(folders: list[str], max_files: int) -> tuple[int, int, bool]:
    """Bytes allocated on disk and number of entries under ``folders`` (links not followed; the
    count stops a little past ``max_files``), and whether a folder was closed (mode 0).

    A closed folder is opened again (it belongs to this process's user, or this process is root);
    one that the submission closes again before it can be read counts as unread: the caller then
    looks again with the submission paused."""
    total, count, closed = 0, 0, False
    stack = list(folders)
    while stack and count <= max_files:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except PermissionError:
            closed = True
            try:
                os.chmod(folder, 0o700)
                entries = list(os.scandir(folder))
            except OSError:
                continue
        except OSError:
            continue
        for entry in entries:
            count += 1
            try:
                total += entry.stat(follow_symlinks=False).st_blocks * 512
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
            except OSError:
                continue
    return total, count, closed


def paused(pid: int) -> list[int]:
    """Stop ``pid`` and its descendants (SIGSTOP), new ones included; return them."""
    stopped: set[int] = set()
    for _ in range(5):
        fresh = set(process_tree(pid)) - stopped
        if not fresh:
            break
        for each in fresh:
            try:
                os.kill(each, signal.SIGSTOP)
            except OSError:
                pass
        stopped |= fresh
    return sorted(stopped)


def process_tree(pid: int) -> dict[int, int]:
    """``pid`` and all its descendants, each with its number of threads."""
    tree, stack = {}, [pid]
    while stack:
        current = stack.pop()
        try:
            threads = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        tree[current] = len(threads)
        for thread in threads:
            try:
                with open(f"/proc/{current}/task/{thread}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
            except OSError:
                continue
    return tree


def hidden_bytes(pids: list[int]) -> int:
    """Bytes of the files the processes hold open but that no folder shows: deleted files (write,
    keep open, unlink) and ``memfd`` files, which would otherwise escape the disk cap."""
    seen, total = set(), 0
    for pid in pids:
        try:
            descriptors = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in descriptors:
            path = f"/proc/{pid}/fd/{fd}"
            try:
                if not os.readlink(path).endswith(" (deleted)"):
                    continue
                status = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(status.st_mode) and (status.st_dev, status.st_ino) not in seen:
                seen.add((status.st_dev, status.st_ino))
                total += status.st_blocks * 512
    return total


class Watch:
    """What was seen of one command: the peaks, and the cap it reached, if any."""

    def __init__(self, settings: dict) -> None:
        self.settings = settings
        self.report = {"limit": None, "peak_disk_bytes": 0, "peak_files": 0, "peak_processes": 0}
        self.near = False  # past half a disk cap: look ten times as often

    def write(self) -> None:
        path = self.settings["report"]
        with open(path + ".tmp", "w") as handle:
            json.dump(self.report, handle)
        os.replace(path + ".tmp", path)

    def look(self, pid: int) -> bool:
        """Measure once; True when the command must be stopped (the disk cap)."""
        settings, report = self.settings, self.report
        tree = process_tree(pid)
        disk, files, closed = disk_usage(settings["watch"], settings["max_files"])
        if closed:  # a folder was closed: look again with nothing running that could close it
            stopped = paused(pid)
            try:
                disk, files, _ = disk_usage(settings["watch"], settings["max_files"])
            finally:
                for each in stopped:
                    try:
                        os.kill(each, signal.SIGCONT)
                    except OSError:
                        pass
        disk += hidden_bytes(list(tree))
        processes = sum(tree.values())
        keys = ("peak_disk_bytes", "peak_files", "peak_processes")
        before = [report[key] for key in keys]
        for key, value in zip(keys, (disk, files, processes), strict=True):
            report[key] = max(report[key], value)
        over_disk = disk > settings["disk_bytes"] or files > settings["max_files"]
        self.near = 2 * disk > settings["disk_bytes"] or 2 * files > settings["max_files"]
        if over_disk:
            report["limit"] = "disk_limit"
        elif processes >= settings["processes"] and report["limit"] is None:
            report["limit"] = "process_limit"
        if over_disk or before != [report[key] for key in keys]:
            self.write()
        return over_disk


def command(
    argv: list[str],
    *,
    report: Path,
    watch: list[Path],
    cgroup: Cgroup | None,
    pass_fds: tuple[int, ...] = (),
) -> list[str]:
    """``argv`` run under this supervisor with the caps of the isolation policy."""
    from autograder.isolation import policy

    settings = {
        "procs": cgroup.procs_files() if cgroup is not None else [],
        "watch": [str(folder) for folder in watch],
        "disk_bytes": policy.MAX_DISK_BYTES,
        "max_files": policy.MAX_FILES,
        "processes": policy.MAX_PROCESSES,
        "interval": policy.WATCH_SECONDS,
        "report": str(report),
        "pass_fds": list(pass_fds),
        "parent": os.getpid(),  # the process that starts the supervisor
    }
    return [sys.executable, "-P", __file__, json.dumps(settings), "--", *argv]


def read_report(path: Path) -> dict:
    """The supervisor's report at ``path`` (empty when it wrote none)."""
    try:
        report = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return report if isinstance(report, dict) else {}


PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies
LIFELINE_FD = 200  # autograder.isolation.lifeline.FD (this script imports nothing of the grader)


def die_with_parent(parent: int) -> None:
    """Be killed when the process ``parent`` that started this one dies. The supervisor dies
    with the grader (Jupyter starts a kernel in a session of its own, which a signal to the
    grader's process group does not reach), and its command with the supervisor."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the request could be made
        os._exit(1)


def main() -> None:
    settings = json.loads(sys.argv[1])
    die_with_parent(settings["parent"])
    command = sys.argv[sys.argv.index("--") + 1 :]

    supervisor = os.getpid()

    def before_exec() -> None:
        """In the child: die with this supervisor from before the command starts (bubblewrap's
        own --die-with-parent acts only once it runs), then enter the control group."""
        die_with_parent(supervisor)
        for procs in settings["procs"]:
            with open(procs, "w") as handle:
                handle.write(str(os.getpid()))

    watch = Watch(settings)
    watch.write()
    # The lifeline (autograder.isolation.lifeline): this process keeps the write end, never
    # written, and the command gets the read end on LIFELINE_FD; it ends when this one does.
    read_end, write_end = os.pipe()
    os.dup2(read_end, LIFELINE_FD)
    os.close(read_end)
    child = subprocess.Popen(
        command, pass_fds=[*settings["pass_fds"], LIFELINE_FD], preexec_fn=before_exec
    )
    os.close(LIFELINE_FD)

    def stop(signum: int, frame: object) -> None:
        child.kill()
        child.wait()
        watch.write()
        os._exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
    while child.poll() is None:
        if watch.look(child.pid):
            child.kill()
            break
        time.sleep(settings["interval"] / (10 if watch.near else 1))
    code = child.wait()
    watch.write()
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
