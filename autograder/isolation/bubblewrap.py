"""Run untrusted code under bubblewrap (``bwrap``), seeing only an allow-list of folders.

Both processes that run a student's code use it: the Jupyter kernel that nbgrader's autograde
executes the notebook in (:mod:`autograder.isolation.kernel`) and the verification sandbox
(:mod:`autograder.isolation.sandbox`). What they see and may consume is the policy of
:mod:`autograder.isolation.policy`; this module enforces it. :func:`wrap` turns a command into
one that

- starts from an empty root: the Python installation and the system's libraries read-only,
  the folders or files the caller names read-only, two private folders writable (``room``, its
  home, and ``scratch``, seen as ``/tmp`` and ``/dev/shm``: on disk, never a tmpfs), a fresh
  ``/proc`` and a minimal, read-only ``/dev``; nothing else of the machine;
- runs in new user, PID, IPC, UTS, cgroup and network namespaces: it sees no other process and
  has no network at all (a kernel talks to its client over Unix sockets in its room);
- has no capabilities, so nothing can be mounted, re-mounted or un-mounted;
- is killed with every process it started when its parent (the grader) dies, and lives in a
  new session, so it cannot reach the grader's terminal;
- gets a clean environment: only the variables given.

bubblewrap is a small, widely used tool (Flatpak runs every application under it); Debian and
Ubuntu ship it as ``bubblewrap``.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from autograder.isolation import cgroups
from autograder.isolation.policy import SANDBOX_UID, SYSTEM_FILES, SYSTEM_FOLDERS

INSTALL_HINT = (
    "bubblewrap (bwrap) is needed to run student code isolated: install it "
    "(Debian/Ubuntu: `apt-get install bubblewrap`), or pass --no-isolation to grade trusted "
    "notebooks without it"
)


class IsolationUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces on this machine."""


def python_folders() -> list[tuple[Path, Path]]:
    """The folders of this Python installation, the virtual environment and its base, as
    ``(source, target)`` pairs: each at its real path and, when reached through a symbolic link
    (``.venv -> /elsewhere/venv``), also at the linked path that commands name it by."""
    named = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent.parent}
    named |= {Path(sys.executable).resolve().parent.parent}
    pairs = {(folder.resolve(), folder.absolute()) for folder in named}
    pairs |= {(folder.resolve(), folder.resolve()) for folder in named}
    return sorted(pairs, key=lambda pair: pair[1])  # a folder before what is inside it


def _system_arguments() -> list[str]:
    arguments: list[str] = []
    for folder in SYSTEM_FOLDERS:
        path = Path(folder)
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), folder]
        elif path.is_dir():
            arguments += ["--ro-bind", folder, folder]
    for name in SYSTEM_FILES:
        if Path(name).exists():
            arguments += ["--ro-bind", name, name]
    return arguments


def wrap(
    command: list[str],
    *,
    room: Path,
    scratch: Path,
    read_only: Iterable[Path | tuple[Path, Path]] = (),
    environment: dict[str, str] | None = None,
) -> list[str]:
    """``command`` run under bubblewrap, seeing the allow-list described in the module docstring.

    ``room`` is the writable working directory, ``scratch`` the writable ``/tmp`` and
    ``/dev/shm``. ``read_only`` adds folders or files, each at its own path or as a
    ``(source, target)`` pair.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise IsolationUnavailable(INSTALL_HINT)
    arguments = [
        bwrap,
        "--unshare-all",
        "--uid",
        str(SANDBOX_UID),
        "--gid",
        str(SANDBOX_UID),
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        *_system_arguments(),
        # Mount points first: a later mount inside /tmp stays visible, an earlier one would not.
        *("--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"),
        *("--bind", str(Path(scratch).resolve()), "/tmp"),
        *("--bind", str(Path(scratch).resolve()), "/dev/shm"),
    ]
    for source, target in python_folders():
        if not any(target.is_relative_to(system) for system in SYSTEM_FOLDERS):
            arguments += ["--ro-bind", str(source), str(target)]
    for item in read_only:
        source, target = item if isinstance(item, tuple) else (item, Path(item).resolve())
        arguments += ["--ro-bind", str(Path(source).resolve()), str(target)]
    room = Path(room).resolve()
    arguments += ["--bind", str(room), str(room), "--chdir", str(room)]
    for key, value in (environment or {}).items():
        arguments += ["--setenv", key, value]
    return [*arguments, "--", *command]


@functools.cache
def problem() -> str | None:
    """Why student code cannot be isolated and capped here (bubblewrap missing or refused, or a
    cap that cannot be enforced), or None when it can (probed once)."""
    if shutil.which("bwrap") is None:
        return INSTALL_HINT
    with tempfile.TemporaryDirectory(prefix="rnn-bwrap-probe-") as room:
        probe = wrap([sys.executable, "-c", "import numpy"], room=Path(room), scratch=Path(room))
        try:
            result = subprocess.run(probe, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bubblewrap could not start a process: {error}"
    if result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap cannot create its namespaces on this machine ({detail})"
    return cgroups.problem()


def require() -> None:
    """Raise :class:`IsolationUnavailable` (with how to fix it) unless bubblewrap works here."""
    reason = problem()
    if reason is not None:
        raise IsolationUnavailable(reason)
