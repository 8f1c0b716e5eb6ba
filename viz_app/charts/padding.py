"""Charts of the Padding view: a batch's states over time × sentence, the pads hatched. Pure: no Streamlit.

    from viz_app.component.padding import read, state_norms
    r = read(m, ["a gem .", "the plot is thin but the actors make it sing ."])
    blocks = [("‖h→_t‖", state_norms(r.padded, r.T, 0)), ("‖h←_t‖", state_norms(r.padded, r.T, 1))]
    fig = batch_heatmaps(blocks, r.lengths, r.tokens, zmax=5.0)   # in a notebook: fig.show()

Time (the step t of the padded batch) is on x, one row per sentence on y (sentence 1 at
the top), so the browser stepper marks step t with one overlaid box; `shapes[0]` is
that marker for static use. Each block (a quantity, e.g. each direction's ‖h_t‖) is
one heatmap of a stacked subplot. The steps past a sentence's length, its pads, are
hatched in every block: a pad that was never read is an empty cell under the hatching,
a pad that was read shows its value through it. Triangles point the way a direction
reads: where the forward one stops (its h_n) and where the backward one starts.
Backgrounds are transparent and fonts unset, so the charts follow Streamlit's light or
dark theme; tokens are escaped for plotly (plotly_text), titles are the caller's own; the
axis title and hover text are in the current language (viz_app.i18n).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..i18n import _
from .text import plotly_text

STATE_SCALE = "Viridis"  # ‖h_t‖, 0 (dark) to the batch's largest (bright), the same range in both modes
CHANGE_SCALE = "Reds"  # how far the pads moved a state, 0 (white) to the batch's largest change
PAD_HATCH = dict(shape="/", fgcolor="rgba(128,128,128,0.7)", bgcolor="rgba(0,0,0,0)", size=8, solidity=0.15)
SYMBOLS = {"→": "triangle-right", "←": "triangle-left"}  # a mark points the way its direction reads
CELL_TEXT = 24  # write each cell's token in it up to this many steps
ROW_PX = 24  # height of one sentence's row
TOKEN_CHARS = 7  # a token longer than this is cut (with …) inside a cell; hover shows it whole


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _pads_outline(lengths: np.ndarray, T: int) -> tuple[list, list]:
    """x, y of one closed rectangle per sentence with pads (its steps T_b … T − 1), None between them."""
    xs, ys = [], []
    for b, n in enumerate(lengths):
        if n < T:
            xs += [n - 0.5, T - 0.5, T - 0.5, n - 0.5, n - 0.5, None]
            ys += [b - 0.5, b - 0.5, b + 0.5, b + 0.5, b - 0.5, None]
    return xs, ys


def batch_heatmaps(blocks: Sequence[tuple[str, np.ndarray]], lengths: Sequence[int], tokens: Sequence[Sequence[str]],
                   zmax: float = 1.0, colorscale: str = STATE_SCALE, scale_label: str = "‖h_t‖",
                   marks: Sequence[tuple[int, str, str, Sequence[int]]] = (), step: int = 0) -> go.Figure:
    """One heatmap (B sentences × T steps) per block (title, values (B, T); NaN: nothing
    there), stacked, on one colour scale [0, zmax]; the pads (t ≥ lengths[b]) hatched.

    tokens: each sentence's tokens (T_b each), written in the cells when T ≤ CELL_TEXT and
    shown on hover; sentence b is row b, labelled b + 1. marks: (block index, "→" or "←",
    hover name, a step per sentence) drawn as triangles pointing that way."""
    lengths = np.asarray(lengths)
    B, T = np.asarray(blocks[0][1]).shape
    real = [[t < lengths[b] for t in range(T)] for b in range(B)]  # (B, T) False at the pads
    cell = [[f"{b + 1}, «{plotly_text(tokens[b][t])}»" if real[b][t] else f"{b + 1}, ⟨pad⟩" for t in range(T)]
            for b in range(B)]
    short = [[plotly_text(_cut(tokens[b][t], TOKEN_CHARS)) if real[b][t] else "" for t in range(T)] for b in range(B)]
    fig = make_subplots(rows=len(blocks), cols=1, shared_xaxes=True, vertical_spacing=0.28 / len(blocks) ** 0.5 / 2,
                        subplot_titles=[title for title, _ in blocks])
    pad_x, pad_y = _pads_outline(lengths, T)
    for i, (title, z) in enumerate(blocks):
        z = np.asarray(z, dtype=float)  # (B, T)
        fig.add_trace(go.Heatmap(
            z=z, x=np.arange(T), y=np.arange(B), zmin=0.0, zmax=zmax, colorscale=colorscale, customdata=cell,
            text=short if T <= CELL_TEXT else None, texttemplate="%{text}" if T <= CELL_TEXT else None,
            textfont=dict(size=9), showscale=i == 0, hoverongaps=False,
            colorbar=dict(thickness=8, len=0.8, title=dict(text=scale_label, side="right", font=dict(size=9)),
                          tickfont=dict(size=8)),
            hovertemplate=_("{title}<br>t=%{{x}}, sentence %{{customdata}}: %{{z:.3f}}", title=title)
            + "<extra></extra>"),
            row=i + 1, col=1)
        if pad_x:
            fig.add_trace(go.Scatter(x=pad_x, y=pad_y, mode="lines", fill="toself", fillpattern=PAD_HATCH,
                                     line=dict(color="rgba(128,128,128,0.9)", width=1), hoverinfo="skip",
                                     name="pads"), row=i + 1, col=1)
    for block, arrow, name, at in marks:
        fig.add_trace(go.Scatter(x=list(at), y=list(range(B)), mode="markers", name=name,
                                 marker=dict(symbol=SYMBOLS[arrow], size=11, color="#ff4b4b",
                                             line=dict(color="white", width=1)),
                                 hovertemplate=f"{name}: t=%{{x}}<extra></extra>"),
                      row=block + 1, col=1)
    fig.update_yaxes(autorange="reversed", tickvals=list(range(B)), ticktext=[str(b + 1) for b in range(B)],
                     tickfont=dict(size=10), fixedrange=True, showgrid=False, zeroline=False)
    fig.update_xaxes(range=[-0.5, T - 0.5], fixedrange=True, showgrid=False, zeroline=False)
    fig.update_xaxes(title_text=_("step t of the padded batch"), title_font=dict(size=10), row=len(blocks), col=1)
    for a in fig.layout.annotations:  # the subplot titles, left-aligned and small
        a.update(x=0, xanchor="left", font=dict(size=11))
    fig.add_shape(type="rect", xref="x", yref="paper", x0=step - 0.5, x1=step + 0.5, y0=0, y1=1,
                  line=dict(color="#888", width=1.5), fillcolor="rgba(0,0,0,0)")  # shapes[0], the only shape
    fig.update_layout(height=len(blocks) * (ROW_PX * B + 50) + 70, margin=dict(l=30, r=60, t=24, b=40),
                      showlegend=False, paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
    return fig
