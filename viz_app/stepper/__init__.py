"""The Compare view's stepper: a static custom component that steps in the browser.

Python sends the payload (`viz_app.payload.compare_payload`, a JSON string) once per
sentence; the browser moves the step marker, output bars and token strip itself and
reports the step back, debounced, for the URL. See frontend/stepper.js.

plotly.js is served from the installed plotly package, never from the internet: a
second component is declared on plotly's `package_data` folder only so that Streamlit
serves its `plotly.min.js` to the stepper's iframe (index.html loads it by that name).
"""

from __future__ import annotations

from pathlib import Path

import plotly
from streamlit.components import v1 as components

_FRONTEND = Path(__file__).parent / "frontend"
_PLOTLY_JS = Path(plotly.__file__).parent / "package_data"


def stepper(payload: str, payload_key: str, step: int, key: str = "stepper") -> int:
    """Mount the stepper; returns the step the browser last reported (or `step`)."""
    # Declared on every call: registration is per Streamlit runtime (AppTest makes new ones).
    components.declare_component("plotlyjs", path=str(_PLOTLY_JS))
    render = components.declare_component("stepper", path=str(_FRONTEND))
    value = render(payload=payload, payload_key=payload_key, step=step, key=key, default=step)
    return int(value) if value is not None else step
