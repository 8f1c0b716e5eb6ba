"""Elman recurrent network, exactly as `torch.nn.RNN` computes it.

    h_t = φ(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh),   φ = tanh (default) or relu

There are no gates: everything the cell computes is h itself. With tanh the state
stays in [−1, 1]; with relu it is unbounded and can overflow when the recurrent
weights are large (`Trace.finite` reports that). Textbooks often write a single bias
b_h; PyTorch keeps two, b_ih and b_hh, which only appear summed.
"""

from __future__ import annotations

import numpy as np

from .params import CellWeights

GATES: tuple[str, ...] = ()


def step(x: np.ndarray, h: np.ndarray, w: CellWeights, nonlinearity: str = "tanh") -> np.ndarray:
    """One time step. x (I,), h (H,) -> h_t (H,)."""
    a = w.w_ih @ x + w.b_ih + w.w_hh @ h + w.b_hh  # (H,)
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)


def _relu(a: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(a, 0.0, out=out)


def run(x: np.ndarray, h0: np.ndarray, w: CellWeights, nonlinearity: str = "tanh", reverse: bool = False) -> np.ndarray:
    """All T steps of one direction: x (T, I) -> h (T, H); row t is input position t."""
    h = x @ w.w_ih.T  # (T, H): pre-activations, then h in place
    h += w.b_ih + w.b_hh
    hw = np.empty(h.shape[1], x.dtype)
    dot, add, phi = np.dot, np.add, (np.tanh if nonlinearity == "tanh" else _relu)
    h_prev = h0
    for ht in h[::-1] if reverse else h:
        dot(w.w_hh, h_prev, hw)
        add(ht, hw, ht)
        phi(ht, ht)
        h_prev = ht
    return h
