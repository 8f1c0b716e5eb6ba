"""What the benchmark scripts share (imported as `timing`: the scripts run from this folder):
the cases of the engine benchmarks and one median timer."""

from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np

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

    import os

    blas = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    return f"torch {torch.__version__}, {torch.get_num_threads()} threads, numpy's OpenBLAS threads: {blas}, " \
           f"{platform.processor() or platform.machine()}, median of {repeat}, load average {os.getloadavg()[0]:.1f}\n"


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall-clock seconds of `repeat` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def compare(columns: tuple[str, str, str], repeat: int, long_repeat: int,
            case: Callable[[str, object, np.ndarray, np.random.Generator], tuple[Callable, Callable]]) -> None:
    """Print a markdown table timing torch against cells for every case in CASES.

    case(kind, module, x, rng) -> (the torch call, the cells call) for a fresh torch module
    (seeded), x (T, 64) float32; columns name the torch time, the cells time and their
    ratio. Each side's time is the least of three medians, taken in turn so that machine
    load hits both alike; sequences of 1000 steps or more repeat long_repeat times."""
    import torch

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    print(header(repeat))
    print(f"| cell | T | H | {columns[0]} | {columns[1]} | {columns[2]} |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, T, H in CASES:
        module = torch_module(kind, 64, H)
        x = rng.standard_normal((T, 64)).astype(np.float32)
        torch_call, cells_call = case(kind, module, x, rng)
        n = repeat if T < 1000 else long_repeat
        times = [(median_time(torch_call, n), median_time(cells_call, n)) for _ in range(3)]
        a, b = min(t for t, _ in times), min(c for _, c in times)
        print(f"| {kind.upper()} | {T} | {H} | {a * 1e3:.2f} ms | {b * 1e3:.2f} ms | {b / a:.2f}× |")
