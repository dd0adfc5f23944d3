"""The kernel that autograding runs notebooks in: ipykernel under a memory cap.

Started by the ``rnn-grader`` kernelspec that :func:`install_kernelspec` writes; a notebook
that allocates past the cap gets a ``MemoryError`` instead of exhausting the machine.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from autograder.course import GRADER_KERNEL


def install_kernelspec(jupyter_path: Path, memory_bytes: int) -> None:
    """Write the ``rnn-grader`` kernelspec under ``jupyter_path/kernels``."""
    folder = Path(jupyter_path) / "kernels" / GRADER_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "autograder.kernel",
            str(memory_bytes),
            "-f",
            "{connection_file}",
        ],
        "display_name": "Python 3 (grading, memory-capped)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))


def main() -> None:
    memory_bytes = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    del sys.argv[1]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
