"""A stack of recurrent layers that records everything it computes.

`Recurrent` holds the weights of an `nn.RNN`, `nn.LSTM` or `nn.GRU` (any number of
layers, uni- or bidirectional) and turns one input sequence into a `Trace`.

Two numpy engines compute the same numbers, and the tests hold both against torch:

- "fast" (default): `run` in rnn.py, lstm.py and gru.py. One matrix product projects
  every input at once; each step is one matrix-vector product plus a few in-place
  ufuncs writing straight into the arrays that become the trace, so recording
  everything costs little more than torch's own forward (tests/benchmarks).
- "reference": the textbook loop over `step`, one readable step at a time.

Inference only: dropout between layers is not applied (torch's eval mode).
torch is imported only by the bridges (`from_torch`, `to_torch`): tracing is numpy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np

from . import gru, lstm, rnn
from .messages import msg
from .params import CellWeights, readonly
from .trace import LayerTrace, Trace

if TYPE_CHECKING:
    from torch import nn

# "gru_reset_before": the GRU with the reset before W_hn (Keras reset_after=False; cells/gru.py)
KINDS = ("rnn_tanh", "rnn_relu", "lstm", "gru", "gru_reset_before")
GATES = {"rnn_tanh": rnn.GATES, "rnn_relu": rnn.GATES, "lstm": lstm.GATES, "gru": gru.GATES, "gru_reset_before": gru.GATES}
CHUNKS = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3, "gru_reset_before": 3}
RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}


def value_range(kind: str, name: str) -> tuple[float, float] | None:
    """The interval a recorded quantity of this cell kind always lies in, or None when
    it is unbounded: gates by their nonlinearity, h in [−1, 1] for every kind but the
    relu RNN, the LSTM's cell state c never (it sums over time)."""
    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    squash = {**lstm.SQUASH, **gru.SQUASH} if name in GATES[kind] else {"h": "tanh" if kind != "rnn_relu" else None}
    return RANGES.get(squash.get(name))


class Recurrent:
    """Weights of L layers × D directions; `weights[l * D + d]` is a CellWeights."""

    def __init__(self, kind: str, weights: list[CellWeights] | tuple[CellWeights, ...], num_layers: int, bidirectional: bool):
        if kind not in KINDS:
            raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
        D = 2 if bidirectional else 1
        if len(weights) != num_layers * D:
            raise ValueError(f"expected {num_layers * D} weight sets for {num_layers} layer(s) × {D} direction(s), got {len(weights)}")
        self.kind, self.num_layers, self.bidirectional, self.num_directions = kind, num_layers, bidirectional, D
        self.weights = tuple(weights)
        self.hidden_size = weights[0].hidden_size
        self.input_size = weights[0].input_size
        k = CHUNKS[kind]
        for i, w in enumerate(self.weights):
            want_in = self.input_size if i < D else D * self.hidden_size
            if w.w_ih.shape != (k * self.hidden_size, want_in) or w.w_hh.shape != (k * self.hidden_size, self.hidden_size):
                raise ValueError(
                    f"layer {i // D} direction {i % D}: weight_ih {w.w_ih.shape} and weight_hh {w.w_hh.shape} "
                    f"do not fit a {kind} with hidden size {self.hidden_size} and input size {want_in}"
                )
        self.dtype = self.weights[0].w_ih.dtype
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"weights must be float32 or float64, got {self.dtype}; convert the module with .float()")

    def __repr__(self) -> str:
        return (
            f"Recurrent({self.kind}, input_size={self.input_size}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}, bidirectional={self.bidirectional}, dtype={self.dtype})"
        )

    @property
    def gate_names(self) -> tuple[str, ...]:
        return GATES[self.kind]

    # -- torch bridges -------------------------------------------------------------

    def to_torch(self) -> nn.Module:
        """An equivalent `nn.RNN` / `nn.LSTM` / `nn.GRU` (batch_first=False, eval mode)."""
        if self.kind == "gru_reset_before":
            raise ValueError("no torch module computes a GRU with the reset before W_hn (Keras' reset_after=False); "
                             "nn.GRU applies it after")
        m = _empty_module(self.kind, self.input_size, self.hidden_size, self.num_layers, self.bidirectional, self.dtype)
        _load(m, self.weights, layers=range(self.num_layers))
        return m.eval()

    # -- tracing --------------------------------------------------------------------

    def _check(self, x, h0, c0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        x = np.asarray(x)
        if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
            raise ValueError(f"x must hold real numbers, got dtype {x.dtype}")
        if x.ndim == 1 and self.input_size == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ValueError(f"x must be one sequence of shape (T, {self.input_size}); got shape {x.shape}")
        if x.shape[0] == 0:
            raise ValueError("x is an empty sequence (T = 0); a trace needs at least one time step")
        if x.shape[1] != self.input_size:
            raise ValueError(f"x has {x.shape[1]} features per step but this {self.kind} expects input_size={self.input_size}")
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            raise ValueError(f"x holds NaN or infinite values at time step(s) {np.flatnonzero(bad)[:10].tolist()}")
        x = readonly(np.array(x, dtype=self.dtype))  # our own copy: the caller's array stays theirs
        if c0 is not None and self.kind != "lstm":
            raise ValueError(f"c0 is only for LSTMs; this is a {self.kind}")
        h0 = self._state("h0", h0)
        c0 = self._state("c0", c0) if self.kind == "lstm" else None
        return x, h0, c0

    def _state(self, name: str, s) -> np.ndarray:
        want = (self.num_layers * self.num_directions, self.hidden_size)
        if s is None:
            return readonly(np.zeros(want, self.dtype))
        s = np.array(s, dtype=self.dtype)  # a copy, so marking it read-only leaves the caller's alone
        if s.shape == (want[0], 1, want[1]):  # torch's (L·D, batch=1, H)
            s = s[:, 0]
        elif s.shape == (want[1],) and want[0] == 1:
            s = s[None]
        if s.shape != want:
            raise ValueError(f"{name} must have shape (num_layers·num_directions, hidden_size) = {want}; got {s.shape}")
        if not np.isfinite(s).all():
            raise ValueError(f"{name} holds NaN or infinite values")
        return readonly(s)

    def trace(self, x: np.ndarray, h0: np.ndarray | None = None, c0: np.ndarray | None = None,
              engine: Literal["fast", "reference"] = "fast") -> Trace:
        """Run one sequence x (T, input_size) and record every intermediate value.

        h0, c0: (num_layers·num_directions, hidden_size), zeros when omitted.
        """
        x, h0, c0 = self._check(x, h0, c0)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported as Trace.finite
            if engine == "fast":
                return self._trace_fast(x, h0, c0)
            if engine == "reference":
                return self._trace_reference(x, h0, c0)
        raise ValueError(f"unknown engine {engine!r}; expected 'fast' or 'reference'")

    def trace_batch(self, X: np.ndarray, lengths, packed: bool = True) -> list[Trace]:
        """A padded batch X (B, T, input_size) of sequences lengths (B,) long -> B Traces.

        packed=True stops each sequence at its length (torch's pack_padded_sequence): trace b
        is `trace(X[b, :lengths[b]])`. packed=False reads the pads as input: `trace(X[b])`.
        See cells/padding.py.
        """
        from . import padding

        return padding.trace_batch(self, X, lengths, packed)

    def _trace_fast(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> Trace:
        D = self.num_directions
        layers: list[LayerTrace] = []
        inp = x
        for l in range(self.num_layers):
            for d in range(D):
                i = l * D + d
                w, reverse, c = self.weights[i], d == 1, None
                if self.kind == "lstm":
                    h, c, gates = lstm.run(inp, h0[i], c0[i], w, reverse)
                elif self.kind == "gru":
                    h, gates = gru.run(inp, h0[i], w, reverse)
                elif self.kind == "gru_reset_before":
                    h, gates = gru.run_reset_before(inp, h0[i], w, reverse)
                else:
                    h, gates = rnn.run(inp, h0[i], w, self.kind[4:], reverse), {}
                layers.append(LayerTrace(l, d, inp, h, c, gates, h0[i], None if c0 is None else c0[i]))
            inp = layers[-1].h if D == 1 else readonly(np.concatenate([lt.h for lt in layers[-D:]], axis=1))  # (T, D·H)
        return self._finish(x, inp, layers)

    def _trace_reference(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> Trace:
        D, T = self.num_directions, x.shape[0]
        layers: list[LayerTrace] = []
        inp = x
        for l in range(self.num_layers):
            outs = []
            for d in range(D):
                w = self.weights[l * D + d]
                h, c = h0[l * D + d], (None if c0 is None else c0[l * D + d])
                hs, cs, records = [None] * T, [None] * T, [None] * T
                for t in reversed(range(T)) if d == 1 else range(T):
                    if self.kind == "lstm":
                        h, c, records[t] = lstm.step(inp[t], h, c, w)
                    elif self.kind == "gru":
                        h, records[t] = gru.step(inp[t], h, w)
                    elif self.kind == "gru_reset_before":
                        h, records[t] = gru.step_reset_before(inp[t], h, w)
                    else:
                        h, records[t] = rnn.step(inp[t], h, w, self.kind[4:]), {}
                    hs[t], cs[t] = h, c
                gates = {k: np.stack([r[k] for r in records]) for k in self.gate_names}  # (T, H) each
                lt = LayerTrace(l, d, inp, np.stack(hs), None if c is None else np.stack(cs), gates,
                                h0[l * D + d], None if c0 is None else c0[l * D + d])
                layers.append(lt)
                outs.append(lt.h)
            inp = readonly(np.concatenate(outs, axis=1))  # (T, D·H)
        return self._finish(x, inp, layers)

    def _finish(self, x: np.ndarray, output: np.ndarray, layers: list[LayerTrace]) -> Trace:
        # a backward direction ends at row 0
        h_n = np.stack([lt.h[0 if lt.reverse else -1] for lt in layers])  # (L·D, H)
        c_n = np.stack([lt.c[0 if lt.reverse else -1] for lt in layers]) if self.kind == "lstm" else None
        finite = bool(np.isfinite(output).all()) and all(
            np.isfinite(lt.h).all() and (lt.c is None or np.isfinite(lt.c).all()) for lt in layers
        )
        return Trace(
            kind=self.kind, x=x, output=output,
            h_n=h_n, c_n=c_n,
            layers=tuple(layers), num_layers=self.num_layers, num_directions=self.num_directions, finite=finite,
        )

    def advance(self, x: np.ndarray, h: np.ndarray, c: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """One time step through every layer of a unidirectional stack, recording nothing:
        x (I,), h and c (L, H) -> the new h and c (L, H). For generating one token at a time."""
        if self.bidirectional:
            raise ValueError("a bidirectional stack reads the whole sequence; it cannot advance one step")
        hs, cs = [], []
        for l, w in enumerate(self.weights):
            if self.kind == "lstm":
                x, c_l, _ = lstm.step(x, h[l], c[l], w)
                cs.append(c_l)
            elif self.kind == "gru":
                x, _ = gru.step(x, h[l], w)
            elif self.kind == "gru_reset_before":
                x, _ = gru.step_reset_before(x, h[l], w)
            else:
                x = rnn.step(x, h[l], w, self.kind[4:])
            hs.append(x)
        return np.stack(hs), (np.stack(cs) if self.kind == "lstm" else None)

    def backward(self, tr: Trace, d_output: np.ndarray, dh_n: np.ndarray | None = None, dc_n: np.ndarray | None = None,
                 engine: Literal["fast", "reference"] = "fast"):
        """Backpropagation through time: the gradients of a loss L given dL/d tr.output (T, D·H)
        and optionally dL/d tr.h_n, dL/d tr.c_n (L·D, H). Returns cells.gradients.Gradients:
        dx, dh0, dc0, params (by torch name), and per layer dh, dc and every gate's dL/da."""
        from . import gradients

        return gradients.backward(self, tr, d_output, dh_n, dc_n, engine)

    def pre_activations(self, tr: Trace, l: int, d: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """`step_terms` for every step at once: name -> (x_part (T, H), h_part (T, H)), with
        x_part[t] = W_i· x_t + b_i· and h_part[t] = W_h· h_{t−1} + b_h· (h_{t+1} backwards)."""
        lt = tr.layer(l, d)
        w = self.weights[lt.layer * self.num_directions + d]
        h_prev = np.concatenate([lt.h[1:], lt.h0[None]]) if lt.reverse else np.concatenate([lt.h0[None], lt.h[:-1]])
        ax = lt.x @ w.w_ih.T + w.b_ih  # (T, k·H)
        ah = h_prev @ w.w_hh.T + w.b_hh  # (T, k·H)
        H = self.hidden_size
        if self.kind == "gru_reset_before":  # n reads h through the reset: W_hn (r ⊙ h_{t−1}) + b_hn
            ah[:, 2 * H :] = (lt.gates["r"] * h_prev) @ w.w_hh[2 * H :].T + w.b_hh[2 * H :]
        return {n: (ax[:, k * H : (k + 1) * H], ah[:, k * H : (k + 1) * H]) for k, n in enumerate(self.gate_names or ("h",))}

    def step_terms(self, tr: Trace, l: int, d: int, t: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The two halves of each pre-activation at step t, for equations with numbers.

        name -> (W_i· x_t + b_i·, W_h· h_{t−1} + b_h·), each (H,). LSTM i, f, g, o;
        GRU r, z, n (for n the gate is tanh(x_part + r ⊙ h_part)); RNN "h". The
        reset-before GRU's n: h_part = W_hn (r ⊙ h_{t−1}) + b_hn and n = tanh(x_part + h_part).
        """
        lt = tr.layer(l, d)
        if not 0 <= t < tr.T:
            raise IndexError(f"step {t} out of range for a sequence of {tr.T}")
        w = self.weights[lt.layer * self.num_directions + d]
        ax = w.w_ih @ lt.x[t] + w.b_ih  # (k·H,)
        ah = w.w_hh @ lt.h_prev(t) + w.b_hh  # (k·H,)
        names = self.gate_names or ("h",)
        H = self.hidden_size
        if self.kind == "gru_reset_before":  # n reads h through the reset: W_hn (r ⊙ h_{t−1}) + b_hn
            ah[2 * H :] = w.w_hh[2 * H :] @ (lt.gates["r"][t] * lt.h_prev(t)) + w.b_hh[2 * H :]
        return {n: (ax[k * H : (k + 1) * H], ah[k * H : (k + 1) * H]) for k, n in enumerate(names)}


# -- construction -------------------------------------------------------------------

def _empty_module(kind, input_size, hidden_size, num_layers, bidirectional, dtype) -> nn.Module:
    import torch
    from torch import nn

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    if kind.startswith("rnn"):
        return nn.RNN(input_size, hidden_size, num_layers, nonlinearity=kind[4:], bidirectional=bidirectional, dtype=tdtype)
    return {"lstm": nn.LSTM, "gru": nn.GRU}[kind](input_size, hidden_size, num_layers, bidirectional=bidirectional, dtype=tdtype)


def _load(module: nn.Module, weights, layers) -> None:
    import torch

    D = 2 if module.bidirectional else 1
    with torch.no_grad():
        for i, l in enumerate(layers):
            for d in range(D):
                w = weights[i * D + d]
                sfx = f"_l{l}" + ("_reverse" if d else "")
                for ours, theirs in (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh")):
                    getattr(module, theirs + sfx).copy_(torch.from_numpy(np.array(getattr(w, ours))))


def from_torch(module: nn.Module) -> Recurrent:
    """Read the weights of an nn.RNN / nn.LSTM / nn.GRU or nn.RNNCell / nn.LSTMCell / nn.GRUCell.

    batch_first does not matter: a trace takes one sequence (T, input_size).
    """
    from torch import nn

    if isinstance(module, (nn.RNNCell, nn.LSTMCell, nn.GRUCell)):
        kind = "lstm" if isinstance(module, nn.LSTMCell) else "gru" if isinstance(module, nn.GRUCell) else f"rnn_{module.nonlinearity}"
        return Recurrent(kind, [_weights(module, "", module.bias)], 1, False)
    if not isinstance(module, (nn.RNN, nn.LSTM, nn.GRU)):
        raise TypeError(
            f"cannot trace a {type(module).__name__}: expected nn.RNN, nn.LSTM, nn.GRU or their *Cell forms"
        )
    if getattr(module, "proj_size", 0) > 0:
        raise ValueError("nn.LSTM with proj_size > 0 (projected hidden state) is not supported")
    kind = "lstm" if isinstance(module, nn.LSTM) else "gru" if isinstance(module, nn.GRU) else f"rnn_{module.nonlinearity}"
    D = 2 if module.bidirectional else 1
    ws = [_weights(module, f"_l{l}" + ("_reverse" if d else ""), module.bias) for l in range(module.num_layers) for d in range(D)]
    return Recurrent(kind, ws, module.num_layers, module.bidirectional)


def from_state_dict(sd: Mapping[str, object], kind: str | None = None, prefix: str | None = None) -> Recurrent:
    """A Recurrent from the state dict of an nn.RNN / nn.LSTM / nn.GRU, or of a bigger model
    holding one: torch-named numpy arrays or torch tensors (`weight_ih_l0`, `bias_hh_l1_reverse`, …).

    prefix: the module's name before `weight_ih_l0`, e.g. "rnn." or "encoder.lstm."; None
        finds it, when the dict holds exactly one recurrent module.
    kind: None reads it from the shapes. weight_ih_l0 (k·H, I) and weight_hh_l0 (k·H, H)
        stack k gates: k = 1 "rnn_tanh", 3 "gru", 4 "lstm". A relu RNN has a tanh RNN's
        weights and the reset-before GRU a GRU's, so those two are taken only when named;
        a named kind with another k is a ValueError.
    Layers and directions are read from the names; missing biases are zeros (bias=False).
    float16 and bfloat16 become float32. ValueError, naming the tensor, for no recurrent
    weights, several recurrent modules and no prefix, a missing layer or tensor, a shape
    that does not fit, NaN or inf, integer dtypes and proj_size (weight_hr_l0).
    """
    return read_state_dict(sd, kind, prefix)[0]


def read_state_dict(sd: Mapping[str, object], kind: str | None = None,
                    prefix: str | None = None) -> tuple[Recurrent, str, tuple[str, ...]]:
    """`from_state_dict`, also returning the prefix it read and the keys it used."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    prefix = _prefix(sd) if prefix is None else prefix
    names = {k[len(prefix):] for k in sd if k.startswith(prefix)}
    if "weight_hr_l0" in names:
        raise ValueError(msg("{name} is an LSTM's projection (nn.LSTM proj_size > 0), which rnnscope does not "
                             "trace: h_t would be W_hr (o_t ⊙ tanh c_t)", name=prefix + "weight_hr_l0"))
    L = next(l for l in range(len(names) + 1) if f"weight_ih_l{l}" not in names)
    if L == 0:
        found = _prefixes(sd)
        if len(found) == 1:
            raise ValueError(msg("no recurrent layers named {prefix}weight_ih_l0, {prefix}weight_ih_l1, … in the "
                                 "state dict; recurrent weights are under prefix {found!r}", prefix=prefix,
                                 found=found[0]))
        raise ValueError(msg("no recurrent layers named {prefix}weight_ih_l0, {prefix}weight_ih_l1, … in the state "
                             "dict", prefix=prefix))
    bidirectional = "weight_ih_l0_reverse" in names
    D = 2 if bidirectional else 1
    sfxs = [f"_l{l}" + ("_reverse" if d else "") for l in range(L) for d in range(D)]
    _check_names(names, prefix, L, sfxs)
    used = [prefix + n + s for s in sfxs for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if n + s in names]
    arrays = float_arrays({k: sd[k] for k in used})
    w_ih0, w_hh0 = arrays[prefix + "weight_ih_l0"], arrays[prefix + "weight_hh_l0"]
    kind = _kind_of(kind, prefix, w_ih0.shape, w_hh0.shape)
    k, H, I = CHUNKS[kind], w_hh0.shape[-1], w_ih0.shape[-1]
    ws = []
    for i, s in enumerate(sfxs):
        want = {"weight_ih": (k * H, I if i < D else D * H), "weight_hh": (k * H, H), "bias_ih": (k * H,), "bias_hh": (k * H,)}
        got = {}
        for n, shape in want.items():
            a = arrays.get(prefix + n + s)
            if a is not None and a.shape != shape:
                raise ValueError(msg("{name} has shape {got}; layer {layer} of this {kind} (hidden size {H}, input "
                                     "size {I}) needs {shape}", name=prefix + n + s, got=a.shape, layer=i // D,
                                     kind=kind, H=H, I=I, shape=shape))
            got[n] = np.zeros(shape, w_ih0.dtype) if a is None else a
        ws.append(CellWeights(got["weight_ih"], got["weight_hh"], got["bias_ih"], got["bias_hh"]))
    return Recurrent(kind, ws, L, bidirectional), prefix, tuple(used)


def _prefixes(sd: Mapping[str, object]) -> list[str]:
    return sorted(k[: -len("weight_ih_l0")] for k in sd if k.endswith("weight_ih_l0"))


def _prefix(sd: Mapping[str, object]) -> str:
    """The one module name before `weight_ih_l0` in the state dict."""
    found = _prefixes(sd)
    if len(found) == 1:
        return found[0]
    if found:
        raise ValueError(msg("this state dict holds {n} recurrent modules, under prefixes {prefixes}; pick one with "
                             "prefix=", n=len(found), prefixes=", ".join(map(repr, found))))
    some = ", ".join(list(sd)[:5]) + (", …" if len(sd) > 5 else "")
    raise ValueError(msg("no recurrent weights: nn.RNN, nn.LSTM and nn.GRU name theirs weight_ih_l0, weight_hh_l0, "
                         "…, and this state dict holds {n} tensor(s) with none of those names ({some})", n=len(sd),
                         some=some or msg("nothing")))


def _check_names(names: set[str], prefix: str, L: int, sfxs: list[str]) -> None:
    """Every layer the names promise is there, whole: no gap, no stray direction, biases everywhere or nowhere."""
    bidirectional = sfxs[-1].endswith("_reverse")
    has_bias = "bias_ih_l0" in names
    for n in sorted(names):
        m = re.fullmatch(r"(weight|bias)_(ih|hh)_l(\d+)(_reverse)?", n)
        if m and int(m[3]) >= L:
            raise ValueError(msg("{name} is there but {missing} is missing: a module's layers run 0, 1, 2, … without "
                                 "a gap", name=prefix + n, missing=prefix + "weight_ih_l" + str(L)))
        if m and m[4] and not bidirectional:
            raise ValueError(msg("{name} is there but {missing} is missing: a bidirectional module has both "
                                 "directions in every layer", name=prefix + n, missing=prefix + "weight_ih_l0_reverse"))
    for s in sfxs:
        for n in ("weight_ih", "weight_hh"):
            if n + s not in names:
                if bidirectional:
                    raise ValueError(msg("{name} is missing: a {L}-layer bidirectional module needs it",
                                         name=prefix + n + s, L=L))
                raise ValueError(msg("{name} is missing: a {L}-layer module needs it", name=prefix + n + s, L=L))
        for n in ("bias_ih", "bias_hh"):
            if (n + s in names) != has_bias:
                missing, there = (n + s, "bias_ih_l0") if has_bias else ("bias_ih_l0", n + s)
                raise ValueError(msg("{missing} is missing while {there} is there: a torch module has both biases in "
                                     "every layer (bias=True) or none (bias=False)", missing=prefix + missing,
                                     there=prefix + there))


def float_arrays(tensors: Mapping[str, object]) -> dict[str, np.ndarray]:
    """numpy copies of numpy arrays or torch tensors, all float32, or all float64 if every one is."""
    out = {}
    for name, v in tensors.items():
        if hasattr(v, "detach"):  # a torch tensor; numpy has no bfloat16, so half floats widen first
            v = v.detach().cpu()
            v = (v.float() if str(v.dtype) in ("torch.float16", "torch.bfloat16") else v).numpy()
        a = np.asarray(v)
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(msg("{name} has dtype {dtype}; recurrent weights must be floating point", name=name,
                                 dtype=str(a.dtype)))
        if not np.isfinite(a).all():
            raise ValueError(msg("{name} holds {n} NaN or infinite value(s); a model with them cannot be traced",
                                 name=name, n=int(a.size - np.count_nonzero(np.isfinite(a)))))
        out[name] = a
    dtype = np.float64 if all(a.dtype == np.float64 for a in out.values()) else np.float32
    return {name: np.array(a, dtype) for name, a in out.items()}  # copies: CellWeights marks them read-only


def _kind_of(kind: str | None, prefix: str, ih: tuple[int, ...], hh: tuple[int, ...]) -> str:
    """The kind the fused shapes weight_ih_l0 (k·H, I), weight_hh_l0 (k·H, H) say, checked against a named one."""
    if len(ih) != 2 or len(hh) != 2:
        raise ValueError(msg("{prefix}weight_ih_l0 {ih} and {prefix}weight_hh_l0 {hh} must both be matrices",
                             prefix=prefix, ih=ih, hh=hh))
    H = hh[1]
    k = hh[0] // H if H and hh[0] % H == 0 and ih[0] == hh[0] else 0
    named = {1: msg("an RNN"), 3: msg("a GRU"), 4: msg("an LSTM")}
    if k not in named:
        raise ValueError(msg("{prefix}weight_ih_l0 {ih} and {prefix}weight_hh_l0 {hh} are not the fused weights of an "
                             "RNN, GRU or LSTM: both need k·H rows for H = weight_hh's columns, k = 1, 3 or 4",
                             prefix=prefix, ih=ih, hh=hh))
    if kind is None:
        return {1: "rnn_tanh", 3: "gru", 4: "lstm"}[k]
    if CHUNKS[kind] != k:
        raise ValueError(msg("kind={kind!r} has {chunks} gate block(s), but {prefix}weight_hh_l0 {hh} stacks {k} of "
                             "hidden size {H}: these are {named}'s weights", kind=kind, chunks=CHUNKS[kind],
                             prefix=prefix, hh=hh, k=k, H=H, named=named[k]))
    return kind


def _weights(module: nn.Module, sfx: str, bias: bool) -> CellWeights:
    def get(name: str) -> np.ndarray:
        return getattr(module, name + sfx).detach().cpu().numpy().copy()

    w_ih, w_hh = get("weight_ih"), get("weight_hh")
    zeros = np.zeros(w_ih.shape[0], w_ih.dtype)
    return CellWeights(w_ih, w_hh, get("bias_ih") if bias else zeros, get("bias_hh") if bias else zeros.copy())


def init_recurrent(
    kind: str, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False, *,
    seed: int = 0, init_scale: float = 1.0, forget_bias: float = 0.0, dtype=np.float32,
) -> Recurrent:
    """Seeded random weights, distributed like PyTorch's: every parameter ~ U(−k, k), k = 1/√H.

    init_scale multiplies k: below 1 states vanish, above 1 they saturate or explode.
    forget_bias is added to b_if (LSTM only), as TensorFlow's BasicLSTMCell(forget_bias=1.0) does.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cell kind {kind!r}; expected one of {KINDS}")
    if input_size < 1 or hidden_size < 1 or num_layers < 1:
        raise ValueError("input_size, hidden_size and num_layers must be at least 1")
    if forget_bias and kind != "lstm":
        raise ValueError("forget_bias applies to LSTMs only")
    rng = np.random.default_rng(seed)
    k, kh, D = init_scale / np.sqrt(hidden_size), CHUNKS[kind] * hidden_size, 2 if bidirectional else 1
    ws = []
    for l in range(num_layers):
        for _ in range(D):
            i = input_size if l == 0 else D * hidden_size
            w_ih, w_hh, b_ih, b_hh = (rng.uniform(-k, k, s).astype(dtype) for s in ((kh, i), (kh, hidden_size), kh, kh))
            if kind == "lstm":
                b_ih[hidden_size : 2 * hidden_size] += forget_bias
            ws.append(CellWeights(w_ih, w_hh, b_ih, b_hh))
    return Recurrent(kind, ws, num_layers, bidirectional)
