"""Heatmaps of a trace over time × units: the Compare view's charts. Pure: no Streamlit.

    fig = state_heatmaps(analysis.trace, analysis.tokens, step=3)   # in a notebook: fig.show()

One block of rows per recorded quantity of one layer and direction, stacked in one
chart: h, then the LSTM's c, then each gate in cells.GATES order, and for a
bidirectional layer the other direction's h last. Time (the step t) is on x, units
on y (unit 0 at the top of its block), coloured with the shared scales of
`viz_app.charts.scales`, one colour bar per scale. One subplot rather than one per
quantity: plotly draws each subplot and colour bar separately, and fourteen of each
made a new sentence cost 600 ms in the browser instead of about 200.

Each block's rows sit at y = offset … offset + H − 1; `customdata` names each row's
unit (state_heatmaps fills it; the browser fills it itself, so a payload need not
carry it, and re-fills it when it re-orders the units). `shapes[0]` is the step marker
(the browser moves an overlay instead); the other shapes separate the blocks.
"""

from __future__ import annotations

import base64
import math

import numpy as np

import cells

from ..i18n import _
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


def typed(a: np.ndarray, dtype: str = "f4") -> dict:
    """An array in plotly's base64 form {dtype, bdata, shape}, as fig.to_json() writes it; float32
    unless said otherwise ("f8", "i4": numpy's codes, which plotly.js reads)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    return {"dtype": dtype, "bdata": base64.b64encode(a.tobytes()).decode("ascii"), "shape": ",".join(map(str, a.shape))}


GAP = 3  # empty rows between two blocks


def heatmap_spec(trace: cells.Trace, tokens: list[str] | None = None, layer: int = -1, direction: int = 0,
                 step: int = 0, max_cols: int = MAX_COLS) -> dict:
    """`state_heatmaps` as a plain plotly JSON dict (what the browser component receives).

    Built directly rather than through go.Figure: graph_objects validation costs about
    40 ms per figure, a tenth of the budget for showing a new sentence.
    """
    rows = quantities(trace, layer, direction)
    T, k = trace.T, stride_for(trace.T, max_cols)
    x = np.arange(0, T, k)  # (T',) the steps drawn
    scales = {name: scale_for(trace.kind, name, a) for name, a in rows}
    axes = list(dict.fromkeys(scales.values()))  # one colour axis (and bar) per scale, in order of use
    data, ticks, shapes, offset = [], [], [], 0
    for name, a in rows:
        H = a.shape[1]
        data.append({"type": "heatmap", "x": typed(x), "y0": offset, "dy": 1, "z": typed(np.asarray(a[::k]).T),  # (H, T')
                     "coloraxis": "coloraxis" + (str(axes.index(scales[name]) + 1) if axes.index(scales[name]) else ""),
                     "name": name,
                     "hovertemplate": _("{name}<br>t=%{{x}}, unit %{{customdata}}: %{{z:.3f}}<extra></extra>",
                                        name=_(NAMES[name]))})
        ticks.append((offset + (H - 1) / 2, name))
        if offset:
            shapes.append({"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": offset - GAP / 2,
                           "y1": offset - GAP / 2, "line": {"color": "rgba(128,128,128,0.5)", "width": 1}})
        offset += H + GAP
    n = len(axes)
    layout = {f"coloraxis{i + 1 if i else ''}": {
        "colorscale": sc.stops, "cmin": sc.zmin, "cmax": sc.zmax,
        "colorbar": {"thickness": 8, "len": 0.9 / n, "y": 1 - i / n, "yanchor": "top", "x": 1.01,
                     "title": {"text": sc.label, "side": "right", "font": {"size": 9}}, "tickfont": {"size": 8}}}
        for i, sc in enumerate(axes)}
    xaxis = {"domain": [0, 1], "title": {"text": _("step t"), "font": {"size": 9}}}
    if tokens is not None and T <= TOKEN_TICKS:
        xaxis = {"domain": [0, 1], "tickvals": list(range(T)), "ticktext": [plotly_text(t) for t in tokens],
                 "tickangle": -60, "tickfont": {"size": 9}}
    layout.update(
        xaxis=xaxis,
        yaxis={"autorange": "reversed", "tickvals": [y for y, _name in ticks], "ticktext": [t for _y, t in ticks],
               "tickfont": {"size": 12}, "zeroline": False, "showgrid": False},
        shapes=[{"type": "rect", "xref": "x", "yref": "paper", "x0": step - k / 2, "x1": step + k / 2,
                 "y0": 0, "y1": 1, "line": {"color": "black", "width": 1.5}, "fillcolor": "rgba(0,0,0,0)"}, *shapes],
        height=ROW_PX * len(rows) + 90, margin={"l": 40, "r": 70, "t": 10, "b": 60},
        paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
    )
    return {"data": data, "layout": layout}


def state_heatmaps(trace: cells.Trace, tokens: list[str] | None = None, layer: int = -1, direction: int = 0,
                   step: int = 0, max_cols: int = MAX_COLS):
    """One heatmap row (time × units) per quantity of one layer and direction, step marked."""
    import plotly.graph_objects as go

    spec = heatmap_spec(trace, tokens, layer, direction, step, max_cols)
    for tr in spec["data"]:
        H, Tk = map(int, tr["z"]["shape"].split(","))
        tr["customdata"] = np.repeat(np.arange(H)[:, None], Tk, axis=1)  # (H, T') each row's unit
    return go.Figure(spec)
