"""Charts of the Attention view: weights in, plotly Figure out. Pure: no Streamlit.

    fig = attention_bars(a.tokens, a.attention, step=3)         # in a notebook: fig.show()
    fig = rules_heatmap(a.tokens, [(r.label, r.weights) for r in cells.attention_rules.rules_for(m, a)])

Time (token position t) is on x in both, so the browser stepper can mark step t with
one overlaid box. `shapes[0]` is that marker for static use. Backgrounds are
transparent and fonts unset, so the charts follow Streamlit's light or dark theme.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..i18n import _
from .heatmaps import TOKEN_TICKS
from .text import plotly_text

WEIGHT_SCALE = "Viridis"  # attention weights, 0 (dark) to the largest weight shown (bright)
BAR_COLOUR = "#ff4b4b"  # Streamlit's primary red, readable on light and dark
VALUE_LABELS = 12  # print the weights in the heatmap's cells up to this many tokens


def _token_axis(fig: go.Figure, tokens: list[str]) -> None:
    T = len(tokens)
    if T <= TOKEN_TICKS:
        fig.update_xaxes(tickvals=list(range(T)), ticktext=[plotly_text(t) for t in tokens], tickangle=-60,
                         tickfont=dict(size=10))
    fig.update_xaxes(range=[-0.5, T - 0.5], fixedrange=True, title_text=None if T <= TOKEN_TICKS else _("token t"))


def mark_step(fig: go.Figure, step: int, yref: str = "paper") -> None:
    """shapes[0]: a box around step t on the time axis (the browser moves an overlay instead)."""
    fig.add_shape(type="rect", xref="x", yref=yref, x0=step - 0.5, x1=step + 0.5, y0=0, y1=1,
                  line=dict(color="#888", width=1.5), fillcolor="rgba(0,0,0,0)")


def attention_bars(tokens: list[str], weights: np.ndarray, step: int = 0, ymax: float | None = None,
                   height: int = 220) -> go.Figure:
    """Bars a_t over the tokens (x = position t), y on [0, ymax] (default: the largest weight)."""
    w = np.asarray(weights, dtype=float)  # (T,)
    top = float(ymax if ymax is not None else w.max(initial=0.0)) * 1.05 or 1.0
    fig = go.Figure(go.Bar(x=np.arange(len(w)), y=w, marker_color=BAR_COLOUR,
                           customdata=[plotly_text(t) for t in tokens],
                           hovertemplate="t=%{x} %{customdata}: a_t = %{y:.4f}<extra></extra>"))
    _token_axis(fig, tokens)
    fig.update_yaxes(range=[0, top], fixedrange=True, title_text="a_t", tickformat=".2f")
    mark_step(fig, step)
    fig.update_layout(height=height, margin=dict(l=45, r=10, t=8, b=70), bargap=0.15,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def rules_heatmap(tokens: list[str], rules: list[tuple[str, np.ndarray]], step: int = 0,
                  zmax: float | None = None) -> go.Figure:
    """One row per scoring rule (label, weights (T,)), coloured on [0, zmax]; values printed for short texts.

    The view labels untrained rules with a trailing * (explained beside the chart)."""
    labels = [label for label, _ in rules]
    z = np.stack([np.asarray(w, dtype=float) for _, w in rules])  # (R, T)
    top = float(zmax if zmax is not None else z.max(initial=0.0)) or 1.0
    numbers = z.shape[1] <= VALUE_LABELS
    fig = go.Figure(go.Heatmap(
        z=z, x=np.arange(z.shape[1]), y=labels, zmin=0.0, zmax=top, colorscale=WEIGHT_SCALE,
        text=np.round(z, 2) if numbers else None, texttemplate="%{text}" if numbers else None, textfont=dict(size=9),
        colorbar=dict(thickness=8, title=dict(text="a_t", side="right")),
        hovertemplate="%{y}<br>t=%{x}: a_t = %{z:.4f}<extra></extra>"))
    _token_axis(fig, tokens)
    fig.update_yaxes(autorange="reversed", fixedrange=True, tickfont=dict(size=10), automargin=True)
    mark_step(fig, step)
    fig.update_layout(height=70 + 34 * len(labels) + 60, margin=dict(l=80, r=10, t=8, b=70),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig
