"""Benchmark the training lab: how fast the three cells learn in the app's own way of training.

    python tests/benchmarks/bench_lab.py [--budget-sine 20] [--budget-adding 90]

1. In-app training (viz_app.jobs: one worker thread, torch on one thread, the three cells
   stepped in turn, the lab page's default settings, held-out loss every 50 steps): the
   wall-clock seconds until each cell's held-out loss is below the target —
   sine → cosine: MSE 0.01 within 20 s for all three; the adding problem, T = 50: MSE
   0.05 within 90 s for the LSTM and GRU (predicting the mean scores 1/6 ≈ 0.17), the
   RNN's best reported as it is.
2. Where the vanilla RNN stops learning the adding problem: `cells.lab.train` alone, the
   same settings, 3,000 steps, T = 10, 20, 30, 50: its best held-out MSE and whether it
   got below 0.05.
Prints markdown tables. Not a pytest test: timings belong to a machine, not to a pass/fail.
"""

from __future__ import annotations

import argparse
import os
import time

from cells import lab
from viz_app import jobs
from viz_app.views.lab import DEFAULTS, NAMES

KINDS = ("rnn", "lstm", "gru")


def time_to_target(task: str, goal: float, budget: float, **kw) -> tuple[dict, dict, float]:
    """Train the three cells as the lab does; per cell the seconds until the held-out loss went
    below `goal` (None if not within `budget`) and its best held-out loss; steps per second."""
    settings = [lab.Settings(task=task, kind=k, eval_every=50,
                             **{**DEFAULTS[task], "steps": lab.LIMITS["steps"][1], **kw}) for k in KINDS]
    job = jobs.start(f"bench-{task}", settings, alive=lambda sid: True)
    reached: dict[str, float | None] = {NAMES[k]: None for k in KINDS}
    t0 = time.perf_counter()
    try:
        while time.perf_counter() - t0 < budget and None in reached.values():
            time.sleep(0.05)
            p = job.view()
            for k, evals in zip(KINDS, p.evals):
                if reached[NAMES[k]] is None and any(loss < goal for _, loss in evals[1:]):
                    reached[NAMES[k]] = time.perf_counter() - t0
        p = job.view()
    finally:
        jobs.reset(f"bench-{task}")
    best = {NAMES[k]: min(loss for _, loss in evals) for k, evals in zip(KINDS, p.evals)}
    return reached, best, p.steps_done / p.seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget-sine", type=float, default=20.0)
    ap.add_argument("--budget-adding", type=float, default=90.0)
    args = ap.parse_args()
    load = os.getloadavg()[0]

    print("| task | goal | cell | seconds to goal (budget) | best held-out loss | steps/s (three cells) |")
    print("|---|---|---|---:|---:|---:|")
    for task, goal, budget, kw in (("sine_cosine", 0.01, args.budget_sine, {}),
                                   ("adding", 0.05, args.budget_adding, {"T": 50})):
        reached, best, rate = time_to_target(task, goal, budget, **kw)
        for cell in reached:
            s = f"{reached[cell]:.1f} (≤ {budget:.0f})" if reached[cell] is not None else f"not within {budget:.0f}"
            label = task.replace("_", " → ") + (f", T = {kw['T']}" if "T" in kw else "")
            print(f"| {label} | < {goal} | {cell} | {s} | {best[cell]:.4f} | {rate:.0f} |")

    print("\nThe vanilla RNN on the adding problem, `cells.lab.train` alone, 3,000 steps:\n")
    print("| T | best held-out MSE | below 0.05 |")
    print("|---:|---:|---|")
    for T in (10, 20, 30, 50):
        run = lab.train("adding", kind="rnn", T=T, **{**DEFAULTS["adding"], "steps": 3000}, eval_every=50)
        best = min(loss for _, loss in run.evals)
        print(f"| {T} | {best:.4f} | {'yes' if best < 0.05 else 'no'} |")
    print(f"\n2 CPUs, load average {load:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()
