"""rnnbook.memory: freed arrays are reused without page faults (each case in a new process)."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A step as BPTT's: four 3 MiB arrays alive at once, then freed; 20 steps. Prints the minor page
# faults of the last 19.
PROGRAM = """
import resource, sys
import numpy as np
from rnnbook.memory import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory()
def step():
    arrays = [np.ones(3 << 17) for _ in range(4)]
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(19):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(case: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, case], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_freed_memory_is_reused_without_page_faults():
    pages = 19 * 4 * (3 << 20) // 4096  # every page of every array of every step
    assert page_faults("default") > pages // 2  # glibc gives each array back, as measured
    assert page_faults("kept") < 50
