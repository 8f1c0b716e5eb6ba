"""Charts of the Gradients view: gradient norms over time, attributions, per-unit gradients. Pure.

    fig = gradient_flow(np.arange(T), [("‖dL/dh_t‖ →", e.grad_norms[(0, 0)])])     # in a notebook: fig.show()
    fig = attribution_rows(a.tokens, [("attention", a.attention), ("integrated gradients", ig)])
    fig = unit_gradients(e.dh[(0, 0)], a.tokens)

Time (the token position t) is on x in all three, so the browser marks step t with one
overlaid box. Backgrounds are transparent and fonts unset: they follow the page's theme.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .attention import mark_step
from .heatmaps import TOKEN_TICKS
from .scales import TANH
from .text import plotly_text

COLOURS = {"RNN": "#ff4b4b", "LSTM": "#1c83e1", "GRU": "#29b09d"}  # one colour per cell, in every chart
QUANTITY_COLOURS = {"‖dL/dc_t‖": "#1c83e1", "Π f": "#29b09d"}  # a column's own chart; anything else red


def _time_axis(fig: go.Figure, tokens: list[str] | None, T: int) -> None:
    if tokens is not None and T <= TOKEN_TICKS:
        fig.update_xaxes(tickvals=list(range(T)), ticktext=[plotly_text(t) for t in tokens], tickangle=-60,
                         tickfont=dict(size=10))
    else:
        fig.update_xaxes(title_text="step t")
    fig.update_xaxes(range=[-0.5, T - 0.5])


def gradient_flow(steps: np.ndarray, series: list[tuple[str, np.ndarray]], tokens: list[str] | None = None,
                  title: str = "", step: int = 0, height: int = 260, colours: dict[str, str] | None = None) -> go.Figure:
    """Lines of positive values over time on a log axis: (label, values (T,)) each. Colours by
    the label's first word (RNN, LSTM, GRU) when given, else by quantity; ‖dL/dc_t‖ is dashed,
    a forget-gate product dotted, and a backward direction (←) drawn thinner."""
    fig = go.Figure()
    for label, values in series:
        v = np.asarray(values, dtype=np.float64)
        v = np.where(np.isfinite(v) & (v > 0), v, np.nan)  # a log axis shows no zeros, and overflow is a gap
        colour = colours.get(label.split()[0]) if colours else \
            next((c for key, c in QUANTITY_COLOURS.items() if key in label), "#ff4b4b")
        fig.add_trace(go.Scatter(x=np.asarray(steps), y=v, mode="lines+markers", name=label,  # our own labels: no user text
                                 line=dict(color=colour, width=1.2 if "←" in label else 2.2,
                                           dash="dash" if "dL/dc" in label else "dot" if "Π f" in label else None),
                                 marker=dict(size=4), hovertemplate="t=%{x}: %{y:.3g}<extra></extra>"))
    _time_axis(fig, tokens, len(steps))
    fig.update_yaxes(type="log", exponentformat="power", title_text=title)
    mark_step(fig, step)
    fig.update_layout(height=height + 40, margin=dict(l=55, r=10, t=48, b=60), showlegend=True,
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=10)),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def attribution_rows(tokens: list[str], rows: list[tuple[str, np.ndarray]], step: int = 0) -> go.Figure:
    """One row per measure (label, values (T,)), each scaled by its own largest |value| to
    [−1, 1]: red raises the target's probability (or draws attention), blue lowers it."""
    labels = [label for label, _ in rows]
    z = []
    for _, v in rows:
        v = np.asarray(v, dtype=np.float64)
        top = np.abs(v[np.isfinite(v)]).max(initial=0.0) or 1.0
        z.append(v / top)
    raw = np.stack([np.asarray(v, dtype=np.float64) for _, v in rows])  # (R, T)
    fig = go.Figure(go.Heatmap(z=np.stack(z), x=np.arange(len(tokens)), y=labels, zmin=-1, zmax=1, colorscale="RdBu_r",
                               customdata=raw, colorbar=dict(thickness=8, title=dict(text="÷ max|·|", side="right")),
                               hovertemplate="%{y}<br>t=%{x}: %{customdata:.4g}<extra></extra>"))
    _time_axis(fig, tokens, len(tokens))
    fig.update_yaxes(autorange="reversed", fixedrange=True, tickfont=dict(size=10), automargin=True)
    mark_step(fig, step)
    fig.update_layout(height=60 + 34 * len(rows) + 60, margin=dict(l=110, r=10, t=8, b=70),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def unit_gradients(dh: np.ndarray, tokens: list[str] | None = None, step: int = 0, height: int = 240) -> go.Figure:
    """dL/dh_t per unit (rows) and step (columns), on a symmetric range of its own."""
    dh = np.asarray(dh, dtype=np.float64)  # (T, H)
    top = float(np.abs(dh[np.isfinite(dh)]).max(initial=0.0)) or 1.0
    fig = go.Figure(go.Heatmap(z=dh.T, x=np.arange(dh.shape[0]), zmin=-top, zmax=top, colorscale=TANH.stops,
                               colorbar=dict(thickness=8, title=dict(text="dL/dh", side="right")),
                               hovertemplate="t=%{x}, unit %{y}: %{z:.3g}<extra></extra>"))
    _time_axis(fig, tokens, dh.shape[0])
    fig.update_yaxes(autorange="reversed", title_text="unit")
    mark_step(fig, step)
    fig.update_layout(height=height, margin=dict(l=45, r=10, t=8, b=60),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig
