"""The cell drawn as the tutorials draw it, each part coloured by one unit's value. Pure.

    series = cells.readout.unit_values(trace, layer, direction, unit)   # name -> (T,)
    fig, steps = diagram_spec(trace.kind, series, c_values=lt.c)       # a plotly dict + per-step changes
    cell_diagram(trace.kind, series, lt.c, t=3)                         # in a notebook: the figure at step 3

One layout language for the three cells: the state that carries over runs along the
top from left (t−1) to right (t); the gates sit in a row below it; the inputs enter
from the bottom left on one bus; the new h leaves at the right. The LSTM's top line
is its cell state, changed only by × f and + i ⊙ g; the GRU's is h itself, kept by z;
the vanilla RNN has no top line at all: it rewrites h at every step. No two wires cross.

Boxes are recorded values, coloured on the shared scales (gates on [0, 1], tanh
quantities on [−1, 1], c on its own symmetric range); circles are operations. A box
shows its name and its number, large enough to read from the back of a classroom.
`steps` maps plotly layout paths ("shapes[7].fillcolor", "annotations[12].text") to one
value per step, so the browser recolours the diagram as it steps.
"""

from __future__ import annotations

import numpy as np

import cells

from ..i18n import N_, _
from .scales import TANH, Scale, colour, scale_for, symmetric_scale

BOX_W, BOX_H, OP_R = 1.5, 0.95, 0.32
TOP, GATES, BUS = 5.0, 2.5, 1.0  # the rows: carried state, gates, input bus
WIRE = "rgba(128,128,128,0.9)"

# name -> (x, y, label); boxes hold recorded values (cells.readout.unit_values names).
BOXES = {
    "lstm": {"c_prev": (0.9, TOP, "c<sub>t−1</sub>"), "c": (11.1, TOP, "c<sub>t</sub>"), "h_prev": (0.9, 1.6, "h<sub>t−1</sub>"),
             "x": (0.9, 0.4, "‖x<sub>t</sub>‖"), "f": (3.0, GATES, N_("f  forget σ")), "i": (4.6, GATES, N_("i  input σ")),
             "g": (6.6, GATES, N_("g  candidate tanh")), "o": (8.2, GATES, N_("o  output σ")),
             "tanh_c": (9.6, 3.75, "tanh(c<sub>t</sub>)"), "h": (11.1, GATES, "h<sub>t</sub>")},
    "gru": {"h_prev": (0.9, TOP, "h<sub>t−1</sub>"), "h": (11.1, TOP, "h<sub>t</sub>"), "x": (0.9, 0.4, "‖x<sub>t</sub>‖"),
            "z": (3.0, GATES, N_("z  update σ")), "r": (5.2, GATES, N_("r  reset σ")), "n": (7.8, GATES, N_("n  candidate tanh"))},
    "rnn": {"h_prev": (0.9, TOP, "h<sub>t−1</sub>"), "h": (11.1, TOP, "h<sub>t</sub>"), "x": (0.9, 0.4, "‖x<sub>t</sub>‖"),
            "tanh": (6.6, GATES, "tanh")},
}
OPS = {  # name -> (x, y, symbol)
    "lstm": {"f×": (3.0, TOP, "×"), "+": (5.6, TOP, "+"), "ig×": (5.6, 3.75, "×"), "o×": (9.6, GATES, "×")},
    "gru": {"z×": (3.0, TOP, "×"), "1−": (6.2, 3.75, "1−"), "n×": (7.8, 3.75, "×"), "+": (7.8, TOP, "+")},
    "rnn": {},
}
WIRES = {  # polylines; an arrowhead at the end of each
    "lstm": [[(1.65, TOP), (2.68, TOP)], [(3.32, TOP), (5.28, TOP)], [(5.92, TOP), (10.35, TOP)],
             [(3.0, 2.98), (3.0, 4.68)], [(4.6, 2.98), (4.6, 3.75), (5.28, 3.75)],
             [(6.6, 2.98), (6.6, 3.75), (5.92, 3.75)], [(5.6, 4.07), (5.6, 4.68)],
             [(9.6, TOP), (9.6, 4.23)], [(9.6, 3.27), (9.6, 2.82)], [(8.95, GATES), (9.28, GATES)],
             [(9.92, GATES), (10.35, GATES)],
             *[[(2.1, BUS), (gx, BUS), (gx, 2.02)] for gx in (3.0, 4.6, 6.6, 8.2)]],
    "gru": [[(1.65, TOP), (2.68, TOP)], [(3.32, TOP), (7.48, TOP)], [(8.12, TOP), (10.35, TOP)],
            [(3.0, 2.98), (3.0, 4.68)], [(3.0, 3.75), (5.88, 3.75)], [(6.52, 3.75), (7.48, 3.75)],
            [(7.8, 2.98), (7.8, 3.43)], [(7.8, 4.07), (7.8, 4.68)], [(5.95, GATES), (7.05, GATES)],
            *[[(2.1, BUS), (gx, BUS), (gx, 2.02)] for gx in (3.0, 5.2, 7.8)]],
    "rnn": [[(2.1, BUS), (6.6, BUS), (6.6, 2.02)], [(6.6, 2.98), (6.6, TOP), (10.35, TOP)]],
}
JOINS = {  # polylines into the input bus, which merge rather than point anywhere: no arrowhead
    "lstm": [[(1.65, 1.6), (2.1, 1.6), (2.1, BUS)], [(1.65, 0.4), (2.1, 0.4), (2.1, BUS)]],
    "gru": [[(2.1, TOP), (2.1, BUS)], [(1.65, 0.4), (2.1, 0.4), (2.1, BUS)]],
    "rnn": [[(1.65, TOP), (2.1, TOP), (2.1, BUS)], [(1.65, 0.4), (2.1, 0.4), (2.1, BUS)]],
}
CAPTIONS = {
    "lstm": N_("the cell state c runs along the top, changed only by × f (forget) and + i ⊙ g (write)"),
    "gru": N_("h runs along the top: z keeps the old state, 1 − z lets the candidate n in"),
    "rnn": N_("no line runs along the top: the vanilla RNN rewrites h at every step"),
}


def family(kind: str) -> str:
    """"lstm", "gru" or "rnn" for a cells kind ("rnn_tanh", …) or a model kind."""
    return "rnn" if kind.startswith("rnn") else "gru" if kind.startswith("gru") else kind


def _scale(kind: str, name: str, c_scale: Scale) -> Scale | None:
    if name in ("c", "c_prev"):
        return c_scale
    if name in ("h", "h_prev", "tanh_c", "tanh"):
        return TANH if cells.value_range(kind, "h") else None
    return scale_for(kind, name, np.zeros(1)) if name in cells.GATES[kind] else None


def _number(v: float) -> str:
    return f"{v:.2f}".replace("-", "−") if np.isfinite(v) else str(v)


def diagram_spec(kind: str, series: dict[str, np.ndarray], c_values: np.ndarray | None = None, title: str = "",
                 reverse: bool = False) -> tuple[dict, dict[str, list[str]]]:
    """(figure dict at step 0, per-step layout changes). kind: a cells kind; series from
    `cells.readout.unit_values`; c_values: all of the layer's c, for its colour range.
    reverse: a backward direction, whose previous state is the one from step t+1."""
    fam = family(kind)
    c_scale = symmetric_scale(c_values if c_values is not None else np.zeros(1))
    shapes, notes, steps = [], [], {}
    for line in JOINS[fam] + WIRES[fam]:
        shapes.append({"type": "path", "path": "M " + " L ".join(f"{x},{y}" for x, y in line),
                       "line": {"color": WIRE, "width": 2}, "layer": "below"})
    for line in WIRES[fam]:
        (ax, ay), (x, y) = line[-2], line[-1]
        dx, dy = np.sign(x - ax), np.sign(y - ay)  # the last segment is horizontal or vertical
        notes.append({"x": x, "y": y, "ax": x - 0.2 * dx, "ay": y - 0.2 * dy,  # a short arrow at the wire's end
                      "xref": "x", "yref": "y", "axref": "x", "ayref": "y", "text": "", "showarrow": True,
                      "arrowhead": 2, "arrowsize": 1.2, "arrowwidth": 2, "arrowcolor": WIRE})
    for x, y, symbol in OPS[fam].values():
        shapes.append({"type": "circle", "x0": x - OP_R, "x1": x + OP_R, "y0": y - OP_R, "y1": y + OP_R,
                       "fillcolor": "rgba(128,128,128,0.15)", "line": {"color": WIRE, "width": 2}})
        notes.append({"x": x, "y": y, "text": symbol, "showarrow": False, "font": {"size": 20}})
    for name, (x, y, label) in BOXES[fam].items():
        label = _(label).replace("t−1", "t+1") if reverse else _(label)  # a backward direction reads step t+1
        values = np.asarray(series["h" if name == "tanh" else name], dtype=np.float64)  # (T,)
        sc = _scale(kind, name, c_scale)
        fills = [colour(sc, v) if sc else "rgba(128,128,128,0.12)" for v in values]
        texts = [_number(v) for v in values]
        steps[f"shapes[{len(shapes)}].fillcolor"] = fills
        shapes.append({"type": "rect", "x0": x - BOX_W / 2, "x1": x + BOX_W / 2, "y0": y - BOX_H / 2, "y1": y + BOX_H / 2,
                       "fillcolor": fills[0], "line": {"color": WIRE, "width": 1.5}})
        notes.append({"x": x, "y": y + BOX_H / 2 - 0.04, "yanchor": "top", "text": label, "showarrow": False,
                      "font": {"size": 13, "color": "#111"}, "bgcolor": "rgba(255,255,255,0.8)", "borderpad": 1})
        steps[f"annotations[{len(notes)}].text"] = texts
        notes.append({"x": x, "y": y - 0.12, "text": texts[0], "showarrow": False,
                      "font": {"size": 20, "color": "#111"}, "bgcolor": "rgba(255,255,255,0.8)", "borderpad": 2})
    notes.append({"x": 0.2, "y": 5.85, "xanchor": "left", "text": _(CAPTIONS[fam]), "showarrow": False, "font": {"size": 13}})
    layout = {"shapes": shapes, "annotations": notes, "height": 460, "showlegend": False,
              "title": {"text": title, "font": {"size": 15}} if title else None,
              "margin": {"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
              "xaxis": {"visible": False, "range": [0, 12], "fixedrange": True},
              "yaxis": {"visible": False, "range": [-0.15, 6.05], "fixedrange": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return {"data": [], "layout": layout}, steps


def cell_diagram(kind: str, series: dict[str, np.ndarray], c_values: np.ndarray | None = None, t: int = 0,
                 title: str = "", reverse: bool = False):
    """The diagram at step t as a plotly Figure."""
    import plotly.graph_objects as go

    spec, steps = diagram_spec(kind, series, c_values, title, reverse)
    fig = go.Figure(spec)
    fig.update_layout({path: values[t] for path, values in steps.items()})
    return fig
