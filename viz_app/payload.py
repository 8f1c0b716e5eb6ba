"""The Compare view's browser payload: every column's figures and per-step data as JSON.

Pure (no Streamlit): `compare_payload` is what `viz_app.stepper` sends to the browser
once per sentence. Each column carries the quantities `viz_app.charts.state_heatmaps`
draws (same rows, same decimation, same colour scales), as base64 float32 arrays that
the browser paints on canvases; plotly would need ~100 ms per figure to redraw them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

import numpy as np

from . import charts
from .scales import NAMES, SIGMOID, TANH, lut, scale_for


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.float32).tobytes()).decode("ascii")


# 256-colour tables of the shared scales, so the browser's canvases match plotly's colours.
LUTS = {s.colorscale: base64.b64encode(lut(s)).decode("ascii") for s in (SIGMOID, TANH)}


@dataclass(frozen=True)
class Column:
    model: object  # a cells model (CONTRACTS.md section 4) or a viz_app.standin.StandinModel
    analysis: object  # what model.analyze(text) returned
    warning: str = ""  # shown above the column, e.g. "untrained stand-in"
    step_probs: np.ndarray | None = None  # (T, C) a classifier's probabilities after each prefix


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def describe(model) -> str:
    """'LSTM · 12,345 parameters · dev accuracy 0.861'."""
    parts = [model.kind.upper(), f"{int(model.num_params):,} parameters"]
    for k, v in (getattr(model, "metrics", None) or {}).items():
        parts.append(f"{k.replace('_', ' ')} {v:.3g}" if isinstance(v, (int, float)) else f"{k} {v}")
    return " · ".join(parts)


def strip_tokens(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The token strip's labels: the user's own characters, whitespace made visible."""
    return [charts.visible(text[s:e]) for s, e in spans]


def column_payload(col: Column, step: int, max_cols: int = charts.MAX_COLS) -> dict:
    a, m = col.analysis, col.model
    tr = a.trace
    k = charts.stride_for(tr.T, max_cols)
    rows = []
    for name, arr in charts.quantities(tr):
        sc = scale_for(name, arr)
        title = NAMES[name] + (f"   {sc.label}" if name == "c" else "")
        rows.append({"name": name, "title": title, "colorscale": sc.colorscale, "zmin": sc.zmin, "zmax": sc.zmax,
                     "H": int(arr.shape[1]), "data": _b64(np.asarray(arr[::k]))})  # (T', H) float32
    out = charts.step_outputs(m, a, step_probs=col.step_probs)
    warning = col.warning
    if not tr.finite:
        warning = (warning + " " if warning else "") + "Some states overflowed to inf/NaN (shown blank)."
    return {
        "title": m.kind.upper(),
        "meta": describe(m),
        "warning": warning,
        "unknown": [int(i) for i in a.unknown],
        "rows": rows,
        "stride": k,
        "cols": len(range(0, tr.T, k)),
        "output": None if out is None else {
            "title": out.title,
            "labels": [[charts.visible(l) for l in row] for row in out.labels],  # set as textContent
            "detail": out.detail,
            "values": np.round(np.asarray(out.values, dtype=float), 4).tolist(),
        },
    }


def compare_payload(text: str, columns: list[Column], step: int = 0, note: str = "",
                    max_cols: int = charts.MAX_COLS) -> str:
    """JSON for the stepper: T, the token strip, a note on what is shown, one entry per column."""
    a0 = columns[0].analysis
    T = a0.trace.T
    if any(c.analysis.trace.T != T for c in columns):
        raise ValueError("the three models read different numbers of tokens; they must share a tokenizer")
    k = charts.stride_for(T, max_cols)
    if k > 1:
        note = (note + " " if note else "") + (
            f"{T:,} steps: the heatmaps show every {_ordinal(k)} step (the marker covers {k} steps); "
            "outputs and tokens follow every step.")
    doc = {"T": T, "tokens": strip_tokens(text, a0.spans), "note": note, "luts": LUTS,
           "columns": [column_payload(c, step, max_cols) for c in columns]}
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))
