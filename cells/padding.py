"""Batches of sequences of different lengths: padding, and packing that skips the pads.

    X, lengths = padding.pad([x_0, x_1, …])          # B arrays (T_b, I) -> X (B, T, I), lengths (B,)
    trs = rec.trace_batch(X, lengths, packed=True)   # one Trace per sequence

A batch stores B sequences in one array X (B, T, I), T = max_b T_b: sequence b fills
rows 0 … T_b − 1 and the rows after are pads. A recurrent layer steps through time,
so what it does at the pads matters:

- packed=True stops each sequence at its own length, as torch's
  `nn.utils.rnn.pack_padded_sequence` and TensorFlow's `dynamic_rnn(sequence_length=…)`
  do. Trace b has T_b steps and is `rec.trace(X[b, :T_b])`: h_n is the state after the
  last real step, and a backward direction starts at the sequence's own last step
  T_b − 1. The pads are never read; they may even be NaN.
- packed=False reads the pads as input, which is what an RNN does when it is handed
  the padded batch alone. Every trace has all T steps. After T_b the forward state
  keeps moving, so h_n is not the sequence's final state but wherever the pads carried
  it (it drifts); a backward direction reads the T − T_b pads first, so even its real
  steps, output[0] included, start from a state that is not h0.

The lesson: a zero pad is not "nothing". The cell still computes
a = W_ih·0 + b_ih + W_hh h_{t−1} + b_hh, and a state that is not a fixed point of that
map moves. Pack, or mask every use of the padded steps.

Conventions: X is batch-first (B, T, I), like `batch_first=True` and
`pad_sequence(…, batch_first=True)`; each Trace stays time-major (T, ·). lengths count
real steps, 1 ≤ T_b ≤ T, in any order (torch's `enforce_sorted=False`). Initial states
are zeros. Sequences are traced one at a time by `Recurrent.trace` (32 sequences of up
to 100 steps, H = 256, bidirectional, take a few hundred milliseconds:
tests/benchmarks/bench_import.py), so there is no second engine to keep equal to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .recurrent import Recurrent
    from .trace import Trace


def pad(seqs: Sequence[np.ndarray], value: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Stack B sequences (T_b, I) into one batch-first array, as torch's
    `pad_sequence(seqs, batch_first=True, padding_value=value)` does, and count their lengths.

    Returns X (B, T, I), T = max_b T_b, with X[b, :T_b] = seqs[b] and X[b, T_b:] = value,
    and lengths (B,) int64. Floating point: float32 unless a sequence needs float64.
    """
    seqs = [np.asarray(s) for s in seqs]
    if not seqs:
        raise ValueError("pad needs at least one sequence; got none")
    for b, s in enumerate(seqs):
        if not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
            raise ValueError(f"sequence {b} must hold real numbers, got dtype {s.dtype}")
        if s.ndim != 2:
            raise ValueError(f"sequence {b} must have shape (T_b, I); got shape {s.shape}")
        if s.shape[0] == 0:
            raise ValueError(f"sequence {b} is empty (T_b = 0); every sequence needs at least one step")
        if s.shape[1] != seqs[0].shape[1]:  # sequence 0's rank was checked first
            raise ValueError(f"sequence {b} has {s.shape[1]} features per step but sequence 0 has {seqs[0].shape[1]}")
    lengths = np.array([len(s) for s in seqs], np.int64)  # (B,)
    dtype = np.result_type(*(s.dtype for s in seqs), np.float32)
    X = np.full((len(seqs), lengths.max(), seqs[0].shape[1]), value, dtype)  # (B, T, I)
    for x, s in zip(X, seqs):
        x[: len(s)] = s
    return X, lengths


def trace_batch(rec: Recurrent, X: np.ndarray, lengths, packed: bool = True) -> list[Trace]:
    """Trace every sequence of a padded batch X (B, T, input_size) with lengths (B,).

    packed=True: trace b is `rec.trace(X[b, :lengths[b]])`, T_b steps (the pads unread).
    packed=False: trace b is `rec.trace(X[b])`, T steps, the pads read as input.
    """
    X, lengths = _check(rec, X, lengths, packed)
    if packed:
        return [rec.trace(x[:n]) for x, n in zip(X, lengths)]
    return [rec.trace(x) for x in X]


def _check(rec: Recurrent, X, lengths, packed: bool) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}")
    if X.ndim != 3:
        raise ValueError(f"X must be a padded batch of shape (B, T, {rec.input_size}); got shape {X.shape}")
    B, T, I = X.shape
    if B == 0 or T == 0:
        raise ValueError(f"X is an empty batch (B = {B}, T = {T}); it needs at least one sequence of one step")
    if I != rec.input_size:
        raise ValueError(f"X has {I} features per step but this {rec.kind} expects input_size={rec.input_size}")
    lengths = _lengths(lengths, B, T)
    real = np.arange(T) < lengths[:, None]  # (B, T): True at each sequence's real steps
    bad = ~np.isfinite(X).all(axis=2)  # (B, T): steps holding NaN or inf
    if (bad & real).any():
        b, steps = _first(bad & real)
        raise ValueError(f"X holds NaN or infinite values in sequence {b} at step(s) {steps}, within its length {lengths[b]}")
    if not packed and bad.any():
        b, steps = _first(bad)
        raise ValueError(
            f"X holds NaN or infinite values in the padding of sequence {b} (step(s) {steps}, past its length "
            f"{lengths[b]}); packed=False reads the pads as input: pad with a finite value or pass packed=True"
        )
    return X, lengths


def _first(mask: np.ndarray) -> tuple[int, list[int]]:
    """The first sequence b with a True in mask (B, T), and its first ten True steps."""
    b = int(np.flatnonzero(mask.any(axis=1))[0])
    return b, np.flatnonzero(mask[b])[:10].tolist()


def _lengths(lengths, B: int, T: int) -> np.ndarray:
    """lengths (B,) as integers in 1 … T, or a ValueError that says which is wrong."""
    n = np.asarray(lengths)
    if n.shape != (B,):
        raise ValueError(f"lengths must have shape (B,) = ({B},), one length per sequence; got shape {n.shape}")
    if not np.issubdtype(n.dtype, np.integer):
        raise ValueError(f"lengths must be integers (numbers of steps); got dtype {n.dtype}")
    out = np.flatnonzero((n < 1) | (n > T))
    if out.size:
        b = int(out[0])
        raise ValueError(f"every length must lie in 1 … T = {T}; sequence {b} has length {int(n[b])}")
    return n.astype(np.intp)
