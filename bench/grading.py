"""Grading throughput: seconds and CPU per submission with 1 and 2 local workers, by stage.

A class of generated submissions of ``cells`` (the solution and each example mistake, in turn, up to
the class size) is graded twice from scratch with ``autograder.pipeline.class_run.grade``: on one
worker process, then on two. Per run: wall-clock seconds per submission, the CPU of the whole run
(the grading command, every worker, kernel and sandbox, start-up included), and the speedup of two
workers over one. The stages (set-up, kernel start, notebook execution, nbgrader's own work,
verification, database, feedback, and the client's recording) come from the one-worker run. The CPU
is the whole machine's (kernels and sandboxes included), so the machine should be otherwise idle.
Targets on two cores: speedup >= 1.8, CPU <= 3 s/submission.

Stock nbgrader grades the same class in the same run, as an instructor runs it on one core
(``nbgrader autograde`` and ``nbgrader generate_feedback``, the hidden tests in the notebook's
own kernel): the project's one-worker seconds per submission, over the whole run and at the
margin, are compared with it (target: at most 1.0×), and its two commands are timed apart.

This machine is shared, and its speed drifts by a quarter over minutes: the whole comparison
runs in ``ROUNDS`` rounds, each the project on one and two workers then stock nbgrader; each
ratio is taken within a round, and the figures are those of the round of median ratio, with the
ratios of every round beside them.

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
ROUNDS = 3  # a shared machine's speed drifts over minutes: each ratio is taken within a round
SPEEDUP_TARGET, CPU_TARGET = 1.8, 3.0
STOCK_TARGET = 1.0  # seconds per submission on one core, over stock nbgrader's
# Which stage of stock nbgrader each of ours corresponds to (verification has none: stock
# nbgrader trusts the scores of the notebook's own kernel).
STOCK_STAGES = {
    "setup": "autograde",
    "kernel_start": "autograde",
    "execution": "autograde",
    "autograde_other": "autograde",
    "database": "autograde",
    "feedback": "feedback",
}


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


def stock_nbgrader_once(submitted: Path, folder: Path) -> dict:
    """Stock nbgrader on the same class, as an instructor runs it on one core: ``nbgrader
    autograde`` then ``nbgrader generate_feedback`` (the hidden tests run in the notebook's own
    kernel: no isolation, no second run of the checks), each command timed whole."""
    from autograder.pipeline.nbgrader_course import (
        copy_sources,
        environment,
        run_nbgrader,
        write_config,
    )

    course = folder / "stock-course"
    write_config(course, f"sqlite:///{course / 'gradebook.db'}")
    copy_sources(course, [ASSIGNMENT])
    env = environment()
    run_nbgrader(course, "generate_assignment", ASSIGNMENT, env=env)
    count = 0
    for student in sorted(p.name for p in submitted.iterdir()):
        notebook = submitted / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        target = course / "submitted" / student / ASSIGNMENT / notebook.name
        target.parent.mkdir(parents=True)
        shutil.copy(notebook, target)
        count += 1
    seconds = {}
    cpu = machine_cpu_seconds()
    for stage, command in (("autograde", "autograde"), ("feedback", "generate_feedback")):
        began = time.perf_counter()
        run_nbgrader(course, command, ASSIGNMENT, env=env)
        seconds[stage] = time.perf_counter() - began
    cpu = machine_cpu_seconds() - cpu
    wall = sum(seconds.values())
    return {
        "workers": 1,
        "submissions": count,
        "wall_seconds": wall,
        "seconds_per_submission": wall / count,
        "run_cpu_seconds_per_submission": cpu / count,
        "stages": {stage: value / count for stage, value in seconds.items()},
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


def one_round(small_class: Path, submitted: Path, folder: Path) -> dict:
    """One round: both classes graded by the project on 1 and on 2 workers, then by stock
    nbgrader, one after the other, and the ratios of that round."""
    runs, small_runs = [], []
    for n in (1, 2):
        small_runs.append(grade_once(small_class, folder / f"small-{n}", n))
        runs.append(grade_once(submitted, folder / f"out-{n}", n))
    stock_small = stock_nbgrader_once(small_class, folder / "stock-small")
    stock = stock_nbgrader_once(submitted, folder / "stock")
    margins = [marginal(small, large) for small, large in zip(small_runs, runs, strict=True)]
    stock_margin = marginal(stock_small, stock)
    one, two = runs
    return {
        "runs": runs,
        "margins": margins,
        "stock": stock,
        "stock_margin": stock_margin,
        "vs_stock": one["seconds_per_submission"] / stock["seconds_per_submission"],
        "vs_stock_marginal": margins[0]["marginal_seconds_per_submission"]
        / stock_margin["marginal_seconds_per_submission"],
        "speedup": one["wall_seconds"] / two["wall_seconds"],
        "marginal_speedup": margins[0]["marginal_seconds_per_submission"]
        / margins[1]["marginal_seconds_per_submission"],
    }


def median_round(rounds: list[dict], key: str) -> dict:
    """The round whose ``key`` is the median (the upper one of an even count)."""
    ordered = sorted(rounds, key=lambda r: r[key])
    return ordered[len(ordered) // 2]


def run(tiny: bool = False) -> dict:
    size = TINY_SUBMISSIONS if tiny else SUBMISSIONS
    small_size = TINY_SMALL_CLASS if tiny else SMALL_CLASS
    saved = dict(os.environ)  # grading sets PATH, PYTHONPATH and BLAS threads for nbgrader
    try:
        with tempfile.TemporaryDirectory(prefix="bench-grading-") as folder:
            small_class, submitted = (make_class(Path(folder), n) for n in (small_size, size))
            rounds = []
            for number in range(1 if tiny else ROUNDS):
                work = Path(folder) / f"round-{number}"
                rounds.append(one_round(small_class, submitted, work))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    chosen = median_round(rounds, "vs_stock")
    runs, margins = chosen["runs"], chosen["margins"]
    stock, stock_margin = chosen["stock"], chosen["stock_margin"]
    one = runs[0]
    speedup = median_round(rounds, "speedup")["speedup"]
    marginal_speedup = median_round(rounds, "marginal_speedup")["marginal_speedup"]
    spread = {
        key: [r[key] for r in rounds]
        for key in ("vs_stock", "vs_stock_marginal", "speedup", "marginal_speedup")
    }
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
    for label, ours, theirs in (
        ("whole run", one["seconds_per_submission"], stock["seconds_per_submission"]),
        (
            "marginal",
            margins[0]["marginal_seconds_per_submission"],
            stock_margin["marginal_seconds_per_submission"],
        ),
    ):
        rows.append(
            {
                "case": f"1 worker vs stock nbgrader autograde + generate_feedback, {label}",
                "measured": ours,
                "reference": theirs,
                "ratio": ours / theirs,
                "target": f"<= {STOCK_TARGET:g}×",
                "ok": ours / theirs <= STOCK_TARGET,
                "timing": f"wall clock per submission, one core each; round of median ratio "
                f"of {len(rounds)}",
            }
        )
    rows.append(
        {
            "case": "speedup, 2 workers over 1",
            "measured_text": f"{speedup:.2f}×",
            "timing": f"median of {len(rounds)} rounds",
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
    rows.append(
        {
            "case": "CPU per submission, whole run, stock nbgrader",
            "measured": stock["run_cpu_seconds_per_submission"],
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
            "timing": f"median of {len(rounds)} rounds",
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
        {"stage": stage, "seconds_per_submission": seconds, "stock": STOCK_STAGES.get(stage)}
        for stage, seconds in one["stages"].items()
    ]
    stock_stages = [
        {"stage": f"stock {stage}", "seconds_per_submission": seconds}
        for stage, seconds in stock["stages"].items()
    ]
    return {
        "rows": rows,
        "runs": [{k: v for k, v in r.items() if k != "stages"} for r in runs],
        "stages": stages,
        "stock": {k: v for k, v in stock.items() if k != "stages"},
        "stock_stages": stock_stages,
        "stock_marginal": stock_margin,
        "speedup": speedup,
        "marginal": margins,
        "marginal_speedup": marginal_speedup,
        "rounds": spread,
    }
