"""Long short-term memory, exactly as `torch.nn.LSTM` computes it.

    i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)        input gate
    f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)        forget gate
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)     candidate cell
    o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)        output gate
    c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

The fused `weight_ih (4H, I)` and `weight_hh (4H, H)` stack the gates in the order
i, f, g, o. Where readers trip:

- Karpathy's char-rnn (`model/LSTM.lua`) orders the chunks i, f, o, g and Keras
  i, f, c, o: weights moved between them must have their chunks re-ordered.
- The two biases b_i* and b_h* are PyTorch's (cuDNN's) convention; only their sum
  matters. TensorFlow's BasicLSTMCell adds `forget_bias=1.0` to f's pre-activation;
  `cells.init_recurrent(forget_bias=...)` does the same by adding it to b_if.
- A common tutorial mistake writes `h = o + tanh(c)` or `h = tanh(o ⊙ c)`: the output
  gate multiplies the squashed cell state.
"""

from __future__ import annotations

import numpy as np
import torch

from .params import CellWeights

GATES = ("i", "f", "g", "o")


def sigmoid(a: np.ndarray) -> np.ndarray:
    # σ(a) = ½(1 + tanh(a/2)): the same function without exp overflow for large |a|
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def step(
    x: np.ndarray, h: np.ndarray, c: np.ndarray, w: CellWeights
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One time step. x (I,), h (H,), c (H,) -> h_t (H,), c_t (H,), gates {i, f, g, o: (H,)}."""
    H = h.shape[0]
    a = w.w_ih @ x + w.b_ih + w.w_hh @ h + w.b_hh  # (4H,)
    i = sigmoid(a[0:H])
    f = sigmoid(a[H : 2 * H])
    g = np.tanh(a[2 * H : 3 * H])
    o = sigmoid(a[3 * H :])
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c, {"i": i, "f": f, "g": g, "o": o}


def gates_over_time(
    x: torch.Tensor, h_prev: torch.Tensor, w: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """All gates for all t at once, given the states h_{t−1} the layer read.

    x (T, I), h_prev (T, H) -> {i, f, g, o: (T, H)}, views into one (T, 4H) buffer.
    """
    a = torch.addmm(w["b_ih"] + w["b_hh"], x, w["w_ih"].T)  # (T, 4H)
    a.addmm_(h_prev, w["w_hh"].T)
    H = h_prev.shape[1]
    a[:, 0 : 2 * H].sigmoid_()
    a[:, 2 * H : 3 * H].tanh_()
    a[:, 3 * H :].sigmoid_()
    return {name: a[:, k * H : (k + 1) * H] for k, name in enumerate(GATES)}


def cell_over_time(gates: dict[str, np.ndarray], c0: np.ndarray, reverse: bool) -> np.ndarray:
    """c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t for every t, read backwards when `reverse`.

    Only this elementwise recurrence still needs a loop once h is known.
    """
    f = gates["f"]
    ig = gates["i"] * gates["g"]  # (T, H)
    c = np.empty_like(ig)  # (T, H)
    prev = c0
    for t in reversed(range(len(c))) if reverse else range(len(c)):
        np.multiply(f[t], prev, out=c[t])
        c[t] += ig[t]
        prev = c[t]
    return c
