"""The payload the browser component reads: one envelope, columns of typed panels. Pure.

    doc = document("compare", tokens, [Column("LSTM", meta, panels=[bars(...), text("strip"), heatmap(...)])])
    encode(doc)   # the JSON string `viz_app.component.scope` sends, once per text

The envelope and every panel type are written down in docs/CONTRACTS.md (section 6);
viz_app/component/scope.js renders them. A new view sends new panel data; it never
needs a new component. Numbers that are not finite travel as null (JSON has no NaN)
and show as "—". User text travels as JSON strings and is only ever set as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from cells.readout import UNIT_ORDERS

from ..i18n import N_, _

VERSION = 1
UNIT_ORDER_LABELS = {"stored": N_("as stored"), "variance": N_("by variance over the text"),
                     "pc1": N_("by the first principal component")}


def strings() -> dict[str, str]:
    """What scope.js itself writes, in the current language; {name}s are filled in the browser."""
    return {"play": _("▶ Play"), "pause": _("⏸ Pause"), "units": _("units:"), "time_step": _("time step"),
            "no_quantity": _("This cell has no {name}."), "few_units": _("This layer has only {H} units."),
            "unit_over_time": _("{title}, unit {unit} over time (click another row to change; the same unit index "
                                "in every column)"),
            "unknown": _("{t} (not in the vocabulary: read as <unk>)"),
            "not_drawn": _("The charts could not be drawn: {error}")}


def nums(a, digits: int = 6, significant: bool = False) -> list:
    """A float array (any shape) as nested JSON lists, rounded to `digits` decimals (or, with
    significant, to that many significant digits: gradients span many orders); NaN and ±inf as null."""
    a = np.asarray(a, dtype=np.float64)
    if significant:
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(np.where(a == 0, 1, a)))))
        a = np.where(np.isfinite(scale), np.round(a * scale) / scale, a)
    else:
        a = np.round(a, digits)
    if a.ndim == 0:
        return float(a) if np.isfinite(a) else None
    if a.ndim == 1:
        return [float(v) if np.isfinite(v) else None for v in a]
    return [nums(row, digits) for row in a]


@dataclass(frozen=True)
class Column:
    title: str  # e.g. "LSTM"
    meta: str = ""  # a line under the title: size, held-out metric
    warning: str = ""  # said above the panels, e.g. "some states overflowed"
    panels: Sequence[dict] = field(default_factory=tuple)


def document(view: str, tokens: Sequence[str], columns: Sequence[Column], note: str = "", step_label: str = "t",
             unit_orders: bool = False, wide: Sequence[dict] = ()) -> dict:
    """The envelope: the view's name, T and the step's token labels (visible text), a note
    above the columns, whether to offer the unit-order control, panels across all columns
    (wide, above them), the columns, and the component's own words (`strings`), all in the
    current language."""
    return {"v": VERSION, "view": view, "T": len(tokens), "tokens": list(tokens), "step_label": step_label,
            "note": note, "wide": list(wide), "strings": strings(),
            "unit_orders": [[k, _(UNIT_ORDER_LABELS[k])] for k in UNIT_ORDERS] if unit_orders else None,
            "columns": [{"title": c.title, "meta": c.meta, "warning": c.warning, "panels": list(c.panels)}
                        for c in columns]}


def _rows(shade) -> list:
    """One weight per token, or rows of them (which may differ in length)."""
    if len(shade) and np.ndim(shade[0]) == 1:
        return [nums(r, 4) for r in shade]
    return nums(shade)


def encode(doc: dict) -> str:
    return json.dumps(doc, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def patches(update_for: str, changes: Sequence[tuple[int, int, Mapping]]) -> dict:
    """A patch for a payload already on screen: (column, panel, fields to replace) each."""
    return {"update_for": update_for, "patches": [{"column": c, "panel": p, "set": dict(s)} for c, p, s in changes]}


# -- panels ---------------------------------------------------------------------------------

def text(mode: str, pieces: Sequence[Sequence] = (), unknown: Sequence[int] = (), shade=None,
         shade_max: float | None = None, title: str = "", diverging: bool = False) -> dict:
    """The tokens. mode "strip": a window around step t (from the envelope's tokens);
    "full": the whole text as [piece, t] pairs (t = −1 between tokens), each token
    clickable to step there, optionally shaded by a weight (T,) — or one row of weights
    per step, (S, ≤ T): steps past S and tokens past a row's end are not shaded — on
    [0, shade_max]; diverging: negative weights in blue."""
    if mode not in ("strip", "full"):
        raise ValueError(f"text mode must be 'strip' or 'full', got {mode!r}")
    return {"type": "text", "mode": mode, "pieces": [list(p) for p in pieces], "unknown": [int(i) for i in unknown],
            "shade": None if shade is None else _rows(shade), "shade_max": shade_max, "title": title,
            "diverging": diverging}


def bars(title: str, values, labels: Sequence[str] | None = None, vocab: Sequence[str] | None = None,
         ids=None, mark=None, detail: Sequence[str] | None = None, digits: int = 2) -> dict:
    """Horizontal bars on [0, 1]. values (S, k): S = 1 (fixed) or T (one row per step).
    Labels are fixed (labels, k) or per step (vocab + ids (T, k)); mark (T,) outlines the
    bar whose id (or index) it holds at each step; detail (T,) is a line under the bars."""
    if (labels is None) == (ids is None):
        raise ValueError("bars need either fixed labels or vocab + ids")
    return {"type": "bars", "title": title, "values": nums(values, 4), "labels": None if labels is None else list(labels),
            "vocab": None if vocab is None else list(vocab), "ids": None if ids is None else np.asarray(ids).tolist(),
            "mark": None if mark is None else np.asarray(mark).tolist(), "detail": None if detail is None else list(detail),
            "digits": digits}


def formula(lines: Sequence[str], values: Mapping[str, Sequence], title: str = "", digits: int = 2,
            muted: bool = False) -> dict:
    """Lines in the template language of viz_app/charts/formula.py, filled at every step
    from values (name -> one value per step). muted: the title is drawn as a caveat."""
    return {"type": "formula", "lines": list(lines), "values": dict(values), "title": title, "digits": digits,
            "muted": muted}


def plotly(fig: dict, stride: int = 1, marker: bool = True, steps: Mapping[str, Sequence] | None = None,
           caption: str = "") -> dict:
    """A plotly figure (JSON) whose x axis is time: step t is marked by an overlay covering
    `stride` steps. steps: layout path -> one value per step, applied as t changes."""
    return {"type": "plotly", "fig": fig, "stride": stride, "marker": marker, "steps": dict(steps or {}),
            "caption": caption}


def heatmap(fig: dict, rows: Sequence[Mapping], stride: int, orders: Mapping[str, Mapping[str, Sequence[int]]]) -> dict:
    """Heatmaps over time × units (viz_app.charts.heatmaps.heatmap_spec): rows names each
    subplot's quantity {name, title, H} in trace order; orders[name][by] is a permutation
    of its units for each unit order but "stored"."""
    return {"type": "heatmap", "fig": fig, "rows": [dict(r) for r in rows], "stride": stride,
            "orders": {k: {by: np.asarray(p).tolist() for by, p in v.items()} for k, v in orders.items()}}


def pieces(text_: str, spans: Sequence[tuple[int, int]], limit: int = 20_000) -> list[list]:
    """The text cut into [string, t] pieces: t is the token index, −1 for the gaps between tokens."""
    out, at = [], 0
    for t, (s, e) in enumerate(spans):
        if s > at:
            out.append([text_[at:s], -1])
        out.append([text_[s:e], t])
        at = e
    if at < len(text_):
        out.append([text_[at:limit], -1])
    return out
