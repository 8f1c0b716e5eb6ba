"""Charts of the training lab: loss curves, gradient norms before and after clipping, per layer. Pure.

    spec = loss_curves({"LSTM": run.history}, {"LSTM": run.evals}, log=True)   # a plotly JSON dict
    go.Figure(spec).show()                                                       # in a notebook

Step is on x in all three; one colour per cell (the Gradients view's). Long histories are
thinned to at most `POINTS` points a line, every k-th step and always the last, and the
axis title says so. Titles and legends are in the current language (viz_app.i18n).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..i18n import _
from .gradients import BG, COLOURS
from .heatmaps import typed

POINTS = 1000  # per line; a 20,000-step run stays quick to redraw every two seconds
DASHES = ("solid", "dot", "dash", "dashdot")


def thinned(histories: Mapping[str, list[dict]]) -> tuple[dict[str, list[dict]], int]:
    """Each cell's records to draw — every k-th step and always the last — and the stride k."""
    n = max((len(h) for h in histories.values()), default=0)
    k = max(1, -(-n // POINTS))
    idx = list(range(0, n, k))
    if n and idx[-1] != n - 1:
        idx.append(n - 1)
    return {cell: [h[i] for i in idx if i < len(h)] for cell, h in histories.items()}, k


def _layout(ytitle: str, log: bool, k: int) -> dict:
    return {**BG, "height": 300, "margin": {"l": 60, "r": 10, "t": 10, "b": 40},
            "xaxis": {"title": {"text": _("step (every {k}th drawn)", k=k) if k > 1 else _("step")}},
            "yaxis": {"title": {"text": ytitle}, "type": "log" if log else "linear", "exponentformat": "power"},
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom"}}


def _line(name: str, xs: Sequence, ys: Sequence, colour: str, dash: str = "solid", width: float = 1.5) -> dict:
    """A line, its steps and values already in plotly's base64 form, which plotly neither
    validates nor serialises number by number: the lab redraws its charts every two seconds.
    Non-finite values (a diverged step) become NaN, a gap in the line."""
    y = np.asarray(ys, dtype=np.float64)
    return {"type": "scatter", "mode": "lines", "name": name, "x": typed(xs, "i4"),
            "y": typed(np.where(np.isfinite(y), y, np.nan), "f8"), "line": {"color": colour, "dash": dash, "width": width}}


def loss_curves(histories: Mapping[str, list[dict]], evals: Mapping[str, list[tuple[int, float]]] | None = None,
                log: bool = True) -> dict:
    """Each cell's training loss per step (thin line) and held-out loss (thick, dashed)."""
    drawn, k = thinned(histories)
    data = []
    for cell, rows in drawn.items():
        data.append(_line(_("{cell} training", cell=cell), [r["step"] for r in rows], [r["loss"] for r in rows],
                          COLOURS.get(cell, "#888"), width=1))
        if evals and evals.get(cell):
            steps, losses = zip(*evals[cell])
            data.append(_line(_("{cell} held out", cell=cell), steps, losses, COLOURS.get(cell, "#888"),
                              "dash", 2.5))
    return {"data": data, "layout": _layout(_("loss (log)") if log else _("loss"), log, k)}


def gradient_norms(histories: Mapping[str, list[dict]], clip: float | None = None) -> dict:
    """‖gradient‖ per step before clipping (solid) and after (dotted), and the threshold."""
    drawn, k = thinned(histories)
    data = []
    for cell, rows in drawn.items():
        steps = [r["step"] for r in rows]
        data.append(_line(_("{cell} before clipping", cell=cell), steps, [r["grad_norm"] for r in rows],
                          COLOURS.get(cell, "#888")))
        if clip is not None:
            data.append(_line(_("{cell} after", cell=cell), steps, [r["grad_norm_clipped"] for r in rows],
                              COLOURS.get(cell, "#888"), "dot", 2.5))
    layout = _layout(_("‖gradient‖₂ (log)"), True, k)
    if clip is not None:
        layout["shapes"] = [{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": clip, "y1": clip,
                             "line": {"color": "#888", "width": 1, "dash": "dash"}}]
    return {"data": data, "layout": layout}


def layer_norms(histories: Mapping[str, list[dict]]) -> dict:
    """‖gradient‖ of each layer's parameters (and the read-out's) per step, before clipping."""
    drawn, k = thinned(histories)
    data = []
    for cell, rows in drawn.items():
        groups = list(rows[0]["layer_grad_norms"]) if rows else []
        for g, dash in zip(groups, DASHES):  # at most 3 layers and the read-out
            data.append(_line(_group(cell, g), [r["step"] for r in rows],
                              [r["layer_grad_norms"][g] for r in rows], COLOURS.get(cell, "#888"), dash))
    return {"data": data, "layout": _layout(_("‖gradient‖₂ per layer (log)"), True, k)}


def _group(cell: str, group: str) -> str:
    """A legend entry for one of cells.lab's parameter groups: "layer 0" … or "read-out"."""
    if group == "read-out":
        return _("{cell} read-out", cell=cell)
    if group.startswith("layer ") and group[6:].isdigit():
        return _("{cell} layer {n}", cell=cell, n=int(group[6:]))
    return f"{cell} {group}"


def example_outputs(output, target) -> dict:
    """sine → cosine on one example: the model's output and cos(t) per step."""
    t = list(range(len(target)))
    data = [_line(_("target cos(t)"), t, target, "#888", "dash", 2),
            _line(_("model"), t, output, "#1c83e1", width=2)]
    layout = _layout(_("output"), False, 1)
    layout["height"] = 220
    return {"data": data, "layout": layout}
