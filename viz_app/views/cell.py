"""Cell: one model's cell at step t, drawn as the tutorials draw it, with the step's equations in numbers."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import cache, checks, i18n
from ..i18n import N_, _
from .common import Selection, checked_text, downloads, load_models, reading_notes, stepped

TITLE, URL_PATH, ICON = N_("Cell"), "cell", ":material/memory:"
TOP_UNITS = 8  # the unit picker lists this many most active units first
DIRECTIONS = (N_("forward →"), N_("backward ←"))


def render(sel: Selection) -> None:
    models = load_models(sel)
    checked = models and checked_text(sel, models[0])
    if not checked:
        return
    c1, c2, c3, c4 = st.columns([2, 1, 2, 2])
    kinds = cache.kinds(sel.task)
    kind = c1.radio(_("Model"), kinds, index=kinds.index("lstm") if "lstm" in kinds else 0,  # LSTM: the most to see
                    format_func=str.upper, horizontal=True, key="cell_kind")
    try:
        a = cache.analyze(sel.task, kind, cache.settings(sel.task, sel.cfg), checked.text)
    except ValueError as e:
        checks.show([checks.refusal(e)])
        return
    tr = a.trace
    layer = c2.selectbox(_("Layer"), range(tr.num_layers), index=tr.num_layers - 1, key="cell_layer")
    direction = c3.radio(_("Direction"), range(tr.num_directions), horizontal=True, key="cell_direction",
                         format_func=lambda d: _(DIRECTIONS[d]))
    h = np.nan_to_num(np.asarray(tr.layer(layer, direction).h))  # (T, H)
    active = np.argsort(-np.abs(h).mean(axis=0), kind="stable")  # (H,) most active over the text first
    order = [int(u) for u in active[:TOP_UNITS]] + sorted(int(u) for u in active[TOP_UNITS:])
    unit = c4.selectbox(_("Unit (the {n} most active first, by mean |h|)", n=TOP_UNITS), order, key="cell_unit",
                        format_func=lambda u: _("unit {unit}   mean |h| = {mean:.2f}", unit=u,
                                                mean=np.abs(h[:, u]).mean()))
    checks.show(reading_notes(a))
    payload, key, T = cache.cell_payload(sel.task, sel.cfg, kind, layer, direction, unit, checked.text,
                                         lang=i18n.current())
    stepped(payload, key, T)
    downloads({kind.upper(): a}, sel.task, "cell")
