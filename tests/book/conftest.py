"""Fixtures of the book's tests: one build of the book per run, whose executions the chapter
tests read (the build runs every page once; nothing runs it a second time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import BUILD, HTML, ROOT


@pytest.fixture(scope="session")
def book_build() -> subprocess.CompletedProcess:
    """`make book` (release, then a warnings-as-errors build that executes every page, keeping
    going past a failing one), run once; its result, failed or not.

    With ``MPLBACKEND=Agg``, as a headless shell (or a grading test run before) may leave it:
    the build must still show every figure (a missing one is an undefined-label warning)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        ["make", "book"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=3600
    )


@pytest.fixture(scope="session")
def built_book(book_build) -> Path:
    """_build/html of a build that succeeded without a warning."""
    log = book_build.stdout + book_build.stderr
    assert book_build.returncode == 0, f"the book build failed:\n{log[-6000:]}"
    warnings = [line for line in log.splitlines() if "WARNING:" in line]  # Sphinx's format
    assert not warnings, "the book build printed warnings:\n" + "\n".join(warnings)
    return HTML


@pytest.fixture(scope="session")
def execution_cache(book_build):
    """The build's execution cache (jupyter-cache, as `execute_notebooks: cache` keeps it)."""
    from jupyter_cache import get_cache

    return get_cache(BUILD / ".jupyter_cache")
