"""Heatmaps of a trace over time × units: the Compare view's charts. Pure: no Streamlit.

    fig = state_heatmaps(analysis.trace, analysis.tokens, step=3)   # in a notebook: fig.show()

One heatmap row (subplot) per recorded quantity of one layer and direction: h, then the
LSTM's c, then each gate in cells.GATES order, and for a bidirectional layer the other
direction's h last. Time (the step t) is on x, units on y, coloured with the shared
scales of `viz_app.charts.scales`, each with its colour bar. Units are categories
("0" … "H−1"), so the browser can re-order the rows without renumbering them.
The first unit is the top row. `shapes[0]` is the step marker (the browser moves an
overlay instead).
"""

from __future__ import annotations

import base64
import math

import numpy as np

import cells

from .scales import NAMES, scale_for
from .text import plotly_text

MAX_COLS = 400  # heatmap columns drawn at most; longer inputs show every k-th step
ROW_PX = 120  # height of one heatmap row
TOKEN_TICKS = 40  # label the time axis with tokens up to this many steps


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


def typed(a: np.ndarray) -> dict:
    """A float32 array in plotly's base64 form {dtype, bdata, shape}, as fig.to_json() writes it."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    return {"dtype": "f4", "bdata": base64.b64encode(a.tobytes()).decode("ascii"), "shape": ",".join(map(str, a.shape))}


def heatmap_spec(trace: cells.Trace, tokens: list[str] | None = None, layer: int = -1, direction: int = 0,
                 step: int = 0, max_cols: int = MAX_COLS) -> dict:
    """`state_heatmaps` as a plain plotly JSON dict (what the browser component receives).

    Built directly rather than through go.Figure: graph_objects validation costs about
    40 ms per figure, a tenth of the budget for showing a new sentence.
    """
    rows = quantities(trace, layer, direction)
    n, T, k = len(rows), trace.T, stride_for(trace.T, max_cols)
    x = np.arange(0, T, k)  # (T',) the steps drawn
    gap = 0.35 / n
    h = (1 - gap * (n - 1)) / n
    data, layout, annotations = [], {}, []
    for r, (name, a) in enumerate(rows):
        sc = scale_for(trace.kind, name, a)
        H = a.shape[1]
        y0 = max(0.0, 1 - r * (h + gap) - h)  # row r's vertical domain, top to bottom
        ax = "" if r == 0 else str(r + 1)
        data.append({"type": "heatmap", "x": typed(x), "y": [str(u) for u in range(H)],
                     "z": typed(np.asarray(a[::k]).T),  # (H, T')
                     "xaxis": f"x{ax}", "yaxis": f"y{ax}", "zmin": sc.zmin, "zmax": sc.zmax,
                     "colorscale": sc.colorscale, "name": name,
                     "hovertemplate": f"{name}: t=%{{x}}, unit %{{y}}: %{{z:.3f}}<extra></extra>",
                     "colorbar": {"thickness": 8, "len": h * 0.9, "y": y0 + h / 2, "x": 1.01,
                                  "title": {"text": sc.label, "side": "right", "font": {"size": 9}},
                                  "tickfont": {"size": 8}}})
        layout[f"xaxis{ax}"] = {"anchor": f"y{ax}", "domain": [0, 1], "showticklabels": r == n - 1,
                                **({"matches": "x"} if r else {})}
        layout[f"yaxis{ax}"] = {"anchor": f"x{ax}", "domain": [y0, min(1.0, y0 + h)], "type": "category",
                                "categoryorder": "array", "categoryarray": [str(u) for u in range(H)],
                                "autorange": "reversed",  # the first unit of an order on top
                                "title": {"text": "unit", "font": {"size": 9}}, "tickfont": {"size": 8}}
        annotations.append({"text": NAMES[name], "x": 0, "xanchor": "left", "xref": "paper", "y": y0 + h,
                            "yanchor": "bottom", "yref": "paper", "showarrow": False, "font": {"size": 11}})
    bottom = f"xaxis{n if n > 1 else ''}"
    if tokens is not None and T <= TOKEN_TICKS:
        layout[bottom].update(tickvals=list(range(T)), ticktext=[plotly_text(t) for t in tokens], tickangle=-60,
                              tickfont={"size": 9})
    else:
        layout[bottom]["title"] = {"text": "step t", "font": {"size": 9}}
    layout.update(
        annotations=annotations,
        shapes=[{"type": "rect", "xref": "x", "yref": "paper", "x0": step - k / 2, "x1": step + k / 2,
                 "y0": 0, "y1": 1, "line": {"color": "black", "width": 1.5}, "fillcolor": "rgba(0,0,0,0)"}],
        height=ROW_PX * n + 90, margin={"l": 40, "r": 70, "t": 24, "b": 60},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
    )
    return {"data": data, "layout": layout}


def state_heatmaps(trace: cells.Trace, tokens: list[str] | None = None, layer: int = -1, direction: int = 0,
                   step: int = 0, max_cols: int = MAX_COLS):
    """One heatmap row (time × units) per quantity of one layer and direction, step marked."""
    import plotly.graph_objects as go

    return go.Figure(heatmap_spec(trace, tokens, layer, direction, step, max_cols))
