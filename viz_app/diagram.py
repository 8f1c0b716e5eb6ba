"""The cell as a plotly diagram, each part coloured by its value for one unit. Pure.

    fig = cell_diagram("lstm", values)   # values: name -> float, from `cell_values`

Boxes are the recorded quantities (gates on the sigmoid scale, candidates and states
on the tanh scale, c on its own symmetric range); circles are the operations.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

import cells

from .scales import SIGMOID, TANH, Scale, cell_scale, colour

# name -> (x, y, label); operations are the names starting with "op".
_LAYOUT = {
    "lstm": {
        "c_prev": (0.5, 5, "c_{t−1}"), "op_f": (2.5, 5, "×"), "op_add": (5.5, 5, "+"), "c": (9.5, 5, "c_t"),
        "f": (2.5, 2.5, "f  forget σ"), "i": (4.2, 2.5, "i  input σ"), "g": (5.9, 2.5, "g  candidate tanh"),
        "o": (7.6, 2.5, "o  output σ"), "op_ig": (5.5, 3.8, "×"), "tanh_c": (8.6, 3.8, "tanh"), "op_o": (8.6, 2.5, "×"),
        "h_prev": (0.5, 1, "h_{t−1}"), "x": (0.5, 0, "x_t"), "h": (9.5, 1, "h_t"),
    },
    "gru": {
        "h_prev": (0.5, 5, "h_{t−1}"), "x": (0.5, 0, "x_t"), "r": (2.5, 2.5, "r  reset σ"),
        "z": (4.5, 2.5, "z  update σ"), "n": (6.5, 2.5, "n  candidate tanh"), "op_r": (2.5, 3.8, "×"),
        "op_zh": (4.5, 5, "×"), "op_1mz": (6.5, 3.8, "× (1−z)"), "op_add": (8, 5, "+"), "h": (9.5, 5, "h_t"),
    },
    "rnn": {"h_prev": (0.5, 4, "h_{t−1}"), "x": (0.5, 0, "x_t"), "tanh": (5, 2, "tanh"), "h": (9.5, 2, "h_t")},
}
_EDGES = {
    "lstm": [("c_prev", "op_f"), ("f", "op_f"), ("op_f", "op_add"), ("i", "op_ig"), ("g", "op_ig"), ("op_ig", "op_add"),
             ("op_add", "c"), ("op_add", "tanh_c"), ("tanh_c", "op_o"), ("o", "op_o"), ("op_o", "h"),
             *[(s, d) for s in ("h_prev", "x") for d in "figo"]],
    "gru": [("h_prev", "op_zh"), ("z", "op_zh"), ("z", "op_1mz"), ("n", "op_1mz"), ("op_zh", "op_add"),
            ("op_1mz", "op_add"), ("op_add", "h"), ("r", "op_r"), ("op_r", "n"),
            *[(s, d) for s in ("h_prev", "x") for d in "rzn"]],
    "rnn": [("h_prev", "tanh"), ("x", "tanh"), ("tanh", "h")],
}


def family(kind: str) -> str:
    return "rnn" if kind.startswith("rnn") else kind


def cell_values(trace: cells.Trace, layer: int, direction: int, t: int, unit: int) -> dict[str, float]:
    """The recorded values of one unit at step t, keyed as in the diagram."""
    lt = trace.layer(layer, direction)
    v = {"h_prev": float(lt.h_prev(t)[unit]), "h": float(lt.h[t][unit]),
         "x": float(np.linalg.norm(lt.x[t]))}  # x_t is a vector: its norm
    v.update({k: float(g[t][unit]) for k, g in lt.gates.items()})
    if lt.c is not None:
        v["c_prev"], v["c"] = float(lt.c_prev(t)[unit]), float(lt.c[t][unit])
        v["tanh_c"] = float(np.tanh(v["c"]))
    if family(trace.kind) == "rnn":
        v["tanh"] = v["h"]
    return v


def _scale(name: str, values: dict[str, float], c_scale: Scale) -> Scale | None:
    if name in ("i", "f", "o", "r", "z"):
        return SIGMOID
    if name in ("c", "c_prev"):
        return c_scale
    if name in ("g", "n", "h", "h_prev", "tanh_c", "tanh"):
        return TANH
    return None


def cell_diagram(kind: str, values: dict[str, float], c_range: np.ndarray | None = None, title: str = "",
                 reverse: bool = False) -> go.Figure:
    """kind: a cells kind ("lstm", "gru", "rnn_tanh", ...); values from `cell_values`.

    reverse: a backward direction, whose previous state is the one from step t+1.
    """
    fam = family(kind)
    pos = _LAYOUT[fam]
    c_scale = cell_scale(np.asarray(c_range if c_range is not None else [values.get("c", 1.0)]))
    fig = go.Figure()
    for a, b in _EDGES[fam]:
        (x0, y0, _), (x1, y1, _) = pos[a], pos[b]
        fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowsize=1, arrowwidth=1.2, arrowcolor="#888", standoff=18, startstandoff=18, text="")
    for name, (x, y, label) in pos.items():
        label = label.replace("t−1", "t+1") if reverse else label
        sc = _scale(name, values, c_scale)
        v = values.get(name)
        if name.startswith("op"):
            fig.add_shape(type="circle", x0=x - 0.3, x1=x + 0.3, y0=y - 0.3, y1=y + 0.3, fillcolor="#eee",
                          line=dict(color="#666"))
            fig.add_annotation(x=x, y=y, text=label, showarrow=False, font=dict(size=14))
            continue
        fill = colour(sc, v) if sc is not None and v is not None else "#f5f5f5"
        fig.add_shape(type="rect", x0=x - 0.75, x1=x + 0.75, y0=y - 0.4, y1=y + 0.4, fillcolor=fill,
                      line=dict(color="#333"))
        text = label if v is None else f"{label}<br><b>{v:.2f}</b>" + (" (‖x‖)" if name == "x" else "")
        fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=11), bgcolor="rgba(255,255,255,0.75)")
    fig.update_xaxes(visible=False, range=[-0.5, 10.5], fixedrange=True)
    fig.update_yaxes(visible=False, range=[-0.7, 5.7], fixedrange=True)
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30 if title else 10, b=10), title=title or None,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)", showlegend=False)
    return fig
