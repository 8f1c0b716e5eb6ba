"""The Attention and Language-model views' stepper: a static custom component that steps in the browser.

Python sends a payload (`viz_app.payloads.attention_payload` or `lm_payload`, a JSON
string) once per text; the browser then moves the chosen token, the formulas, the
next-character bars and the chart markers itself, and reports the step back,
debounced, for the URL (frontend/viewstepper.js). It follows the same approach as
`viz_app.stepper` (the Compare view's), with a layout per view.

plotly.js is served from the installed plotly package, never from the internet: a
second component is declared on plotly's `package_data` folder only so that Streamlit
serves its `plotly.min.js` to this iframe (index.html loads it by that name).
"""

from __future__ import annotations

from pathlib import Path

import plotly
from streamlit.components import v1 as components

_FRONTEND = Path(__file__).parent / "frontend"
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data"
NAME = "viz_app.viewstepper.viewstepper"  # the component's name, in its iframe's URL


def view_stepper(payload: str, payload_key: str, step: int, key: str) -> int:
    """Mount the stepper; returns the step the browser last reported (or `step`)."""
    # Declared on every call: registration is per Streamlit runtime (AppTest makes new ones).
    components.declare_component("plotlyjs", path=str(_PLOTLY_JS))
    render = components.declare_component("viewstepper", path=str(_FRONTEND))
    value = render(payload=payload, payload_key=payload_key, step=step, key=key, default=step)
    return int(value) if isinstance(value, (int, float)) else step
