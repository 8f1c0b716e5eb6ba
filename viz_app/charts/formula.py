"""Formulas with numbers at every step: a template, and one value per step for each field.

    line = "f_t = σ({fx}{fh:s}) = σ({fa}) = {f}"
    fill(line, {"fx": [0.51, …], "fh": [0.32, …], …}, t=0)   # "f_t = σ(0.51 + 0.32) = σ(0.83) = 0.70"

The browser component fills the same templates at every step (`fill` in
viz_app/component/scope.js; the browser test holds the two equal), so a payload
carries numbers, not T copies of each line. Fields:

    {x}     the number values["x"][t] with the panel's digits (− for negatives, — for None)
    {x.j}   element j of values["x"][t], a per-step list
    {x:p}   in parentheses when negative: a factor in a product
    {x:s}   as an operator and its size: " + 0.32" or " − 0.32"
    {x:d}   an integer;  {x:4}  four decimals;  {x:e}  three significant digits, 1.95e−5
    {t}     the step;  {tok}  its token

Strings are inserted as they are. Text around the fields must not itself look like
{word} (write h_{t−1}, not h_{t}).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

FIELD = re.compile(r"\{(\w+)(?:\.(\d+))?(?::([psde]|\d))?\}")


def number(v: float | None, digits: int) -> str:
    if v is None or v != v:  # None or NaN
        return "—"
    return f"{v:.{digits}f}".replace("-", "−")


def fill(template: str, values: Mapping[str, Sequence], t: int, token: str = "", digits: int = 2) -> str:
    def one(m: re.Match) -> str:
        name, j, fmt = m.groups()
        v = t if name == "t" else token if name == "tok" else values[name][t]
        if j is not None:
            v = v[int(j)]
        if name == "t" or not isinstance(v, (int, float)) or isinstance(v, bool):
            return "—" if v is None else str(v)
        if fmt == "d":
            return str(int(v))
        if fmt == "e":  # JavaScript's toExponential(2): no leading zeros in the exponent
            return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{v:.2e}").replace("-", "−")
        if fmt == "p":
            return f"({number(v, digits)})" if v < 0 else number(v, digits)
        if fmt == "s":
            return f"{' − ' if v < 0 else ' + '}{number(abs(v), digits)}"
        return number(v, int(fmt) if fmt else digits)

    return FIELD.sub(one, template)
