"""Widget groups. Each draws its widgets and returns plain values."""

from __future__ import annotations

import streamlit as st

from .tasks import TASKS, UntrainedConfig


def view_picker(views: dict[str, str]) -> str:
    """views: key -> label. Returns the chosen key (session key "view")."""
    return st.sidebar.radio("View", list(views), format_func=views.get, key="view", horizontal=True)


def _task_changed() -> None:
    # A fresh task gets its own example unless the user has typed their own text.
    ss = st.session_state
    old = ss.get("_task_prev", ss["task"])
    if ss["text"].strip() in ("", TASKS[old].example):
        ss["text"] = TASKS[ss["task"]].example
    ss["_task_prev"] = ss["task"]


def task_picker() -> tuple[str, UntrainedConfig]:
    st.session_state.setdefault("_task_prev", st.session_state.get("task"))
    task = st.sidebar.selectbox("Task", list(TASKS), format_func=lambda k: TASKS[k].label, key="task",
                                on_change=_task_changed)
    cfg = UntrainedConfig()
    if task == "untrained":
        cfg = UntrainedConfig(
            hidden_size=st.sidebar.slider("Hidden size", 4, 128, cfg.hidden_size, step=4),
            init_scale=st.sidebar.slider("Init scale", 0.1, 5.0, cfg.init_scale, step=0.1),
            forget_bias=st.sidebar.slider("Forget bias (LSTM)", -3.0, 3.0, cfg.forget_bias, step=0.5),
            seed=st.sidebar.number_input("Seed", 0, 10_000, cfg.seed),
        )
    return task, cfg


def text_box() -> str:
    return st.text_input("Text (press Enter to read it)", key="text")
