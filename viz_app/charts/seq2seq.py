"""Charts of the Seq2seq and Shapes views: arrays in, plotly JSON or Figure out. Pure: no Streamlit.

    fig, steps = alignment_spec(r.source_tokens, r.output_tokens, r.attention, T)   # α: the matrix, and row t
    go.Figure(fig).update_layout(shapes=steps["shapes"][3])                       # in a notebook, at step 3

Time on x wherever a chart has time (the decoder's step i, here t = i − 1), so the
browser marks step t with its overlay: the alignment matrix is drawn source × step,
one column per output step, and every column's x axis spans the envelope's T steps, so
a model that finished early shows empty steps. Beside it the attention row at step t
is drawn as bars over the same source characters, changing with the step (`steps`:
its shapes, one array per step). The dicts are built directly (no graph_objects
validation: it costs tens of ms per figure, and a new source has a 500 ms budget).

Axis titles, hover text and labels are in the current language (viz_app.i18n).

`unrolled` draws the Shapes view's diagrams: one row of cells unrolled in time, inputs
below, outputs above, with live numbers in each cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..i18n import _, _n
from .heatmaps import typed
from .text import plotly_text

ATTENTION_SCALE = [[0.0, "rgba(255,75,75,0)"], [1.0, "rgba(255,75,75,1)"]]  # α ∈ [0, 1], the Attention view's red
BAR_COLOUR = "#ff4b4b"
ALIGNMENT_PX = 430  # the alignment matrix's height, whatever the source's length: the browser updates a chart in
                    # place for a new source and keeps the height its container was first given
TICKS = 36  # source characters labelled one by one up to this many; beyond, every k-th
TEACHER, FREE = "#1c83e1", "#ff4b4b"  # the two readings in the exposure-bias chart


def _steps_axis(output_tokens: list[str], T: int) -> dict:
    """x: the envelope's T steps, labelled with this model's outputs (a model that ended early: blank)."""
    return {"range": [-0.5, T - 0.5], "tickvals": list(range(len(output_tokens))),
            "ticktext": [plotly_text(t) for t in output_tokens], "tickfont": {"size": 10}, "fixedrange": True,
            "title": {"text": _("output step t"), "font": {"size": 9}}}


def _source_ticks(source_tokens: list[str]) -> dict:
    k = -(-len(source_tokens) // TICKS)  # label every k-th character
    at = list(range(0, len(source_tokens), k))
    return {"tickvals": at, "ticktext": [plotly_text(source_tokens[j]) for j in at], "tickfont": {"size": 10},
            "fixedrange": True}


def alignment_spec(source_tokens: list[str], output_tokens: list[str], attention: np.ndarray,
                   T: int) -> tuple[dict, dict[str, list]]:
    """(figure dict at step 0, per-step layout changes): on the left the alignment matrix α
    (T_out, T_in) as a heatmap, output step t on x (T steps wide, so that the browser's
    marker covers step t), the source characters down y (the first at the top), α on
    [0, 1]; on the right, sharing y, the row at step t as bars, the largest labelled.

    The bars are one path shape (a rectangle per source position, in data coordinates),
    then the largest one's label; each step sends both as one "shapes" value. One path
    rather than a rectangle each: plotly draws and re-draws every shape on its own, and
    thirty of them made a new source cost a third more and a step seven times as much.
    Past this model's last step (T_out) there are no bars, and a label says it has
    finished. One figure rather than two: each plotly chart costs the browser its own
    layout and drawing when a new source arrives."""
    T_out, T_in = attention.shape
    data = [{"type": "heatmap", "x": typed(np.arange(T_out)), "y": typed(np.arange(T_in)),
             "z": typed(np.asarray(attention).T),  # (T_in, T_out)
             "zmin": 0.0, "zmax": 1.0, "colorscale": ATTENTION_SCALE, "showscale": False,
             "hovertemplate": _("step %{x}, source position %{y}: α = %{z:.3f}") + "<extra></extra>"}]
    frames, finished = [], _n("finished after {n} step", "finished after {n} steps", T_out)
    for t in range(T):
        if t >= T_out:
            frames.append([{"type": "rect", "xref": "x2 domain", "yref": "y domain", "x0": 0, "x1": 1, "y0": 0,
                            "y1": 1, "line": {"width": 0}, "label": {"text": finished,
                                                                      "textposition": "middle center",
                                                                      "font": {"size": 11}}}])
            continue
        a = [round(float(v), 4) for v in attention[t]]  # (T_in,)
        top = int(np.argmax(attention[t]))
        bars = [{"type": "path", "xref": "x2", "yref": "y", "fillcolor": BAR_COLOUR, "line": {"width": 0},
                 "path": "".join(f"M0,{j - 0.4:g}H{a[j]:g}V{j + 0.4:g}H0Z" for j in range(T_in))}]
        inside = a[top] > 0.6  # the label at the bar's end, inside a long one
        bars.append({"type": "rect", "xref": "x2", "yref": "y", "x0": a[top] - 0.5 if inside else a[top],
                     "x1": a[top] if inside else a[top] + 0.5, "y0": top - 0.5, "y1": top + 0.5, "line": {"width": 0},
                     "label": {"text": f"{a[top]:.2f}", "textposition": "middle right" if inside else "middle left",
                               "font": {"size": 11, "color": "#fff" if inside else None}}})
        frames.append(bars)
    yaxis = {**_source_ticks(source_tokens), "range": [T_in - 0.5, -0.5], "showgrid": False, "zeroline": False}
    layout = {"xaxis": {**_steps_axis(output_tokens, T), "domain": [0, 0.66]},
              "xaxis2": {"domain": [0.72, 1], "anchor": "y", "range": [0, 1.25], "tickvals": [0, 0.5, 1],
                         "fixedrange": True, "title": {"text": _("α at step t"), "font": {"size": 9}}},
              "yaxis": yaxis, "shapes": frames[0], "height": ALIGNMENT_PX, "showlegend": False,
              "margin": {"l": 30, "r": 8, "t": 8, "b": 56},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return {"data": data, "layout": layout}, {"shapes": frames}


def target_probs_spec(target_tokens: list[str], teacher: np.ndarray, free: np.ndarray) -> dict:
    """Exposure bias: p(target's y_t) at each step when the decoder reads the target
    (teacher forcing) and when it reads its own outputs (free running; NaN where it had
    stopped). Time on x, probability on a fixed [0, 1]."""
    T = len(target_tokens)
    x = list(range(T))

    def line(name: str, p: np.ndarray, colour: str, dash: str) -> dict:
        return {"type": "scatter", "mode": "lines+markers", "name": name, "x": x,
                "y": [float(v) if np.isfinite(v) else None for v in p], "line": {"color": colour, "dash": dash},
                "marker": {"size": 6},
                "hovertemplate": _("{name}<br>step %{{x}}: p = %{{y:.4f}}", name=name) + "<extra></extra>"}

    data = [line(_("teacher forcing (reads the target)"), teacher, TEACHER, "solid"),
            line(_("free running (reads its own output)"), free, FREE, "dot")]
    layout = {"xaxis": {"range": [-0.5, T - 0.5], "tickvals": x, "ticktext": [plotly_text(t) for t in target_tokens],
                        "tickfont": {"size": 10}, "fixedrange": True},
              "yaxis": {"range": [-0.03, 1.05], "fixedrange": True, "title": {"text": _("p(target y_t)"),
                                                                              "font": {"size": 9}}},
              "legend": {"orientation": "h", "y": -0.3, "font": {"size": 9}}, "height": 230,
              "margin": {"l": 40, "r": 10, "t": 8, "b": 20},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return {"data": data, "layout": layout}


# -- Shapes: one unrolled row of cells ----------------------------------------------------------

@dataclass(frozen=True)
class Unrolled:
    """What one unrolled diagram shows (all text is the model's or the user's: escaped here).
    The title and caption come in the reader's language; `unrolled` adds its own labels in
    the current one (viz_app.i18n)."""

    title: str  # "N vs 1 · a classifier"
    inputs: tuple[str, ...]  # below each cell ("" for none)
    values: tuple[float, ...]  # in each cell: ‖h_t‖
    outputs: tuple[str | None, ...]  # above each cell (None: no output at this step); spaces kept as spaces
    caption: str = ""  # under the title
    feedback: bool = False  # each output is read as the next input (dashed)
    split: int | None = None  # N vs M: cells before `split` encode, from `split` on they decode
    value_label: str = "‖h_t‖"


def _words(s: str) -> str:
    """A sentence for a plotly label: escaped word by word, its spaces kept as spaces."""
    return " ".join(plotly_text(w) if w else "" for w in s.split(" "))


BOX_W, BOX_H, GAP = 0.62, 0.55, 1.0  # cell width and height; distance between cells


def unrolled(u: Unrolled):
    """The diagram as a plotly Figure: cells left to right in time, each with its number."""
    import plotly.graph_objects as go

    n = len(u.values)
    if not (len(u.inputs) == len(u.outputs) == n) or n == 0:
        raise ValueError(f"an unrolled diagram needs one input, value and output per cell; got {len(u.inputs)}, {n}, "
                         f"{len(u.outputs)}")
    xs = [i * GAP + (0.45 if u.split is not None and i >= u.split else 0.0) for i in range(n)]  # encoder | decoder
    top = max([v for v in u.values if np.isfinite(v)], default=1.0) or 1.0
    shapes, notes = [], []
    wire = {"color": "rgba(128,128,128,0.9)", "width": 1.5}

    def arrow(x0, y0, x1, y1):
        notes.append({"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x", "ayref": "y",
                      "text": "", "showarrow": True, "arrowhead": 2, "arrowsize": 1, "arrowwidth": 1.5,
                      "arrowcolor": wire["color"]})

    for i, (x, v) in enumerate(zip(xs, u.values)):
        decoder = u.split is not None and i >= u.split
        shade = 0.15 + 0.6 * (float(v) / top if np.isfinite(v) else 0.0)
        fill = f"rgba(28,131,225,{shade:.2f})" if decoder else f"rgba(255,75,75,{shade:.2f})"
        shapes.append({"type": "rect", "x0": x - BOX_W / 2, "x1": x + BOX_W / 2, "y0": -BOX_H / 2, "y1": BOX_H / 2,
                       "fillcolor": fill, "line": wire})
        notes.append({"x": x, "y": 0, "text": f"{v:.2f}" if np.isfinite(v) else "—", "showarrow": False,
                      "font": {"size": 12, "color": "#111"}})
        if u.inputs[i]:
            notes.append({"x": x, "y": -0.95, "text": plotly_text(u.inputs[i]), "showarrow": False,
                          "font": {"size": 13}})
            arrow(x, -0.78, x, -BOX_H / 2)
        if u.outputs[i] is not None:
            arrow(x, BOX_H / 2, x, 0.78)
            notes.append({"x": x, "y": 0.98, "text": _words(u.outputs[i]), "showarrow": False, "font": {"size": 12}})
        if i + 1 < n:
            arrow(x + BOX_W / 2, 0, xs[i + 1] - BOX_W / 2, 0)
        if u.feedback and i + 1 < n and u.outputs[i] is not None:
            mid = (x + xs[i + 1]) / 2
            path = f"M {x + 0.18},1.12 L {mid},1.12 L {mid},-1.15 L {xs[i + 1] - 0.25},-1.15"  # over, down, in
            shapes.append({"type": "path", "path": path, "line": {"color": "rgba(128,128,128,0.7)", "width": 1,
                                                                  "dash": "dot"}})
    if u.split is not None:
        notes.append({"x": (xs[0] + xs[u.split - 1]) / 2, "y": -1.45, "text": _("encoder"), "showarrow": False,
                      "font": {"size": 11, "color": "#ff4b4b"}})
        notes.append({"x": (xs[u.split] + xs[-1]) / 2, "y": -1.45,
                      "text": _("decoder (attends to every encoder state)"), "showarrow": False,
                      "font": {"size": 11, "color": "#1c83e1"}})
    notes.append({"x": xs[0] - BOX_W / 2, "y": 1.45, "xanchor": "left", "text": f"<b>{_words(u.title)}</b>  "
                  f"<span style='font-size:11px'>{_words(u.caption)}</span>", "showarrow": False,
                  "font": {"size": 14}})
    notes.append({"x": xs[-1] + BOX_W / 2, "y": 1.45, "xanchor": "right",
                  "text": _("in each cell: {quantity}", quantity=u.value_label),
                  "showarrow": False, "font": {"size": 10, "color": "rgba(128,128,128,1)"}})
    layout = {"shapes": shapes, "annotations": notes, "height": 250, "showlegend": False,
              "margin": {"l": 6, "r": 6, "t": 6, "b": 6},
              "xaxis": {"visible": False, "range": [xs[0] - 0.6, xs[-1] + 0.6], "fixedrange": True},
              "yaxis": {"visible": False, "range": [-1.65, 1.65], "fixedrange": True},
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
    return go.Figure({"data": [], "layout": layout})
