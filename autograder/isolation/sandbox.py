"""Run a student's code in a separate, isolated process and talk to it (the grader's side).

:class:`SandboxStudent` implements the :class:`~autograder.checking.api.Student` protocol. The child
process (``sandbox_child.py``) gets the submitted code cells and the caps of
:mod:`autograder.isolation.policy` (memory, CPU time, file size), and runs under bubblewrap
(:mod:`autograder.isolation.bubblewrap`): it sees the Python installation and its own two scripts
read-only and one empty private folder, nothing else of the machine (no course file, no submission,
no other process, no network). Only plain data crosses back (:mod:`autograder.isolation.wire`): the
grader never unpickles or evaluates anything the child sends.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from autograder.checking.api import CheckFailed, StudentRaised
from autograder.isolation import bubblewrap, cgroups, policy, supervisor, wire
from autograder.isolation.cgroups import limits_seen
from autograder.isolation.safe_sympy import UnsafeExpression, parse_srepr

HERE = Path(__file__).resolve().parent


class SandboxBroken(CheckFailed):
    """The student's process died, hung or broke the protocol; every later check fails."""


class SandboxStudent:
    """A submission's code running in its own process; see the module docstring."""

    def __init__(
        self,
        cells: list[str],
        *,
        isolated: bool = True,
        memory_bytes: int = policy.SANDBOX_MEMORY,
        cpu_seconds: int = policy.SANDBOX_CPU_SECONDS,
        cell_seconds: float = policy.CELL_SECONDS,
        call_timeout: float = policy.CELL_SECONDS,
    ) -> None:
        self.call_timeout = call_timeout
        self.isolated = isolated
        self._dir = Path(tempfile.mkdtemp(prefix="rnn-sandbox-"))
        scripts, room, scratch = self._dir / "scripts", self._dir / "room", self._dir / "scratch"
        for folder in (scripts, room, scratch):
            folder.mkdir()
        self._report = self._dir / "limits.json"
        self.usage: dict = {}  # the supervisor's report, once closed
        self._cgroup = cgroups.create(policy.MAX_PROCESSES, memory_bytes) if isolated else None
        for name in policy.SANDBOX_SCRIPTS:
            shutil.copy(HERE / name, scripts / name)
        request_read, self._request_write = os.pipe()
        self._reply_read, reply_write = os.pipe()
        settings = {
            "cells": cells,
            "memory_bytes": memory_bytes,
            "cpu_seconds": cpu_seconds,
            "cell_seconds": cell_seconds,
            "file_bytes": policy.SANDBOX_FILE_BYTES,
            "processes": policy.MAX_PROCESSES if isolated else 0,
            "message_bytes": policy.MAX_MESSAGE_BYTES,
            "request_fd": request_read,
            "reply_fd": reply_write,
        }
        command = [sys.executable, "-I", str(scripts / "sandbox_child.py"), json.dumps(settings)]
        environment = policy.sandbox_environment(room)
        if isolated:
            try:
                command = bubblewrap.wrap(
                    command,
                    room=room,
                    scratch=scratch,
                    read_only=[scripts],
                    environment=environment,
                )
                command = supervisor.command(
                    command,
                    report=self._report,
                    watch=[room, scratch],
                    cgroup=self._cgroup,
                    pass_fds=(request_read, reply_write),
                )
            except bubblewrap.IsolationUnavailable:
                os.close(request_read)
                os.close(reply_write)
                self._process = None
                self.close()
                raise
        self._process = subprocess.Popen(
            command,
            cwd=room,
            env=environment,
            pass_fds=(request_read, reply_write),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        os.close(request_read)
        os.close(reply_write)
        self._broken: str | None = None
        start_timeout = cell_seconds * (len(cells) + 1) + 10  # a cell over time is interrupted
        ready = self._receive(start_timeout, "running your code cells")
        self.cell_errors: list[str] = list(ready.get("cell_errors", []))

    @property
    def broken(self) -> bool:
        """True once the process died, hung or broke the protocol."""
        return self._broken is not None

    # -- protocol -------------------------------------------------------------------------
    def _fail(self, reason: str) -> None:
        self._broken = reason
        self.close()
        for limit in self.usage.get("limits", []):
            reason += f" ({policy.LIMIT_MESSAGES[limit]})"
        self._broken = reason
        raise SandboxBroken(reason)

    def _read_exactly(self, size: int, deadline: float, doing: str) -> bytes:
        chunks, remaining = [], size
        while remaining:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not select.select([self._reply_read], [], [], timeout)[0]:
                self._fail(f"your code did not finish {doing} within the time limit")
            chunk = os.read(self._reply_read, min(remaining, 1 << 20))
            if not chunk:
                code = self._process.poll()
                self._fail(
                    f"the process running your code stopped while {doing}"
                    + (f" (exit status {code})" if code is not None else "")
                )
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def _receive(self, timeout: float, doing: str) -> dict:
        if self._broken:
            raise SandboxBroken(self._broken)
        deadline = time.monotonic() + timeout
        size = int.from_bytes(self._read_exactly(8, deadline, doing), "big")
        if size > policy.MAX_MESSAGE_BYTES:
            self._fail("your code returned more data than the grader accepts")
        try:
            message = json.loads(self._read_exactly(size, deadline, doing))
        except ValueError:
            self._fail("the process running your code sent garbled data")
        if not isinstance(message, dict):
            self._fail("the process running your code sent garbled data")
        return message

    def _request(self, message: dict, doing: str) -> dict:
        if self._broken:
            raise SandboxBroken(self._broken)
        payload = json.dumps(message).encode()
        try:
            os.write(self._request_write, len(payload).to_bytes(8, "big"))
            view = memoryview(payload)
            while view:
                view = view[os.write(self._request_write, view) :]
        except OSError:
            self._fail(f"the process running your code stopped before {doing}")
        return self._receive(self.call_timeout, doing)

    def _decode(self, data: Any) -> Any:
        try:
            return wire.decode(data)
        except (ValueError, TypeError, KeyError) as error:
            self._fail(f"the process running your code sent unreadable data ({error})")

    # -- Student protocol -----------------------------------------------------------------
    def has(self, name: str) -> bool:
        return self._request({"op": "has", "name": name}, f"looking up {name}").get("ok") is True

    def call(self, name: str, *args: Any, _return_args: bool = False, **kwargs: Any) -> Any:
        reply = self._request(
            {
                "op": "call",
                "name": name,
                "args": wire.encode(list(args)),
                "kwargs": wire.encode(kwargs),
                "return_args": _return_args,
            },
            f"running {name}",
        )
        if "missing" in reply:
            raise CheckFailed(f"{name} is not defined (did you rename it or delete its cell?)")
        if "raised" in reply:
            type_name, message = reply["raised"]
            raise StudentRaised(str(type_name), str(message))
        if "ok" not in reply:
            raise CheckFailed(f"{name}: {reply.get('error', 'no result')}")
        return self._decode(reply["ok"])

    def call_seeing_inputs(self, name: str, *args: Any) -> tuple[Any, list[Any]]:
        result = self.call(name, *args, _return_args=True)
        return result["result"], result["args"]

    def function(self, source: str, **arrays: Any) -> wire.FunctionSource:
        return wire.FunctionSource(source, arrays)

    def value(self, name: str) -> Any:
        reply = self._request({"op": "value", "name": name}, f"reading {name}")
        if "missing" in reply:
            raise CheckFailed(f"{name} is not defined: assign it in your answer cell")
        if "ok" not in reply:
            raise CheckFailed(f"{name}: {reply.get('error', 'no value')}")
        return self._decode(reply["ok"])

    def sympy_value(self, name: str) -> Any:
        reply = self._request({"op": "srepr", "name": name}, f"reading {name}")
        if "not_sympy" in reply:
            raise CheckFailed(f"{name} must be a SymPy expression, got {reply['not_sympy']}")
        if "ok" not in reply:
            raise CheckFailed(f"{name} is not defined: assign it in your answer cell")
        try:
            return parse_srepr(reply["ok"])
        except UnsafeExpression as error:
            raise CheckFailed(f"{name} is not a plain SymPy expression: {error}") from None

    def close(self) -> None:
        """Stop the process and remove its folder (safe to call twice)."""
        if self._process is not None and self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self._process is not None:
            self._process.wait()
        for fd in (self._request_write, self._reply_read):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._cgroup is not None:
            self.usage = limits_seen(self._report, self._cgroup)
            self._cgroup.remove()
            self._cgroup = None
        elif not self.usage:
            self.usage = limits_seen(self._report, None)
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SandboxStudent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
