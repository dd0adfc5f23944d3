"""The benchmarks (``python -m bench``): one tiny run end to end, and their pure parts."""

from __future__ import annotations

import math
import time

import pytest

import bench
from bench import format_seconds, format_table, median_time, ratio
from bench.__main__ import BENCHMARKS, name_of
from bench.concat_matmul import crossover
from bench.grading import marginal
from bench.rnn_speed import matmul_flops, shape_aware_products
from bench.sympy_bptt import timed_case


@pytest.mark.slow
def test_a_tiny_run_measures_every_benchmark(tiny_run):
    result, figures = tiny_run
    machine = figures["machine"]
    assert machine["cores"] >= 1 and machine["cpu"] and machine["python"].count(".") == 2
    assert machine["numpy"] and machine["blas"]["name"] and machine["date"].startswith("20")
    assert set(figures["benchmarks"]) == {name_of(m) for m in BENCHMARKS}
    for name, entry in figures["benchmarks"].items():
        rows = [row for row in entry["rows"] if row.get("measured") is not None]
        assert rows, f"{name} measured nothing"
        for row in rows:
            # A difference of two runs (a marginal or a fixed cost) is an estimate: at the tiny
            # sizes noise can make it negative. Every figure timed directly is positive.
            derived = "marginal" in row["case"] or row["case"].startswith("fixed cost")
            value = row["measured"]
            assert math.isfinite(value) and (derived or value > 0), (name, row)
        assert name in result.stdout, "the table names every benchmark"


def test_the_flops_of_bptt_are_counted_by_hand():
    # N, T, D, H = 2, 3, 4, 5: N * T * D * H = 120 and N * T * H * H = 150 multiply-adds.
    assert matmul_flops(2, 3, 4, 5) == {
        "input projection": 240,
        "recurrent": 300,
        "dx": 240,
        "dWx": 240,
        "dWh": 300,
        "carried gradient": 300,
    }


def test_the_shape_aware_products_do_the_counted_flops():
    for sizes in ((2, 3, 4, 5), (50, 32, 128, 256), (1, 1, 3, 2)):
        products = shape_aware_products(*sizes)
        for name, ((m, k), (k_right, n), count) in products.items():
            assert k == k_right, name
            assert 2 * m * k * n * count == matmul_flops(*sizes)[name], (name, sizes)


def test_the_marginal_cost_of_grading_leaves_out_the_fixed_cost():
    # 7 s of start-up and shut-down, then 1.25 s per submission: 17 s for 8, 37 s for 24.
    small = {"workers": 2, "submissions": 8, "wall_seconds": 17.0}
    large = {"workers": 2, "submissions": 24, "wall_seconds": 37.0}
    margin = marginal(small, large)
    assert margin["marginal_seconds_per_submission"] == pytest.approx(1.25)
    assert margin["fixed_seconds"] == pytest.approx(7.0)
    assert margin["workers"] == 2 and margin["classes"] == "8 and 24 submissions"


def test_the_warm_time_is_the_median_of_single_calls_after_the_warm_up(monkeypatch):
    """Calls of 9, 1, 8, 2, 7, 3, 6, 4, 50 s after three of 100 s: the median is 6 s (the mean,
    10 s; the best, 1 s)."""
    durations = iter([100.0] * 3 + [9.0, 1.0, 8.0, 2.0, 7.0, 3.0, 6.0, 4.0, 50.0])
    clock = [0.0]
    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])

    def call() -> None:
        clock[0] += next(durations)

    assert median_time(call, repeat=9, warmup=3) == 6.0
    assert next(durations, None) is None  # exactly 3 + 9 calls


def test_durations_keep_three_significant_digits():
    assert format_seconds(0.0123) == "12.3 ms"
    assert format_seconds(2.5) == "2.5 s"
    assert format_seconds(4.56e-5) == "45.6 µs"
    assert format_seconds(7e-9) == "7 ns"
    assert format_seconds(None) == format_seconds(math.inf) == "-"


def test_one_table_aligns_every_row_of_every_benchmark():
    rows = [
        {"case": "small", "measured": 0.002, "reference": 0.001, "ratio": 2.0, "ok": False},
        {"case": "a much longer case", "measured": 1.5, "measured_text": "> 1 s", "ok": True},
    ]
    lines = format_table([("one", {"rows": rows[:1]}), ("other", {"rows": rows[1:]})]).split("\n")
    assert lines[0].split() == ["benchmark", "case", "measured", "reference/limit", "ratio"] + [
        "target",
        "ok",
        "timing",
    ]
    assert set(lines[1]) == {"-", " "} and len(lines) == 4
    assert lines[2].split() == ["one", "small", "2", "ms", "1", "ms", "2.00×", "-", "NO", "-"]
    assert lines[3].split()[:6] == ["other", "a", "much", "longer", "case", ">"]
    columns = [lines[0].index(c) for c in ("case", "measured", "ok")]
    assert [lines[2].index(c) for c in ("small", "2 ms", "NO")] == columns
    assert lines[3].index("yes") == columns[2]


def test_a_ratio_needs_both_times():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, None) is None and ratio(1.0, 0.0) is None


def test_the_crossover_is_where_the_verdict_changes_for_good():
    sweep = [
        {"N": 8, "width": width, "concat_over_two": value}
        for width, value in ((4, 1.4), (16, 1.2), (64, 0.9), (256, 1.1), (1024, 0.97))
    ]
    found = crossover(sweep, 8)
    assert [v["faster"] for v in found["verdicts"]] == [
        "two matmuls",
        "two matmuls",
        "concatenation",
        "two matmuls",
        "equal within 5%",
    ]
    assert (found["below"], found["crossover_width"], found["above"]) == (
        "two matmuls",
        1024,
        "equal within 5%",
    )
    always = [{**row, "concat_over_two": 0.5} for row in sweep]
    assert crossover(always, 8)["crossover_width"] is None


def test_a_symbolic_case_over_its_time_limit_is_stopped():
    start = time.perf_counter()
    assert timed_case("naive", 2, limit=0.5) is None  # it takes far longer than that
    assert time.perf_counter() - start < 10, "the case ran on past its limit"
    finished = timed_case("chapter", 1, limit=60)
    assert finished["equal"] and finished["derive"] > 0 and finished["verify"] > 0


def test_the_warm_figure_is_the_round_of_median_ratio(monkeypatch):
    """Rounds of the pair and its limit, timed in turn: the figure is the middle round, not the
    best or the mean (ratios 2, 4, 3, 10 and 1 give 3)."""
    from bench import rnn_speed

    times = iter([2.0, 4.0, 3.0, 10.0, 1.0])
    monkeypatch.setattr(rnn_speed, "load_bptt", lambda: None)
    monkeypatch.setattr(rnn_speed, "instructor_seconds", lambda *a, **k: next(times))
    monkeypatch.setattr(rnn_speed, "shape_aware_seconds", lambda *a, **k: {"product": 1.0})
    hot = rnn_speed.warm(1, 1, 1, 1, rounds=5)
    assert hot["ratio_shape_aware"] == hot["instructor"] == 3.0
    assert hot["rounds"] == [2.0, 4.0, 3.0, 10.0, 1.0]


def test_the_grading_figures_come_from_the_round_of_median_ratio():
    from bench.grading import median_round

    rounds = [{"vs_stock": 0.9, "n": 0}, {"vs_stock": 1.4, "n": 1}, {"vs_stock": 0.7, "n": 2}]
    assert median_round(rounds, "vs_stock")["n"] == 0
    assert median_round(rounds[:2], "vs_stock")["n"] == 1  # of two, the higher ratio
