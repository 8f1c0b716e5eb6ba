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


# -- backward through time ---------------------------------------------------------------
#
#   dL/dc_t  += dL/dh_t ⊙ o_t ⊙ (1 − tanh²c_t)          (c_t also reaches the loss through h_t)
#   da_i = dL/dc_t ⊙ g_t ⊙ i_t(1 − i_t)      da_f = dL/dc_t ⊙ c_{t−1} ⊙ f_t(1 − f_t)
#   da_g = dL/dc_t ⊙ i_t ⊙ (1 − g_t²)        da_o = dL/dh_t ⊙ tanh c_t ⊙ o_t(1 − o_t)
#   dL/dh_{t−1} = W_hh^T da      dL/dc_{t−1} = dL/dc_t ⊙ f_t      dL/dx_t = W_ih^T da
#
# where a = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh stacks the pre-activations i f g o.


def step_backward(dh: np.ndarray, dc: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, c: np.ndarray,
                  gates: dict[str, np.ndarray], w: CellWeights) -> tuple[np.ndarray, ...]:
    """Back through one step. dh, dc (H,): dL/dh_t, dL/dc_t from above and from step t+1.

    Returns dL/dh_{t−1}, dL/dc_{t−1} (H,), da (4H,) = dL/da in i f g o order, and the
    total dL/dc_t (H,)."""
    i, f, g, o = (gates[k] for k in GATES)
    tc = np.tanh(c)
    dc = dc + dh * o * (1 - tc * tc)
    da = np.concatenate([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g), dh * tc * o * (1 - o)])
    return w.w_hh.T @ da, dc * f, da, dc


def run_backward(dh_out: np.ndarray, dc_last: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, c: np.ndarray,
                 gates: dict[str, np.ndarray], w: CellWeights, reverse: bool = False) -> tuple[np.ndarray, ...]:
    """All T steps back, as `step_backward`: dh_out (T, H) is dL/dh_t from above; h_prev
    and c_prev (T, H) the states each step read. Returns dh, dc (T, H): the totals dL/dh_t,
    dL/dc_t; da (T, 4H); dL/dh0, dL/dc0 (H,).

    Every factor that depends only on the forward values is computed for all t first, so
    each step is the one matrix-vector product the recurrence needs and five ufuncs."""
    T, H = dh_out.shape
    i, f, g, o = (np.asarray(gates[k]) for k in GATES)
    tc = np.tanh(c)
    k_c = o * (1 - tc * tc)  # (T, H): dL/dc_t gains dL/dh_t ⊙ k_c
    k_a = np.concatenate([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), tc * o * (1 - o)], axis=1)  # (T, 4H)
    k3, k_o = k_a[:, : 3 * H].reshape(T, 3, H), k_a[:, 3 * H :]  # i f g multiply dL/dc, o multiplies dL/dh
    w_hT = np.ascontiguousarray(w.w_hh.T)  # (H, 4H)
    dh, dc, da = np.empty((T, H), dh_out.dtype), np.empty((T, H), dh_out.dtype), np.empty((T, 4 * H), dh_out.dtype)
    da3, da_o = da[:, : 3 * H].reshape(T, 3, H), da[:, 3 * H :]
    dh_next, dc_next, tmp = np.zeros(H, dh_out.dtype), np.array(dc_last, dtype=dh_out.dtype), np.empty(H, dh_out.dtype)
    dot, mul, add = np.dot, np.multiply, np.add
    order = range(T) if reverse else range(T - 1, -1, -1)  # the forward steps, last first
    for t in order:
        add(dh_out[t], dh_next, dh[t])
        mul(dh[t], k_c[t], tmp)
        add(dc_next, tmp, dc[t])
        mul(dc[t], k3[t], da3[t])
        mul(dh[t], k_o[t], da_o[t])
        mul(dc[t], f[t], dc_next)
        dot(w_hT, da[t], dh_next)
    return dh, dc, da, dh_next, dc_next
