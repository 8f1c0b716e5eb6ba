"""The Attention and Language-model views' stepper: a static custom component that steps in the browser.

Python sends a payload (`viz_app.payloads.attention_payload` or `lm_payload`, a JSON
string) once per text; the browser then moves the chosen token, the formulas, the
next-character bars and the chart markers itself, and reports the step back,
debounced, for the URL (frontend/viewstepper.js). It follows the same approach as
`viz_app.stepper` (the Compare view's), with a layout per view.

plotly.js and the code shared with the Compare stepper are served by
`viz_app.frontend.declare_shared`.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.components import v1 as components

from .. import frontend

_FRONTEND = Path(__file__).parent / "frontend"
NAME = "viz_app.viewstepper.viewstepper"  # the component's name, in its iframe's URL


def view_stepper(payload: str, payload_key: str, step: int, key: str) -> int:
    """Mount the stepper; returns the step the browser last reported (or `step`)."""
    # Declared on every call: registration is per Streamlit runtime (AppTest makes new ones).
    frontend.declare_shared()
    render = components.declare_component("viewstepper", path=str(_FRONTEND))
    value = render(payload=payload, payload_key=payload_key, step=step, key=key, default=step)
    return int(value) if isinstance(value, (int, float)) else step
