"""The numbers a numeric model reads and what it outputs, over time. Pure.

    fig = sequence(a.embeddings, a.outputs, colour="#1c83e1")   # in a notebook: fig.show()

`sequence_spec` is the same figure as plotly JSON (the view sends it). Time is on x, so
the browser marks step t with its overlay; `shapes[0]` is that marker for static use.
"""

from __future__ import annotations

import numpy as np

from ..i18n import _
from .gradients import BG, _figure, _marker, _nums

INPUT_DASHES = ("dot", "dash", "dashdot", "longdash")
MAX_LINES = 8  # inputs and outputs drawn each; a wider model names how many more it has


def sequence_spec(x: np.ndarray, y: np.ndarray | None, colour: str = "#1c83e1", step: int = 0,
                  height: int = 200) -> dict:
    """x (T, I) the inputs (grey, dotted), y (T, O) the outputs (solid, `colour`); None: no outputs."""
    x = np.asarray(x)
    t = list(range(len(x)))
    data = [{"type": "scatter", "mode": "lines", "x": t, "y": _nums(x[:, j]), "name": f"x{j}" if x.shape[1] > 1 else "x",
             "line": {"color": "#888", "width": 1.5, "dash": INPUT_DASHES[j % len(INPUT_DASHES)]},
             "hovertemplate": _("t=%{x}: %{y:.4g}<extra>input</extra>")} for j in range(min(x.shape[1], MAX_LINES))]
    if y is not None:
        y = np.asarray(y)
        data += [{"type": "scatter", "mode": "lines", "x": t, "y": _nums(y[:, k]),
                  "name": f"y{k}" if y.shape[1] > 1 else "y", "line": {"color": colour, "width": 2.2},
                  "hovertemplate": _("t=%{x}: %{y:.4g}<extra>output</extra>")}
                 for k in range(min(y.shape[1], MAX_LINES))]
    layout = {"xaxis": {"title": {"text": _("step t")}, "range": [-0.5, len(x) - 0.5]}, "shapes": [_marker(step)],
              "height": height, "showlegend": True, "margin": {"l": 45, "r": 10, "t": 30, "b": 40},
              "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 10}}, **BG}
    return {"data": data, "layout": layout}


def sequence(*args, **kwargs):
    """`sequence_spec` as a plotly Figure."""
    return _figure(sequence_spec(*args, **kwargs))
