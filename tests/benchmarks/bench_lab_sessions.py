"""Benchmark: does the Compare view stay fast while other tabs train in the lab?

    python tests/benchmarks/bench_lab_sessions.py [--sessions 5] [--steps 40] [--sentences 10]

One server (`testing.AppServer`) and one headless Chromium context (`testing.browser`):
  1. baseline: a page on Compare (task trec, bench_app.SENTENCE): step key press -> every
     chart updated, and new sentence (Enter) -> three columns updated (bench_app's probes)
  2. the memory of the server and its child processes (the lab's workers, one per run)
     before any run: resident (VmRSS, summed) and proportional (Pss: shared pages split
     between the processes that map them, so the sum is what they take together)
  3. --sessions more tabs on /lab, each training the three cells on the adding problem for
     20,000 steps; each tab's steps/s (its progress text, and counted over a 10 s window
     with all of them training), the memory, the CPU of the server and of its workers,
     and the workers' nice values
  4. with those training, a new page on Compare measured as in 1, with other sentences
     (new to the server: the first measurement's are in its caches)
  (1 and 4 also time each new sentence's payload reaching the page: the server's part, apart
  from the drawing, which shares this machine's CPU with the training as a student's own
  machine would not)
  5. the lab tabs closed: how long until a fresh /lab page says "No run is training on this
     server now" (reloaded until it does, at most 30 s) and until no worker process is
     left, and the memory after
Prints a markdown table (measure | value | budget | met). Not a pytest test: timings
belong to a machine, and to whatever else it runs (the load averages are printed).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_app  # noqa: E402

from viz_app import testing  # noqa: E402

PROGRESS = '[data-testid="stProgress"]'
IDLE = "No run is training on this server now"
BUDGET = {"step": (80, 150), "enter_p95": 1000}
LAB_STEPS = 20_000  # the lab's cap: the runs outlast the benchmark
RATE_WINDOW = 10.0  # seconds over which the tabs' steps are counted
IDLE_WAIT = 30.0  # seconds to wait for the runs to end once their tabs are closed


def stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name: [0] state, [1] ppid, [16] nice (proc(5))."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def workers(pid: int) -> list[int]:
    """The server's child processes: the lab's workers (none when runs are threads)."""
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):  # a process that just ended
                fields = stat(int(d.name))
                if int(fields[1]) == pid and fields[0] != "Z":
                    kids.append(int(d.name))
    return kids


def memory_mb(pid: int) -> tuple[float, float, int]:
    """(resident, proportional) memory of the server and its workers together, in MB, and
    the number of workers."""
    rss = pss = 0
    kids = workers(pid)
    for p in (pid, *kids):
        with contextlib.suppress(OSError):  # a worker that just ended
            rss += int(re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text(), re.M).group(1))
            pss += int(re.search(r"^Pss:\s+(\d+) kB", Path(f"/proc/{p}/smaps_rollup").read_text(), re.M).group(1))
    return rss / 1024, pss / 1024, len(kids)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (all its threads); 0 once it is gone."""
    try:
        fields = stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def memory(m: tuple[float, float, int]) -> str:
    return f"{m[0]:.0f} MB resident, {m[1]:.0f} MB proportional ({m[2]} worker process{'es' if m[2] != 1 else ''})"


def progress(page) -> tuple[str, int, float]:
    """The lab's progress bar: (state word, step, steps/s)."""
    text = page.locator(PROGRESS).inner_text()
    m = re.match(r"(\w[\w ()]*?): step ([\d,]+) of [\d,]+ · (\d+) steps/s", text)
    assert m, text
    return m.group(1), int(m.group(2).replace(",", "")), float(m.group(3))


def start_lab_run(ctx, srv):
    """A new tab on /lab training the three cells on the adding problem; returned once it trains."""
    page = ctx.new_page()
    page.goto(srv.url + "lab", timeout=180_000)  # at nice 19 this Chromium gets only what the runs leave
    try:
        page.get_by_role("button", name="Start").wait_for(timeout=60_000)
    except Exception as e:  # say what the page shows instead (an exception box, a spinner)
        raise RuntimeError(f"/lab showed no Start button within 60 s; the page said:\n"
                           f"{page.locator('body').inner_text()[-1500:]}") from e
    page.get_by_label("Lab task").click()
    page.get_by_role("option", name="adding").click()
    page.wait_for_function(  # the rerun for the new task has replaced the form (stale copies linger while it runs)
        """() => document.querySelectorAll('input[aria-label="Steps"]').length === 1""", timeout=60_000, polling=100)
    steps = page.get_by_label("Steps", exact=True)
    steps.fill(str(LAB_STEPS))
    steps.press("Tab")
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(  # its process imports torch at nice 19 first: slow on a busy machine
        f"""() => {{ const e = document.querySelector('{PROGRESS}');
            return e && /^Training: step [1-9]/.test(e.innerText); }}""", timeout=180_000, polling=100)
    return page


def compare_page(ctx, srv, task: str, steps: int, sentences: list[str]) -> tuple[list[float], list[float], list[float]]:
    """A new page on Compare: (step latencies, new-sentence times, and when each new sentence's
    payload reached the page), in ms; the page is left open."""
    page = ctx.new_page()
    page.goto(bench_app.url(srv, task, bench_app.SENTENCE))
    testing.drawn_scope(page, timeout=120)
    page.wait_for_timeout(bench_app.SETTLE_MS)
    lat = testing.step_latencies(page, steps)
    enters = bench_app.enter_and_received_times(page, sentences)
    return lat, [d for d, _ in enters], [r for _, r in enters if r is not None]


def wait_idle(ctx, srv, timeout: float = IDLE_WAIT) -> tuple[float | None, str]:
    """Seconds until a /lab page, reloaded until it does, says no run is training (None:
    not within `timeout`), and the caption's last word on it. The caption is drawn once per
    page load, so the page is reloaded rather than watched."""
    t0, page = time.perf_counter(), ctx.new_page()
    said = ""
    try:
        while time.perf_counter() - t0 < timeout:
            page.goto(srv.url + "lab")
            page.get_by_role("button", name="Start").wait_for(timeout=60_000)
            said = page.locator("body").inner_text()
            if IDLE in said:
                return time.perf_counter() - t0, IDLE
            page.wait_for_timeout(500)
        return None, (re.search(r"\d+ runs? training on this server now", said) or [said[-80:]])[0]
    finally:
        page.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=5, help="lab tabs training at once")
    ap.add_argument("--task", default="trec")
    ap.add_argument("--steps", type=int, default=40, help="step key presses per measurement")
    ap.add_argument("--sentences", type=int, default=10, help="new sentences (Enter) per measurement, at most 11")
    ap.add_argument("--log", type=Path, help="write the server's log here")
    ap.add_argument("--lab-nice", type=int, default=0,
                    help="run the lab tabs in a second Chromium at this nice value, standing in for browsers on "
                         "other machines (0: the same Chromium as the measured tab)")
    args = ap.parse_args()
    n = args.sessions
    load_before = os.getloadavg()

    with contextlib.ExitStack() as stack:
        srv = stack.enter_context(testing.AppServer(log=args.log))
        if args.lab_nice:
            ctx, lab_ctx = stack.enter_context(testing.browsers(2, nices=(0, args.lab_nice)))
        else:
            ctx = lab_ctx = stack.enter_context(testing.browser())
        srv.wait_healthy()
        pid = srv.proc.pid
        base_steps, base_enters, base_received = compare_page(ctx, srv, args.task, args.steps,
                                                              bench_app.sentences(args.sentences))
        mem_before = memory_mb(pid)
        for p in ctx.pages:  # the baseline's page: the sixth session is a new one
            p.close()

        labs, started = [], time.perf_counter()
        for _ in range(n):
            labs.append(start_lab_run(lab_ctx, srv))
        seconds_to_start = time.perf_counter() - started
        first = [progress(p)[1] for p in labs]
        kids = workers(pid)
        nices = [int(stat(k)[16]) for k in kids]
        cpu0, kids0, t0 = cpu_seconds(pid), [cpu_seconds(k) for k in kids], time.perf_counter()
        time.sleep(RATE_WINDOW)
        last = [progress(p) for p in labs]
        window = time.perf_counter() - t0
        server_cpu = (cpu_seconds(pid) - cpu0) / window
        workers_cpu = sum(cpu_seconds(k) - c for k, c in zip(kids, kids0)) / window
        counted = [(b[1] - a) / window for a, b in zip(first, last)]
        shown = [b[2] for b in last]
        mem_training = memory_mb(pid)

        cpu0, t0 = cpu_seconds(pid), time.perf_counter()
        busy_steps, busy_enters, busy_received = compare_page(  # sentences the server has not read yet
            ctx, srv, args.task, args.steps, bench_app.sentences(args.sentences, skip=args.sentences))
        busy_cpu = (cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0)
        still = [progress(p)[0] for p in labs]

        closed = time.perf_counter()
        for p in labs:
            p.close()
        idle_after, said = wait_idle(ctx, srv)
        while workers(pid) and time.perf_counter() - closed < IDLE_WAIT:
            time.sleep(0.1)
        no_workers = time.perf_counter() - closed if not workers(pid) else None
        time.sleep(2)  # let the sessions go
        mem_after = memory_mb(pid)
    load_after = os.getloadavg()

    med, p95 = statistics.median, bench_app.p95

    def timed(what, xs, budget_med=None, budget_p95=None):
        ok = (budget_med is None or med(xs) <= budget_med) and (budget_p95 is None or p95(xs) <= budget_p95)
        budget = " / ".join(b for b in (f"median ≤ {budget_med}" if budget_med else "",
                                        f"p95 ≤ {budget_p95}" if budget_p95 else "") if b)
        return f"| {what} (n={len(xs)}) | {med(xs):.0f} median, {p95(xs):.0f} p95 | {budget} | {'yes' if ok else '**no**'} |"

    print(f"task `{args.task}`, {n} lab tabs each training RNN, LSTM and GRU on the adding problem "
          f"(T=50, hidden 64, batch 32, {LAB_STEPS:,} steps)"
          + (f", rendered by a second Chromium at nice {args.lab_nice}" if args.lab_nice else ", in the measured tab's Chromium")
          + f"; times in ms; {os.cpu_count()} CPUs; "
          f"load averages (1, 5, 15 min) {', '.join(f'{x:.1f}' for x in load_before)} before, "
          f"{', '.join(f'{x:.1f}' for x in load_after)} after\n")
    print("| measure | value | budget | met |")
    print("|---|---|---|---|")
    print(timed("alone: step key press → every chart updated", base_steps, *BUDGET["step"]))
    print(timed("alone: new sentence (Enter) → three columns updated", base_enters, None, BUDGET["enter_p95"]))
    if base_received:
        print(timed("alone: new sentence (Enter) → its payload in the page (the server's part)", base_received))
    print(f"| server and workers' memory before any run | {memory(mem_before)} | – | – |")
    print(f"| {n} lab tabs: started and training after | {seconds_to_start:.1f} s | – | – |")
    print(f"| each lab tab's steps/s, progress text | {', '.join(f'{x:.0f}' for x in shown)} | – | – |")
    print(f"| each lab tab's steps/s, counted over {window:.0f} s with all {n} training | "
          f"{', '.join(f'{x:.0f}' for x in counted)} (sum {sum(counted):.0f}) | – | – |")
    print(f"| server CPU with {n} training (100% = one core) | {server_cpu:.0%}; {busy_cpu:.0%} while the "
          f"page below was measured | – | – |")
    print(f"| the {len(kids)} worker processes' CPU, together | "
          + (f"{workers_cpu:.0%} (nice {', '.join(map(str, nices))})" if kids else "– (the runs are server threads)")
          + " | – | – |")
    print(f"| server and workers' memory with {n} training | {memory(mem_training)} | – | – |")
    print(f"| memory per training session | {(mem_training[0] - mem_before[0]) / n:.0f} MB resident, "
          f"{(mem_training[1] - mem_before[1]) / n:.0f} MB proportional | – | – |")
    print(timed(f"{n} training: step key press → every chart updated", busy_steps, *BUDGET["step"]))
    print(timed(f"{n} training: new sentence (Enter) → three columns updated", busy_enters, None,
                BUDGET["enter_p95"]))
    if busy_received:
        print(timed(f"{n} training: new sentence (Enter) → its payload in the page (the server's part)",
                    busy_received))
    print(f"| lab tabs' state when the measurement ended | {', '.join(still)} | all Training | "
          f"{'yes' if all(s == 'Training' for s in still) else '**no**'} |")
    idle = f"{idle_after:.1f} s" if idle_after is not None else f"not within {IDLE_WAIT:.0f} s (“{said}”)"
    print(f"| tabs closed → server says no run is training | {idle} | a few s (jobs.WATCH = 1 s) | "
          f"{'yes' if idle_after is not None and idle_after <= 5 else '**no**'} |")
    gone = f"{no_workers:.1f} s" if no_workers is not None else f"not within {IDLE_WAIT:.0f} s"
    gone = gone if kids else "– (no worker processes)"
    print(f"| tabs closed → no worker process left | {gone} | – | – |")
    print(f"| server and workers' memory after closing them | {memory(mem_after)} | – | – |")


if __name__ == "__main__":
    main()
