"""Charts of the Language-model view. Pure: no Streamlit.

    s = cells.readout.next_steps(model.vocab, a.tokens, a.next_token_probs, k=10)
    fig = surprise_chart(a.tokens, s, step=3)                  # in a notebook: fig.show()
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cells.readout import NextSteps

from .attention import BAR_COLOUR, mark_step
from ..i18n import _
from .heatmaps import TOKEN_TICKS
from .text import plotly_text

PPL_COLOUR = "#1c83e1"


def surprise_chart(tokens: list[str], s: NextSteps, step: int = 0, height: int = 230) -> go.Figure:
    """Bars: p(actual next token) at each step, on [0, 1]; line: running perplexity (right axis)."""
    T = len(tokens)
    x = np.arange(T)
    nxt = [plotly_text(tokens[t + 1]) if t + 1 < T else _("(end)") for t in range(T)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=x, y=np.nan_to_num(s.p_actual), name=_("p(actual next)"), marker_color=BAR_COLOUR,
                         customdata=nxt, hovertemplate="t=%{x}: p(%{customdata}) = %{y:.3f}<extra></extra>"),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=s.perplexity, name=_("running perplexity"), mode="lines",
                             line=dict(color=PPL_COLOUR, width=2),
                             hovertemplate=_("t=%{x}: perplexity %{y:.2f}<extra></extra>")), secondary_y=True)
    if T <= TOKEN_TICKS:
        fig.update_xaxes(tickvals=list(range(T)), ticktext=[plotly_text(t) for t in tokens], tickfont=dict(size=10))
    fig.update_xaxes(range=[-0.5, T - 0.5], fixedrange=True)
    fig.update_yaxes(range=[0, 1], fixedrange=True, title_text="p(next)", secondary_y=False)
    fig.update_yaxes(type="log", fixedrange=True, title_text=_("perplexity"), showgrid=False, tickformat=".3~g",
                     secondary_y=True)
    mark_step(fig, step)
    fig.update_layout(height=height, margin=dict(l=45, r=50, t=8, b=40), bargap=0.15, showlegend=True,
                      legend=dict(orientation="h", y=1.12, x=0, font=dict(size=10)),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig
