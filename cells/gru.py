"""Gated recurrent unit, exactly as `torch.nn.GRU` computes it.

    r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)              reset gate
    z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)              update gate
    n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))   candidate
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}

The fused `weight_ih (3H, I)` and `weight_hh (3H, H)` stack the gates r, z, n. Where
readers trip:

- PyTorch (like cuDNN) applies the reset *after* the matrix product,
  r ⊙ (W_hn h + b_hn). Cho et al. (2014) and d2l apply it before,
  W_hn (r ⊙ h); the two give different numbers for the same weights.
- Some texts swap the roles of z: h_t = z ⊙ n + (1 − z) ⊙ h_{t−1}. Here z near 1
  means "keep the old state".
"""

from __future__ import annotations

import numpy as np
from .lstm import sigmoid
from .params import CellWeights

GATES = ("r", "z", "n")
SQUASH = {"r": "sigmoid", "z": "sigmoid", "n": "tanh"}  # each gate's nonlinearity


def step(x: np.ndarray, h: np.ndarray, w: CellWeights) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One time step. x (I,), h (H,) -> h_t (H,), gates {r, z, n: (H,)}."""
    H = h.shape[0]
    ax = w.w_ih @ x + w.b_ih  # (3H,)
    ah = w.w_hh @ h + w.b_hh  # (3H,)
    r = sigmoid(ax[0:H] + ah[0:H])
    z = sigmoid(ax[H : 2 * H] + ah[H : 2 * H])
    n = np.tanh(ax[2 * H :] + r * ah[2 * H :])
    h = (1.0 - z) * n + z * h
    return h, {"r": r, "z": z, "n": n}


def run(
    x: np.ndarray, h0: np.ndarray, w: CellWeights, reverse: bool = False
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All T steps of one direction: x (T, I) -> h (T, H), gates {r, z, n: (T, H)}.

    The same maths as `step`, arranged for speed; row t is always input position t.
    One matrix product projects every x_t; σ(a) = ½ + ½·tanh(a/2) with the r and z
    rows pre-halved (exact in binary floating point); h_t = n + z ⊙ (h_{t−1} − n)
    is the update rewritten with one product fewer.
    """
    T, H = x.shape[0], h0.shape[0]
    scale = np.r_[np.full(2 * H, 0.5), np.ones(H)].astype(x.dtype)  # (3H,)
    w_h = np.ascontiguousarray(w.w_hh * scale[:, None])  # (3H, H)
    b_hn = w.b_hh[2 * H :]  # (H,): stays inside r ⊙ (W_hn h + b_hn)
    g = x @ (w.w_ih * scale[:, None]).T  # (T, 3H): pre-activations, then gates in place
    g += w.b_ih * scale
    g[:, : 2 * H] += w.b_hh[: 2 * H] * 0.5
    rz, r, z, n = g[:, : 2 * H], g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]  # views (T, 2H) (T, H) ...
    h = np.empty((T, H), x.dtype)
    hw, rh = np.empty(3 * H, x.dtype), np.empty(H, x.dtype)
    hw_rz, hw_n = hw[: 2 * H], hw[2 * H :]
    half = np.array(0.5, x.dtype)  # 0-d: ufuncs take it without converting a Python float each call
    dot, tanh, mul, add, sub = np.dot, np.tanh, np.multiply, np.add, np.subtract  # the loop is overhead-bound
    step = slice(None, None, -1) if reverse else slice(None)  # the order the steps run in
    h_prev = h0
    for rzt, rt, zt, nt, ht in zip(rz[step], r[step], z[step], n[step], h[step]):
        dot(w_h, h_prev, hw)
        add(rzt, hw_rz, rzt)
        tanh(rzt, rzt)
        mul(rzt, half, rzt)
        add(rzt, half, rzt)  # r_t, z_t = σ(…)
        add(hw_n, b_hn, rh)
        mul(rh, rt, rh)
        add(nt, rh, nt)
        tanh(nt, nt)  # n_t = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        sub(h_prev, nt, ht)
        mul(ht, zt, ht)
        add(ht, nt, ht)  # h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
        h_prev = ht
    return h, {"r": g[:, :H], "z": g[:, H : 2 * H], "n": g[:, 2 * H :]}
