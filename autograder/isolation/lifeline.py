"""The lifeline between the supervisor outside a sandbox and the process inside it (standard
library only; the kernel's start-up script and the verification sandbox import it from beside
themselves).

The supervisor holds the write end of a pipe and hands the read end to its command on
descriptor :data:`FD`; nothing is ever written to it. The process inside calls :func:`hold`
first: a thread waits on the read end and ends the process when the wait returns, which it does
once every write end is closed, that is once the supervisor is gone (it dies with the grader).

bubblewrap's ``--die-with-parent`` alone is not enough: a grader killed in the moment a sandbox
starts can take the outer bubblewrap process with it before the inner one, the sandbox's first
process, has asked to die with it, and the inner one then lives on with the kernel inside.
"""

from __future__ import annotations

import os
import threading

FD = 200  # high enough to be free in every process that hands it on


def hold(fd: int = FD) -> bool:
    """End this process when the far end of the lifeline on ``fd`` closes; False (and nothing
    is watched) where there is no lifeline, outside the sandbox."""
    try:
        os.fstat(fd)
    except OSError:
        return False

    def watch() -> None:
        try:
            os.read(fd, 1)
        finally:
            os._exit(137)  # as if killed: the grader is gone, no one reads an answer

    threading.Thread(target=watch, name="lifeline", daemon=True).start()
    return True
