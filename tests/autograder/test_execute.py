"""autograder.pipeline.execute: nbgrader's execution without jupyter_client's fixed waits."""

from __future__ import annotations

import asyncio
from pathlib import Path
from queue import Empty

import pytest
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

from autograder.pipeline.execute import (
    AUTOGRADE_PREPROCESSORS,
    GradingExecute,
    GradingKernelClient,
    GradingKernelManager,
)

REPLY = {"msg_type": "kernel_info_reply", "content": {"protocol_version": "5.3"}}
STATUS = {"msg_type": "status", "content": {"execution_state": "busy"}}


class Channel:
    """A channel that hands out ``messages`` in turn (None: nothing came within the timeout)."""

    def __init__(self, messages: list) -> None:
        self.messages = list(messages)
        self.reads = 0

    async def get_msg(self, timeout: float | None = None) -> dict:
        self.reads += 1
        message = self.messages.pop(0) if self.messages else None
        if message is None:
            raise Empty
        return message


class Client(GradingKernelClient):
    """A client whose channels and kernel are stand-ins."""

    def __init__(self, shell: list, iopub: list, alive: bool = True) -> None:
        super().__init__()
        self.shell, self.iopub, self.alive, self.asked = Channel(shell), Channel(iopub), alive, 0

    shell_channel = property(lambda self: self.shell)
    iopub_channel = property(lambda self: self.iopub)

    def kernel_info(self) -> str:
        self.asked += 1
        return "id"

    async def is_alive(self) -> bool:
        return self.alive


def test_ready_once_the_kernel_has_answered_on_both_channels_without_waiting_for_silence():
    """jupyter_client then reads IOPub until it stays silent for 0.2 s (one more read at least,
    here the idle status that would follow); this client does not."""
    client = Client(shell=[REPLY], iopub=[STATUS, STATUS])
    asyncio.run(client.wait_for_ready(timeout=5))
    assert client.asked == 1
    assert client.iopub.reads == 1


def test_asks_again_until_iopub_shows_it_is_subscribed():
    """The first status messages are lost when IOPub subscribes late: ask again."""
    client = Client(shell=[REPLY, REPLY], iopub=[None, STATUS])
    asyncio.run(client.wait_for_ready(timeout=5))
    assert client.asked == 2
    assert client.iopub.reads == 2


def test_a_kernel_that_died_before_answering_is_an_error():
    client = Client(shell=[None], iopub=[], alive=False)
    with pytest.raises(RuntimeError, match="died"):
        asyncio.run(client.wait_for_ready(timeout=5))


def test_a_kernel_that_never_answers_times_out():
    client = Client(shell=[None] * 10, iopub=[])
    with pytest.raises(RuntimeError, match="didn't respond in 0 seconds"):
        asyncio.run(client.wait_for_ready(timeout=0))


def test_the_manager_makes_grading_clients_and_the_executor_uses_it():
    assert GradingKernelManager().client_factory is GradingKernelClient
    execute = GradingExecute()
    assert execute.kernel_manager_class is GradingKernelManager
    assert execute.shutdown_kernel == "immediate"


def test_the_autograde_pipeline_is_nbgraders_with_only_execute_replaced():
    stock = Autograde.class_traits()["autograde_preprocessors"].default()
    assert Execute in stock
    expected = [GradingExecute if step is Execute else step for step in stock]
    assert AUTOGRADE_PREPROCESSORS == expected
    assert sum(step is GradingExecute for step in AUTOGRADE_PREPROCESSORS) == 1


def test_a_notebook_runs_and_the_killed_kernel_is_gone(tmp_path):
    """A real kernel (not isolated): the notebook's outputs arrive, and the kernel process is
    killed and waited for once the last cell has run."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print(6 * 7)"), nbformat.v4.new_code_cell("1/0")]
    execute = GradingExecute(kernel_name="python3", timeout=60, allow_errors=True)
    kernels = []
    execute.on_notebook_start = lambda **_: kernels.append((execute.km, execute.km.provisioner.pid))
    execute.preprocess(notebook, {"metadata": {"path": str(tmp_path)}})
    assert notebook.cells[0].outputs[0]["text"] == "42\n"
    assert notebook.cells[1].outputs[0]["ename"] == "ZeroDivisionError"
    ((manager, pid),) = kernels
    assert isinstance(manager, GradingKernelManager)
    assert not Path(f"/proc/{pid}").exists()  # killed, and reaped
