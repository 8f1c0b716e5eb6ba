"""Pure chart functions: a trace or an analysis in, a plotly Figure out. No Streamlit here.

    fig = state_heatmaps(analysis.trace, analysis.tokens, step=3)   # in a notebook: fig.show()

Heatmaps put time on x (one column per token) and units on y, one row per recorded
quantity (h, then the LSTM's c, then each gate in cells.GATES order), coloured with the
shared scales of `viz_app.scales`. `shapes[0]` of a heatmap figure is the step marker;
the browser stepper moves only that shape.
"""

from __future__ import annotations

import base64
import math
import unicodedata
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

import cells

from .scales import NAMES, scale_for

MAX_COLS = 400  # heatmap columns drawn at most; longer inputs show every k-th step
ROW_PX = 120  # height of one heatmap row
TOKEN_TICKS = 40  # label the time axis with tokens up to this many steps


def plotly_text(s: str) -> str:
    """Text for plotly labels: plotly reads <b>, <br>, <a> and entities, so escape them;
    make whitespace and control characters visible."""
    return visible(s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def visible(s: str) -> str:
    """Whitespace and control characters as visible symbols (␣ ⏎ ⇥ U+0007)."""
    return "".join(_visible(ch) for ch in s) or "␣"


def _visible(ch: str) -> str:
    if ch == " ":
        return "␣"
    if ch == "\n":
        return "⏎"
    if ch == "\t":
        return "⇥"
    # Only control characters (Cc): format characters such as the ZWJ inside 👨‍👩‍👧 or an
    # RTL mark belong to what the user wrote.
    return f"U+{ord(ch):04X}" if unicodedata.category(ch) == "Cc" else ch


def stride_for(T: int, max_cols: int = MAX_COLS) -> int:
    """Keep every k-th step so that at most max_cols columns are drawn."""
    return max(1, math.ceil(T / max_cols))


def quantities(trace: cells.Trace, layer: int = -1, direction: int = 0) -> list[tuple[str, np.ndarray]]:
    """(name, (T, H)) in drawing order: h, c (LSTM), the gates, and for a bidirectional
    layer the other direction's hidden state ("h←" or "h→") last."""
    lt = trace.layer(layer, direction)
    rows = [("h", lt.h)]
    if lt.c is not None:
        rows.append(("c", lt.c))
    rows += list(lt.gates.items())
    if trace.num_directions == 2:
        rows.append(("h→" if direction else "h←", trace.layer(layer, 1 - direction).h))
    return rows


def _typed(a: np.ndarray) -> dict:
    """A float32 array in plotly's base64 form {dtype, bdata, shape}, as fig.to_json() writes it."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii"), "shape": ",".join(map(str, a.shape))}


def heatmap_spec(trace: cells.Trace, tokens: list[str] | None = None, layer: int = -1, direction: int = 0,
                 step: int = 0, max_cols: int = MAX_COLS, colorbars: bool = True) -> dict:
    """`state_heatmaps` as a plain plotly JSON dict (what the browser stepper receives).

    Built directly rather than through go.Figure: graph_objects validation costs about
    40 ms per figure, a tenth of the budget for showing a new sentence.
    """
    rows = quantities(trace, layer, direction)
    n, T, k = len(rows), trace.T, stride_for(trace.T, max_cols)
    x = np.arange(0, T, k)  # (T',) the steps drawn
    gap = 0.35 / n
    h = (1 - gap * (n - 1)) / n
    data, layout = [], {}
    annotations = []
    for r, (name, a) in enumerate(rows):
        sc = scale_for(name, a)
        y0 = max(0.0, 1 - r * (h + gap) - h)  # row r's vertical domain, top to bottom
        ax = "" if r == 0 else str(r + 1)
        trace_ = {"type": "heatmap", "x": _typed(x), "z": _typed(np.asarray(a[::k]).T),  # (H, T')
                  "xaxis": f"x{ax}", "yaxis": f"y{ax}", "zmin": sc.zmin, "zmax": sc.zmax,
                  "colorscale": sc.colorscale, "showscale": colorbars,
                  "hovertemplate": f"{name}: t=%{{x}}, unit %{{y}}: %{{z:.3f}}<extra></extra>"}
        if colorbars:
            trace_["colorbar"] = {"thickness": 8, "len": h * 0.9, "y": y0 + h / 2, "x": 1.01,
                                  "title": {"text": sc.label, "side": "right", "font": {"size": 9}},
                                  "tickfont": {"size": 8}}
        data.append(trace_)
        layout[f"xaxis{ax}"] = {"anchor": f"y{ax}", "domain": [0, 1], "matches": "x" if r else None,
                                "showticklabels": r == n - 1}
        layout[f"yaxis{ax}"] = {"anchor": f"x{ax}", "domain": [y0, min(1.0, y0 + h)], "title": {"text": "unit", "font": {"size": 9}},
                                "tickfont": {"size": 8}}
        title = NAMES[name] + (f"  ({sc.label})" if name == "c" and not colorbars else "")
        annotations.append({"text": title, "x": 0, "xanchor": "left", "xref": "paper", "y": y0 + h,
                            "yanchor": "bottom", "yref": "paper", "showarrow": False, "font": {"size": 11}})
    bottom = f"xaxis{n if n > 1 else ''}"
    if tokens is not None and T <= TOKEN_TICKS:
        layout[bottom].update(tickvals=list(range(T)), ticktext=[plotly_text(t) for t in tokens], tickangle=-60,
                              tickfont={"size": 9})
    layout.update(
        annotations=annotations,
        shapes=[{"type": "rect", "xref": "x", "yref": "paper", "x0": step - k / 2, "x1": step + k / 2,
                 "y0": 0, "y1": 1, "line": {"color": "black", "width": 1.5}, "fillcolor": "rgba(0,0,0,0)"}],
        height=ROW_PX * n + 90, margin={"l": 40, "r": 70 if colorbars else 10, "t": 24, "b": 60},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
    )
    for ax in layout.values():
        if isinstance(ax, dict) and ax.get("matches", 0) is None:
            del ax["matches"]
    return {"data": data, "layout": layout}


def state_heatmaps(trace: cells.Trace, tokens: list[str] | None = None, layer: int = -1, direction: int = 0,
                   step: int = 0, max_cols: int = MAX_COLS, colorbars: bool = True) -> go.Figure:
    """One heatmap row (time × units) per quantity of one layer and direction, step marked."""
    return go.Figure(heatmap_spec(trace, tokens, layer, direction, step, max_cols, colorbars))


@dataclass(frozen=True)
class StepOutput:
    """What a model outputs at each step: title, labels (S, k) and values (S, k).

    S = T when the output changes with the step, S = 1 when only the final output exists.
    """

    title: str
    labels: list[list[str]]
    values: np.ndarray  # (S, k)
    detail: list[str] | None = None  # (T,) one line per step, e.g. the attention on token t


def step_outputs(model, analysis, k: int = 5, step_probs: np.ndarray | None = None) -> StepOutput | None:
    """Class probabilities (per step when given `step_probs` (T, C), or the analysis has
    them) or the top-k next tokens."""
    if getattr(model, "is_classifier", False):
        per_step = step_probs if step_probs is not None else getattr(analysis, "step_probs", None)
        labels = [str(l) for l in model.labels]
        att = getattr(analysis, "attention", None)
        detail = None if att is None else [f"attention on this token: a_t = {a:.3f}" for a in np.asarray(att)]
        if per_step is not None:
            return StepOutput("class probabilities if the text ended at t", [labels], np.asarray(per_step), detail)
        if analysis.probs is not None:
            return StepOutput("class probabilities (after the whole text)", [labels],
                              np.asarray(analysis.probs)[None], detail)
        return None
    p = getattr(analysis, "next_token_probs", None)
    if p is None:
        return None
    p = np.asarray(p)  # (T, V)
    k = min(k, p.shape[1])
    top = np.argpartition(-p, k - 1, axis=1)[:, :k]  # (T, k), unordered; V may be thousands
    top = np.take_along_axis(top, np.argsort(-np.take_along_axis(p, top, axis=1), axis=1), axis=1)
    vocab = list(model.vocab)
    stoi = {s: i for i, s in enumerate(vocab)}
    T = p.shape[0]
    detail = []
    for t in range(T):  # the token actually read next, and what the model gave it
        if t + 1 < T:
            nxt = analysis.tokens[t + 1]
            j = stoi.get(nxt)
            detail.append(f"actual next: {visible(nxt)}  p = {p[t, j]:.3f}" if j is not None else
                          f"actual next: {visible(nxt)} (not in the vocabulary)")
        else:
            detail.append("end of the text")
    return StepOutput(f"top {k} next {'characters' if model.level == 'char' else 'tokens'}",
                      [[vocab[j] for j in row] for row in top], np.take_along_axis(p, top, axis=1), detail)


def output_bars(out: StepOutput, step: int = 0) -> go.Figure:
    """Horizontal bars of the output at one step, on a fixed [0, 1] axis."""
    s = step if len(out.values) > 1 else 0
    labels = [plotly_text(l) for l in out.labels[s if len(out.labels) > 1 else 0]]
    fig = go.Figure(go.Bar(x=np.asarray(out.values[s], dtype=float), y=labels, orientation="h",
                           marker_color="#ff4b4b", texttemplate="%{x:.2f}", textposition="auto",
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(height=36 + 22 * len(labels), margin=dict(l=60, r=10, t=4, b=20),
                      xaxis=dict(range=[0, 1], fixedrange=True, tickfont=dict(size=8)),
                      yaxis=dict(autorange="reversed", fixedrange=True, type="category"),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig
