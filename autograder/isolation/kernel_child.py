"""The grading kernel's first code (run by bubblewrap, standard library only): cap the address
space and the size of any file written, silence the start-up banner, then start ipykernel.

``python -P kernel_child.py MEMORY_BYTES FILE_BYTES -f CONNECTION_FILE``: a notebook that
allocates past the cap gets a ``MemoryError`` instead of exhausting the machine.
"""

import os
import resource
import sys


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
