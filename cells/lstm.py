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
from .params import CellWeights

GATES = ("i", "f", "g", "o")
SQUASH = {"i": "sigmoid", "f": "sigmoid", "g": "tanh", "o": "sigmoid"}  # each gate's nonlinearity


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


def run(
    x: np.ndarray, h0: np.ndarray, c0: np.ndarray, w: CellWeights, reverse: bool = False
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """All T steps of one direction: x (T, I) -> h (T, H), c (T, H), gates {i, f, g, o: (T, H)}.

    The same maths as `step`, arranged so that recording costs almost nothing on top
    of the one matrix-vector product each step needs (row t is input position t):
    - one matrix product projects every x_t at once;
    - each row of one buffer holds a step's i, f, o, g and then the c it reads, so one
      tanh covers all four gates, using σ(a) = ½ + ½·tanh(a/2) with the σ rows of W
      and b pre-halved (exact in binary floating point), and one product gives
      [i, f] ⊙ [g, c_{t−1}];
    - every ufunc writes in place into the arrays that become the trace.
    """
    T, H = x.shape[0], h0.shape[0]
    order = np.r_[0 : 2 * H, 3 * H : 4 * H, 2 * H : 3 * H]  # torch's i f g o -> i f o g
    scale = np.r_[np.full(3 * H, 0.5), np.ones(H)].astype(x.dtype)[:, None]  # (4H, 1)
    w_h = np.ascontiguousarray(w.w_hh[order] * scale)  # (4H, H)
    # T + 1 rows: gates of step t in row t (row t + 1 backwards); the c a step writes
    # lands in the c slot of the row the next step reads.
    buf = np.empty((T + 1, 5 * H), x.dtype)
    rows = buf.reshape(T + 1, 5, H)
    g0 = 1 if reverse else 0
    gates, sig = buf[g0 : g0 + T, : 4 * H], buf[g0 : g0 + T, : 3 * H]  # (T, 4H) (T, 3H)
    if_, gc, o = rows[g0 : g0 + T, 0:2], rows[g0 : g0 + T, 3:5], rows[g0 : g0 + T, 2]  # (T, 2, H) (T, 2, H) (T, H)
    c = rows[1 - g0 : 1 - g0 + T, 4]  # (T, H)
    np.matmul(x, (w.w_ih[order] * scale).T, out=gates)
    gates += (w.b_ih + w.b_hh)[order] * scale[:, 0]
    buf[T if reverse else 0, 4 * H :] = c0
    h = np.empty((T, H), x.dtype)
    hw, prod = np.empty(4 * H, x.dtype), np.empty((2, H), x.dtype)
    p0, p1 = prod
    half = np.array(0.5, x.dtype)  # 0-d: ufuncs take it without converting a Python float each call
    dot, tanh, mul, add = np.dot, np.tanh, np.multiply, np.add  # positional out: the loop is overhead-bound
    step = slice(None, None, -1) if reverse else slice(None)  # the order the steps run in
    h_prev = h0
    # zip walks the rows as views, cheaper than indexing each array at each step
    for a, sg, ifr, gcr, orow, cs, hs in zip(gates[step], sig[step], if_[step], gc[step], o[step], c[step], h[step]):
        dot(w_h, h_prev, hw)
        add(a, hw, a)
        tanh(a, a)  # tanh(a/2) for i, f, o; g itself
        mul(sg, half, sg)
        add(sg, half, sg)  # σ for i, f, o
        mul(ifr, gcr, prod)
        add(p0, p1, cs)  # c_t = f ⊙ c_{t−1} + i ⊙ g
        tanh(cs, hs)
        mul(hs, orow, hs)  # h_t = o ⊙ tanh(c_t)
        h_prev = hs
    return h, c, {"i": gates[:, :H], "f": gates[:, H : 2 * H], "g": gates[:, 3 * H :], "o": gates[:, 2 * H : 3 * H]}
