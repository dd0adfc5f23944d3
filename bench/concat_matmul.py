"""One matmul on the concatenation ``[x, h] @ [[Wx], [Wh]]`` against ``x @ Wx + h @ Wh``.

Both compute the pre-activation of one step (without b). In a recurrent loop ``h`` changes at
every step, so the concatenation ``[x, h]`` has to be built at every step; the stacked weight
``[[Wx], [Wh]]`` can be built once (or, carelessly, at every step too). Widths D = H.
"""

from __future__ import annotations

import numpy as np

from bench import best_time, timing_label

TITLE = "One matmul on [x, h] against x @ Wx + h @ Wh (one step's pre-activation)"
BATCHES = (1, 32, 256)
WIDTHS = (4, 16, 64, 256, 1024)
TINY_BATCHES, TINY_WIDTHS = (2,), (4, 8)


def variants(x: np.ndarray, h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray) -> dict:
    """The ways to compute x @ Wx + h @ Wh, as functions of no argument. The last one is no
    way for a recurrent loop (its [x, h] is built outside the timing): it separates the cost
    of the product from that of the concatenation."""
    W = np.vstack([Wx, Wh])  # built once, before the loop
    xh = np.hstack([x, h])
    return {
        "two matmuls + add": lambda: x @ Wx + h @ Wh,
        "concat each step, W stacked once": lambda: np.hstack([x, h]) @ W,
        "concat and stack W each step": lambda: np.hstack([x, h]) @ np.vstack([Wx, Wh]),
        "one matmul, [x, h] ready": lambda: xh @ W,
    }


def crossover(sweep: list[dict], batch: int) -> dict:
    """At batch size ``batch``: the widths where concatenating (W stacked once) is faster than
    two matmuls, and the first width from which two matmuls are faster at every larger width."""
    rows = sorted((r for r in sweep if r["N"] == batch), key=lambda r: r["width"])
    faster = [r["width"] for r in rows if r["concat_over_two"] < 1]
    two_from = None
    for row in reversed(rows):
        if row["concat_over_two"] < 1:
            break
        two_from = row["width"]
    return {"N": batch, "concat_faster_at": faster, "two_matmuls_faster_from": two_from}


def run(tiny: bool = False) -> dict:
    """Time the variants over batch sizes and widths; the ratios and the crossovers."""
    batches, widths = (TINY_BATCHES, TINY_WIDTHS) if tiny else (BATCHES, WIDTHS)
    rng = np.random.default_rng(0)
    rows, sweep = [], []
    for N in batches:
        for width in widths:
            x, h = rng.normal(size=(N, width)), rng.normal(size=(N, width))
            Wx, Wh = rng.normal(size=(width, width)), rng.normal(size=(width, width))
            seconds = {
                name: best_time(function, repeat=1 if tiny else 7)
                for name, function in variants(x, h, Wx, Wh).items()
            }
            two, concat, restack, product = seconds.values()
            sweep.append(
                {
                    "N": N,
                    "width": width,
                    "seconds": seconds,
                    "concat_over_two": concat / two,
                    "restack_over_two": restack / two,
                    "product_over_two": product / two,
                }
            )
            case = f"N={N} D=H={width}"
            for name, measured in list(seconds.items())[1:]:
                rows.append(
                    {
                        "case": f"{case}: {name}",
                        "measured": measured,
                        "reference": two,
                        "ratio": measured / two,
                        "timing": timing_label(1 if tiny else 7),
                    }
                )
    return {
        "rows": rows,
        "sweep": sweep,
        "reference": "two matmuls + add",
        "crossover": [crossover(sweep, N) for N in batches],
    }
