"""The kernel that autograding runs a notebook in: ipykernel, isolated and capped.

:func:`install_kernelspec` writes, for one submission, the ``rnn-grader`` kernelspec that
nbgrader's autograde starts. The kernel runs ``kernel_child.py`` under bubblewrap with the
mounts, environment and caps of :mod:`autograder.isolation.policy`: it sees, read-only, only
the check API that the hidden tests import, ``rnnbook`` and the one ``checks.py`` of the
assignment being graded (no instructor notebook, no other submission). Its one writable folder
is the submission's private room, where its connection file and its Unix sockets live: nbgrader
talks to it over IPC (``transport = "ipc"``, see
:func:`autograder.pipeline.nbgrader_course.settings`), so the kernel needs no network at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.isolation import bubblewrap, policy, supervisor
from autograder.isolation.cgroups import Cgroup

GRADER_KERNEL = "rnn-grader"


def install_kernelspec(
    jupyter_path: Path,
    *,
    room: Path,
    checks: Path,
    isolated: bool,
    scratch: Path | None = None,
    report: Path | None = None,
    cgroup: Cgroup | None = None,
) -> None:
    """Write the ``rnn-grader`` kernelspec under ``jupyter_path/kernels`` for one submission.

    ``checks`` is a folder holding ``<assignment>/checks.py`` for the one assignment graded
    (the worker's copy): the hidden tests find it through ``AUTOGRADER_SOLUTIONS``. Isolated,
    the kernel runs under :mod:`autograder.isolation.supervisor` in ``cgroup`` (if any), with
    ``scratch`` as its ``/tmp``, and the supervisor's report goes to ``report``.
    """
    folder = Path(jupyter_path) / "kernels" / GRADER_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-P",  # not the script's folder on sys.path: the kernel imports nothing of the grader
        str(policy.KERNEL_SCRIPT),
        str(policy.KERNEL_MEMORY),
        str(policy.KERNEL_FILE_BYTES),
        str(policy.MAX_PROCESSES if isolated else 0),  # RLIMIT_NPROC counts per namespace
        "-f",
        "{connection_file}",
    ]
    if isolated:
        if scratch is None or report is None:
            raise ValueError("an isolated kernel needs a scratch folder and a report path")
        argv = bubblewrap.wrap(
            argv,
            room=room,
            scratch=scratch,
            read_only=policy.kernel_mounts(checks),
            environment=policy.kernel_environment(room, checks),
        )
        argv = supervisor.command(argv, report=report, watch=[room, scratch], cgroup=cgroup)
    spec = {
        "argv": argv,
        "env": {"AUTOGRADER_SOLUTIONS": str(Path(checks).resolve())},
        "display_name": "Python 3 (grading, isolated)",
        "language": "python",
        "interrupt_mode": "message",  # a signal to bwrap would not reach the kernel inside
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
