"""The colour scales every view shares, so a colour means the same value everywhere.

Sigmoid gates live on [0, 1], tanh quantities (h, the LSTM candidate g, the GRU
candidate n) on [−1, 1]; the LSTM cell state is unbounded, so it gets a symmetric
range of its own, fixed for the whole sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scale:
    colorscale: str  # a plotly named colour scale
    zmin: float
    zmax: float
    label: str  # shown beside the colour bar


SIGMOID = Scale("Viridis", 0.0, 1.0, "σ ∈ [0, 1]")
TANH = Scale("RdBu_r", -1.0, 1.0, "tanh ∈ [−1, 1]")

# Which scale each recorded quantity uses: gate names as in cells.GATES, plus h and c.
QUANTITY_SCALE = {"h": TANH, "h←": TANH, "h→": TANH, "i": SIGMOID, "f": SIGMOID, "g": TANH, "o": SIGMOID,
                  "r": SIGMOID, "z": SIGMOID, "n": TANH}

NAMES = {
    "h": "h  hidden state", "c": "c  cell state",
    "h←": "h←  backward hidden state", "h→": "h→  forward hidden state",
    "i": "i  input gate", "f": "f  forget gate", "g": "g  candidate", "o": "o  output gate",
    "r": "r  reset gate", "z": "z  update gate", "n": "n  candidate",
}


def cell_scale(c: np.ndarray) -> Scale:
    """Symmetric range for an LSTM cell state: max |c| rounded up to 0.5, at least 1."""
    finite = np.abs(c[np.isfinite(c)])
    r = max(1.0, math.ceil(float(finite.max(initial=0.0)) * 2) / 2)
    return Scale("RdBu_r", -r, r, f"c ∈ [−{r:g}, {r:g}]")


def scale_for(name: str, values: np.ndarray) -> Scale:
    return cell_scale(values) if name == "c" else QUANTITY_SCALE[name]


def colour(scale: Scale, value: float) -> str:
    """The scale's colour for one value, as an rgb() string (for diagram shapes)."""
    from plotly.colors import get_colorscale, sample_colorscale

    if not math.isfinite(value):
        return "rgb(200,200,200)"
    u = min(1.0, max(0.0, (value - scale.zmin) / (scale.zmax - scale.zmin)))
    return sample_colorscale(get_colorscale(scale.colorscale), [u])[0]


def lut(scale: Scale, n: int = 256) -> bytes:
    """The scale as n RGB triples (n·3 bytes), for painting pixels in the browser."""
    from plotly.colors import get_colorscale, sample_colorscale, unlabel_rgb

    cols = sample_colorscale(get_colorscale(scale.colorscale), [i / (n - 1) for i in range(n)])
    return bytes(int(round(v)) for c in cols for v in unlabel_rgb(c))
