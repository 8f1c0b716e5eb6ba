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

The reset-before GRU (kind "gru_reset_before", `*_reset_before` below) is the paper's
form, which Keras computes with `GRU(reset_after=False)` and no torch module does:

    n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t−1}) + b_hn)

r_t, z_t and h_t as above, the same weights and gate order. Keras keeps one bias
there, so b_hn = 0 for its weights; kept here, it adds outside the reset.
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


# -- backward through time ---------------------------------------------------------------
#
#   with hn_t = W_hn h_{t−1} + b_hn (the h half of n's pre-activation):
#   da_n = dL/dh_t ⊙ (1 − z_t) ⊙ (1 − n_t²)       the pre-activation W_in x + b_in + r ⊙ hn
#   da_z = dL/dh_t ⊙ (h_{t−1} − n_t) ⊙ z_t(1 − z_t)
#   da_r = da_n ⊙ hn_t ⊙ r_t(1 − r_t)
#   the x half:  a_x = (da_r, da_z, da_n)       dL/dx_t = W_ih^T a_x
#   the h half:  a_h = (da_r, da_z, da_n ⊙ r_t)  dL/dh_{t−1} = dL/dh_t ⊙ z_t + W_hh^T a_h


def step_backward(dh: np.ndarray, h_prev: np.ndarray, gates: dict[str, np.ndarray],
                  w: CellWeights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Back through one step. dh (H,): dL/dh_t from above and from step t+1.

    Returns dL/dh_{t−1} (H,) and the pre-activation gradients of the x half and the
    h half (3H,) each, r z n order (they differ in n: the reset multiplies the h half)."""
    H = h_prev.shape[0]
    r, z, n = (gates[k] for k in GATES)
    hn = w.w_hh[2 * H :] @ h_prev + w.b_hh[2 * H :]
    da_n = dh * (1 - z) * (1 - n * n)
    da_z = dh * (h_prev - n) * z * (1 - z)
    da_r = da_n * hn * r * (1 - r)
    da_h = np.concatenate([da_r, da_z, da_n * r])
    return dh * z + w.w_hh.T @ da_h, np.concatenate([da_r, da_z, da_n]), da_h


def run_backward(dh_out: np.ndarray, h_prev: np.ndarray, gates: dict[str, np.ndarray], w: CellWeights,
                 reverse: bool = False) -> tuple[np.ndarray, ...]:
    """All T steps back, as `step_backward`: dh_out (T, H) is dL/dh_t from above; h_prev
    (T, H) the states each step read. Returns dh (T, H), the totals dL/dh_t; the x and h
    halves of the pre-activation gradients (T, 3H); dL/dh0 (H,).

    Every pre-activation gradient is dL/dh_t times a factor that depends only on the
    forward values, so the factors come first, for all t; each step is then the one
    matrix-vector product the recurrence needs and four ufuncs."""
    T, H = dh_out.shape
    r, z, n = (np.asarray(gates[k]) for k in GATES)
    hn = h_prev @ w.w_hh[2 * H :].T + w.b_hh[2 * H :]  # (T, H)
    k_n = (1 - z) * (1 - n * n)
    k_r = k_n * hn * r * (1 - r)
    k_z = (h_prev - n) * z * (1 - z)
    k_h = np.stack([k_r, k_z, k_n * r], axis=1)  # (T, 3, H): a_h = dL/dh_t ⊙ k_h
    w_hT = np.ascontiguousarray(w.w_hh.T)  # (H, 3H)
    dh, da_h = np.empty((T, H), dh_out.dtype), np.empty((T, 3 * H), dh_out.dtype)
    da_h3 = da_h.reshape(T, 3, H)
    dh_next, tmp = np.zeros(H, dh_out.dtype), np.empty(H, dh_out.dtype)
    dot, mul, add = np.dot, np.multiply, np.add
    order = range(T) if reverse else range(T - 1, -1, -1)  # the forward steps, last first
    for t in order:
        add(dh_out[t], dh_next, dh[t])
        mul(dh[t], k_h[t], da_h3[t])
        dot(w_hT, da_h[t], tmp)
        mul(dh[t], z[t], dh_next)
        add(dh_next, tmp, dh_next)
    da_x = (dh[:, None, :] * np.stack([k_r, k_z, k_n], axis=1)).reshape(T, 3 * H)
    return dh, da_x, da_h, dh_next


# -- the reset-before GRU (Keras reset_after=False) -----------------------------------------


def step_reset_before(x: np.ndarray, h: np.ndarray, w: CellWeights) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One time step of the reset-before GRU. x (I,), h (H,) -> h_t (H,), gates {r, z, n: (H,)}."""
    H = h.shape[0]
    ax = w.w_ih @ x + w.b_ih  # (3H,)
    ah = w.w_hh[: 2 * H] @ h + w.b_hh[: 2 * H]  # (2H,): r and z only; n needs r first
    r = sigmoid(ax[0:H] + ah[0:H])
    z = sigmoid(ax[H : 2 * H] + ah[H : 2 * H])
    n = np.tanh(ax[2 * H :] + w.w_hh[2 * H :] @ (r * h) + w.b_hh[2 * H :])
    h = (1.0 - z) * n + z * h
    return h, {"r": r, "z": z, "n": n}


def run_reset_before(
    x: np.ndarray, h0: np.ndarray, w: CellWeights, reverse: bool = False
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """All T steps of the reset-before GRU: x (T, I) -> h (T, H), gates {r, z, n: (T, H)}.

    `run`'s arrangement, with two matrix-vector products a step instead of one: r_t must
    be known before W_hn can multiply r_t ⊙ h_{t−1}.
    """
    T, H = x.shape[0], h0.shape[0]
    scale = np.r_[np.full(2 * H, 0.5), np.ones(H)].astype(x.dtype)  # (3H,): σ(a) = ½ + ½·tanh(a/2)
    w_rz = np.ascontiguousarray(w.w_hh[: 2 * H] * 0.5)  # (2H, H)
    w_n = np.ascontiguousarray(w.w_hh[2 * H :])  # (H, H)
    g = x @ (w.w_ih * scale[:, None]).T  # (T, 3H): pre-activations, then gates in place
    g += (w.b_ih + w.b_hh) * scale  # b_hn sits outside the reset, so both biases simply add
    rz, r, z, n = g[:, : 2 * H], g[:, :H], g[:, H : 2 * H], g[:, 2 * H :]  # views (T, 2H) (T, H) ...
    h = np.empty((T, H), x.dtype)
    hw, rh, hn = np.empty(2 * H, x.dtype), np.empty(H, x.dtype), np.empty(H, x.dtype)
    half = np.array(0.5, x.dtype)
    dot, tanh, mul, add, sub = np.dot, np.tanh, np.multiply, np.add, np.subtract
    step = slice(None, None, -1) if reverse else slice(None)
    h_prev = h0
    for rzt, rt, zt, nt, ht in zip(rz[step], r[step], z[step], n[step], h[step]):
        dot(w_rz, h_prev, hw)
        add(rzt, hw, rzt)
        tanh(rzt, rzt)
        mul(rzt, half, rzt)
        add(rzt, half, rzt)  # r_t, z_t = σ(…)
        mul(rt, h_prev, rh)
        dot(w_n, rh, hn)
        add(nt, hn, nt)
        tanh(nt, nt)  # n_t = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)
        sub(h_prev, nt, ht)
        mul(ht, zt, ht)
        add(ht, nt, ht)  # h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
        h_prev = ht
    return h, {"r": r, "z": z, "n": n}


#   backward, with W_hr, W_hz, W_hn the row blocks of W_hh:
#   da_n = dL/dh_t ⊙ (1 − z_t) ⊙ (1 − n_t²)
#   da_z = dL/dh_t ⊙ (h_{t−1} − n_t) ⊙ z_t(1 − z_t)
#   d(r ⊙ h) = W_hnᵀ da_n                              what n read through the reset
#   da_r = d(r ⊙ h) ⊙ h_{t−1} ⊙ r_t(1 − r_t)
#   dL/dh_{t−1} = dL/dh_t ⊙ z_t + W_hrᵀ da_r + W_hzᵀ da_z + r_t ⊙ d(r ⊙ h)
#   one pre-activation gradient a = (da_r, da_z, da_n) for both halves; W_hn's gradient
#   is Σ_t da_n (r_t ⊙ h_{t−1})ᵀ (cells/gradients.py)


def step_backward_reset_before(dh: np.ndarray, h_prev: np.ndarray, gates: dict[str, np.ndarray],
                               w: CellWeights) -> tuple[np.ndarray, np.ndarray]:
    """Back through one step of the reset-before GRU. dh (H,): dL/dh_t from above and
    from step t+1. Returns dL/dh_{t−1} (H,) and the pre-activation gradient (3H,), r z n."""
    H = h_prev.shape[0]
    r, z, n = (gates[k] for k in GATES)
    da_n = dh * (1 - z) * (1 - n * n)
    da_z = dh * (h_prev - n) * z * (1 - z)
    d_rh = w.w_hh[2 * H :].T @ da_n
    da_r = d_rh * h_prev * r * (1 - r)
    dh_prev = dh * z + w.w_hh[: 2 * H].T @ np.concatenate([da_r, da_z]) + r * d_rh
    return dh_prev, np.concatenate([da_r, da_z, da_n])


def run_backward_reset_before(dh_out: np.ndarray, h_prev: np.ndarray, gates: dict[str, np.ndarray], w: CellWeights,
                              reverse: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All T steps back, as `step_backward_reset_before`: dh_out (T, H) is dL/dh_t from
    above; h_prev (T, H) the states each step read. Returns dh (T, H), the totals dL/dh_t;
    the pre-activation gradients (T, 3H); dL/dh0 (H,)."""
    T, H = dh_out.shape
    r, z, n = (np.asarray(gates[k]) for k in GATES)
    k_n = (1 - z) * (1 - n * n)  # (T, H)
    k_z = (h_prev - n) * z * (1 - z)
    k_r = h_prev * r * (1 - r)  # da_r = d(r ⊙ h) ⊙ k_r
    w_nT = np.ascontiguousarray(w.w_hh[2 * H :].T)  # (H, H)
    w_rzT = np.ascontiguousarray(w.w_hh[: 2 * H].T)  # (H, 2H)
    dh, da = np.empty((T, H), dh_out.dtype), np.empty((T, 3 * H), dh_out.dtype)
    dh_next, d_rh, tmp = np.zeros(H, dh_out.dtype), np.empty(H, dh_out.dtype), np.empty(H, dh_out.dtype)
    dot, mul, add = np.dot, np.multiply, np.add
    for t in range(T) if reverse else range(T - 1, -1, -1):  # the forward steps, last first
        da_r, da_z, da_n = da[t, :H], da[t, H : 2 * H], da[t, 2 * H :]
        add(dh_out[t], dh_next, dh[t])
        mul(dh[t], k_n[t], da_n)
        mul(dh[t], k_z[t], da_z)
        dot(w_nT, da_n, d_rh)
        mul(d_rh, k_r[t], da_r)
        mul(dh[t], z[t], dh_next)
        mul(d_rh, r[t], tmp)
        add(dh_next, tmp, dh_next)
        dot(w_rzT, da[t, : 2 * H], tmp)
        add(dh_next, tmp, dh_next)
    return dh, da, dh_next
