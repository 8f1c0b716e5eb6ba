"""Benchmark: an imported torch LSTM traced, and a padded batch traced packed and padded.

    python tests/benchmarks/bench_import.py [--repeat 7]
    OPENBLAS_NUM_THREADS=1 python tests/benchmarks/bench_import.py   # numpy's BLAS on one core

(a) A 2-layer bidirectional nn.LSTM (input 128, H = 512) saved as safetensors, loaded
    into a Recurrent by `cells.from_file` (which also checks it against torch's own forward
    pass on 16 steps) and traced over T = 500 steps: load, trace, and both timed together
    (bar: ≤ 1 s).
(b) 32 sequences of 20–100 steps (seeded), input 128, through a bidirectional LSTM with
    H = 256: `rec.trace_batch(X, lengths, packed=True)` and `packed=False` (bar: ≤ 1 s
    each), beside torch's forward on the PackedSequence and on the padded batch, which
    computes the outputs but records none of the gates.

Prints two markdown tables for the README, median of `repeat` runs after one warm-up.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import safetensors.torch
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import cells
from timing import header, median_time


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms"


def load(path: Path) -> cells.Recurrent:
    return cells.from_file(path).recurrent


def imported(repeat: int) -> None:
    """(a): load a saved 2-layer bidirectional LSTM, then trace 500 steps."""
    I, H, L, T = 128, 512, 2, 500
    module = torch.nn.LSTM(I, H, L, bidirectional=True).eval()
    x = np.random.default_rng(0).standard_normal((T, I)).astype(np.float32)  # (T, I)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "lstm.safetensors"
        safetensors.torch.save_file(module.state_dict(), path)
        rec = load(path)
        with torch.inference_mode():
            want = module(torch.from_numpy(x)[:, None])[0][:, 0].numpy()  # (T, 2H)
        assert np.abs(rec.trace(x).output - want).max() <= 1e-5, "the loaded Recurrent differs from the module"
        t_load = median_time(lambda: load(path), repeat)
        t_trace = median_time(lambda: rec.trace(x), repeat)
        t_both = median_time(lambda: load(path).trace(x), repeat)
        t_cold = median_time(lambda: cold(path, T, I), max(1, repeat // 2))
        size = path.stat().st_size
    print(f"(a) nn.LSTM({I}, {H}, num_layers={L}, bidirectional=True), safetensors {size / 2**20:.0f} MiB, T = {T}\n")
    print("| step | median |")
    print("|---|---:|")
    print(f"| load: safetensors -> Recurrent | {ms(t_load)} |")
    print(f"| trace: every gate, h and c of 4 layer-directions | {ms(t_trace)} |")
    print(f"| **load + trace**, timed together (bar ≤ 1 s) | **{ms(t_both)}** |")
    print(f"| the same in a fresh process, `import cells` and torch's import included | {ms(t_cold)} |")


COLD = """import sys, time
t0 = time.perf_counter()
import numpy as np, cells
x = np.random.default_rng(0).standard_normal(({T}, {I})).astype(np.float32)
cells.from_file(sys.argv[1]).recurrent.trace(x)
print(time.perf_counter() - t0)
"""


def cold(path: Path, T: int, I: int) -> None:
    """Load and trace in a new interpreter: what the first upload to a fresh server costs."""
    import subprocess

    subprocess.run([sys.executable, "-c", COLD.format(T=T, I=I), str(path)], check=True, capture_output=True)


def padded_batch(repeat: int) -> None:
    """(b): 32 sequences of 20–100 steps, traced packed and padded, beside torch."""
    I, H, B = 128, 256, 32
    rng = np.random.default_rng(0)
    X, lengths = cells.padding.pad([rng.standard_normal((n, I)).astype(np.float32) for n in rng.integers(20, 101, B)])
    module = torch.nn.LSTM(I, H, bidirectional=True, batch_first=True).eval()
    rec = cells.from_torch(module)
    Xt, nt = torch.from_numpy(X), torch.from_numpy(lengths)

    def torch_forward(packed: bool):
        with torch.inference_mode():
            module(pack_padded_sequence(Xt, nt, batch_first=True, enforce_sorted=False) if packed else Xt)

    print(f"\n(b) bidirectional nn.LSTM({I}, {H}), B = {B} sequences of {lengths.min()}–{lengths.max()} steps "
          f"(seeded), padded to T = {X.shape[1]}\n")
    print("| mode | steps read | cells `trace_batch` (bar ≤ 1 s) | torch forward, nothing recorded | ratio |")
    print("|---|---:|---:|---:|---:|")
    for packed in (True, False):
        t_cells = median_time(lambda: rec.trace_batch(X, lengths, packed=packed), repeat)
        t_torch = median_time(lambda: torch_forward(packed), repeat)
        steps = int(lengths.sum()) if packed else X.shape[0] * X.shape[1]
        print(f"| {'packed' if packed else 'padded'} | {steps} | **{ms(t_cells)}** | {ms(t_torch)} | {t_cells / t_torch:.1f}× |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    torch.manual_seed(0)
    print(header(args.repeat))
    imported(args.repeat)
    padded_batch(args.repeat)


if __name__ == "__main__":
    sys.exit(main())
