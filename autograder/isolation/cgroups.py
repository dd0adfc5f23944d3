"""A control group per submission, where the machine lets the grader make one: it caps the
processes and the memory of everything the submission starts, together.

Two limits of the isolation policy need it when the grader runs as root. ``RLIMIT_NPROC`` does
not apply to root, and bubblewrap's user namespace maps the sandbox back to root. A file written
to a tmpfs or to a ``memfd`` is memory that no process's ``RLIMIT_AS`` counts, whereas a memory
cgroup charges it to the group of the process that wrote it.

Both cgroup versions are supported: v1 (a hierarchy per controller, as in many containers) and
v2 (one unified hierarchy). The group is made under the grader's own group (v1), or at the root of
the hierarchy or under the grader's own group (v2, where a group that holds processes cannot also
hold groups with controllers). Where none can be made (an ordinary user without a delegated
subtree), :func:`create` returns None: the caller falls back to ``RLIMIT_NPROC``, which does apply
to an ordinary user, and counts per user namespace (Linux 5.14 and later), so per sandbox.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CONTROLLERS = ("pids", "memory")


def _mounts() -> dict[str, tuple[int, Path]]:
    """controller -> (cgroup version, mount point) of this machine's hierarchies."""
    found: dict[str, tuple[int, Path]] = {}
    unified = None
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields = line.split()
        tail = fields[fields.index("-") + 1 :]
        fstype, options = tail[0], tail[2].split(",")
        if fstype == "cgroup":
            for controller in CONTROLLERS:
                if controller in options:
                    found[controller] = (1, Path(fields[4]))
        elif fstype == "cgroup2":
            unified = Path(fields[4])
    if unified is not None:
        available = (unified / "cgroup.controllers").read_text().split()
        for controller in CONTROLLERS:
            if controller in available and controller not in found:
                found[controller] = (2, unified)
    return found


def _own_path(version: int, controller: str) -> str:
    """The grader's own group in the hierarchy of ``controller``, from /proc/self/cgroup."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        number, names, path = line.split(":", 2)
        if (version == 2 and number == "0") or controller in names.split(","):
            return path.lstrip("/")
    return ""


def _make(version: int, mount: Path, controller: str, name: str) -> Path:
    """Make the group ``name`` for ``controller``; raise OSError where the machine refuses."""
    if version == 1:
        folder = mount / _own_path(1, controller) / name
        folder.mkdir()
        return folder
    errors: list[OSError] = []
    for parent in (mount, mount / _own_path(2, controller)):
        try:
            (parent / "cgroup.subtree_control").write_text(f"+{controller}")
            folder = parent / name
            folder.mkdir(exist_ok=True)
            return folder
        except OSError as error:
            errors.append(error)
    raise errors[-1]


@dataclass
class Cgroup:
    """One submission's control group: ``folders`` maps each controller to its folder."""

    version: int
    folders: dict[str, Path]

    def procs_files(self) -> list[str]:
        """The files a process writes its PID to, to enter the group (once per folder)."""
        return sorted({str(folder / "cgroup.procs") for folder in self.folders.values()})

    def _read(self, controller: str, name: str) -> str:
        try:
            return (self.folders[controller] / name).read_text()
        except (OSError, KeyError):
            return ""

    def _count(self, controller: str, name: str, key: str) -> int:
        for line in self._read(controller, name).splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == key:
                return int(parts[1])
        return 0

    def limits_hit(self) -> list[str]:
        """The caps the group's processes ran into: ``process_limit``, ``memory_limit``."""
        hit = []
        if self._count("pids", "pids.events", "max"):
            hit.append("process_limit")
        # Only a process killed counts: reaching the limit also reclaims page cache, which
        # writing files fills, and that is no memory exhausted.
        events = "memory.oom_control" if self.version == 1 else "memory.events"
        if self._count("memory", events, "oom_kill"):
            hit.append("memory_limit")
        return hit

    def peak_processes(self) -> int | None:
        """The most processes and threads the group held at once, where the kernel tells."""
        text = self._read("pids", "pids.peak").strip()
        return int(text) if text.isdigit() else None

    def remove(self) -> None:
        """Kill what is left in the group, then remove it (safe to call twice)."""
        for folder in self.folders.values():
            for _ in range(500):  # a process may take a moment to die, and its group with it
                try:
                    for pid in (folder / "cgroup.procs").read_text().split():
                        os.kill(int(pid), signal.SIGKILL)
                    folder.rmdir()
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while a process or thread is still exiting
                    time.sleep(0.01)
                    continue
                break


PREFIX = "rnn-grading-"  # then the PID of the grader process that made the group


def _sweep(mounts: dict[str, tuple[int, Path]]) -> None:
    """Remove the empty groups of graders that died before removing theirs (killed, say)."""
    for controller, (version, mount) in mounts.items():
        for parent in {mount, mount / _own_path(version, controller)}:
            for folder in parent.glob(f"{PREFIX}*"):
                pid = folder.name[len(PREFIX) :].split("-")[0]
                if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                    try:
                        folder.rmdir()  # refused while a process is still in it
                    except OSError:
                        pass


def create(processes: int, memory_bytes: int) -> Cgroup | None:
    """A new group capped at ``processes`` tasks and ``memory_bytes`` (tmpfs and memfd included),
    or None where this machine does not let the grader make one."""
    try:
        mounts = _mounts()
    except (OSError, ValueError, IndexError):
        return None
    if "pids" not in mounts:
        return None
    name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
    _sweep(mounts)
    folders: dict[str, Path] = {}
    cgroup = Cgroup(mounts["pids"][0], folders)
    try:
        for controller in CONTROLLERS:
            if controller not in mounts:
                continue
            version, mount = mounts[controller]
            folder = _make(version, mount, controller, name)
            folders[controller] = folder
            if controller == "pids":
                (folder / "pids.max").write_text(str(processes))
            elif version == 1:
                (folder / "memory.limit_in_bytes").write_text(str(memory_bytes))
            else:
                (folder / "memory.max").write_text(str(memory_bytes))
                (folder / "memory.swap.max").write_text("0")
    except OSError:
        cgroup.remove()
        return None
    return cgroup


def problem() -> str | None:
    """Why the process cap cannot be enforced here, or None when it can (one line).

    As an ordinary user ``RLIMIT_NPROC`` enforces it; as root only a control group can.
    """
    probe = create(1, 1 << 30)
    if os.geteuid() != 0 and probe is None:
        release = re.match(r"(\d+)\.(\d+)", os.uname().release)
        if release is None or tuple(map(int, release.groups())) < (5, 14):
            return (
                "this Linux is older than 5.14, where RLIMIT_NPROC counts one sandbox's "
                "processes only, and the grader cannot create a control group (cgroup): the "
                "number of processes a submission starts cannot be capped"
            )
        return None
    if probe is None:
        return (
            "the grader runs as root but cannot create a control group (cgroup), so the number "
            "of processes a submission starts cannot be capped: run it as an ordinary user, or "
            "give it a writable cgroup hierarchy"
        )
    probe.remove()
    return None


def limits_seen(report: Path, cgroup: Cgroup | None) -> dict:
    """The supervisor's report at ``report`` with the caps ``cgroup`` saw reached added:
    ``{"limits": [...], "peak_disk_bytes": ..., "peak_files": ..., "peak_processes": ...}``."""
    from autograder.isolation.supervisor import read_report

    seen = read_report(report)
    limits = [seen["limit"]] if seen.get("limit") else []
    if cgroup is not None:
        limits += cgroup.limits_hit()
        peak = cgroup.peak_processes()
        if peak:
            seen["peak_processes"] = max(peak, seen.get("peak_processes", 0))
    seen.pop("limit", None)
    return {**seen, "limits": sorted(set(limits))}
