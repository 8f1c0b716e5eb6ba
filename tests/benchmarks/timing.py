"""What the benchmark scripts share (imported as `timing`: the scripts run from this folder):
the cases of the engine benchmarks and one median timer."""

from __future__ import annotations

import statistics
import time
from typing import Callable

CASES = [  # (kind, T, H) of bench_trace.py and bench_backward.py: long and short sequences
    ("lstm", 2000, 512), ("lstm", 50, 128), ("gru", 2000, 512), ("gru", 50, 128), ("rnn", 2000, 512), ("rnn", 50, 128),
]


def torch_module(kind: str, input_size: int, hidden_size: int):
    """The torch module of a case's cell kind."""
    import torch

    return {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind](input_size, hidden_size)


def header(repeat: int) -> str:
    import platform

    import torch

    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}, " \
           f"median of {repeat}\n"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall-clock seconds of `repeat` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
