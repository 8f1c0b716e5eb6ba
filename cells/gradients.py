"""Backpropagation through time over a recorded trace, exactly as torch's autograd computes it.

    tr = rec.trace(x)
    g = rec.backward(tr, d_output)          # d_output (T, D·H) = dL/d tr.output
    g.dx, g.dh0, g.dc0, g.params["weight_hh_l0"]
    lg = g.layer(0, 0); lg.dh, lg.dc, lg.dgates["f"]
    jacobian_norms(rec, tr, 0, 0, t_end=tr.T - 1)   # ‖∂h_{t_end}/∂h_t‖₂ for every t ≤ t_end
    gradcheck(rec, x)                       # central differences against `backward`

Shapes use the trace's T, I, H, L, D. Every array is read-only.

Gradients
    dx          (T, I)       dL/dx
    dh0, dc0    (L·D, H)     dL/dh0, dL/dc0 (dc0 None unless LSTM)
    params      torch parameter name -> array, e.g. "weight_hh_l1_reverse": equal to
                module.<name>.grad after torch's backward of the same loss
    layers      L·D LayerGradients, index l·D + d; use `layer(l, d)`
    finite      False when some gradient overflowed to inf or NaN (an exploding cell)

LayerGradients (one layer, one direction; row t belongs to input position t, as in the trace)
    dh          (T, H)       total dL/dh_t: from the output (or the layer above) at t and
                             from the step that read h_t
    dc          (T, H)       total dL/dc_t (LSTM), else None
    dgates      name -> (T, H): dL/d(pre-activation) of each gate, i f g o / r z n, "h" for
                the RNN; for the GRU's n the pre-activation is W_in x + b_in + r ⊙ (W_hn h + b_hn),
                for the reset-before GRU's W_in x + b_in + W_hn (r ⊙ h) + b_hn

How: each cell module's `run_backward` walks its steps backwards, one matrix-vector
product per step (`step_backward` is the readable reference); the weight gradients
are then one matrix product over all steps, dW_ih = Σ_t da_t x_tᵀ = DAᵀ X.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import numpy as np

from . import gru, lstm, rnn
from .params import readonly
from .trace import LayerTrace, Trace

if TYPE_CHECKING:
    from .recurrent import Recurrent


@dataclass(frozen=True)
class LayerGradients:
    layer: int
    direction: int
    dh: np.ndarray  # (T, H)
    dc: np.ndarray | None  # (T, H), LSTM only
    dgates: Mapping[str, np.ndarray]  # name -> (T, H)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dgates", MappingProxyType(dict(self.dgates)))
        for a in (self.dh, self.dc, *self.dgates.values()):
            if a is not None:
                readonly(a)


@dataclass(frozen=True)
class Gradients:
    kind: str
    dx: np.ndarray  # (T, I)
    dh0: np.ndarray  # (L·D, H)
    dc0: np.ndarray | None  # (L·D, H), LSTM only
    params: Mapping[str, np.ndarray]
    layers: tuple[LayerGradients, ...]
    num_directions: int
    finite: bool = field(default=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        for a in (self.dx, self.dh0, self.dc0, *self.params.values()):
            if a is not None:
                readonly(a)

    def layer(self, l: int, d: int = 0) -> LayerGradients:
        L = len(self.layers) // self.num_directions
        if not -L <= l < L or d not in range(self.num_directions):
            raise IndexError(f"no layer {l}, direction {d}: {L} layer(s) × {self.num_directions} direction(s)")
        return self.layers[(l % L) * self.num_directions + d]


def _prev(lt: LayerTrace, a: np.ndarray, first: np.ndarray) -> np.ndarray:
    """(T, H): the value each step read, a[t−1] forwards (a[t+1] backwards), `first` at the start."""
    return np.concatenate([a[1:], first[None]]) if lt.reverse else np.concatenate([first[None], a[:-1]])


def _check(rec: Recurrent, tr: Trace, d_output, dh_n, dc_n) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The gradients given, as arrays of the trace's dtype; ValueError on anything that does not fit."""
    LD, H, D = rec.num_layers * rec.num_directions, rec.hidden_size, rec.num_directions
    if not isinstance(tr, Trace) or tr.kind != rec.kind or tr.num_layers != rec.num_layers or \
            tr.num_directions != D or tr.hidden_size != H or tr.input_size != rec.input_size:
        raise ValueError("this trace was not recorded by this model: kind, sizes, layers or directions differ")
    for lt, w in zip(tr.layers, rec.weights):  # the first step each direction took, recomputed
        t = tr.T - 1 if lt.reverse else 0
        a = w.w_ih @ lt.x[t] + w.b_ih + w.w_hh @ lt.h0 + w.b_hh
        want = lt.h[t] if not lt.gates else lt.gates[rec.gate_names[0]][t]
        got = {"rnn_tanh": np.tanh(a), "rnn_relu": np.maximum(a, 0)}.get(rec.kind, lstm.sigmoid(a[:H]))
        if np.isfinite(want).all() and not np.allclose(got, want, rtol=1e-3, atol=1e-4):
            raise ValueError("this trace was not recorded by this model: its values do not follow from these weights")

    def grad(name: str, g, shape: tuple[int, ...]) -> np.ndarray | None:
        if g is None:
            return None
        g = np.asarray(g, dtype=tr.output.dtype)
        if g.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, like the trace's; got {g.shape}")
        if not np.isfinite(g).all():
            raise ValueError(f"{name} holds NaN or infinite values")
        return g

    if dc_n is not None and rec.kind != "lstm":
        raise ValueError(f"dc_n is only for LSTMs; this is a {rec.kind}")
    return grad("d_output", d_output, (tr.T, D * H)), grad("dh_n", dh_n, (LD, H)), grad("dc_n", dc_n, (LD, H))


def _direction(rec: Recurrent, lt: LayerTrace, w, dh_out: np.ndarray, dc_last: np.ndarray | None,
               engine: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, dict, np.ndarray, np.ndarray | None]:
    """One (layer, direction) back: (dh, dc, da_x, da_h, dgates, dh0, dc0); da_x multiplies
    W_ih (and x), da_h multiplies W_hh (and h_{t−1}); they differ only in the GRU's n."""
    H = dh_out.shape[1]
    h_prev = _prev(lt, lt.h, lt.h0)
    if engine == "fast":
        if rec.kind == "lstm":
            dh, dc, da, dh0, dc0 = lstm.run_backward(dh_out, dc_last, h_prev, _prev(lt, lt.c, lt.c0), lt.c, lt.gates, w,
                                                     lt.reverse)
            return dh, dc, da, da, {k: da[:, j * H : (j + 1) * H] for j, k in enumerate(lstm.GATES)}, dh0, dc0
        if rec.kind == "gru":
            dh, da_x, da_h, dh0 = gru.run_backward(dh_out, h_prev, lt.gates, w, lt.reverse)
            return dh, None, da_x, da_h, {k: da_x[:, j * H : (j + 1) * H] for j, k in enumerate(gru.GATES)}, dh0, None
        if rec.kind == "gru_reset_before":
            dh, da, dh0 = gru.run_backward_reset_before(dh_out, h_prev, lt.gates, w, lt.reverse)
            return dh, None, da, da, {k: da[:, j * H : (j + 1) * H] for j, k in enumerate(gru.GATES)}, dh0, None
        dh, da, dh0 = rnn.run_backward(dh_out, lt.h, w, rec.kind[4:], lt.reverse)
        return dh, None, da, da, {"h": da}, dh0, None
    return _direction_reference(rec, lt, w, dh_out, dc_last, h_prev)


def _direction_reference(rec, lt, w, dh_out, dc_last, h_prev):
    """The textbook loop over each cell's `step_backward`, last step first."""
    T, H = dh_out.shape
    k = len(rec.gate_names) or 1
    dh, dc = np.empty_like(dh_out), np.empty_like(dh_out)
    da_x, da_h = np.empty((T, k * H), dh_out.dtype), np.empty((T, k * H), dh_out.dtype)
    dh_next, dc_next = np.zeros(H, dh_out.dtype), dc_last
    c_prev = _prev(lt, lt.c, lt.c0) if lt.c is not None else None
    for t in range(T) if lt.reverse else range(T - 1, -1, -1):
        dh[t] = dh_out[t] + dh_next
        gates = {name: g[t] for name, g in lt.gates.items()}
        if rec.kind == "lstm":
            dh_next, dc_next, da_x[t], dc[t] = lstm.step_backward(dh[t], dc_next, h_prev[t], c_prev[t], lt.c[t], gates, w)
            da_h[t] = da_x[t]
        elif rec.kind == "gru":
            dh_next, da_x[t], da_h[t] = gru.step_backward(dh[t], h_prev[t], gates, w)
        elif rec.kind == "gru_reset_before":
            dh_next, da_x[t] = gru.step_backward_reset_before(dh[t], h_prev[t], gates, w)
            da_h[t] = da_x[t]
        else:
            dh_next, da_x[t] = rnn.step_backward(dh[t], lt.h[t], w, rec.kind[4:])
            da_h[t] = da_x[t]
    names = rec.gate_names or ("h",)
    dgates = {name: da_x[:, j * H : (j + 1) * H] for j, name in enumerate(names)}
    return dh, (dc if rec.kind == "lstm" else None), da_x, da_h, dgates, dh_next, dc_next if rec.kind == "lstm" else None


def _dw_hh(rec: Recurrent, lt: LayerTrace, da_h: np.ndarray) -> np.ndarray:
    """dL/dW_hh = Σ_t da_h,t ⊗ what W_hh multiplied at step t: h_{t−1}, except in the
    reset-before GRU's n rows, which multiply r_t ⊙ h_{t−1}. (k·H, H)"""
    h_prev = _prev(lt, lt.h, lt.h0)  # (T, H)
    dw = da_h.T @ h_prev
    if rec.kind == "gru_reset_before":
        H = h_prev.shape[1]
        dw[2 * H :] = da_h[:, 2 * H :].T @ (lt.gates["r"] * h_prev)
    return dw


def backward(rec: Recurrent, tr: Trace, d_output: np.ndarray, dh_n: np.ndarray | None = None,
             dc_n: np.ndarray | None = None, engine: Literal["fast", "reference"] = "fast") -> Gradients:
    """The gradients of a loss L through the trace, given d_output = dL/d tr.output (T, D·H)
    and optionally dL/d tr.h_n, dL/d tr.c_n (L·D, H); see the module docstring."""
    if engine not in ("fast", "reference"):
        raise ValueError(f"unknown engine {engine!r}; expected 'fast' or 'reference'")
    d_output, dh_n, dc_n = _check(rec, tr, d_output, dh_n, dc_n)
    L, D, H, T = rec.num_layers, rec.num_directions, rec.hidden_size, tr.T
    dtype = tr.output.dtype
    layers: list[LayerGradients | None] = [None] * (L * D)
    params: dict[str, np.ndarray] = {}
    dh0, dc0 = np.zeros((L * D, H), dtype), (np.zeros((L * D, H), dtype) if rec.kind == "lstm" else None)
    d_in = d_output  # dL/d(this layer's output), (T, D·H)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as Gradients.finite
        for l in reversed(range(L)):
            d_x = None
            for d in range(D):
                i, lt, w = l * D + d, tr.layer(l, d), rec.weights[l * D + d]
                dh_out = np.array(d_in[:, d * H : (d + 1) * H])  # a copy: the final state's gradient joins it
                if dh_n is not None:
                    dh_out[0 if lt.reverse else T - 1] += dh_n[i]
                dc_last = dc_n[i] if dc_n is not None else np.zeros(H, dtype)
                dh, dc, da_x, da_h, dgates, dh0[i], dc0_i = _direction(rec, lt, w, dh_out, dc_last, engine)
                if dc0 is not None:
                    dc0[i] = dc0_i
                sfx = f"_l{l}" + ("_reverse" if d else "")
                params["weight_ih" + sfx] = da_x.T @ lt.x  # Σ_t da_t x_tᵀ
                params["weight_hh" + sfx] = _dw_hh(rec, lt, da_h)
                params["bias_ih" + sfx], params["bias_hh" + sfx] = da_x.sum(axis=0), da_h.sum(axis=0)
                d_x = da_x @ w.w_ih if d_x is None else d_x + da_x @ w.w_ih  # (T, I_l)
                layers[i] = LayerGradients(l, d, dh, dc, dgates)
            d_in = d_x
    arrays = [d_in, dh0, *params.values()] + ([dc0] if dc0 is not None else [])
    finite = all(bool(np.isfinite(a).all()) for a in arrays)
    return Gradients(rec.kind, d_in, dh0, dc0, params, tuple(layers), D, finite)


# -- how the recurrence carries a gradient ------------------------------------------------------

def _step_jacobian(rec: Recurrent, lt: LayerTrace, w, t: int) -> np.ndarray:
    """∂s_t/∂s_{t−1} for the state s = h (RNN, GRU) or s = (h, c) (LSTM): (H, H) or (2H, 2H)."""
    H = rec.hidden_size
    h_prev = lt.h_prev(t)
    if rec.kind.startswith("rnn"):
        return rnn.slope(lt.h[t], rec.kind[4:])[:, None] * w.w_hh
    g = {k: v[t] for k, v in lt.gates.items()}
    W = {k: w.w_hh[j * H : (j + 1) * H] for j, k in enumerate(rec.gate_names)}
    if rec.kind in ("gru", "gru_reset_before"):
        r, z, n = g["r"], g["z"], g["n"]
        if rec.kind == "gru":  # ∂(n's pre-activation)/∂h_{t−1}
            hn = W["n"] @ h_prev + w.b_hh[2 * H :]
            d_npre = r[:, None] * W["n"] + (hn * r * (1 - r))[:, None] * W["r"]
        else:  # ∂(W_hn (r ⊙ h))/∂h = W_hn (diag r + diag(h ⊙ r(1 − r)) W_hr)
            d_npre = W["n"] * r[None, :] + W["n"] @ ((h_prev * r * (1 - r))[:, None] * W["r"])
        return np.diag(z) + ((h_prev - n) * z * (1 - z))[:, None] * W["z"] + ((1 - z) * (1 - n * n))[:, None] * d_npre
    i, f, gg, o = g["i"], g["f"], g["g"], g["o"]
    tc = np.tanh(lt.c[t])
    dc_dh = (lt.c_prev(t) * f * (1 - f))[:, None] * W["f"] + (gg * i * (1 - i))[:, None] * W["i"] + \
        (i * (1 - gg * gg))[:, None] * W["g"]  # ∂c_t/∂h_{t−1}
    k = o * (1 - tc * tc)
    dh_dh = k[:, None] * dc_dh + (tc * o * (1 - o))[:, None] * W["o"]
    return np.block([[dh_dh, np.diag(k * f)], [dc_dh, np.diag(f)]])


def jacobian_norms(rec: Recurrent, tr: Trace, l: int, d: int, t_end: int) -> np.ndarray:
    """(t_end + 1,): ‖∂h_{t_end}/∂h_t‖₂ (the spectral norm) for every t ≤ t_end, in the
    direction's own time (a backward direction's t_end is reached from the right: t ≥ t_end).

    The product of the step Jacobians, accumulated from t_end down: it shrinks
    geometrically in a vanishing RNN and grows in an exploding one; an LSTM's cell state
    lets it stay near 1. Entry t_end is 1. For the LSTM, h_t also reaches h_{t_end}
    through c, so the product runs over the state (h, c) and the norm is of its h block.
    One SVD per step: fine for the app's texts, not for thousands of steps of H = 512."""
    lt, w = tr.layer(l, d), rec.weights[(l % rec.num_layers) * rec.num_directions + d]
    if not 0 <= t_end < tr.T:
        raise IndexError(f"t_end {t_end} out of range for a sequence of {tr.T}")
    H = rec.hidden_size
    steps = list(range(t_end, tr.T)) if lt.reverse else list(range(t_end, -1, -1))  # t_end, then the earlier steps
    M = np.eye(H, 2 * H if rec.kind == "lstm" else H, dtype=np.float64)  # ∂h_{t_end}/∂s_t at t = t_end
    out = np.zeros(len(steps))
    with np.errstate(over="ignore", invalid="ignore"):
        for n, t in enumerate(steps):
            out[n] = np.linalg.norm(M[:, :H], 2) if np.isfinite(M).all() else np.inf
            M = M @ _step_jacobian(rec, lt, w, t)
    return readonly(out if not lt.reverse else out)


def gradcheck(rec: Recurrent, x: np.ndarray, eps: float = 1e-5, n: int = 40, seed: int = 0) -> float:
    """The largest relative error of `backward` against central differences, in float64.

    The loss is L = Σ (d_output ⊙ output) + Σ (dh_n ⊙ h_n) with d_output and dh_n drawn
    from N(0, 1) (seeded); n entries of x and of every parameter, drawn at random, are
    each moved by ±eps. Relative error |a − b| / max(|a|, |b|, 1e-8); around 1e-7 or less
    means the analytic gradients are right (eps ≈ the cube root of float64's precision)."""
    from .recurrent import Recurrent
    from .params import CellWeights

    rec64 = Recurrent(rec.kind, [CellWeights(*(np.array(getattr(w, k), np.float64) for k in ("w_ih", "w_hh", "b_ih", "b_hh")))
                                 for w in rec.weights], rec.num_layers, rec.bidirectional)
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    tr = rec64.trace(x)
    d_out, dh_n = rng.standard_normal(tr.output.shape), rng.standard_normal(tr.h_n.shape)

    def loss(r: Recurrent, xx: np.ndarray) -> float:
        t = r.trace(xx)
        return float((d_out * t.output).sum() + (dh_n * t.h_n).sum())

    g = rec64.backward(tr, d_out, dh_n)
    worst = 0.0

    def compare(analytic: float, plus: float, minus: float) -> None:
        nonlocal worst
        numeric = (plus - minus) / (2 * eps)
        worst = max(worst, abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-8))

    for idx in rng.choice(x.size, size=min(n, x.size), replace=False):
        xp, xm = x.copy(), x.copy()
        xp.flat[idx] += eps
        xm.flat[idx] -= eps
        compare(g.dx.flat[idx], loss(rec64, xp), loss(rec64, xm))
    D = rec.num_directions
    for i, w in enumerate(rec64.weights):
        sfx = f"_l{i // D}" + ("_reverse" if i % D else "")
        for ours, theirs in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh")):
            a = getattr(w, ours)
            for idx in rng.choice(a.size, size=min(n, a.size), replace=False):
                moved = []
                for sign in (1, -1):
                    b = a.copy()
                    b.flat[idx] += sign * eps
                    ws = [CellWeights(*(b if (j == i and k == ours) else getattr(v, k) for k in ("w_ih", "w_hh", "b_ih", "b_hh")))
                          for j, v in enumerate(rec64.weights)]
                    moved.append(loss(Recurrent(rec.kind, ws, rec.num_layers, rec.bidirectional), x))
                compare(g.params[theirs + sfx].flat[idx], *moved)
    return worst
