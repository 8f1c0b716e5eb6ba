"""Numeric sequences as text: what a model that reads numbers (not words) is given.

A model whose input is I numbers per step reads a text of T steps separated by ";" or
line breaks, the step's I numbers separated by commas or spaces:

    0.5,1.0; 0.25,-1          step 0: x_0 = (0.5, 1.0); step 1: x_1 = (0.25, −1)

A single-input model (I = 1) also reads one line of numbers, each a step
("0 0.25 0.5" or "0, 0.25, 0.5"). Every step is a `cells.tokens.Token` whose span is its
text, so the views show and highlight numbers exactly as they show words.

`generate` writes the built-in inputs (sine, steps, noise) in this form and `from_csv`
turns a CSV file (T rows × I columns, an optional header) into it, so one text box, one
URL parameter and one cache key serve typed, generated and uploaded sequences alike.
"""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np

from .messages import msg
from .tokens import Token

MAX_STEPS = 2000  # as many steps as the views draw (cells.zoo.MAX_TOKENS)
MAX_CSV_BYTES = 1_000_000  # a CSV of 2,000 rows × a few dozen columns fits easily
SHAPES = {"sine": "sin(0.25 t + φ)", "steps": "a staircase of random levels", "noise": "Gaussian noise, σ = 1"}
DIGITS = 4  # decimals written by generate and from_csv

_ROW = re.compile(r"[^\n;]+")  # a step: up to a newline or ";"
_NUMBER = re.compile(r"[^\s,;]+")  # a field: anything between separators


def parse(text: str, input_size: int) -> tuple[np.ndarray, list[Token]]:
    """x (T, input_size) float64 and one Token per step (its span in the text).

    ValueError, naming the step and what is wrong, for: no numbers, a field that is not a
    finite number, a step with the wrong count of numbers, more than MAX_STEPS steps."""
    if input_size < 1:
        raise ValueError(f"input_size must be at least 1; got {input_size}")
    rows = [m for m in _ROW.finditer(text) if m.group().strip()]
    if len(rows) == 1 and input_size == 1:  # one line of numbers: each is a step
        fields = [[f] for f in _NUMBER.finditer(text)]
    else:
        fields = [list(_NUMBER.finditer(text, r.start(), r.end())) for r in rows]
    fields = [f for f in fields if f]
    if not fields:
        raise ValueError(msg("no numbers to read: type {n} number(s) per step, one step per line", n=input_size))
    if len(fields) > MAX_STEPS:
        raise ValueError(msg("the sequence has {n:,} steps; at most {limit:,} can be read at once", n=len(fields),
                             limit=MAX_STEPS))
    x = np.empty((len(fields), input_size))  # (T, I)
    for t, row in enumerate(fields):
        if len(row) != input_size:
            raise ValueError(msg("step {t} has {n} number(s) ({quote}); this model reads {size} per step", t=t,
                                 n=len(row), quote=_quote(text, row), size=input_size))
        for j, f in enumerate(row):
            x[t, j] = _number(f.group(), t)
    tokens = [Token(text[row[0].start():row[-1].end()], row[0].start(), row[-1].end()) for row in fields]
    return x, tokens


def fmt(v: float) -> str:
    """v to DIGITS decimals, without trailing zeros: 0.25, -1, 0."""
    s = f"{v:.{DIGITS}f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def _number(s: str, t: int) -> float:
    try:
        v = float(s)
    except ValueError:
        raise ValueError(msg("step {t}: «{value}» is not a number", t=t, value=s[:20])) from None
    if not math.isfinite(v):
        raise ValueError(msg("step {t}: «{value}» is not a finite number; a model cannot read it", t=t,
                             value=s[:20]))
    return v


def _quote(text: str, row: list[re.Match]) -> str:
    s = text[row[0].start():row[-1].end()]
    return f"«{s[:40]}{'…' if len(s) > 40 else ''}»"


def write(x: np.ndarray) -> str:
    """The text `parse` reads back as x (T, I), on one line: steps separated by ", " when
    I = 1, by "; " otherwise (a step's numbers by "," alone)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[1] == 1:
        return ", ".join(fmt(v) for v in x[:, 0])
    return "; ".join(",".join(fmt(v) for v in row) for row in x)  # no space inside a step: it reads as one token


def generate(shape: str, T: int, input_size: int = 1, seed: int = 0) -> str:
    """A built-in input of T steps (each of the input_size features its own phase or draw)."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")
    if not 1 <= T <= MAX_STEPS:
        raise ValueError(f"T must be from 1 to {MAX_STEPS:,}; got {T}")
    rng = np.random.default_rng(seed)
    if shape == "sine":
        x = np.sin(0.25 * np.arange(T)[:, None] + rng.uniform(0, 2 * np.pi, input_size))  # (T, I)
    elif shape == "steps":
        levels = rng.uniform(-1, 1, (T // 10 + 1, input_size))  # a new level every 10 steps
        x = np.repeat(levels, 10, axis=0)[:T]  # (T, I)
    else:
        x = rng.standard_normal((T, input_size))  # (T, I)
    return write(x)


def from_csv(data: bytes, input_size: int) -> str:
    """A CSV file's rows (T rows × input_size columns; a first row of names is skipped) as
    the text `parse` reads. ValueError for a file too big, not UTF-8, or not such a table."""
    if len(data) > MAX_CSV_BYTES:
        raise ValueError(msg("the CSV file is {mb:.1f} MB; at most {limit:.0f} MB are read", mb=len(data) / 1e6,
                             limit=MAX_CSV_BYTES / 1e6))
    try:
        rows = [r for r in csv.reader(io.StringIO(data.decode("utf-8-sig"))) if any(f.strip() for f in r)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise ValueError(msg("the file is not a UTF-8 CSV table ({error})", error=e)) from None
    if rows and not any(_is_number(f) for f in rows[0]):
        rows = rows[1:]  # a header row of column names
    if not rows:
        raise ValueError(msg("the CSV file has no rows of numbers"))
    if len(rows) > MAX_STEPS:
        raise ValueError(msg("the CSV file has {n:,} rows; at most {limit:,} steps can be read at once", n=len(rows),
                             limit=MAX_STEPS))
    for t, r in enumerate(rows):
        if len(r) != input_size:
            raise ValueError(msg("row {row} of the CSV has {n} column(s); this model reads {size} number(s) per step "
                                 "(one row per step, one column per input)", row=t + 1, n=len(r), size=input_size))
    x = np.array([[_number(f.strip(), t) for f in r] for t, r in enumerate(rows)])  # (T, I)
    return write(x)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
