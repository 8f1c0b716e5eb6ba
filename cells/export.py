"""A trace as file bytes (JSON, NPZ, CSV), and a reader for the CSV: what the app's downloads hold.

    to_json(trace)  -> bytes   read back with cells.Trace.from_json(data)
    to_npz(trace)   -> bytes   read back with cells.Trace.load_npz(io.BytesIO(data))
    to_csv(trace, tokens) -> bytes   read back with cells.export.read_csv(data)

The CSV is long format, one row per (layer, direction, step, unit), in that nesting
order, with a header row:

    layer      0 … L−1
    direction  0 forward, 1 backward
    step       t, 0 … T−1 (row t of a backward direction: its state after reading x_t … x_{T−1})
    token      the token read at step t, as the model saw it (e.g. lower-cased words)
    unit       0 … H−1
    h          h_t[unit]
    c          c_t[unit]                      LSTM only
    i f g o    the LSTM gates at step t       LSTM only
    r z n      the GRU gates at step t        GRU only

Numbers are written with Python's shortest round-trip repr, so float32 values read
back exactly; overflowed states appear as `nan` / `inf`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from .trace import Trace

KEYS = ("layer", "direction", "step", "token", "unit")  # the CSV's first columns, then the quantities


def to_json(trace: Trace) -> bytes:
    return trace.to_json().encode("utf-8")


def to_npz(trace: Trace) -> bytes:
    buf = io.BytesIO()
    trace.save_npz(buf)
    return buf.getvalue()


def quantity_names(trace: Trace) -> tuple[str, ...]:
    """The CSV's value columns for this trace: h, then c (LSTM), then the gates in cells.GATES order."""
    return ("h",) + (("c",) if trace.c_n is not None else ()) + tuple(trace.gate_names)


def to_csv(trace: Trace, tokens: list[str]) -> bytes:
    if len(tokens) != trace.T:
        raise ValueError(f"one token per step expected: {trace.T}, got {len(tokens)}")
    names = quantity_names(trace)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(KEYS + names)
    for lt in trace.layers:
        cols = [lt.h] + ([lt.c] if lt.c is not None else []) + [lt.gates[g] for g in trace.gate_names]
        V = np.stack(cols, axis=-1).astype(np.float64)  # (T, H, Q): float32 -> float64 is exact
        T, H, _ = V.shape
        for t in range(T):
            for u in range(H):
                w.writerow((lt.layer, lt.direction, t, tokens[t], u, *map(repr, V[t, u].tolist())))
    return buf.getvalue().encode("utf-8")


@dataclass(frozen=True)
class CsvTrace:
    """What `read_csv` returns: the tokens and, per (layer, direction), each quantity as (T, H)."""

    tokens: list[str]  # (T,)
    arrays: dict[tuple[int, int], dict[str, np.ndarray]]  # (layer, direction) -> name -> (T, H)

    def get(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        return self.arrays[(layer, direction)][name]


def read_csv(data: bytes | str, dtype=np.float32) -> CsvTrace:
    """Parse `to_csv` output back into arrays; raises ValueError on anything else."""
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None or tuple(header[: len(KEYS)]) != KEYS:
        raise ValueError(f"not an rnnscope trace CSV: the header must start with {','.join(KEYS)}")
    names = header[len(KEYS):]
    cells_: dict[tuple[int, int], dict[tuple[int, int], list[float]]] = {}
    tokens: dict[int, str] = {}
    for n, r in enumerate(rows, start=2):
        if len(r) != len(header):
            raise ValueError(f"line {n}: {len(r)} fields, expected {len(header)}")
        l, d, t, tok, u = int(r[0]), int(r[1]), int(r[2]), r[3], int(r[4])
        tokens.setdefault(t, tok)
        cells_.setdefault((l, d), {})[(t, u)] = [float(v) for v in r[len(KEYS):]]
    T = len(tokens)
    if sorted(tokens) != list(range(T)):
        raise ValueError("steps must run 0 … T−1 without gaps")
    arrays = {}
    for key, vals in cells_.items():
        H = 1 + max(u for _, u in vals)
        if len(vals) != T * H:
            raise ValueError(f"layer {key[0]} direction {key[1]}: expected {T * H} rows, got {len(vals)}")
        V = np.empty((T, H, len(names)), dtype=dtype)  # (T, H, Q)
        for (t, u), v in vals.items():
            V[t, u] = v
        arrays[key] = {name: V[:, :, q] for q, name in enumerate(names)}
    return CsvTrace([tokens[t] for t in range(T)], arrays)


# -- gradients: what the Gradients view shows, as files --------------------------------------

def gradient_arrays(dh: dict, dc: dict, saliency: dict | None = None) -> dict[str, np.ndarray]:
    """Named arrays: dh/l{l}d{d} and dc/l{l}d{d} (T, H) per layer and direction, and
    saliency/{name} (T,) for a trained model's explanation."""
    out = {f"dh/l{l}d{d}": np.asarray(v) for (l, d), v in sorted(dh.items())}
    out |= {f"dc/l{l}d{d}": np.asarray(v) for (l, d), v in sorted(dc.items())}
    out |= {f"saliency/{k}": np.asarray(v) for k, v in (saliency or {}).items()}
    return out


def gradients_to_npz(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def gradients_to_json(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    import json

    return json.dumps({"meta": meta, "arrays": {k: np.asarray(v, np.float64).tolist() for k, v in arrays.items()}},
                      allow_nan=True).encode("utf-8")


def gradients_to_csv(dh: dict, dc: dict, tokens: list[str]) -> bytes:
    """Long format, one row per (layer, direction, step, unit): layer, direction, step, token,
    unit, dh, and dc for an LSTM. Read it with `read_csv` (it returns them as quantities)."""
    names = ("dh",) + (("dc",) if dc else ())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(KEYS + names)
    for (l, d), g in sorted(dh.items()):
        V = np.stack([np.asarray(g, np.float64)] + ([np.asarray(dc[(l, d)], np.float64)] if dc else []), axis=-1)  # (T, H, Q)
        for t in range(V.shape[0]):
            for u in range(V.shape[1]):
                w.writerow((l, d, t, tokens[t], u, *map(repr, V[t, u].tolist())))
    return buf.getvalue().encode("utf-8")
