"""The course's benchmarks: ``python -m bench`` (or ``make bench``) runs them all.

Each benchmark is a module with ``TITLE: str`` and ``run(tiny: bool = False) -> dict``; the
dict is JSON-serialisable and holds at least ``{"rows": [...]}``. A row is a dict with
``case`` and ``measured`` (seconds), and where they apply ``reference`` (seconds: a limit or
another implementation), ``ratio`` (measured / reference), ``target`` (text), ``ok`` (bool) and
``timing`` (which statistic of how many runs); ``measured_text`` replaces the measured time in
the tables where there is none (``> 30 s`` for a case stopped at its limit). Other keys are
allowed: the Performance page shows every key of a benchmark's rows (keys naming seconds are
printed as durations, ratios and speedups with ×). This module holds what the benchmarks share:
timing, the machine block and the tables.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import time
from collections.abc import Callable, Iterable

import numpy as np

REPEAT = 7
COLUMNS = ("benchmark", "case", "measured", "reference/limit", "ratio", "target", "ok", "timing")


def best_time(
    function: Callable[[], object], repeat: int = REPEAT, min_seconds: float = 0.02
) -> float:
    """Seconds of one call of ``function``: the best of ``repeat`` batches, after a warm-up.

    A batch holds enough calls to last ``min_seconds`` (as ``timeit``'s autorange does), so
    that calls of microseconds are not lost in the timer's resolution.
    """
    function()  # warm-up: first-touch of memory, BLAS threads started, caches filled
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
        number *= 10 if elapsed < min_seconds / 10 else 2
    best = elapsed
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, time.perf_counter() - start)
    return best / number


def median_time(function: Callable[[], object], repeat: int = 9, warmup: int = 3) -> float:
    """Seconds of one call of ``function`` as a loop that keeps calling it sees them: the
    median of ``repeat`` single calls, after ``warmup`` calls, in this (warm) process."""
    for _ in range(warmup):
        function()
    seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def timing_label(repeat: int = REPEAT) -> str:
    """How ``best_time`` measured, for the table's timing column."""
    return f"best of {repeat}"


def ratio(measured: float | None, reference: float | None) -> float | None:
    """measured / reference, or None when either is missing."""
    if measured is None or reference is None or reference <= 0:
        return None
    return measured / reference


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> dict:
    config = np.show_config(mode="dicts")
    blas = config.get("Build Dependencies", {}).get("blas", {})
    return {key: blas.get(key) for key in ("name", "version", "openblas configuration")}


def machine() -> dict:
    """The machine a measurement ran on: CPU, cores, threads, NumPy and its BLAS, Python, date,
    and the load average when it is called (other work on the machine slows the timings)."""
    threads = {name: os.environ.get(name) for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "threads": {**threads, "blas_threads": _blas_threads(threads)},
        "numpy": np.__version__,
        "blas": _blas(),
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average": dict(zip(("1 min", "5 min", "15 min"), os.getloadavg(), strict=True)),
    }


def _blas_threads(threads: dict[str, str | None]) -> int | None:
    """The threads OpenBLAS uses: OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else the cores."""
    for value in threads.values():
        if value:
            return int(value)
    return os.cpu_count()


def format_seconds(seconds: float | None) -> str:
    """A duration with a unit that keeps three significant digits: 12.3 ms, 1.20 s, 45.6 µs."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_value(key: str, value: object) -> str:
    """One cell of a table: seconds (a key naming seconds, or measured/reference) with a unit,
    ratios with ×, other floats with three significant digits, dicts as ``key: value; ...``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {format_value(k, v)}" for k, v in value.items())
    if isinstance(value, float):
        if key in ("measured", "reference") or "seconds" in key:
            return format_seconds(value)
        if "ratio" in key or "speedup" in key:
            return f"{value:.2f}×"
        return f"{value:.3g}"
    return str(value)


def _cell(row: dict, column: str) -> str:
    if column == "measured" and row.get("measured_text"):
        return row["measured_text"]
    key = "reference" if column == "reference/limit" else column
    return format_value(key, row.get(key))


def format_table(results: Iterable[tuple[str, dict]]) -> str:
    """One plain-text table of every row of every (benchmark name, result) pair."""
    lines = [COLUMNS]
    for name, result in results:
        lines += [(name, *(_cell(row, c) for c in COLUMNS[1:])) for row in result["rows"]]
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    text = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in lines
    ]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in text)


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A Markdown (pipe) table of ``rows``; the columns are every key, in order of appearance,
    unless given. ``measured_text`` stands in for ``measured`` where a row has it."""
    if columns is None:
        columns = list(dict.fromkeys(k for row in rows for k in row if k != "measured_text"))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = (_cell(row, column).replace("|", "\\|") for column in columns)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
