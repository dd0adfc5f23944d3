"""nbgrader's notebook execution, without the fixed waits of starting and stopping a kernel.

Starting and stopping a kernel with jupyter_client costs about 0.4 s of waiting that no grade
needs, on every notebook:

- after the kernel has answered its first ``kernel_info`` request, jupyter_client waits until
  IOPub has been silent for 0.2 s. The messages it discards are that request's busy and idle
  statuses, which nbclient would set aside anyway: it reads only what answers its own cells;
- stopping a kernel gracefully lets ipykernel shut down (about 0.2 s), then checks every 0.1 s
  whether it has exited.

:class:`GradingExecute` is nbgrader's ``Execute`` preprocessor with :class:`GradingKernelManager`:
the kernel is ready as soon as it has answered on both channels, and once the last cell has run
it is killed (``SIGKILL`` to its process group: the supervisor of
:mod:`autograder.isolation.supervisor` and bubblewrap; the kernel inside ends with them) and
waited for every 5 ms. Nothing is lost by not letting the kernel tidy up: every output has
arrived, and the supervisor writes its report whenever what it measures changes, not at exit.
:data:`AUTOGRADE_PREPROCESSORS` is nbgrader's autograde pipeline with it in place of ``Execute``.
"""

from __future__ import annotations

import math
import time
from queue import Empty

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute
from traitlets import DottedObjectName, Type

POLL_SECONDS = 0.005  # how often a killed kernel is checked for having exited


class GradingKernelClient(AsyncKernelClient):
    """A kernel client that is ready as soon as the kernel has answered."""

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        """jupyter_client's handshake (a ``kernel_info`` reply on the shell channel, then a
        message on IOPub, which shows that IOPub is subscribed; asked again until both come),
        without its final wait for IOPub to fall silent."""
        deadline = time.monotonic() + (math.inf if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=1)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.2)
                except Empty:
                    pass
                else:
                    self._handle_kernel_info_reply(reply)
                    return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class GradingKernelManager(AsyncKernelManager):
    """A kernel manager whose clients are :class:`GradingKernelClient` and which checks a
    stopping kernel every :data:`POLL_SECONDS` instead of every 0.1 s."""

    client_class = DottedObjectName(f"{__name__}.GradingKernelClient")
    client_factory = Type(GradingKernelClient, klass=AsyncKernelClient)

    async def _async_wait(self, pollinterval: float = POLL_SECONDS) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, POLL_SECONDS))


class GradingExecute(Execute):
    """nbgrader's ``Execute`` (configured as ``Execute``) on a :class:`GradingKernelManager`,
    killing the kernel once the notebook has run."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("kernel_manager_class", GradingKernelManager)
        kwargs.setdefault("shutdown_kernel", "immediate")
        super().__init__(*args, **kwargs)


AUTOGRADE_PREPROCESSORS = [
    GradingExecute if step is Execute else step
    for step in Autograde.class_traits()["autograde_preprocessors"].default()
]
