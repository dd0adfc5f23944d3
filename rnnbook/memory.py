"""Memory for training loops: freed arrays kept in the process for the next step.

glibc gives large freed blocks back to the system: an array of more than 128 KiB gets its own
mapping, unmapped when it is freed, and the free top of the heap is trimmed. A training loop
allocates arrays of the same sizes at every step, and each fresh block costs a page fault for
every 4 KiB the step first touches. For the instructor's BPTT at N = 50, T = 32, D = 128,
H = 256 that was a third of its time (the Performance chapter measures it).
:func:`keep_freed_memory` asks glibc (``mallopt(3)``) to keep what is freed instead; the chapters'
training modules call it once. Introduced by the Performance chapter.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt(3)'s parameters
KEPT_BYTES = 512 << 20  # free memory at the top of the heap kept before any is given back
OWN_MAPPING_BYTES = 32 << 20  # blocks from this size up still get a mapping of their own


def keep_freed_memory() -> bool:
    """Keep freed memory in this process (glibc's ``mallopt``): blocks under 32 MiB come from
    the heap, and up to 512 MiB of free heap is kept for reuse. Returns whether the C library
    took both settings (False where it has no ``mallopt``, as on macOS or musl)."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(M_TRIM_THRESHOLD, KEPT_BYTES)) and bool(
        mallopt(M_MMAP_THRESHOLD, OWN_MAPPING_BYTES)
    )
