"""Mounting the browser component in a Streamlit page: every stepped view calls scope() with its payload.

    t = scope(encode(doc), key, start=t)        # in a view; returns the step the browser reports
    patch(patches(key, [...]))                  # later, a small update to that payload

A Streamlit components-v2 component (no iframe): scope.js and scope.css render the
payload (viz_app/component/payload.py builds it; docs/CONTRACTS.md has the schema) in
the page itself. Stepping stays in the browser; the step comes back debounced, for
the URL and session state.

The data Streamlit sends is identical on every rerun of the same text (the start step
is fixed when the payload is first mounted), so Streamlit's message cache sends a
rerun's component as a hash reference: a step reported back never re-sends the payload.

plotly.js is served as this component's asset directory, so nothing comes from the
internet: plotly.js's "cartesian" partial bundle (plotly_cartesian/, with every trace type
rnnscope draws; it evaluates in half the time of the full bundle) when it is the version
the installed plotly package ships, else that package's own full bundle
(package_data/plotly.min.js, the version its Python side writes JSON for).
"""

from __future__ import annotations

import re
from pathlib import Path

import plotly
import streamlit as st
from streamlit.components.v2.manifest_scanner import ComponentConfig, ComponentManifest
from streamlit.runtime import Runtime

NAME = "rnnscope.scope"  # "<project>.<component>", as Streamlit names packaged components
CARTESIAN = "plotly_cartesian"  # the folder of plotly.js's cartesian bundle, beside this file
_HERE = Path(__file__).parent
_mount = st.components.v2.component(
    NAME, js=(_HERE / "scope.js").read_text(encoding="utf-8"), css=(_HERE / "scope.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # plotly's modebar and hover styles live in the document, not in a shadow root
)


def plotly_js_version(path: Path) -> str | None:
    """The version in a plotly.js bundle's licence header ("plotly.js … v4.1.1"), or None."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(200)
    except OSError:
        return None
    m = re.search(r"plotly\.js[^\n]*? v(\d+\.\d+\.\d+)", head)
    return m.group(1) if m else None


def plotly_js_dir() -> tuple[Path, str]:
    """(package root, asset directory under it) holding the plotly.min.js to serve: the
    cartesian bundle when its version is the installed plotly package's, else the full one."""
    full = Path(plotly.__file__).parent
    if plotly_js_version(_HERE / CARTESIAN / "plotly.min.js") == plotly_js_version(full / "package_data" / "plotly.min.js"):
        return _HERE, CARTESIAN
    return full, "package_data"


def _serve_plotly_js() -> None:
    """Register the asset directory of `plotly_js_dir` as the component's, once per Streamlit
    runtime (scope.js loads /_stcore/bidi-components/rnnscope.scope/plotly.min.js).

    Installed component packages declare their asset directory in pyproject.toml; ours is
    chosen at run time, so it is registered here, with the same manifest types."""
    registry = Runtime.instance().bidi_component_registry
    if registry.get_component_path(NAME) is None:
        root, assets = plotly_js_dir()
        registry.register_from_manifest(ComponentManifest("rnnscope", "1", [ComponentConfig("scope", asset_dir=assets)]), root)


def _ignore() -> None:
    """Streamlit needs a callback to keep the step as component state; the fragment reads it."""


def scope(payload: str, key: str, start: int, widget_key: str = "scope", present: dict | None = None) -> int | None:
    """Mount the component with a payload (JSON) whose identity is `key`, showing step `start`
    first; `present` (viz_app.present.mount_options) draws it for a projector. Returns the
    step the browser last reported for this payload, or None."""
    _serve_plotly_js()
    data = {"key": key, "payload": payload, "start": int(start)}
    if present is not None:
        data["present"] = present
    result = _mount(key=widget_key, data=data, default={"step": None}, on_step_change=_ignore)
    got = reported(result)
    return got[1] if got is not None and got[0] == key else None  # a step reported for an earlier text is stale


def reported(state) -> tuple[str, int] | None:
    """(payload key, step) from the component's state ({"step": [key, t]}), or None."""
    step = state.get("step") if isinstance(state, dict) else None
    if isinstance(step, list) and len(step) == 2 and isinstance(step[0], str) and isinstance(step[1], int):
        return step[0], step[1]
    return None


def preload() -> None:
    """Start loading plotly.js in the browser now (the first thing a page's first run
    draws), so that it loads while the view computes rather than after. Draws nothing."""
    _serve_plotly_js()
    _mount(key="scope_preload", data={"preload": True}, height=0)


def patch(update: dict, widget_key: str = "scope_patch") -> None:
    """Send a small update (payload.patches) to a payload already on screen. It draws nothing."""
    _serve_plotly_js()
    _mount(key=widget_key, data=update, height=0)
