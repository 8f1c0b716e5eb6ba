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


# -- backward through time -----------------------------------------------------------------
#
#   da = dL/dh_t ⊙ φ'(a_t)  (tanh: 1 − h_t²; relu: 1 where h_t > 0)
#   dL/dh_{t−1} = W_hh^T da      dL/dx_t = W_ih^T da


def slope(h: np.ndarray, nonlinearity: str = "tanh") -> np.ndarray:
    """φ'(a) from h = φ(a), elementwise."""
    return 1 - h * h if nonlinearity == "tanh" else (h > 0).astype(h.dtype)


def step_backward(dh: np.ndarray, h: np.ndarray, w: CellWeights, nonlinearity: str = "tanh") -> tuple[np.ndarray, np.ndarray]:
    """Back through one step: dh (H,) from above and from step t+1, h (H,) = h_t.
    Returns dL/dh_{t−1} (H,) and da (H,), the pre-activation's gradient."""
    da = dh * slope(h, nonlinearity)
    return w.w_hh.T @ da, da


def run_backward(dh_out: np.ndarray, h: np.ndarray, w: CellWeights, nonlinearity: str = "tanh",
                 reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All T steps back: dh_out (T, H) from above, h (T, H). Returns dh (T, H), the totals
    dL/dh_t; da (T, H); dL/dh0 (H,)."""
    T, H = dh_out.shape
    k = slope(np.asarray(h), nonlinearity)  # (T, H)
    w_hT = np.ascontiguousarray(w.w_hh.T)  # (H, H)
    dh, da = np.empty((T, H), dh_out.dtype), np.empty((T, H), dh_out.dtype)
    dh_next = np.zeros(H, dh_out.dtype)
    dot, mul, add = np.dot, np.multiply, np.add
    for t in range(T) if reverse else range(T - 1, -1, -1):  # the forward steps, last first
        add(dh_out[t], dh_next, dh[t])
        mul(dh[t], k[t], da[t])
        dot(w_hT, da[t], dh_next)
    return dh, da, dh_next
