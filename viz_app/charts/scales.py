"""The colour scales every view shares, so a colour means the same value everywhere.

Which quantity is a sigmoid, a tanh or unbounded is cells' to say (`cells.value_range`):
sigmoid gates are drawn on [0, 1] (Viridis), tanh quantities (h, the LSTM candidate g,
the GRU candidate n) on [−1, 1] (RdBu), and an unbounded one (the LSTM cell state)
on a symmetric range of its own, fixed for the whole text and printed in its title.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import cells

from ..i18n import N_


@dataclass(frozen=True)
class Scale:
    colorscale: str  # a plotly named colour scale
    zmin: float
    zmax: float
    label: str  # shown beside the colour bar

    @property
    def stops(self) -> list[list]:
        """The scale as explicit [position, colour] stops: plotly.js knows "RdBu" but not
        Python's reversed names such as "RdBu_r", so figures sent as JSON carry these."""
        from plotly.colors import get_colorscale

        return [[float(p), c] for p, c in get_colorscale(self.colorscale)]


SIGMOID = Scale("Viridis", 0.0, 1.0, "σ ∈ [0, 1]")
TANH = Scale("RdBu_r", -1.0, 1.0, "tanh ∈ [−1, 1]")
BY_RANGE = {(0.0, 1.0): SIGMOID, (-1.0, 1.0): TANH}

NAMES = {  # each recorded quantity as a chart names it, shown as _(NAMES[name])
    "h": N_("h  hidden state"), "c": N_("c  cell state"),
    "h←": N_("h←  backward hidden state"), "h→": N_("h→  forward hidden state"),
    "i": N_("i  input gate"), "f": N_("f  forget gate"), "g": N_("g  candidate"), "o": N_("o  output gate"),
    "r": N_("r  reset gate"), "z": N_("z  update gate"), "n": N_("n  candidate"),
}


def symmetric_scale(values: np.ndarray, name: str = "c") -> Scale:
    """A symmetric range covering the finite values: max |v| rounded up to 0.5, at least 1."""
    v = np.asarray(values)
    finite = np.abs(v[np.isfinite(v)])
    r = max(1.0, math.ceil(float(finite.max(initial=0.0)) * 2) / 2)
    return Scale("RdBu_r", -r, r, f"{name} ∈ [−{r:g}, {r:g}]")


def scale_for(kind: str, name: str, values: np.ndarray) -> Scale:
    """The scale of a recorded quantity of a cells kind ("lstm", …); "h←"/"h→" are h."""
    r = cells.value_range(kind, name.rstrip("←→"))
    return BY_RANGE[r] if r is not None else symmetric_scale(values, name)


def colour(scale: Scale, value: float) -> str:
    """The scale's colour for one value, as an rgb() string (for diagram shapes)."""
    from plotly.colors import get_colorscale, sample_colorscale

    if not math.isfinite(value):
        return "rgb(200,200,200)"
    u = min(1.0, max(0.0, (value - scale.zmin) / (scale.zmax - scale.zmin)))
    return sample_colorscale(get_colorscale(scale.colorscale), [u])[0]
