"""Fixtures of the book's tests: one build of the book per run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import HTML, ROOT


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book with `make book` (release, then warnings-as-errors build); _build/html.

    With ``MPLBACKEND=Agg``, as a headless shell (or a grading test run before) may leave it:
    the build must still show every figure (a missing one is an undefined-label warning)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["MPLBACKEND"] = "Agg"
    result = subprocess.run(
        ["make", "book"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    warnings = [line for line in log.splitlines() if "WARNING:" in line]  # Sphinx's format
    assert not warnings, "the book build printed warnings:\n" + "\n".join(warnings)
    return HTML
