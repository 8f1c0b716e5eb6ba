"""Cached loaders: the only place the app computes. Top-level functions keyed by plain values.

Everything returned here lives in `st.cache_resource`, shared by every session: treat
it as read-only (the traces' arrays are read-only numpy already).
"""

from __future__ import annotations

import hashlib

import streamlit as st

import cells

from . import payload
from .standin import StandinModel
from .tasks import KINDS, TASKS, UntrainedConfig

# What a missing model zoo or checkpoint raises; anything else is a bug and should show.
_MISSING = (ImportError, AttributeError, LookupError, OSError, ValueError)


@st.cache_resource(max_entries=48, show_spinner=False)
def load_model(task: str, kind: str, cfg: UntrainedConfig = UntrainedConfig()):
    """(model, note): the bundled model, or a seeded stand-in with a short note saying so."""
    try:
        if task == "untrained":
            return cells.untrained_model(kind, hidden_size=cfg.hidden_size, init_scale=cfg.init_scale,
                                         forget_bias=cfg.forget_bias, seed=cfg.seed), ""
        return cells.load_model(f"{task}-{kind}"), ""
    except _MISSING as e:
        t = TASKS[task]
        note = "" if task == "untrained" else "untrained stand-in: the trained model is not bundled yet"
        m = StandinModel(task, kind, t.level, t.labels, hidden_size=cfg.hidden_size, init_scale=cfg.init_scale,
                         forget_bias=cfg.forget_bias, seed=cfg.seed)
        return m, note


def model(task: str, kind: str, cfg: UntrainedConfig) -> tuple[object, str]:
    """(model, note); the sliders' settings only matter for the untrained task."""
    return load_model(task, kind, cfg if task == "untrained" else UntrainedConfig())


def load_models(task: str, cfg: UntrainedConfig) -> list[tuple[object, str]]:
    return [model(task, kind, cfg) for kind in KINDS]


@st.cache_resource(max_entries=96, show_spinner=False)
def analyze(task: str, kind: str, cfg: UntrainedConfig, text: str):
    return model(task, kind, cfg)[0].analyze(text)


@st.cache_resource(max_entries=16, show_spinner=False)
def compare_payload(task: str, cfg: UntrainedConfig, text: str) -> tuple[str, str, int]:
    """(payload JSON, its key, T): the key changes exactly when the payload does."""
    cols = [payload.Column(m, analyze(task, kind, cfg, text), note)
            for kind, (m, note) in zip(KINDS, load_models(task, cfg))]
    key = hashlib.sha1(repr((task, cfg, text)).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return payload.compare_payload(text, cols), key, cols[0].analysis.trace.T
