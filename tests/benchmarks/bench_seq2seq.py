"""Benchmark the Seq2seq view in headless Chromium and print a markdown table (README).

    python tests/benchmarks/bench_seq2seq.py [--sources 10] [--steps 40] [--repeat 20]

RNN | LSTM | GRU encoder–decoders, sources of exactly 30 characters (dates of the test
split written as "Wednesday, September 23rd 1987"), each one new to the server:
  1. new source (Enter) -> all three columns drawn, greedy decoding (median, p95)
  2. the same with beam search of width 5
  3. step key press -> every chart updated (median, p95)
  4. the server's share of 1 and 2: the three translations, the payload built and
     encoded, in this process (median of --repeat)
  5. for reference, on the same machine at the same time: the Compare view's new
     30-token sentence (bench_app.py's measure, budget 400 ms), so that figures taken
     on a busy machine can be read against one whose budget is known

"Drawn" is the component's `rnnscope:drawn` event for the new payload, fired after the
next paint; the Enter is the key event's own timestamp (viz_app.testing's probes).
Not a pytest test: timings belong to a machine, not to a pass/fail.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import bench_app  # beside this script (run from this folder): the Compare view's sentences and measure
from cells import dates, load_model
from viz_app import testing
from viz_app.component import payload
from viz_app.component import seq2seq as s2s

LENGTH = 30  # characters per source
BUDGET = {"greedy": 500, "beam": 1000, "step": (80, 150)}
SOURCE_BOX = "Source: a date, written any way (press Enter to read it)"
BEAM_BOX = "Beam width (1 = greedy, up to 16)"
ENTER_PROBE = """() => { window.__enterAt = null; window.__drawn = [];
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter') window.__enterAt = performance.timeOrigin + e.timeStamp; }, true);
  window.addEventListener('rnnscope:drawn', e => window.__drawn.push([e.detail.stamp, e.detail.at])); }"""


def sources(n: int, skip: int = 0) -> list[str]:
    """n different 30-character dates of the test split (none seen in training), after the first `skip`."""
    out: list[str] = []
    for d in dates.split_dates()["test"]:
        s = f"{dates.WEEKDAYS[d.weekday()]}, {dates.MONTHS[d.month - 1]} {dates.ordinal(d.day)} {d.year}"
        if len(s) == LENGTH:
            out.append(s)
        if len(out) == n + skip:
            return out[skip:]
    raise ValueError(f"only {len(out)} sources of {LENGTH} characters")


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]


def enter(page, box, text: str) -> float:
    """Type `text` into `box`, press Enter; ms from the key press to the new payload drawn."""
    key, _ = testing.stamp(page)
    page.evaluate("window.__drawn = []")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(f"window.__drawn.some(d => !d[0].startsWith('{key}'))", timeout=60_000, polling=10)
    at = page.evaluate(f"window.__drawn.find(d => !d[0].startsWith('{key}'))[1]")
    return at - page.evaluate("window.__enterAt")


def enter_times(page, texts: list[str]) -> list[float]:
    box = page.get_by_role("textbox", name=SOURCE_BOX)
    out = []
    for s in texts:
        out.append(enter(page, box, s))
        page.wait_for_timeout(400)  # the step report and the fragment's rerun settle
    return out


def server_share(texts: list[str], beam: int, repeat: int) -> float:
    """Median ms for the server's work on a new source: three translations, the payload built and encoded."""
    models = [load_model(n) for n in s2s.MODEL_NAMES.values()]
    times = []
    for i in range(repeat):
        text = texts[i % len(texts)]
        t0 = time.perf_counter()
        payload.encode(s2s.seq2seq_doc(models, s2s.read(models, text, beam)))
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", type=int, default=10)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    greedy_texts, beam_texts = sources(args.sources), sources(args.sources, skip=args.sources)
    load_before = os.getloadavg()[0]
    with testing.browser() as ctx, testing.AppServer() as srv:
        srv.wait_healthy()
        page = ctx.new_page()
        page.goto(srv.url + "seq2seq")
        testing.drawn_scope(page, timeout=120)
        page.evaluate(ENTER_PROBE)
        enter(page, page.get_by_role("textbox", name=SOURCE_BOX), "Saturday, December 31st 2044")  # warm-up
        page.wait_for_timeout(500)
        greedy = enter_times(page, greedy_texts)
        page.locator(testing.SCOPE + " .rs-controls").click(position={"x": 1, "y": 1})  # no field has the focus
        steps = testing.step_latencies(page, args.steps)
        enter(page, page.get_by_role("spinbutton", name=BEAM_BOX), "5")  # the page now searches with width 5
        page.wait_for_timeout(500)
        beam = enter_times(page, beam_texts)
        page.goto(bench_app.url(srv, "trec", bench_app.SENTENCE))
        testing.drawn_scope(page, timeout=120)
        page.wait_for_timeout(bench_app.SETTLE_MS)
        compare = bench_app.enter_times(page, bench_app.SENTENCES[: args.sources])
    share = {k: server_share(t, k, args.repeat) for k, t in ((1, greedy_texts), (5, beam_texts))}

    def row(what: str, xs: list[float], budget, p95_budget=None) -> str:
        med = statistics.median(xs)
        ok = med <= budget and (p95_budget is None or p95(xs) <= p95_budget)
        b = f"≤ {budget} / ≤ {p95_budget}" if p95_budget else f"≤ {budget}"
        return f"| {what} | {med:.0f} | {p95(xs):.0f} | {b} | {len(xs)} | {'yes' if ok else '**no**'} |"

    print(f"Seq2seq view, RNN | LSTM | GRU, sources of {LENGTH} characters (e.g. «{greedy_texts[0]}»); times in ms; "
          f"{os.cpu_count()} CPUs, load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")
    print("| measure | median | p95 | budget (median / p95) | n | met |")
    print("|---|---|---|---|---|---|")
    print(row("new source (Enter) → three columns drawn, greedy", greedy, BUDGET["greedy"]))
    print(row("new source (Enter) → three columns drawn, beam width 5", beam, BUDGET["beam"]))
    print(row("step key press → every chart updated", steps, *BUDGET["step"]))
    print(row("for reference: Compare view, new 30-token sentence (Enter) → three columns updated", compare,
              bench_app.BUDGET["enter"]))
    print(f"\nthe server's share (three translations, payload built and encoded), median of {args.repeat}: "
          f"greedy {share[1]:.0f} ms, beam width 5 {share[5]:.0f} ms")


if __name__ == "__main__":
    main()
