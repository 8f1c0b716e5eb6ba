"""Files the two browser steppers share, served to their iframes by Streamlit.

A static component serves only its own folder, so two more components are declared
on folders that are never rendered, only served: `frontend_common/` (timeline.js, the
code both steppers share) and plotly's `package_data` (plotly.min.js, from the
installed plotly package, never from the internet). A stepper's index.html loads them
as `../viz_app.frontend.common/timeline.js` and `../viz_app.frontend.plotlyjs/plotly.min.js`.
"""

from __future__ import annotations

from pathlib import Path

import plotly
from streamlit.components import v1 as components

COMMON = Path(__file__).parent / "frontend_common"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data"


def declare_shared() -> None:
    # Declared on every call: registration is per Streamlit runtime (AppTest makes new ones).
    components.declare_component("common", path=str(COMMON))
    components.declare_component("plotlyjs", path=str(PLOTLY_JS))
