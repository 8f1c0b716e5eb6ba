"""The Compare view's browser payload: every column's figures and per-step data as JSON.

Pure (no Streamlit): `compare_payload` is what `viz_app.stepper` sends to the browser
once per sentence. Figures are plotly JSON (arrays as base64 typed arrays), so a column
is drawn by the same `viz_app.charts` functions a notebook would call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from . import charts


@dataclass(frozen=True)
class Column:
    model: object  # a cells model (CONTRACTS.md section 4) or a viz_app.standin.StandinModel
    analysis: object  # what model.analyze(text) returned
    warning: str = ""  # shown above the column, e.g. "untrained stand-in"


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
    fig = charts.state_heatmaps(tr, a.tokens, step=step, max_cols=max_cols)
    out = charts.step_outputs(m, a)
    warning = col.warning
    if not tr.finite:
        warning = (warning + " " if warning else "") + "Some states overflowed to inf/NaN (shown blank)."
    return {
        "title": m.kind.upper(),
        "meta": describe(m),
        "warning": warning,
        "unknown": [int(i) for i in a.unknown],
        "heatmap": json.loads(fig.to_json()),
        "marker_half": charts.stride_for(tr.T, max_cols) / 2,
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
            f"{T:,} steps: the heatmaps show every {k}th step (the marker covers {k} steps); "
            "outputs and tokens follow every step.")
    doc = {"T": T, "tokens": strip_tokens(text, a0.spans), "note": note,
           "columns": [column_payload(c, step, max_cols) for c in columns]}
    return json.dumps(doc, allow_nan=False, separators=(",", ":"))
