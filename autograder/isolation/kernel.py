"""The kernel that autograding runs a notebook in: ipykernel, isolated and memory-capped.

:func:`install_kernelspec` writes, for one submission, the ``rnn-grader`` kernelspec that
nbgrader's autograde starts. The kernel runs under bubblewrap (:mod:`autograder.isolation`)
and sees, read-only, only what the hidden tests import: the ``autograder`` and ``rnnbook``
packages and a folder holding the one ``checks.py`` of the assignment being graded (no
instructor notebook, no other submission). Its one writable folder is the submission's
private room, where its connection file and its Unix sockets live: nbgrader talks to it over
IPC (``transport = "ipc"``, see :func:`autograder.course.settings`), so the kernel needs no
network at all.

``python -m autograder.kernel MEMORY_BYTES FILE_BYTES -f CONNECTION_FILE`` caps the address space
and the size of any file it writes, then starts ipykernel: a notebook that allocates past the cap
gets a ``MemoryError`` instead of exhausting the machine.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

from autograder import isolation
from autograder.course import GRADER_KERNEL, REPO

FILE_BYTES = 64 * 1024**2


def install_kernelspec(
    jupyter_path: Path, memory_bytes: int, *, room: Path, checks: Path, isolated: bool
) -> None:
    """Write the ``rnn-grader`` kernelspec under ``jupyter_path/kernels`` for one submission.

    ``checks`` is a folder holding ``<assignment>/checks.py`` for the one assignment graded
    (the worker's copy): the hidden tests find it through ``AUTOGRADER_SOLUTIONS``.
    """
    folder = Path(jupyter_path) / "kernels" / GRADER_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "autograder.kernel",
        str(memory_bytes),
        str(FILE_BYTES),
        "-f",
        "{connection_file}",
    ]
    if isolated:
        visible = [REPO / "autograder", REPO / "rnnbook", checks]
        environment = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": str(room),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(REPO),
            "AUTOGRADER_SOLUTIONS": str(Path(checks).resolve()),
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(room),
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        }
        argv = isolation.wrap(argv, room=room, read_only=visible, environment=environment)
    spec = {
        "argv": argv,
        "env": {"AUTOGRADER_SOLUTIONS": str(Path(checks).resolve())},
        "display_name": "Python 3 (grading, isolated)",
        "language": "python",
        "interrupt_mode": "message",  # a signal to bwrap would not reach the kernel inside
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def main() -> None:
    memory_bytes, file_bytes = int(sys.argv[1]), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    del sys.argv[1:3]
    quiet = os.open(os.devnull, os.O_WRONLY)  # the start-up banner would reach the console
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
