"""Benchmark: the full trace against the plain torch forward, in the same run.

    python tests/benchmarks/bench_trace.py [--repeat 15]

CPU, batch 1, input size 64. Prints a markdown table for the README: the median
time of `torch_module(x)` and of `rec.trace(x)` (every gate, h and c, for every t),
their ratio, and the memory of a T=10,000, H=512 LSTM trace.
"""

from __future__ import annotations

import argparse
import resource
import sys

import numpy as np
import torch

import cells
from timing import compare


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    def case(kind, module, x, rng):
        module.eval()
        rec, xt = cells.from_torch(module), torch.from_numpy(x)[:, None]

        def forward():
            with torch.inference_mode():
                module(xt)

        return forward, lambda: rec.trace(x)

    compare(("torch forward", "full trace", "trace / forward"), args.repeat, max(5, args.repeat // 2), case)

    rng = np.random.default_rng(1)
    T, H = 10_000, 512
    rec = cells.from_torch(torch.nn.LSTM(64, H).eval())
    x = rng.standard_normal((T, 64)).astype(np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tr = rec.trace(x)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\nLSTM trace, T={T}, H={H}: arrays {tr.nbytes / 2**20:.0f} MiB; "
          f"peak resident memory grew {(after - before) / 1024:.0f} MiB while tracing")


if __name__ == "__main__":
    sys.exit(main())
