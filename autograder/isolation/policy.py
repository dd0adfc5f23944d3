"""The isolation policy: all that a process running student code may see and consume.

Two processes run a student's code: the Jupyter kernel that nbgrader's autograde executes the
notebook in (:mod:`autograder.isolation.kernel`) and the verification sandbox
(:mod:`autograder.isolation.sandbox`). Both run under bubblewrap
(:mod:`autograder.isolation.bubblewrap`) with the mounts, the environment and the caps listed
here, and with nothing else. Every value says why it is what it is.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.assignments import REPO

# -- What both see -------------------------------------------------------------------------------
SANDBOX_UID = 1000  # the student's code is not root, even inside its own user namespace
# The system's programs and libraries, read-only: Python and NumPy link against them.
SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The dynamic linker's cache, the time zone (datetime) and the fonts (matplotlib), read-only.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts")
# Besides: this Python installation read-only, a fresh /proc, a minimal /dev (read-only), and
# two writable folders of its own on the grader's disk: its "room" (its home and working
# directory) and its scratch folder, mounted as /tmp and /dev/shm. Neither is a tmpfs: what a
# tmpfs holds is memory that no process's limit counts, so a submission could fill the machine's
# memory by writing files. No network, no other process.

# -- What the kernel sees besides, read-only -----------------------------------------------------
# The check API that the hidden tests import (NumPy and the standard library only) and nothing
# else of the grader; the course's helper package, which the visible tests use; the script that
# caps the kernel and starts it. The one checks.py of the assignment graded is added per task.
CHECK_API = (REPO / "autograder" / "__init__.py", REPO / "autograder" / "harness.py")
CHECK_API_FOLDERS = (REPO / "autograder" / "checking", REPO / "rnnbook")
KERNEL_SCRIPT = Path(__file__).with_name("kernel_child.py")
LIFELINE = Path(__file__).with_name("lifeline.py")  # imported by both from beside them
# The sandbox sees besides only copies of its own three scripts (no course file at all).
SANDBOX_SCRIPTS = ("wire.py", "lifeline.py", "sandbox_child.py")


def kernel_mounts(checks: Path) -> list[Path]:
    """What the kernel sees read-only besides the system: the check API, ``rnnbook``, its
    start-up script and its lifeline, and ``checks``, a folder with the one assignment's
    ``checks.py``."""
    return [*CHECK_API, *CHECK_API_FOLDERS, KERNEL_SCRIPT, LIFELINE, Path(checks)]


# -- Environment: a clean one, only these variables ----------------------------------------------
def _common(room: Path) -> dict[str, str]:
    return {
        "HOME": str(room),  # the room, so nothing is written anywhere else
        "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": "1",  # one thread: the CPU cap is per process, workers share cores
        "OMP_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",  # no display
        "MPLCONFIGDIR": str(room),  # matplotlib's cache in the room
    }


def kernel_environment(room: Path, checks: Path) -> dict[str, str]:
    """The kernel's environment: the course importable, the checks found by the hidden tests."""
    return {
        **_common(room),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),  # autograder.harness and rnnbook (only what is mounted)
        "AUTOGRADER_SOLUTIONS": str(Path(checks).resolve()),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # ipykernel's debugger warns on a read-only tree
    }


def sandbox_environment(room: Path) -> dict[str, str]:
    """The sandbox's environment: nothing of the course (it runs with ``python -I``)."""
    return {**_common(room), "PATH": "/usr/bin:/bin"}


# -- Caps ----------------------------------------------------------------------------------------
GiB, MiB = 1024**3, 1024**2
# Address space. The kernel holds ipykernel, NumPy, matplotlib and the student's arrays; the
# sandbox only NumPy and the arrays. Past it, an allocation raises MemoryError: the machine
# keeps its memory for the other workers.
KERNEL_MEMORY = 3 * GiB
SANDBOX_MEMORY = 2 * GiB
# Size of any one file written: enough for a plot or a saved array, not for filling the disk.
KERNEL_FILE_BYTES = 64 * MiB
SANDBOX_FILE_BYTES = 16 * MiB
# Processes and threads of one submission, all counted together: ipykernel runs about ten
# threads, NumPy one (OPENBLAS_NUM_THREADS=1); the rest is room for a few subprocesses. A fork
# bomb stops here instead of filling the machine's process table.
MAX_PROCESSES = 64
# Bytes on disk in the room and the scratch folder together, and their number of files: a saved
# array or a plot fits many times over; a loop writing files is stopped (status disk_limit).
MAX_DISK_BYTES = 512 * MiB
MAX_FILES = 10_000
# How often the supervisor measures them, and ten times as often past half a cap: between two
# looks a writer near the cap adds at most what the disk takes in a tenth of this time
# (RLIMIT_FSIZE still caps each file).
WATCH_SECONDS = 0.05
# What a student is told of each cap their code reached (the status is the key).
LIMIT_MESSAGES = {
    "process_limit": f"your code started {MAX_PROCESSES} processes and threads, the most allowed",
    "disk_limit": f"your code wrote more than {MAX_DISK_BYTES // MiB} MiB or {MAX_FILES:,} files",
    "memory_limit": "your code used more memory than allowed and was stopped",
}
# CPU time of the sandbox over all its calls: far above what the slowest solution needs (a few
# seconds), far below what a loop left running would take.
SANDBOX_CPU_SECONDS = 120
# Wall time of one cell (nbgrader's Execute.timeout, and per sandbox cell and call): the
# default of ``grade --cell-timeout``.
CELL_SECONDS = 30
# Characters kept of one output in the autograded notebook and its feedback page: a print in a
# loop must not make a page of megabytes.
MAX_OUTPUT_CHARS = 20_000
# Characters of one image (base64), kept whole or dropped whole: a plot of the course is well
# under 200 kB; a larger image is removed rather than cut into a broken one.
MAX_IMAGE_CHARS = 2 * MiB
# A submitted notebook larger than this is not read: a notebook of the course is well under
# 1 MiB, embedded images included.
MAX_NOTEBOOK_BYTES = 50 * MiB
# One reply of the sandbox: the largest answer a check asks for is a few MiB of arrays.
MAX_MESSAGE_BYTES = 64 * MiB
