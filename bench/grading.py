"""Grading throughput: seconds and CPU per submission with 1 and 2 local workers, by stage.

A class of generated submissions of ``cells`` (the solution and each example mistake, in turn, up to
the class size) is graded twice from scratch with ``autograder.pipeline.class_run.grade``: on one
worker process, then on two. Per run: wall-clock seconds per submission, the CPU of the whole run
(the grading command, every worker, kernel and sandbox, start-up included), and the speedup of two
workers over one. The stages (set-up, kernel start, notebook execution, nbgrader's own work,
verification, database, feedback, and the client's recording) come from the one-worker run. The CPU
is the whole machine's (kernels and sandboxes included), so the machine should be otherwise idle.
Targets on two cores: speedup >= 1.8, CPU <= 3 s/submission.

A run also pays once what no submission causes: starting the workers (each imports nbgrader
and prepares its course), stopping them, the class gradebook. A smaller class graded the same
way separates the two: the marginal seconds per submission (the difference of the two runs'
times over the difference of their sizes) are what a large class costs per notebook, and what
remains of a run is its fixed cost.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

TITLE = "Grading throughput: autograder grade, cells, on 1 and 2 local workers"
ASSIGNMENT = "cells"
SUBMISSIONS, TINY_SUBMISSIONS = 24, 2
SMALL_CLASS, TINY_SMALL_CLASS = 8, 1  # the second class size, for the marginal cost
SPEEDUP_TARGET, CPU_TARGET = 1.8, 3.0


def make_class(folder: Path, size: int) -> Path:
    """``size`` submissions: the solution and the example mistakes, taken in turn."""
    from autograder.authoring.examples import write_examples

    examples = folder / "examples"
    if not examples.is_dir():
        write_examples(examples, [ASSIGNMENT])
    kinds = ["solution"] + sorted(p.name for p in examples.glob(f"mistake-{ASSIGNMENT}-*"))
    submitted = folder / f"submitted-{size}"
    for number in range(size):
        kind = kinds[number % len(kinds)]
        shutil.copytree(examples / kind, submitted / f"{number:03d}-{kind}")
    return submitted


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (/proc/stat: every state but
    idle and iowait). Processes under bubblewrap never reach their parent's rusage, so the
    machine's counters are what sees the grading kernels and sandboxes."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(value) for value in fields]
    busy = sum(ticks) - ticks[3] - ticks[4]  # minus idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def grade_once(submitted: Path, out: Path, workers: int) -> dict:
    """Grade the class from scratch on ``workers`` processes; the figures of the run."""
    from autograder.pipeline.class_run import grade

    load = os.getloadavg()[0]
    cpu, began = machine_cpu_seconds(), time.perf_counter()
    outcome = grade(submitted, out, assignments=[ASSIGNMENT], workers=workers, progress=False)
    wall, cpu = time.perf_counter() - began, machine_cpu_seconds() - cpu
    count = outcome.graded
    assert count and not outcome.errors, f"grading failed: {outcome.summary}"
    return {
        "workers": workers,
        "submissions": count,
        "wall_seconds": wall,
        "seconds_per_submission": wall / count,
        "client_cpu_seconds_per_submission": outcome.client_cpu / count,
        "run_cpu_seconds_per_submission": cpu / count,
        "load_average_before": load,
        "stages": {stage: seconds / count for stage, seconds in outcome.stages.items()},
    }


def marginal(small: dict, large: dict) -> dict:
    """Seconds per submission beyond the fixed cost of a run, and that fixed cost."""
    added = large["submissions"] - small["submissions"]
    per = (large["wall_seconds"] - small["wall_seconds"]) / added
    return {
        "workers": large["workers"],
        "marginal_seconds_per_submission": per,
        "fixed_seconds": large["wall_seconds"] - per * large["submissions"],
        "classes": f"{small['submissions']} and {large['submissions']} submissions",
    }


def run(tiny: bool = False) -> dict:
    size = TINY_SUBMISSIONS if tiny else SUBMISSIONS
    small_size = TINY_SMALL_CLASS if tiny else SMALL_CLASS
    saved = dict(os.environ)  # grading sets PATH, PYTHONPATH and BLAS threads for nbgrader
    try:
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
            small_class, submitted = (make_class(Path(folder), n) for n in (small_size, size))
            runs, small_runs = [], []
            for n in (1, 2):
                small_runs.append(grade_once(small_class, Path(folder) / f"small-{n}", n))
                runs.append(grade_once(submitted, Path(folder) / f"out-{n}", n))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    one, two = runs
    speedup = one["wall_seconds"] / two["wall_seconds"]
    margins = [marginal(small, large) for small, large in zip(small_runs, runs, strict=True)]
    marginal_speedup = (
        margins[0]["marginal_seconds_per_submission"]
        / margins[1]["marginal_seconds_per_submission"]
    )
    rows = []
    for figures in runs:
        per = figures["seconds_per_submission"]
        rows.append(
            {
                "case": f"{figures['workers']} worker(s), {figures['submissions']} submissions",
                "measured": per,
                "timing": "one run, wall clock per submission",
            }
        )
    rows.append(
        {
            "case": "speedup, 2 workers over 1",
            "measured_text": f"{speedup:.2f}×",
            "target": f">= {SPEEDUP_TARGET}×",
            "ok": speedup >= SPEEDUP_TARGET,
        }
    )
    for figures in runs:
        cpu = figures["run_cpu_seconds_per_submission"]
        rows.append(
            {
                "case": f"CPU per submission, whole run, {figures['workers']} worker(s)",
                "measured": cpu,
                "target": f"<= {CPU_TARGET:g} s",
                "ok": cpu <= CPU_TARGET,
                "timing": "/proc/stat: the whole machine busy during the run",
            }
        )
    for margin in margins:
        rows.append(
            {
                "case": f"{margin['workers']} worker(s), marginal ({margin['classes']})",
                "measured": margin["marginal_seconds_per_submission"],
                "timing": "wall clock per added submission",
            }
        )
    rows.append(
        {
            "case": "marginal speedup, 2 workers over 1",
            "measured_text": f"{marginal_speedup:.2f}×",
        }
    )
    for margin in margins:
        rows.append(
            {
                "case": f"fixed cost of a run, {margin['workers']} worker(s)",
                "measured": margin["fixed_seconds"],
                "timing": "start-up and shut-down, wall clock",
            }
        )
    stages = [
        {"stage": stage, "seconds_per_submission": seconds}
        for stage, seconds in one["stages"].items()
    ]
    return {
        "rows": rows,
        "runs": [{k: v for k, v in r.items() if k != "stages"} for r in runs],
        "stages": stages,
        "speedup": speedup,
        "marginal": margins,
        "marginal_speedup": marginal_speedup,
    }
