"""Many sequences of one length through a Recurrent at once: forward to the output, back to the inputs.

    Y, tape = batched.forward(rec, X)              # X (T, B, I) -> Y (T, B, D·H), zero initial states
    dX = batched.input_gradients(rec, tape, dY)    # dY = dL/dY (T, B, D·H) -> dL/dX (T, B, I)

For the saliency methods (cells/explain.py), which read one sentence many times:
integrated gradients 34 times, scaled; occlusion once per token, one token masked; a
language model's connectivity once per position, with a different loss each. One
batched pass turns each step's B matrix-vector products into one matrix product. The
maths is the per-sequence engine's (`lstm.run`, `lstm.run_backward` and their GRU and
RNN twins; cells/gradients.py has the equations), and the tests hold the two equal.
Unlike a Trace, nothing is recorded beyond what the backward pass reads, and nothing
but dL/dX comes back: no parameter gradients, no per-step dh.

A tape's arrays broadcast: a tape of B = 1 takes dY of any B (the same forward pass
under B different losses). Time-major, so each step reads contiguous (B, ·) slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lstm import sigmoid
from .recurrent import Recurrent

KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru")  # torch's cells; not the paper's GRU (gru_reset_before)


@dataclass(frozen=True)
class Tape:
    """What `forward` keeps for `input_gradients`: per (layer, direction), in Recurrent.weights order."""

    kind: str
    records: tuple[dict[str, np.ndarray], ...]  # name -> (T, B, ·)


def _order(T: int, reverse: bool) -> range:
    return range(T - 1, -1, -1) if reverse else range(T)


def _lstm(xp: np.ndarray, w_hT: np.ndarray, reverse: bool) -> tuple[np.ndarray, dict]:
    T, B, H4 = xp.shape
    H = H4 // 4
    gates, c, h = np.empty_like(xp), np.empty((T, B, H), xp.dtype), np.empty((T, B, H), xp.dtype)
    h_t, c_t = np.zeros((B, H), xp.dtype), np.zeros((B, H), xp.dtype)
    for t in _order(T, reverse):
        a = xp[t] + h_t @ w_hT  # (B, 4H), torch's i f g o
        g = gates[t]
        g[:, : 2 * H], g[:, 2 * H : 3 * H], g[:, 3 * H :] = sigmoid(a[:, : 2 * H]), np.tanh(a[:, 2 * H : 3 * H]), sigmoid(a[:, 3 * H :])
        c_t = c[t] = g[:, H : 2 * H] * c_t + g[:, :H] * g[:, 2 * H : 3 * H]
        h_t = h[t] = g[:, 3 * H :] * np.tanh(c_t)
    return h, {"gates": gates, "c": c}


def _lstm_back(dh_out: np.ndarray, rec: dict, w_hh: np.ndarray, reverse: bool) -> np.ndarray:
    gates, c = rec["gates"], rec["c"]
    T, H = dh_out.shape[0], c.shape[2]
    da = np.empty(dh_out.shape[:2] + (4 * H,), np.result_type(dh_out, c))
    dh_next = dc_next = 0.0
    for t in reversed(_order(T, reverse)):  # the forward steps, last first
        i, f, g, o = (gates[t][:, k * H : (k + 1) * H] for k in range(4))
        t_prev = t + 1 if reverse else t - 1
        c_prev = c[t_prev] if 0 <= t_prev < T else 0.0
        tc = np.tanh(c[t])
        dh = dh_out[t] + dh_next
        dc = dc_next + dh * o * (1 - tc * tc)
        da[t] = np.concatenate(np.broadcast_arrays(dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                                                   dc * i * (1 - g * g), dh * tc * o * (1 - o)), axis=-1)
        dc_next, dh_next = dc * f, da[t] @ w_hh
    return da


def _gru(xp: np.ndarray, w: object, reverse: bool) -> tuple[np.ndarray, dict]:
    T, B, H3 = xp.shape
    H = H3 // 3
    w_hT = np.ascontiguousarray(w.w_hh.T)
    gates, hn, h = np.empty_like(xp), np.empty((T, B, H), xp.dtype), np.empty((T, B, H), xp.dtype)
    h_t = np.zeros((B, H), xp.dtype)
    for t in _order(T, reverse):
        hh = h_t @ w_hT + w.b_hh  # (B, 3H)
        rz = sigmoid(xp[t][:, : 2 * H] + hh[:, : 2 * H])
        hn[t] = hh[:, 2 * H :]
        n = np.tanh(xp[t][:, 2 * H :] + rz[:, :H] * hn[t])
        gates[t][:, : 2 * H], gates[t][:, 2 * H :] = rz, n
        h_t = h[t] = n + rz[:, H:] * (h_t - n)
    return h, {"gates": gates, "hn": hn, "h": h}


def _gru_back(dh_out: np.ndarray, rec: dict, w_hh: np.ndarray, reverse: bool) -> np.ndarray:
    gates, hn, hs = rec["gates"], rec["hn"], rec["h"]
    T, H = dh_out.shape[0], hs.shape[2]
    dtype = np.result_type(dh_out, hs)
    da_x = np.empty(dh_out.shape[:2] + (3 * H,), dtype)
    dh_next = 0.0
    for t in reversed(_order(T, reverse)):
        r, z, n = (gates[t][:, k * H : (k + 1) * H] for k in range(3))
        t_prev = t + 1 if reverse else t - 1
        h_prev = hs[t_prev] if 0 <= t_prev < T else 0.0
        dh = dh_out[t] + dh_next
        dan = dh * (1 - z) * (1 - n * n)
        dar, daz = dan * hn[t] * r * (1 - r), dh * (h_prev - n) * z * (1 - z)
        da_x[t] = np.concatenate(np.broadcast_arrays(dar, daz, dan), axis=-1)
        dh_next = dh * z + np.concatenate(np.broadcast_arrays(dar, daz, dan * r), axis=-1) @ w_hh
    return da_x


def _rnn(xp: np.ndarray, w_hT: np.ndarray, relu: bool, reverse: bool) -> tuple[np.ndarray, dict]:
    T, B, H = xp.shape
    h = np.empty_like(xp)
    h_t = np.zeros((B, H), xp.dtype)
    for t in _order(T, reverse):
        a = xp[t] + h_t @ w_hT
        h_t = h[t] = np.maximum(a, 0) if relu else np.tanh(a)
    return h, {"h": h}


def _rnn_back(dh_out: np.ndarray, rec: dict, w_hh: np.ndarray, relu: bool, reverse: bool) -> np.ndarray:
    h = rec["h"]
    slope = (h > 0).astype(h.dtype) if relu else 1 - h * h  # φ'(a) from h = φ(a)
    da = np.empty(np.broadcast_shapes(dh_out.shape, h.shape), np.result_type(dh_out, h))
    dh_next = 0.0
    for t in reversed(_order(dh_out.shape[0], reverse)):
        da[t] = (dh_out[t] + dh_next) * slope[t]
        dh_next = da[t] @ w_hh
    return da


def forward(rec: Recurrent, X: np.ndarray) -> tuple[np.ndarray, Tape]:
    """X (T, B, input_size) -> the output (T, B, D·H) of every sequence, from zero states, and the tape."""
    if rec.kind not in KINDS:
        raise ValueError(f"batched.forward reads {', '.join(KINDS)} cells, not {rec.kind}: trace each sequence instead")
    X = np.asarray(X, dtype=rec.dtype)
    if X.ndim != 3 or X.shape[2] != rec.input_size or X.shape[0] < 1:
        raise ValueError(f"X must have shape (T ≥ 1, B, {rec.input_size}); got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X holds NaN or infinite values")
    D, records, inp = rec.num_directions, [], X
    with np.errstate(over="ignore", invalid="ignore"):
        for l in range(rec.num_layers):
            outs = []
            for d in range(D):
                w, reverse = rec.weights[l * D + d], d == 1
                xp = inp @ w.w_ih.T + w.b_ih  # (T, B, k·H)
                if rec.kind == "gru":
                    h, r = _gru(xp, w, reverse)
                else:
                    xp += w.b_hh
                    w_hT = np.ascontiguousarray(w.w_hh.T)
                    h, r = _lstm(xp, w_hT, reverse) if rec.kind == "lstm" else _rnn(xp, w_hT, rec.kind == "rnn_relu", reverse)
                records.append(r)
                outs.append(h)
            inp = outs[0] if D == 1 else np.concatenate(outs, axis=-1)
    return inp, Tape(rec.kind, tuple(records))


def input_gradients(rec: Recurrent, tape: Tape, dY: np.ndarray) -> np.ndarray:
    """dY = dL/dY (T, B, D·H) -> dL/dX (T, B, input_size), through the tape `forward` made."""
    if tape.kind != rec.kind or len(tape.records) != len(rec.weights):
        raise ValueError("this tape was not made by this model")
    D, H = rec.num_directions, rec.hidden_size
    d_in = np.asarray(dY, dtype=rec.dtype)
    if d_in.ndim != 3 or d_in.shape[2] != D * H or d_in.shape[0] != next(iter(tape.records[0].values())).shape[0]:
        raise ValueError(f"dY must have shape (T, B, {D * H}) with the tape's T; got {d_in.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        for l in reversed(range(rec.num_layers)):
            d_x = 0.0
            for d in range(D):
                i, reverse = l * D + d, d == 1
                w, r, dh_out = rec.weights[i], tape.records[i], d_in[..., d * H : (d + 1) * H]
                if rec.kind == "lstm":
                    da = _lstm_back(dh_out, r, w.w_hh, reverse)
                elif rec.kind == "gru":
                    da = _gru_back(dh_out, r, w.w_hh, reverse)
                else:
                    da = _rnn_back(dh_out, r, w.w_hh, rec.kind == "rnn_relu", reverse)
                d_x = d_x + da @ w.w_ih
            d_in = d_x
    return d_in
