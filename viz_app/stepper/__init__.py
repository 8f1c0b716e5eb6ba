"""The Compare view's stepper: a static custom component that steps in the browser.

Python sends the payload (`viz_app.payload.compare_payload`, a JSON string) once per
sentence; the browser moves the step marker, output bars and token strip itself and
reports the step back, debounced, for the URL. See frontend/stepper.js.

Nothing is loaded from the internet: the frontend is three local files plus the
timeline code it shares with the view stepper (`viz_app.frontend`), and it draws its
heatmaps on canvases.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.components import v1 as components

from .. import frontend

_FRONTEND = Path(__file__).parent / "frontend"


def stepper(payload: str, payload_key: str, step: int, key: str = "stepper") -> int:
    """Mount the stepper; returns the step the browser last reported (or `step`)."""
    # Declared on every call: registration is per Streamlit runtime (AppTest makes new ones).
    frontend.declare_shared()
    render = components.declare_component("stepper", path=str(_FRONTEND))
    value = render(payload=payload, payload_key=payload_key, step=step, key=key, default=step)
    return int(value) if value is not None else step
