"""The Adam optimiser, written out (introduced in the chapter Gated cells).

Adam (Kingma and Ba, 2015) keeps, for every parameter entry, a running mean ``m`` of the
gradients and a running mean ``v`` of their squares, corrects both for their start at zero, and
moves the parameter by ``lr * m_hat / (sqrt(v_hat) + eps)``. At step ``t`` (counted from 1):

    m = beta1 m + (1 - beta1) g,        m_hat = m / (1 - beta1**t),
    v = beta2 v + (1 - beta2) g * g,    v_hat = v / (1 - beta2**t),
    theta = theta - lr * m_hat / (sqrt(v_hat) + eps).

:class:`Adam` applies exactly these formulas to a dictionary of float64 parameter arrays, in
place: the caller's arrays change, and each step allocates nothing beyond one scratch array per
parameter made once at construction. It does not clip gradients.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnbook.checks import float_array, positive_number, same_shape


def _fraction(name: str, value: object) -> float:
    """``value`` as a float after checking ``0 <= value < 1`` (an Adam decay rate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number in [0, 1), got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be a number in [0, 1), got {value}")
    return float(value)


class Adam:
    """Adam on a dictionary of float64 arrays, updated in place by :meth:`step`.

    ``params`` maps names to the arrays to train (for example ``{"Wx": Wx, "Wh": Wh}``); they
    must be writeable float64 arrays. ``lr`` is the step size, ``beta1`` and ``beta2`` the decay
    rates of the two running means, ``eps`` the constant added to the denominator.
    """

    def __init__(
        self,
        params: Mapping[str, np.ndarray],
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(params, Mapping) or not params:
            raise ValueError(f"params must be a non-empty dict of arrays, got {params!r:.60}")
        for name, value in params.items():
            if not isinstance(value, np.ndarray):
                raise ValueError(
                    f"params[{name!r}] must be a NumPy array, got {type(value).__name__}"
                )
            float_array(f"params[{name!r}]", value)
            if not value.flags.writeable:
                raise ValueError(f"params[{name!r}] must be writeable: Adam updates it in place")
        self.params = dict(params)
        self.lr = positive_number("lr", lr)
        self.beta1 = _fraction("beta1", beta1)
        self.beta2 = _fraction("beta2", beta2)
        self.eps = positive_number("eps", eps)
        self.t = 0
        self.m = {name: np.zeros_like(value) for name, value in self.params.items()}
        self.v = {name: np.zeros_like(value) for name, value in self.params.items()}
        self._scratch = {name: np.empty_like(value) for name, value in self.params.items()}

    def step(self, grads: Mapping[str, np.ndarray]) -> None:
        """One Adam step: update every parameter in place from ``grads`` (same names, shapes)."""
        if not isinstance(grads, Mapping) or set(grads) != set(self.params):
            got = sorted(grads) if isinstance(grads, Mapping) else type(grads).__name__
            raise ValueError(f"grads must have the keys {sorted(self.params)}, got {got}")
        checked = {}
        for name, g in grads.items():
            g = float_array(f"grads[{name!r}]", g)
            same_shape(f"grads[{name!r}]", g, f"params[{name!r}]", self.params[name])
            checked[name] = g
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        correction1 = 1.0 - b1**self.t
        correction2 = 1.0 - b2**self.t
        for name, g in checked.items():
            m, v, s = self.m[name], self.v[name], self._scratch[name]
            m *= b1  # m = beta1 m + (1 - beta1) g
            np.multiply(g, 1.0 - b1, out=s)
            m += s
            v *= b2  # v = beta2 v + (1 - beta2) g * g
            np.multiply(g, g, out=s)
            s *= 1.0 - b2
            v += s
            np.divide(v, correction2, out=s)  # sqrt(v_hat) + eps
            np.sqrt(s, out=s)
            s += self.eps
            np.divide(m, s, out=s)  # m / (sqrt(v_hat) + eps), then times lr / (1 - beta1**t)
            s *= self.lr / correction1
            self.params[name] -= s
