"""The trace: everything a recurrent network computed on one sequence.

This is the one data contract between computing (`cells`) and drawing (`viz_app`).
Shapes use T = sequence length, I = input size, H = hidden size, L = layers and
D = directions (1, or 2 when bidirectional). All arrays are numpy and read-only.

Trace
    kind        "rnn_tanh" | "rnn_relu" | "lstm" | "gru"
    x           (T, I)       the input sequence
    output      (T, D·H)     last layer's h, directions concatenated (torch's `output`)
    h_n         (L·D, H)     final hidden states, torch's order (layer-major, then direction)
    c_n         (L·D, H)     final cell states (LSTM), else None
    layers      L·D LayerTraces, index l·D + d; use `layer(l, d)`;
                `layer_output(l)` is layer l's (T, D·H) output
    finite      False when some state overflowed to inf or NaN

LayerTrace (one layer, one direction)
    x           (T, I_l)     what this layer read: the input, or the layer below's output
    h           (T, H)       h_t after step t
    c           (T, H)       LSTM cell state c_t, else None
    gates       name -> (T, H): LSTM i, f, g, o; GRU r, z, n; none for the Elman RNN
    h0, c0      (H,)         the initial states

Row t always belongs to input position t. A backward direction reads x_{T−1} first,
so its row t is its state after reading x_t … x_{T−1}, and the state it read before
step t is row t+1 (h0 at t = T−1).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .params import readonly

FORMAT = "rnnscope.trace"
VERSION = 1


@dataclass(frozen=True)
class LayerTrace:
    layer: int
    direction: int  # 0 forward, 1 backward
    x: np.ndarray  # (T, I_l)
    h: np.ndarray  # (T, H)
    c: np.ndarray | None  # (T, H), LSTM only
    gates: Mapping[str, np.ndarray]  # name -> (T, H)
    h0: np.ndarray  # (H,)
    c0: np.ndarray | None  # (H,), LSTM only

    def __post_init__(self) -> None:
        object.__setattr__(self, "gates", MappingProxyType(dict(self.gates)))
        for a in (self.x, self.h, self.c, self.h0, self.c0, *self.gates.values()):
            if a is not None:
                readonly(a)

    @property
    def reverse(self) -> bool:
        return self.direction == 1

    def h_prev(self, t: int) -> np.ndarray:
        """The state this direction read at step t: (H,)."""
        s = t + 1 if self.reverse else t - 1
        return self.h0 if s < 0 or s >= len(self.h) else self.h[s]

    def c_prev(self, t: int) -> np.ndarray | None:
        if self.c is None:
            return None
        s = t + 1 if self.reverse else t - 1
        return self.c0 if s < 0 or s >= len(self.c) else self.c[s]


@dataclass(frozen=True)
class Trace:
    kind: str
    x: np.ndarray  # (T, I)
    output: np.ndarray  # (T, D·H)
    h_n: np.ndarray  # (L·D, H)
    c_n: np.ndarray | None  # (L·D, H)
    layers: tuple[LayerTrace, ...]
    num_layers: int
    num_directions: int
    finite: bool = field(default=True)

    def __post_init__(self) -> None:
        for a in (self.x, self.output, self.h_n, self.c_n):
            if a is not None:
                readonly(a)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    def __len__(self) -> int:
        return self.T

    @property
    def hidden_size(self) -> int:
        return self.h_n.shape[1]

    @property
    def input_size(self) -> int:
        return self.x.shape[1]

    @property
    def gate_names(self) -> tuple[str, ...]:
        return tuple(self.layers[0].gates)

    @property
    def nbytes(self) -> int:
        """Memory held by the trace's arrays, each shared buffer counted once."""
        bases = {}
        for a in self._arrays().values():
            while isinstance(a.base, np.ndarray):
                a = a.base
            bases[id(a)] = a.nbytes
        return sum(bases.values())

    def layer(self, l: int = -1, d: int = 0) -> LayerTrace:
        """Layer l (negative counts from the top), direction d (0 forward, 1 backward)."""
        L, D = self.num_layers, self.num_directions
        if not -L <= l < L:
            raise IndexError(f"layer {l} out of range: this trace has {L} layer(s)")
        if d not in range(D):
            raise IndexError(f"direction {d} out of range: this trace has {D} direction(s)")
        return self.layers[(l % L) * D + d]

    def layer_output(self, l: int) -> np.ndarray:
        """Layer l's output (T, D·H): its directions' h side by side, what layer l + 1 reads."""
        top = self.num_layers - 1
        return self.output if l % self.num_layers == top else self.layer(l + 1).x

    # -- export -----------------------------------------------------------------

    def _arrays(self) -> dict[str, np.ndarray]:
        out = {"x": self.x, "output": self.output, "h_n": self.h_n}
        if self.c_n is not None:
            out["c_n"] = self.c_n
        for lt in self.layers:
            p = f"l{lt.layer}d{lt.direction}/"
            out[p + "h"], out[p + "h0"] = lt.h, lt.h0
            if lt.c is not None:
                out[p + "c"], out[p + "c0"] = lt.c, lt.c0
            for name, g in lt.gates.items():
                out[p + "gates/" + name] = g
        return out

    def _meta(self) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "num_layers": self.num_layers,
            "num_directions": self.num_directions,
            "finite": self.finite,
            "dtype": str(self.output.dtype),
            "gates": list(self.gate_names),
        }

    def to_json(self) -> str:
        """All arrays as nested lists; `Trace.from_json` reads it back exactly."""
        doc = self._meta()
        doc["arrays"] = {k: np.asarray(a).tolist() for k, a in self._arrays().items()}
        return json.dumps(doc, allow_nan=True)

    def save_npz(self, file: str | Path | io.IOBase) -> None:
        """Compressed .npz; arrays by name ("l0d1/gates/f", ...) plus a JSON "meta" entry."""
        arrays = dict(self._arrays())
        arrays["meta"] = np.array(json.dumps(self._meta()))
        np.savez_compressed(file, **arrays)

    @classmethod
    def from_json(cls, text: str) -> "Trace":
        try:
            doc = json.loads(text)
            dtype = np.dtype(doc["dtype"])
            arrays = {k: np.asarray(v, dtype=dtype) for k, v in doc.pop("arrays").items()}
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"not an rnnscope trace JSON: {e}") from None
        return cls._build(doc, arrays)

    @classmethod
    def load_npz(cls, file: str | Path | io.IOBase) -> "Trace":
        try:
            with np.load(file, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            meta = json.loads(str(arrays.pop("meta")))
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as e:
            raise ValueError(f"not an rnnscope trace .npz: {e}") from None
        return cls._build(meta, arrays)

    @classmethod
    def _build(cls, meta: dict, a: dict[str, np.ndarray]) -> "Trace":
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(f"not an rnnscope trace (format {meta.get('format')!r}, version {meta.get('version')!r})")
        L, D = meta["num_layers"], meta["num_directions"]
        try:
            layers, x = [], a["x"]
            for l in range(L):
                for d in range(D):
                    p = f"l{l}d{d}/"
                    layers.append(
                        LayerTrace(
                            l, d, x, a[p + "h"], a.get(p + "c"),
                            {g: a[p + "gates/" + g] for g in meta["gates"]},
                            a[p + "h0"], a.get(p + "c0"),
                        )
                    )
                x = np.concatenate([lt.h for lt in layers[-D:]], axis=1)  # (T, D·H): next layer's input
            return cls(meta["kind"], a["x"], a["output"], a["h_n"], a.get("c_n"), tuple(layers), L, D, meta["finite"])
        except KeyError as e:
            raise ValueError(f"rnnscope trace is missing array {e}") from None
