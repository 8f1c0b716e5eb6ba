"""Cell: one model at step t, drawn as its cell diagram, with the step's equations in numbers."""

from __future__ import annotations

import numpy as np
import streamlit as st

from .. import loaders, state
from ..diagram import cell_diagram, cell_values
from ..equations import step_equations
from ..tasks import KINDS
from .common import Selection, checked_text, refused, unknown_message

TOP_UNITS = 8  # the unit picker lists this many most active units first


def render(sel: Selection) -> None:
    checked = checked_text(sel)
    if checked is None:
        return
    c1, c2, c3 = st.columns(3)
    kind = c1.radio("Model", KINDS, index=1, format_func=str.upper, horizontal=True, key="cell_kind")  # LSTM: the most to see
    model, note = loaders.model(sel.task, kind, sel.cfg)
    try:
        unknown_message(sel.task, sel.cfg, kind, checked.text)
        a = loaders.analyze(sel.task, kind, sel.cfg, checked.text)
    except ValueError as e:
        refused(e)
        return
    tr = a.trace
    layer = c2.selectbox("Layer", range(tr.num_layers), index=tr.num_layers - 1, key="cell_layer")
    direction = c3.radio("Direction", range(tr.num_directions), horizontal=True, key="cell_direction",
                         format_func=("forward →", "backward ←").__getitem__)
    if note:
        st.caption(f"{kind.upper()}: {note}.")
    _step(model, a, checked.text, layer, direction)


@st.fragment
def _step(model, a, text: str, layer: int, direction: int) -> None:
    tr = a.trace
    T = tr.T
    st.session_state["cell_step"] = min(st.session_state.get("t", 0), T - 1)
    if T > 1:
        t = st.slider("Step t", 0, T - 1, key="cell_step", on_change=lambda: state.set_step(st.session_state["cell_step"]))
    else:
        t = 0
    s, e = a.spans[t]
    st.text(f"t = {t}: reading {text[s:e]!r}")
    lt = tr.layer(layer, direction)
    active = np.argsort(-np.abs(np.nan_to_num(lt.h[t])))  # (H,) most active units at t first
    order = [int(u) for u in active[:TOP_UNITS]] + sorted(int(u) for u in active[TOP_UNITS:])
    unit = st.session_state.get("unit", order[0])
    unit = unit if unit in order else order[0]
    unit = st.selectbox(
        f"Unit (the {TOP_UNITS} most active at t first, by |h_t|)", order, index=order.index(unit),
        format_func=lambda u: f"unit {u}   h_t = {lt.h[t][u]:+.2f}")
    st.session_state["unit"] = unit
    values = cell_values(tr, layer, direction, t, unit)
    title = f"{model.kind.upper()} · layer {layer}{' backward' if direction else ''} · unit {unit} · t = {t}"
    st.plotly_chart(cell_diagram(tr.kind, values, lt.c, title, reverse=direction == 1), key="cell_diagram")
    st.markdown(f"**This step, in numbers** (unit {unit})")
    st.code("\n".join(step_equations(model.recurrent, tr, layer, direction, t, unit)), language=None, wrap_lines=True)
