"""Charts of the Gradients view: gradient norms over time, attributions, per-unit gradients. Pure.

    fig = gradient_flow(np.arange(T), [("LSTM ‖dL/dh_t‖", e.grad_norms[(0, 0)])])   # in a notebook: fig.show()
    fig = attribution_bars(a.tokens, [("attention", a.attention), ("integrated gradients", ig)])
    fig = unit_gradients(e.dh[(0, 0)])

Each function has a `…_spec` twin that returns the same figure as a plain plotly JSON
dict, which the view sends: building figures through plotly's graph objects costs about
20 ms each, and the view draws seven per sentence. Time (the token position t) is on x
in all three, so the browser marks step t with one overlaid box; `shapes[0]` is that
marker for static use. Backgrounds are transparent and fonts unset: they follow the theme.
Axis titles and hover text are in the current language (viz_app.i18n); the series
labels are the caller's.
What each figure leaves out is what costs most to draw for least (plotly.js, measured):
markers on the lines, colour bars and legends (captions state the scales and name the
colours) and, on the per-unit chart, token labels.
"""

from __future__ import annotations

import numpy as np

from ..i18n import N_, _
from .heatmaps import TOKEN_TICKS, typed
from .scales import TANH
from .text import plotly_text

COLOURS = {"RNN": "#ff4b4b", "LSTM": "#1c83e1", "GRU": "#29b09d"}  # one colour per cell, in every chart
MEASURE_COLOURS = ["#9e9e9e", "#ffbd45", "#ff4b4b", "#803df5"]  # attribution bars, in order: attention, the saliencies
MEASURE_COLOUR_NAMES = [N_("grey"), N_("amber"), N_("red"), N_("violet")]  # shown as _(name)
QUANTITY_COLOURS = {"‖dL/dc_t‖": "#1c83e1", "Π f": "#29b09d"}  # by quantity, when no cell colours are given; else red
BG = {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}


def _time_axis(tokens: list[str] | None, T: int) -> dict:
    if tokens is not None and T <= TOKEN_TICKS:
        return {"tickvals": list(range(T)), "ticktext": [plotly_text(t) for t in tokens], "tickangle": -60,
                "tickfont": {"size": 10}, "range": [-0.5, T - 0.5]}
    return {"title": {"text": _("step t")}, "range": [-0.5, T - 0.5]}


def _marker(step: int) -> dict:
    return {"type": "rect", "xref": "x", "yref": "paper", "x0": step - 0.5, "x1": step + 0.5, "y0": 0, "y1": 1,
            "line": {"color": "#888", "width": 1.5}, "fillcolor": "rgba(0,0,0,0)"}


def _nums(v: np.ndarray) -> list:
    return [float(x) if np.isfinite(x) else None for x in np.asarray(v, dtype=np.float64)]


def gradient_flow_spec(steps: np.ndarray, series: list[tuple[str, np.ndarray]], tokens: list[str] | None = None,
                       title: str = "", step: int = 0, height: int = 260, colours: dict[str, str] | None = None) -> dict:
    """Lines of positive values over time on a log axis: (label, values (T,)) each. Colours by
    the label's first word (RNN, LSTM, GRU) when given, else by quantity; ‖dL/dc_t‖ is dashed,
    a forget-gate product dotted, and a backward direction (←) drawn thinner. Zeros and
    overflow are gaps (a log axis has no zero)."""
    data = []
    for label, values in series:
        v = np.asarray(values, dtype=np.float64)
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
        colour = colours.get(label.split()[0]) if colours else \
            next((c for key, c in QUANTITY_COLOURS.items() if key in label), "#ff4b4b")
        data.append({"type": "scatter", "mode": "lines", "x": _nums(steps), "y": _nums(v), "name": label,  # our labels
                     "line": {"color": colour, "width": 1.2 if "←" in label else 2.2,
                              "dash": "dash" if "dL/dc" in label else "dot" if "Π f" in label else "solid"},
                     "hovertemplate": "t=%{x}: %{y:.3g}<extra></extra>"})
    layout = {"xaxis": _time_axis(tokens, len(steps)),
              "yaxis": {"type": "log", "exponentformat": "power", "title": {"text": title}},
              "shapes": [_marker(step)], "height": height + 40, "showlegend": True,
              "margin": {"l": 55, "r": 10, "t": 48, "b": 60},
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 10}}, **BG}
    return {"data": data, "layout": layout}


def attribution_bars_spec(tokens: list[str], rows: list[tuple[str, np.ndarray]], step: int = 0) -> dict:
    """Grouped bars, one colour per measure (label, values (T,)): MEASURE_COLOURS in order,
    named in MEASURE_COLOUR_NAMES for a caption (no legend). Each is divided by its own
    largest |value| so that they share the axis [−1, 1]: up raises the target's probability
    (or draws attention), down lowers it. Hover gives the measure and its value."""
    data = []
    for n, (label, values) in enumerate(rows):
        raw = np.asarray(values, dtype=np.float64)
        finite = np.abs(raw[np.isfinite(raw)])
        top = float(finite.max(initial=0.0)) or 1.0
        data.append({"type": "bar", "x": list(range(len(raw))), "y": _nums(raw / top), "name": label,  # our labels
                     "customdata": _nums(raw), "marker": {"color": MEASURE_COLOURS[n % len(MEASURE_COLOURS)]},
                     "hovertemplate": f"{plotly_text(label)}<br>t=%{{x}}: %{{customdata:.4g}}<extra></extra>"})
    layout = {"xaxis": _time_axis(tokens, len(tokens)), "barmode": "group", "bargap": 0.2, "bargroupgap": 0,
              "yaxis": {"range": [-1.05, 1.05], "fixedrange": True, "title": {"text": "÷ max |·|"}, "zeroline": True},
              "shapes": [_marker(step)], "height": 220, "showlegend": False,  # a legend costs more to draw than
              "margin": {"l": 50, "r": 10, "t": 8, "b": 70}, **BG}  # the bars: the caller names the colours
    return {"data": data, "layout": layout}


def symmetric_range(a: np.ndarray) -> float:
    """The largest finite |value| (1 when there is none): the colour range ±that of `unit_gradients`."""
    a = np.asarray(a, dtype=np.float64)
    return float(np.abs(a[np.isfinite(a)]).max(initial=0.0)) or 1.0


def unit_gradients_spec(dh: np.ndarray, step: int = 0, height: int = 240) -> dict:
    """dL/dh_t per unit (rows) and step t (columns), coloured on ±symmetric_range(dh); no
    colour bar (a caption states the range) and numbered steps: the charts above name the tokens."""
    dh = np.asarray(dh, dtype=np.float64)  # (T, H)
    top = symmetric_range(dh)
    data = [{"type": "heatmap", "z": typed(dh.T), "x": typed(np.arange(dh.shape[0])), "zmin": -top, "zmax": top,
             "colorscale": TANH.stops, "showscale": False,
             "hovertemplate": _("t=%{x}, unit %{y}: %{z:.3g}") + "<extra></extra>"}]
    layout = {"xaxis": _time_axis(None, dh.shape[0]), "yaxis": {"autorange": "reversed", "title": {"text": _("unit")}},
              "shapes": [_marker(step)], "height": height, "margin": {"l": 45, "r": 10, "t": 8, "b": 40}, **BG}
    return {"data": data, "layout": layout}


def _figure(spec: dict):
    import plotly.graph_objects as go

    return go.Figure(spec)


def gradient_flow(*args, **kwargs):
    """`gradient_flow_spec` as a plotly Figure."""
    return _figure(gradient_flow_spec(*args, **kwargs))


def attribution_bars(*args, **kwargs):
    """`attribution_bars_spec` as a plotly Figure."""
    return _figure(attribution_bars_spec(*args, **kwargs))


def unit_gradients(*args, **kwargs):
    """`unit_gradients_spec` as a plotly Figure."""
    return _figure(unit_gradients_spec(*args, **kwargs))
