"""Fixtures of the benchmarks' tests: one run of every benchmark at a tiny size."""

from __future__ import annotations

import json
import subprocess

import pytest
from support import ROOT, run_module


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    """``python -m bench --tiny``: the finished process and the figures it wrote."""
    out = tmp_path_factory.mktemp("bench") / "figures.json"
    result = run_module("bench", ("--tiny", "--out", str(out)), cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result, json.loads(out.read_text())
