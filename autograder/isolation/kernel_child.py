"""The grading kernel's first code (run by bubblewrap, standard library only): hold the lifeline
to the supervisor (:mod:`autograder.isolation.lifeline`), cap the address space, the size of any
file written and the number of processes, silence the start-up banner, then start ipykernel.

``python -P kernel_child.py MEMORY_BYTES FILE_BYTES PROCESSES -f CONNECTION_FILE`` (PROCESSES 0:
no cap): a notebook that allocates past the cap gets a ``MemoryError`` instead of exhausting the
machine, and one that starts processes past it gets an ``OSError``.
"""

import os
import resource
import sys


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lifeline

    del sys.path[0]  # the student's code imports nothing from here
    lifeline.hold()  # under the supervisor: end with it
    memory_bytes, file_bytes, processes = (int(value) for value in sys.argv[1:4])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    if processes:  # in its own user namespace: counts this sandbox's processes only
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    del sys.argv[1:4]
    quiet = os.open(os.devnull, os.O_WRONLY)  # the start-up banner would reach the console
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
