"""The SymPy derivation of BPTT as T grows: the brute-force gradient of the unrolled loss with
respect to the entries of Wh, checked against the recursion, three ways.

- ``naive``: tanh, the full nested expression, ``sp.diff``, then ``sp.simplify`` of
  brute force minus recursion (both written with tanh);
- ``chapter``: as ``chapters/backprop_through_time.md`` does it: an undefined activation phi
  (SymPy knows only that its derivative is phi'), the states, phi'(a_t) and the residuals
  renamed to symbols, then ``expand`` and ``simplify`` of the difference (``matrices_equal``)
  on the renamed symbols;
- ``numbers``: tanh and ``sp.diff`` as in ``naive``, but brute force and recursion compared
  after substituting random numbers for every symbol.

Sizes are the chapter's (N = 1, D = 3, H = 2, O = 4; the loss is the mean over the steps of
the mean squared error). Each case runs in a fresh process with a time limit; once a way runs
over it, its larger T are not run.
"""

from __future__ import annotations

import multiprocessing
import time
from itertools import accumulate

import numpy as np
import sympy as sp

from rnnbook import gradient_matrix, matrices_equal, symbol_matrix, symbol_row

TITLE = "SymPy BPTT: brute-force dL/dWh of the unrolled loss, checked against the recursion"
N, D, H, O = 1, 3, 2, 4  # noqa: E741 (O outputs, as in the course's notation)
STEPS = (1, 2, 3, 4, 5, 6)
LIMIT = 30.0  # seconds per case
TINY_STEPS, TINY_LIMIT = (1,), 20.0


class phi(sp.Function):  # noqa: N801 (named as in the chapter)
    """Any differentiable activation: all SymPy knows is that its derivative is phi'."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return phi_prime(self.args[0])


phi_prime = sp.Function("phi'")


def unrolled(T: int, activation) -> dict:
    """Symbols and nested expressions of the network unrolled over T steps."""
    xs = [symbol_matrix(f"x^{{{t}}}", N, D) for t in range(1, T + 1)]
    ys = [symbol_matrix(f"y^{{{t}}}", N, O) for t in range(1, T + 1)]
    h0, Wx, Wh = (
        symbol_matrix("h^{0}", N, H),
        symbol_matrix("W^x", D, H),
        symbol_matrix("W^h", H, H),
    )
    b, Wo, bo = symbol_row("b", H), symbol_matrix("W^o", H, O), symbol_row("b^o", O)
    ones = sp.ones(N, 1)
    pre = []

    def step(state: sp.Matrix, x_t: sp.Matrix) -> sp.Matrix:
        pre.append(x_t * Wx + state * Wh + ones * b)
        return pre[-1].applyfunc(activation)

    states = list(accumulate(xs, step, initial=h0))  # h_0 ... h_T
    residuals = [s * Wo + ones * bo - y for s, y in zip(states[1:], ys, strict=True)]
    loss = sum(sum(e.applyfunc(lambda v: v**2)) for e in residuals) / (N * O * T)
    return {
        "xs": xs,
        "ys": ys,
        "h0": h0,
        "Wx": Wx,
        "Wh": Wh,
        "b": b,
        "Wo": Wo,
        "bo": bo,
        "pre": pre,
        "states": states,
        "residuals": residuals,
        "loss": loss,
    }


def dWh_by_recursion(net: dict, slopes: list, residuals: list, states: list) -> sp.Matrix:
    """dL/dWh by the BPTT recursion: delta_t = (g_t + delta_(t+1) Wh^T) * phi'(a_t)."""
    T = len(slopes)
    delta = sp.zeros(N, H)
    dWh = sp.zeros(H, H)
    for t in reversed(range(T)):
        direct = sp.Rational(2, N * O * T) * residuals[t] * net["Wo"].T
        delta = (direct + delta * net["Wh"].T).multiply_elementwise(slopes[t])
        dWh += states[t].T * delta
    return dWh


def naive(T: int) -> dict:
    start = time.perf_counter()
    net = unrolled(T, sp.tanh)
    brute = gradient_matrix(net["loss"], net["Wh"])
    derived = time.perf_counter()
    slopes = [s.applyfunc(lambda v: 1 - v**2) for s in net["states"][1:]]
    recursion = dWh_by_recursion(net, slopes, net["residuals"], net["states"])
    equal = all(sp.simplify(entry) == 0 for entry in brute - recursion)
    return {"derive": derived - start, "verify": time.perf_counter() - derived, "equal": equal}


def chapter(T: int) -> dict:
    start = time.perf_counter()
    net = unrolled(T, phi)
    brute = gradient_matrix(net["loss"], net["Wh"])
    derived = time.perf_counter()
    named = [
        symbol_matrix(f"{label}^{{{t}}}", N, width)
        for label, width in (("h", H), ("p", H), ("e", O))
        for t in range(1, T + 1)
    ]
    S, P, E = named[:T], named[T : 2 * T], named[2 * T :]
    names = {}
    for a_t, s_t, p_t in zip(net["pre"], S, P, strict=True):
        names.update({phi(v): s for v, s in zip(a_t, s_t, strict=True)})
        names.update({phi_prime(v): p for v, p in zip(a_t, p_t, strict=True)})
    residuals = {}
    for r_t, e_t in zip(net["residuals"], E, strict=True):
        residuals.update(dict(zip(r_t.xreplace(names), e_t, strict=True)))
    readable = brute.xreplace(names).xreplace(residuals)
    recursion = dWh_by_recursion(net, P, E, [net["h0"], *S[:-1]])
    equal = matrices_equal(recursion, readable)
    return {"derive": derived - start, "verify": time.perf_counter() - derived, "equal": equal}


def numbers(T: int) -> dict:
    start = time.perf_counter()
    net = unrolled(T, sp.tanh)
    brute = gradient_matrix(net["loss"], net["Wh"])
    derived = time.perf_counter()
    slopes = [s.applyfunc(lambda v: 1 - v**2) for s in net["states"][1:]]
    recursion = dWh_by_recursion(net, slopes, net["residuals"], net["states"])
    symbols = sorted(net["loss"].free_symbols, key=str)
    rng = np.random.default_rng(T)
    draws = rng.normal(scale=0.5, size=len(symbols))
    values = {s: sp.Float(v) for s, v in zip(symbols, draws, strict=True)}
    at_numbers = [np.array(m.xreplace(values), dtype=float) for m in (brute, recursion)]
    equal = bool(np.allclose(*at_numbers, rtol=1e-12, atol=1e-14))
    return {"derive": derived - start, "verify": time.perf_counter() - derived, "equal": equal}


WAYS = {"naive": naive, "chapter": chapter, "numbers": numbers}


def _child(way: str, T: int, results) -> None:
    results.put(WAYS[way](T))


def timed_case(way: str, T: int, limit: float) -> dict | None:
    """The phases of one case, run in a fresh process; None when it ran over ``limit``."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    process = context.Process(target=_child, args=(way, T, results))
    process.start()
    process.join(limit)
    if process.is_alive():
        process.terminate()
        process.join()
        return None
    if process.exitcode != 0:
        raise RuntimeError(f"sympy_bptt: {way} at T = {T} failed (exit code {process.exitcode})")
    return results.get(timeout=10)


def run(tiny: bool = False) -> dict:
    """Every way over T = 1..6 (T = 1 when tiny), each case capped at the time limit."""
    steps, limit = (TINY_STEPS, TINY_LIMIT) if tiny else (STEPS, LIMIT)
    rows, cases = [], []
    for way in WAYS:
        over = False
        for T in steps:
            result = None if over else timed_case(way, T, limit)
            status = "skipped" if over else ("over the limit" if result is None else "done")
            over = result is None
            total = None if result is None else result["derive"] + result["verify"]
            cases.append({"way": way, "T": T, "status": status, "seconds": total, **(result or {})})
            rows.append(
                {
                    "case": f"{way}, T={T}",
                    "measured": total,
                    "measured_text": {"skipped": "not run", "over the limit": f"> {limit:g} s"}.get(
                        status
                    ),
                    "reference": limit,
                    "ratio": None if total is None else total / limit,
                    "target": f"< {limit:g} s (limit)",
                    "ok": None if status == "skipped" else total is not None and result["equal"],
                    "timing": "one run, fresh process",
                }
            )
    return {"rows": rows, "cases": cases, "limit": limit, "sizes": {"N": N, "D": D, "H": H, "O": O}}
