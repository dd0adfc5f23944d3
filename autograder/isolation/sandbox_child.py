"""The process that runs a student's code for the grader (copied into the sandbox and run there).

It executes the submitted code cells one by one, then answers requests on the two pipes the
grader passed to it: ``has``, ``call``, ``value``, ``srepr``. The student's own output
goes nowhere. Whatever the student's code does to this process (patching NumPy, builtins or
this very loop) can only change the answers it sends back, and the grader checks those answers
against references computed on its side, on inputs it chooses.
"""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import sys


def limit_resources(memory_bytes: int, cpu_seconds: int, file_bytes: int, processes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    if processes:  # in its own user namespace: counts this sandbox's processes only
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))


class CellTimeout(Exception):
    """A cell ran past its time limit."""


def _cell_timed_out(signum: int, frame: object) -> None:
    raise CellTimeout("the cell ran past its time limit")


def strip_magics(source: str) -> str:
    """IPython-only lines (``%magic``, ``!shell``) mean nothing outside IPython: drop them."""
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lifeline

    lifeline.hold()  # under the supervisor: end with it
    settings = json.loads(sys.argv[1])
    limit_resources(
        settings["memory_bytes"],
        settings["cpu_seconds"],
        settings["file_bytes"],
        settings["processes"],
    )
    requests = os.fdopen(settings["request_fd"], "rb")
    replies = os.fdopen(settings["reply_fd"], "wb")
    sys.stdout = sys.stderr = io.StringIO()  # the student's prints are discarded
    sys.stdin = io.StringIO()

    import numpy as np  # imported before student code, like the notebook's setup cell
    import wire

    objects: dict[int, object] = {}

    def keep(value: object) -> int:
        objects[len(objects) + 1] = value
        return len(objects)

    def resolve(data: dict) -> object:
        if "__function__" in data:
            arrays = {k: wire.decode(v) for k, v in data["arrays"].items()}
            return eval(data["__function__"], {"np": np, **arrays})  # noqa: S307 - grader's source
        return objects[int(data["__handle__"])]

    namespace: dict[str, object] = {"__name__": "__main__"}
    cell_errors = []
    signal.signal(signal.SIGALRM, _cell_timed_out)
    for number, source in enumerate(settings["cells"]):
        signal.setitimer(signal.ITIMER_REAL, settings["cell_seconds"])  # as nbgrader's timeout
        try:
            exec(compile(strip_magics(source), f"<cell {number}>", "exec"), namespace)  # noqa: S102
        except BaseException as error:  # noqa: BLE001 - a failing cell must not stop the others
            cell_errors.append(f"cell {number}: {type(error).__name__}: {error}"[:300])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout = sys.stderr = io.StringIO()
    wire.send(replies, {"ready": True, "cell_errors": cell_errors})

    while True:
        try:
            request = wire.receive(requests, settings["message_bytes"])
        except EOFError:
            return
        op, name = request.get("op"), request.get("name", "")
        try:
            if op == "has":
                reply = {"ok": callable(namespace.get(name))}
            elif op == "value":
                if name not in namespace:
                    reply = {"missing": name}
                else:
                    reply = {"ok": wire.encode(namespace[name], keep)}
            elif op == "srepr":
                import sympy

                value = namespace.get(name)
                if not isinstance(value, sympy.Basic):
                    reply = {"not_sympy": type(value).__name__}
                else:
                    reply = {"ok": sympy.srepr(value)}
            elif op == "call":
                function = namespace.get(name)
                if not callable(function):
                    reply = {"missing": name}
                else:
                    args = wire.decode(request["args"], resolve)
                    kwargs = wire.decode(request["kwargs"], resolve)
                    try:
                        result = function(*args, **kwargs)
                    except Exception as error:  # noqa: BLE001
                        reply = {"raised": [type(error).__name__, str(error)[:500]]}
                    else:
                        if request.get("return_args"):
                            result = {"result": result, "args": args}
                        reply = {"ok": wire.encode(result, keep)}
            else:
                reply = {"error": f"unknown request {op!r}"}
        except MemoryError:
            reply = {"raised": ["MemoryError", "the memory limit was reached"]}
        except Exception as error:  # noqa: BLE001 - e.g. an unencodable result
            reply = {"error": f"{type(error).__name__}: {error}"[:500]}
        sys.stdout = sys.stderr = io.StringIO()
        wire.send(replies, reply)


if __name__ == "__main__":
    main()
