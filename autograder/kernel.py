"""The kernel that autograding runs notebooks in: ipykernel under a memory cap, read-only course.

Started by the ``rnn-grader`` kernelspec that :func:`install_kernelspec` writes; a notebook
that allocates past the cap gets a ``MemoryError`` instead of exhausting the machine.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

from autograder.course import GRADER_KERNEL
from autograder.sandbox import in_namespace, namespaces_available


def install_kernelspec(jupyter_path: Path, memory_bytes: int, read_only: list[Path]) -> None:
    """Write the ``rnn-grader`` kernelspec under ``jupyter_path/kernels``.

    Where user namespaces are available the kernel sees ``read_only`` (the course repository,
    the Python installation, the grading folders) as read-only, so student code running in it
    cannot rewrite the checks, the grader or the gradebook.
    """
    folder = Path(jupyter_path) / "kernels" / GRADER_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.kernel", str(memory_bytes), "-f", "{connection_file}"]
    if namespaces_available():
        existing = sorted({str(Path(p).resolve()) for p in read_only if Path(p).is_dir()})
        argv = in_namespace(argv, read_only=[Path(p) for p in existing], network=True)
    spec = {
        "argv": argv,
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
