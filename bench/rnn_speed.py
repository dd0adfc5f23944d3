"""The instructor's rnn_forward + rnn_backward (float64, tanh) against two limits and PyTorch.

Measured two ways: warm, as the chapters' training loops call it, and in a fresh process (the
best of 7 batches, over a sweep of T), where the first touches of freshly allocated memory weigh
more. The warm figure (the target, at most 1.25× the shape-aware limit, applies to it) is taken
in a new interpreter that keeps freed memory as the training modules do
(:func:`rnnbook.memory.keep_freed_memory`): 5 rounds, each the median of 9 calls of the pair and
of each product of the limit, measured in turn so that both see the same moment of a shared
machine; the figure is the round of median ratio.

The functions come through the book's loader (``chapters/instructor.py``). The limits:

- FLOP-bound: the FLOPs of the matrix products of BPTT (``matmul_flops``) divided by the best
  float64 matmul rate of this machine, measured on large square matrices;
- shape-aware: every matrix product BPTT cannot avoid, timed alone at its own shape, summed.

``torch.nn.RNN`` (float64, CPU, batch_first) is measured when ``import torch`` works; PyTorch is
no dependency of the course, so its last measurement is kept in ``torch_reference.json`` beside
this module and reported, with its date, when PyTorch is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from bench import best_time, machine, median_time, ratio, timing_label

TITLE = "BPTT speed: instructor's rnn_forward + rnn_backward (float64, tanh)"
ROOT = Path(__file__).resolve().parent.parent
TORCH_REFERENCE = Path(__file__).resolve().parent / "torch_reference.json"
SIZES = {"N": 50, "T": 32, "D": 128, "H": 256}
SWEEP = (1, 2, 4, 8, 16, 32, 64, 128)
PEAK_SIZES = (1024, 1536, 2048)
TARGET_SHAPE_AWARE = 1.25  # at most 1.25 x the shape-aware limit at SIZES, warm
TARGET_TORCH = 0.5  # at most half of torch.nn.RNN's time
TINY = {"N": 4, "T": 3, "D": 5, "H": 6}
WARM_ROUNDS = 5


def load_bptt():
    """The instructor's bptt functions, through the book's own loader."""
    sys.path.insert(0, str(ROOT / "chapters"))
    try:
        from instructor import load
    finally:
        sys.path.remove(str(ROOT / "chapters"))
    return load("bptt")


def matmul_flops(N: int, T: int, D: int, H: int) -> dict[str, int]:
    """FLOPs (2 per multiply-add) of the matrix products of BPTT, by product."""
    return {
        "input projection": 2 * N * T * D * H,
        "recurrent": 2 * N * T * H * H,
        "dx": 2 * N * T * H * D,
        "dWx": 2 * N * T * D * H,
        "dWh": 2 * N * T * H * H,
        "carried gradient": 2 * N * T * H * H,
    }


def peak_matmul_rate(sizes: tuple[int, ...] = PEAK_SIZES) -> dict:
    """The best float64 FLOP/s of square matmuls of the given sizes, and the rate of each."""
    rng = np.random.default_rng(0)
    rates = {}
    for n in sizes:
        a, b, out = rng.normal(size=(n, n)), rng.normal(size=(n, n)), np.empty((n, n))
        rates[n] = 2 * n**3 / best_time(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))
    return {"flops_per_second": max(rates.values()), "by_size": rates}


def shape_aware_products(N: int, T: int, D: int, H: int) -> dict[str, tuple[tuple, tuple, int]]:
    """The products BPTT cannot avoid: name -> (left shape, right shape, how many)."""
    return {
        "input projection": ((N * T, D), (D, H), 1),
        "recurrent": ((N, H), (H, H), T),
        "carried gradient": ((N, H), (H, H), T),  # times Wh.T: timed on a transposed view
        "dx": ((N * T, H), (H, D), 1),
        "dWx": ((D, N * T), (N * T, H), 1),
        "dWh": ((H, N * T), (N * T, H), 1),
    }


def shape_aware_seconds(N: int, T: int, D: int, H: int, timer=best_time) -> dict[str, float]:
    """Seconds of each unavoidable product, each timed alone at its shape (by ``timer``), times
    its count."""
    rng = np.random.default_rng(1)
    seconds = {}
    for name, (left, right, count) in shape_aware_products(N, T, D, H).items():
        a = rng.normal(size=left)
        b = rng.normal(size=right[::-1]).T if name == "carried gradient" else rng.normal(size=right)
        out = np.empty((left[0], right[1]))
        seconds[name] = count * timer(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))
    return seconds


def rnn_inputs(N: int, T: int, D: int, H: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """x, h0, Wx, Wh, b and the upstream dh, scaled so that tanh does not saturate."""
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(N, T, D)),
        rng.normal(size=(N, H)),
        rng.normal(size=(D, H)) / np.sqrt(D),
        rng.normal(size=(H, H)) / np.sqrt(H),
        rng.normal(size=H),
        rng.normal(size=(N, T, H)),
    )


def instructor_seconds(bptt, N: int, T: int, D: int, H: int, timer=best_time) -> float:
    """Time (by ``timer``) of the instructor's rnn_forward followed by rnn_backward."""
    x, h0, Wx, Wh, b, dh = rnn_inputs(N, T, D, H)

    def forward_backward() -> None:
        _, cache = bptt.rnn_forward(x, h0, Wx, Wh, b)
        bptt.rnn_backward(dh, cache)

    return timer(forward_backward)


def warm(N: int, T: int, D: int, H: int, rounds: int = WARM_ROUNDS) -> dict:
    """The instructor and the shape-aware limit as a training loop sees them, in this process:
    per round the median of 9 calls of each, one after the other; the round of median ratio."""
    bptt = load_bptt()
    measured = []
    for _ in range(rounds):
        instructor = instructor_seconds(bptt, N, T, D, H, timer=median_time)
        by_product = shape_aware_seconds(N, T, D, H, timer=median_time)
        limit = sum(by_product.values())
        measured.append(
            {
                "instructor": instructor,
                "shape_aware": limit,
                "ratio_shape_aware": instructor / limit,
                "shape_aware_by_product": by_product,
            }
        )
    ratios = sorted(m["ratio_shape_aware"] for m in measured)
    median = next(m for m in measured if m["ratio_shape_aware"] == ratios[len(ratios) // 2])
    return {**median, "rounds": [m["ratio_shape_aware"] for m in measured]}


def in_new_process(mode: str, N: int, T: int, D: int, H: int):
    """``python -m bench.rnn_speed MODE N T D H`` in a new interpreter, so that the allocator
    starts from the same state at every measurement (glibc adapts its thresholds to what a
    process freed before): ``fresh`` (the instructor's best time, then the shape-aware products'
    in the same process: a shared machine's speed changes from one process to the next),
    ``fresh-kept`` (the same, keeping freed memory) or ``warm`` (:func:`warm`, keeping freed
    memory as the training modules do)."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.rnn_speed", mode, *map(str, (N, T, D, H))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def torch_measurement(N: int, T: int, D: int, H: int) -> dict | None:
    """torch.nn.RNN forward + backward (float64, CPU, batch_first), or None without PyTorch."""
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True, dtype=torch.float64)
    x, h0, _, _, _, dh = (torch.from_numpy(a) for a in rnn_inputs(N, T, D, H))
    x.requires_grad_(True)
    h0 = h0.unsqueeze(0).requires_grad_(True)

    def forward_backward() -> None:
        rnn.zero_grad(set_to_none=True)
        h, _ = rnn(x, h0)
        h.backward(dh)

    return {
        "seconds": best_time(forward_backward),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "sizes": {"N": N, "T": T, "D": D, "H": H},
        "machine": machine(),
    }


def torch_reference(N: int, T: int, D: int, H: int, tiny: bool) -> dict | None:
    """A fresh PyTorch measurement (saved for later runs), else the saved one for these sizes,
    when it was measured on a CPU of the same model."""
    measured = torch_measurement(N, T, D, H)
    if measured is not None:
        if not tiny:
            TORCH_REFERENCE.write_text(json.dumps(measured, indent=1) + "\n")
        return {**measured, "recorded": False}
    if tiny or not TORCH_REFERENCE.is_file():
        return None
    saved = json.loads(TORCH_REFERENCE.read_text())
    same_sizes = saved["sizes"] == {"N": N, "T": T, "D": D, "H": H}
    same_cpu = saved["machine"]["cpu"] == machine()["cpu"]  # another CPU is no reference
    return {**saved, "recorded": True} if same_sizes and same_cpu else None


def run(tiny: bool = False) -> dict:
    """The instructor at SIZES and over a sweep of T, against both limits and PyTorch."""
    sizes = TINY if tiny else SIZES
    sweep = (1, sizes["T"]) if tiny else SWEEP
    peak = peak_matmul_rate((64,) if tiny else PEAK_SIZES)
    rows, sweep_rows = [], []
    for T in sweep:
        N, D, H = sizes["N"], sizes["D"], sizes["H"]
        flops = matmul_flops(N, T, D, H)
        fresh = in_new_process("fresh", N, T, D, H)
        measured, shape_aware = fresh["instructor"], fresh["shape_aware_by_product"]
        flop_bound = sum(flops.values()) / peak["flops_per_second"]
        limit = sum(shape_aware.values())
        sweep_rows.append(
            {
                "T": T,
                "instructor": measured,
                "shape_aware": limit,
                "flop_bound": flop_bound,
                "ratio_shape_aware": measured / limit,
                "ratio_flop_bound": measured / flop_bound,
                "flops": sum(flops.values()),
                "shape_aware_by_product": shape_aware,
            }
        )
        case = f"N={N} T={T} D={D} H={H}"
        rows.append(
            {
                "case": f"{case} vs shape-aware",
                "measured": measured,
                "reference": limit,
                "ratio": measured / limit,
                "timing": f"{timing_label()}, fresh process",
            }
        )
        rows.append(
            {
                "case": f"{case} vs FLOP-bound",
                "measured": measured,
                "reference": flop_bound,
                "ratio": measured / flop_bound,
                "timing": f"{timing_label()}, fresh process",
            }
        )
    at_sizes = next(r for r in sweep_rows if r["T"] == sizes["T"])
    at_sizes["warm"] = hot = in_new_process("warm", **sizes)
    rows.append(
        {
            "case": f"N={sizes['N']} T={sizes['T']} D={sizes['D']} H={sizes['H']} vs "
            "shape-aware, warm",
            "measured": hot["instructor"],
            "reference": hot["shape_aware"],
            "ratio": hot["ratio_shape_aware"],
            "target": None if tiny else f"≤ {TARGET_SHAPE_AWARE}×",
            "ok": None if tiny else hot["ratio_shape_aware"] <= TARGET_SHAPE_AWARE,
            "timing": f"median of 9 calls each, round of median ratio of {WARM_ROUNDS}, warm "
            "process keeping freed memory",
        }
    )
    kept = in_new_process("fresh-kept", **sizes)
    kept_limit = sum(kept["shape_aware_by_product"].values())
    at_sizes["instructor_keep_freed_memory"] = kept["instructor"]
    at_sizes["shape_aware_keep_freed_memory"] = kept_limit
    rows.append(
        {
            "case": f"N={sizes['N']} T={sizes['T']} D={sizes['D']} H={sizes['H']} vs "
            "shape-aware, freed memory kept (rnnbook.memory)",
            "measured": kept["instructor"],
            "reference": kept_limit,
            "ratio": kept["instructor"] / kept_limit,
            "timing": f"{timing_label()}, fresh process",
        }
    )
    torch = torch_reference(**sizes, tiny=tiny)
    if torch is not None:
        measured = at_sizes["instructor"]
        ok = None if tiny else ratio(measured, torch["seconds"]) <= TARGET_TORCH
        recorded = f", recorded {torch['machine']['date'][:10]}" if torch["recorded"] else ""
        rows.append(
            {
                "case": f"N={sizes['N']} T={sizes['T']} D={sizes['D']} H={sizes['H']} vs "
                f"torch {torch['torch']}{recorded}",
                "measured": measured,
                "reference": torch["seconds"],
                "ratio": ratio(measured, torch["seconds"]),
                "target": None if tiny else f"≤ {TARGET_TORCH}×",
                "ok": ok,
                "timing": timing_label(),
            }
        )
    return {
        "rows": rows,
        "sizes": sizes,
        "sweep": sweep_rows,
        "peak_matmul": peak,
        "torch": torch,
        "targets": {"shape_aware": TARGET_SHAPE_AWARE, "torch": TARGET_TORCH},
    }


if __name__ == "__main__":  # python -m bench.rnn_speed MODE N T D H: see in_new_process
    from rnnbook.memory import keep_freed_memory

    mode, sizes = sys.argv[1], dict(zip("NTDH", map(int, sys.argv[2:6]), strict=True))
    if mode != "fresh":
        keep_freed_memory()
    if mode == "warm":
        print(json.dumps(warm(**sizes)))
    else:
        instructor = instructor_seconds(load_bptt(), **sizes)  # first, as a loop's first call
        products = shape_aware_seconds(**sizes)
        print(json.dumps({"instructor": instructor, "shape_aware_by_product": products}))
