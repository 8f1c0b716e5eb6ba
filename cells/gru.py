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
import torch

from .lstm import sigmoid
from .params import CellWeights

GATES = ("r", "z", "n")


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


def gates_over_time(
    x: torch.Tensor, h_prev: torch.Tensor, w: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """All gates for all t at once, given the states h_{t−1} the layer read.

    x (T, I), h_prev (T, H) -> {r, z, n: (T, H)}, views into one (T, 3H) buffer.
    """
    ax = torch.addmm(w["b_ih"], x, w["w_ih"].T)  # (T, 3H)
    ah = torch.addmm(w["b_hh"], h_prev, w["w_hh"].T)  # (T, 3H)
    H = h_prev.shape[1]
    ax[:, : 2 * H].add_(ah[:, : 2 * H]).sigmoid_()  # r, z
    r = ax[:, :H]
    ax[:, 2 * H :].addcmul_(r, ah[:, 2 * H :]).tanh_()  # n
    return {name: ax[:, k * H : (k + 1) * H] for k, name in enumerate(GATES)}
