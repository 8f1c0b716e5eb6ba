"""Widget panels the Attention and Language-model views share: downloads and a task hint."""

from __future__ import annotations

import re

import streamlit as st

from cells import export
from ..tasks import TASKS


def downloads(analyses: dict[str, object], stem: str, key: str) -> None:
    """analyses: model label -> what model.analyze(text) returned. Files are made on click."""
    with st.expander("Download the traces (JSON, NPZ, CSV)"):
        label = st.radio("Model", list(analyses), horizontal=True, key=f"{key}_dl_model")
        a = analyses[label]
        name = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{stem}-{label}".lower())
        c1, c2, c3 = st.columns(3)
        c1.download_button("JSON", lambda: export.to_json(a.trace), f"{name}.trace.json", "application/json",
                           key=f"{key}_dl_json", on_click="ignore")
        c2.download_button("NPZ", lambda: export.to_npz(a.trace), f"{name}.trace.npz", "application/zip",
                           key=f"{key}_dl_npz", on_click="ignore")
        c3.download_button("CSV", lambda: export.to_csv(a.trace, a.tokens), f"{name}.trace.csv", "text/csv",
                           key=f"{key}_dl_csv", on_click="ignore")
        st.caption("JSON and NPZ hold every array of the trace: read them back with `cells.Trace.from_json` "
                   "and `cells.Trace.load_npz`. The CSV has one row per (layer, direction, step, unit) with "
                   "columns layer, direction, step, token, unit, h, then c and the gates (LSTM i f g o, GRU r z n); "
                   "read it with `viz_app.export.read_csv`. Each chart's camera icon saves it as PNG.")


def switch_task(task: str) -> None:
    """Callback: pick another task (and its example, unless the user typed their own text)."""
    ss = st.session_state
    old = ss.get("task")
    if old in TASKS and ss.get("text", "").strip() in ("", TASKS[old].example):
        ss["text"] = TASKS[task].example
    ss["task"] = task
    ss["_task_prev"] = task


def task_hint(wanted: tuple[str, ...], what: str) -> None:
    """Say which tasks this view is for, with a button for each."""
    st.info(f"{what} Pick one of these tasks:")
    for c, task in zip(st.columns(len(wanted) + 2), wanted):
        c.button(TASKS[task].label, key=f"goto_{task}", on_click=switch_task, args=(task,))
