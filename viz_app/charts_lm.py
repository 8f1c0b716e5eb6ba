"""Pure chart functions for the Language-model view. No Streamlit.

    s = next_steps(model.vocab, a.tokens, a.next_token_probs, k=10)
    fig = surprise_chart(a.tokens, s, step=3)                  # in a notebook: fig.show()

Row t of `next_token_probs` is p(x_{t+1} | x_0 … x_t): the distribution after reading
token t, judged against the token actually at t + 1. The running perplexity after
step t is exp of the mean of −ln p_s(x_{s+1}) over s ≤ t, skipping next tokens that are
not in the vocabulary (the model cannot name those) and the last step (nothing follows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .charts import TOKEN_TICKS, plotly_text
from .charts_attention import BAR_COLOUR

PPL_COLOUR = "#1c83e1"


@dataclass(frozen=True)
class NextSteps:
    top: np.ndarray  # (T, k) vocabulary ids, likeliest first
    top_p: np.ndarray  # (T, k) their probabilities
    actual: np.ndarray  # (T,) id of token t + 1; −1 when it is unknown or t is the last step
    p_actual: np.ndarray  # (T,) its probability; NaN where actual is −1
    perplexity: np.ndarray  # (T,) running perplexity after step t; NaN before any scored step


def next_steps(vocab: list[str], tokens: list[str], probs: np.ndarray, k: int = 10) -> NextSteps:
    p = np.asarray(probs, dtype=np.float64)  # (T, V)
    T, V = p.shape
    k = min(k, V)
    top = np.argsort(-p, axis=1, kind="stable")[:, :k]  # (T, k)
    stoi = {s: i for i, s in enumerate(vocab)}
    actual = np.array([stoi.get(tokens[t + 1], -1) if t + 1 < T else -1 for t in range(T)])  # (T,)
    if "<unk>" in stoi:
        actual[actual == stoi["<unk>"]] = -1
    known = actual >= 0
    p_actual = np.where(known, p[np.arange(T), np.maximum(actual, 0)], np.nan)  # (T,)
    nll = np.where(known, -np.log(np.maximum(p_actual, 1e-300)), 0.0)
    count = np.cumsum(known)
    with np.errstate(invalid="ignore", divide="ignore"):
        ppl = np.where(count > 0, np.exp(np.cumsum(nll) / np.maximum(count, 1)), np.nan)  # (T,)
    return NextSteps(top, np.take_along_axis(p, top, axis=1), actual, p_actual, ppl)


def surprise_chart(tokens: list[str], s: NextSteps, step: int = 0, height: int = 230) -> go.Figure:
    """Bars: p(actual next token) at each step, on [0, 1]; line: running perplexity (right axis)."""
    T = len(tokens)
    x = np.arange(T)
    nxt = [plotly_text(tokens[t + 1]) if t + 1 < T else "(end)" for t in range(T)]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=x, y=np.nan_to_num(s.p_actual), name="p(actual next)", marker_color=BAR_COLOUR,
                         customdata=nxt, hovertemplate="t=%{x}: p(%{customdata}) = %{y:.3f}<extra></extra>"),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=s.perplexity, name="running perplexity", mode="lines",
                             line=dict(color=PPL_COLOUR, width=2),
                             hovertemplate="t=%{x}: perplexity %{y:.2f}<extra></extra>"), secondary_y=True)
    if T <= TOKEN_TICKS:
        fig.update_xaxes(tickvals=list(range(T)), ticktext=[plotly_text(t) for t in tokens], tickfont=dict(size=10))
    fig.update_xaxes(range=[-0.5, T - 0.5], fixedrange=True)
    fig.update_yaxes(range=[0, 1], fixedrange=True, title_text="p(next)", secondary_y=False)
    fig.update_yaxes(type="log", fixedrange=True, title_text="perplexity", showgrid=False, secondary_y=True)
    fig.add_shape(type="rect", xref="x", yref="paper", x0=step - 0.5, x1=step + 0.5, y0=0, y1=1,
                  line=dict(color="#888", width=1.5), fillcolor="rgba(0,0,0,0)")
    fig.update_layout(height=height, margin=dict(l=45, r=50, t=8, b=40), bargap=0.15, showlegend=True,
                      legend=dict(orientation="h", y=1.12, x=0, font=dict(size=10)),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig


def next_bars(vocab: list[str], s: NextSteps, step: int) -> go.Figure:
    """The top-k next tokens at one step as bars on [0, 1]; the actual next token's bar outlined."""
    labels = [plotly_text(vocab[j]) for j in s.top[step]]
    outline = [2.5 if j == s.actual[step] else 0 for j in s.top[step]]
    fig = go.Figure(go.Bar(x=s.top_p[step], y=labels, orientation="h", marker_color=BAR_COLOUR,
                           marker_line=dict(width=outline, color=PPL_COLOUR),
                           texttemplate="%{x:.3f}", textposition="auto"))
    fig.update_layout(height=40 + 22 * len(labels), margin=dict(l=60, r=10, t=4, b=20),
                      xaxis=dict(range=[0, 1], fixedrange=True), yaxis=dict(autorange="reversed", type="category"),
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig
