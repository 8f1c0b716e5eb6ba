"""The cell's equations with the actual numbers filled in, at every step. Pure: templates and numbers.

    lines, values = equation_templates(rec, trace, layer=0, direction=0, unit=5)
    fill(lines[1], values, t=3)   # "f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf) = σ(0.51 + 0.32) = σ(0.83) = 0.70"
    step_equations(rec, trace, 0, 0, t=3, unit=5)   # every line at step 3

The two halves of each pre-activation come from `Recurrent.pre_activations` (the
same numbers as `step_terms`, for every step at once); the results are the values the
trace recorded, so the numbers are exactly what the model computed. GRU follows
PyTorch: the reset gate multiplies (W_hn h + b_hn), after the matmul. A backward
direction reads its state from step t+1, and its lines say so.
"""

from __future__ import annotations

import numpy as np

import cells
from cells.readout import unit_values

from .formula import FIELD, fill

DIGITS = 2  # decimals shown
_SENT = 4  # decimals sent to the browser (rounding happens there, to DIGITS)


def _gate(name: str, squash: str, wi: str, wh: str) -> str:
    return (f"{name}_t = {squash}(W_{wi} x_t + b_{wi} + W_{wh} h_{{t−1}} + b_{wh}) "
            f"= {squash}({{{name}x}}{{{name}h:s}}) = {squash}({{{name}a}}) = {{{name}}}")


def equation_templates(rec: cells.Recurrent, trace: cells.Trace, layer: int, direction: int,
                       unit: int) -> tuple[list[str], dict[str, list[float]]]:
    """(lines, values): one template line per equation of this cell kind, and for every
    field its value at each step (lists of T numbers, rounded to 4 decimals)."""
    lt = trace.layer(layer, direction)
    pre = rec.pre_activations(trace, layer, direction)  # name -> (x_part (T, H), h_part (T, H))
    v = unit_values(trace, layer, direction, unit)  # name -> (T,)
    for name, (xp, hp) in pre.items():
        v[name + "x"], v[name + "h"] = xp[:, unit], hp[:, unit]
        v[name + "a"] = xp[:, unit] + hp[:, unit]
    if trace.kind == "lstm":
        lines = [_gate(g, "σ" if g != "g" else "tanh", "i" + g, "h" + g) for g in "ifgo"]
        lines += ["c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t = {f:p}·{c_prev:p} + {i:p}·{g:p} = {c}",
                  "h_t = o_t ⊙ tanh(c_t) = {o:p}·tanh({c}) = {h}"]
    elif trace.kind in ("gru", "gru_reset_before"):
        v["one_minus_z"] = 1 - v["z"]
        lines = [_gate(g, "σ", "i" + g, "h" + g) for g in "rz"]
        if trace.kind == "gru":  # torch's: the reset applies to the h half after its product
            v["na"] = v["nx"] + v["r"] * v["nh"]
            lines.append("n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn)) = tanh({nx} + {r:p}·{nh:p}) "
                         "= tanh({na}) = {n}")
        else:  # the paper's (Keras reset_after=False): the reset applies to h before the product
            lines.append("n_t = tanh(W_in x_t + b_in + W_hn (r_t ⊙ h_{t−1}) + b_hn) = tanh({nx}{nh:s}) "
                         "= tanh({na}) = {n}")
        lines.append("h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1} = {one_minus_z:p}·{n:p} + {z:p}·{h_prev:p} = {h}")
    else:
        f = "tanh" if trace.kind == "rnn_tanh" else "relu"
        lines = [f"h_t = {f}(W_ih x_t + b_ih + W_hh h_{{t−1}} + b_hh) = {f}({{hx}}{{hh:s}}) = {f}({{ha}}) = {{h}}"]
    if lt.reverse:
        lines = [line.replace("t−1", "t+1") for line in lines]
    fields = {name for line in lines for name in _fields(line)}
    return lines, {k: _numbers(v[k]) for k in fields}


def _fields(line: str) -> list[str]:
    return [m.group(1) for m in FIELD.finditer(line) if m.group(1) not in ("t", "tok")]


def _numbers(a: np.ndarray) -> list[float | None]:
    a = np.round(np.asarray(a, dtype=np.float64), _SENT)
    return [float(x) if np.isfinite(x) else None for x in a]


def step_equations(rec: cells.Recurrent, trace: cells.Trace, layer: int, direction: int, t: int,
                   unit: int) -> list[str]:
    """Every equation of this cell kind at step t, for one unit, with its numbers."""
    lines, values = equation_templates(rec, trace, layer, direction, unit)
    return [fill(line, values, t, digits=DIGITS) for line in lines]
