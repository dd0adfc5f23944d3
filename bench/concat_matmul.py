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
TIE = 0.05  # ratios within 5 % of 1 count as equal


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


def verdict(concat_over_two: float) -> str:
    """Which is faster, with differences within TIE counted as equal (timing noise)."""
    if concat_over_two < 1 - TIE:
        return "concatenation"
    if concat_over_two > 1 + TIE:
        return "two matmuls"
    return f"equal within {TIE:.0%}"


def crossover(sweep: list[dict], batch: int) -> dict:
    """At batch size ``batch``: the verdict at every width, and the crossover, the smallest
    width from which the verdict differs from the one at the smallest width for every larger
    width (None when no such width was measured)."""
    rows = sorted((r for r in sweep if r["N"] == batch), key=lambda r: r["width"])
    verdicts = [verdict(r["concat_over_two"]) for r in rows]
    start = len(rows)
    while start > 0 and verdicts[start - 1] != verdicts[0]:
        start -= 1
    return {
        "N": batch,
        "verdicts": [
            {"width": r["width"], "faster": v} for r, v in zip(rows, verdicts, strict=True)
        ],
        "below": verdicts[0],
        "crossover_width": rows[start]["width"] if start < len(rows) else None,
        "above": verdicts[-1] if start < len(rows) else None,
    }


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
        "tie": TIE,
    }
