"""Benchmark: a classroom on one server, in real browsers (README, "Speed of the app").

    python tests/benchmarks/bench_classroom.py --sessions 50 --minutes 2 --ttl 120 --out /tmp/classroom-50
    python tests/benchmarks/bench_classroom.py --sessions 3 --minutes 0.3 --drop 5 --after 30   # a quick look

One server, started as `rnnscope` starts it (cells.cli's flags and environment) with
--server.disconnectedSessionTTL, reached through a relay that can pull the network cable
(relay.py, a process of its own); headless Chromium tabs as the students:
  0. warm-up: a tab in the nice-0 Chromium opens the shared link, steps and reads sentences
     alone (its latencies, the first round left out, are the reference) and closes; the
     server's memory after that is the baseline (models and views load once per server)
  1. --sessions tabs open the same shared link (Compare, trec, step 5), started evenly
     over 10 s, the --probes tabs last; with --first-visits each with its HTTP cache off
  2. for --minutes each tab loops: a few step key presses at a person's pace (key press ->
     drawn, testing.LATENCY_PROBE), a sentence of its own (its session number and round in
     it) and Enter (-> its new payload drawn, bench_app.ENTER_PROBE), then a pause (--pause)
  3. the network drops for --drop s (every context offline, every connection cut, as Wi-Fi
     going down) and comes back: each tab must reconnect and still show its own text and
     step, then step and read one more sentence
  4. the tabs close; the server's memory is read every 10 s for --after s; then one new tab
     visits (Streamlit 1.67 removes expired disconnected sessions only when another session
     disconnects) and the memory is read for 30 s more
The first --probes tabs each run in a Chromium of its own at nice 0 (students' machines:
their latencies are the ones the budgets are about; a tab behind another in one window is
throttled by Chromium, about 330 ms a step instead of 10); the others, the crowd, share
Chromium processes of --per-browser tabs with smaller pages, under SCHED_IDLE (or --crowd
nice: at nice 19, kept there without CAP_SYS_NICE, see chromium()), standing in for the
other students' machines: they must not take the CPU of the server or of the probes. Fifty
tabs of this app are more than two cores can paint, and all but one of each crowd
Chromium's tabs are behind another, so the crowd's own latencies measure this machine; the
server's CPU and the probes' latencies measure the app.

Checked in every tab throughout: console errors, page errors and failed requests
(testing.page_errors), Streamlit exception boxes, waits that time out, and that the token
strips, the text box, the URL and the drawn step are the tab's own (never another
session's). Errors while the network is down are listed apart; after it is back they count.
Memory is the VmRSS of the server and its children, read every second; /_stcore/metrics
says what the server holds (sessions, cache entries, media files) at each phase.

Writes <out>.md (the tables) and <out>.json (every figure and sample). Not a pytest test:
timings belong to a machine and to whatever else it runs (load averages are recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench_app  # noqa: E402
from relay import DropProxy  # noqa: E402

from cells.cli import APP_FLAGS  # noqa: E402
from viz_app import testing  # noqa: E402

TASK, SHARED_STEP = "trec", 5
SHARED = bench_app.SENTENCE  # the shared link's 30-token sentence
OWN = "when student s{i:02d} asked question q{r} in class , what did the teacher say about the {topic} and why ?"
TOPICS = ("river", "moon", "war", "king", "city", "music", "money", "weather", "ocean", "school", "film", "bridge")
OPEN_WINDOW = 10.0  # s over which the tabs open the shared link
STEPS_PER_ROUND = 5
STEP_GAP = (0.25, 0.6)  # s between one student's key presses
AFTER_STEPS = 0.6  # s after the last step before typing: the step goes back to the server first (REPORT_MS = 300)
STEP_TIMEOUT, ENTER_TIMEOUT, CONNECT_TIMEOUT = 120.0, 180.0, 300.0  # s; longer counts as an error (the crowd is slow)
CROWD_VIEWPORT = (1000, 800)  # smaller pages, less to paint for the tabs that stand in for other machines
OPEN_TIMEOUT = 600.0  # s: 50 tabs share this machine's 2 cores with the server, so they can be slow
ALONE_ROUNDS = 6  # of the warm-up tab, alone on the server before the class: its latencies are the reference
BUDGET = {"step": (80, 150), "enter_p95": 1500, "memory_back": 0.10, "memory_back_within": 300}
TEXT_BOX = "Text (press Enter to read it)"

# What a tab shows: the drawn stamp, every token strip, the text box, the URL, Streamlit's
# connection and script state (data attributes of stApp).
PAGE_STATE = """([scope, label]) => {
  const root = document.querySelector(scope), app = document.querySelector('[data-testid="stApp"]');
  const w = [...document.querySelectorAll('[data-testid="stTextInput"]')].find((e) => e.innerText.includes(label));
  const box = w ? w.querySelector("input") : null;
  return {
    drawn: root ? root.dataset.drawn || null : null,
    strips: [...document.querySelectorAll(scope + ' .rs-strip .rs-tokens')].map(
      (b) => [...b.querySelectorAll('.rs-tok')].map((s) => s.textContent)),
    box: box ? box.value : null,
    search: location.search,
    conn: app ? app.dataset.testConnectionState || null : null,
    script: app ? app.dataset.testScriptState || null : null,
  };
}"""
EXCEPTION_WATCH = testing._EXCEPTION_WATCH  # one observer for the tests and the benchmarks
# When each payload reached the page (its "rnnscope:drawn" detail): Enter -> received is the
# server's part (and the network's), received -> drawn the browser's.
RECEIVED_PROBE = """() => { window.__rx = {};
  window.addEventListener('rnnscope:drawn', (e) => { if (e.detail.receivedAt === undefined) return;
    const key = e.detail.stamp.slice(0, e.detail.stamp.lastIndexOf(':'));
    window.__rx[key] = performance.timeOrigin + e.detail.receivedAt; }); }"""
# Streamlit's own connection and script state: connected again, and no run under way.
CONNECTED = """() => { const a = document.querySelector('[data-testid="stApp"]');
  return a && a.dataset.testConnectionState === 'CONNECTED' && a.dataset.testScriptState !== 'running'; }"""
MARKER = re.compile(r"\bs(\d{2})\b")  # a session's number in its sentences (OWN)


def own_sentence(i: int, r: int) -> str:
    return OWN.format(i=i, r=r, topic=TOPICS[(i + r) % len(TOPICS)])


def shared_url(base: str) -> str:
    return base + "?" + urllib.parse.urlencode({"task": TASK, "text": SHARED, "step": SHARED_STEP})


def not_own(state: dict, text: str, key: str | None = None, t: int | None = None) -> list[str]:
    """What in a tab's state (PAGE_STATE) is not its own text (and payload key, step): [] if all is."""
    tokens, out = text.split(), []
    if not state["strips"]:
        out.append("no token strip")
    for strip in state["strips"]:
        if not any(strip == tokens[lo:lo + len(strip)] for lo in range(max(1, len(tokens) - len(strip) + 1))):
            out.append(f"token strip shows {' '.join(strip)!r}")
    if state["box"] != text:
        out.append(f"text box holds {state['box']!r}")
    if key is not None and state["drawn"] and state["drawn"].rsplit(":", 1)[0] != key:
        out.append(f"drawn payload {state['drawn']} is not {key}")
    if t is not None and state["drawn"] and int(state["drawn"].rsplit(":", 1)[1]) != t:
        out.append(f"drawn step {state['drawn']} is not {t}")
    return out


def url_is_own(search: str, text: str) -> bool:
    q = urllib.parse.parse_qs(search.lstrip("?"))
    return q.get("text", [None])[0] == text and q.get("task", [None])[0] == TASK


def foreign(state: dict, i: int) -> set[int]:
    """The other sessions whose sentences a tab's state shows any part of."""
    seen = " ".join([*(" ".join(s) for s in state["strips"]), state["box"] or "",
                     urllib.parse.unquote_plus(state["search"])])
    return {int(m) for m in MARKER.findall(seen)} - {i}


# -- the server's side: memory, CPU, what it holds -------------------------------------------

def process_tree(pid: int) -> list[int]:
    """pid and all its descendants (the lab's worker processes, should any run)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in (task / "children").read_text().split()]
    return out


def rss_cpu(pid: int) -> tuple[float, float]:
    """(VmRSS in MB, user + system CPU seconds) of the process and its descendants."""
    rss = cpu = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, AttributeError):
            rss += int(re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{p}/status").read_text(), re.M).group(1)) / 1024
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return rss, cpu


def available_mb() -> float:
    return int(re.search(r"^MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M).group(1)) / 1024


class Sampler:
    """Every second in a thread: (seconds since start, phase, server RSS MB, server CPU
    seconds, machine's available MB, 1-min load average)."""

    def __init__(self, pid: int):
        self.pid, self.phase, self.samples = pid, "start", []
        self.t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            rss, cpu = rss_cpu(self.pid)
            self.samples.append((round(time.perf_counter() - self.t0, 2), self.phase, round(rss, 1), round(cpu, 2),
                                 round(available_mb()), os.getloadavg()[0]))
            self._stop.wait(1.0)

    def mark(self, phase: str) -> float:
        self.phase = phase
        return time.perf_counter() - self.t0

    def during(self, *phases: str) -> list[tuple]:
        return [s for s in self.samples if s[1] in phases]

    def now(self) -> float:
        return rss_cpu(self.pid)[0]


def server_metrics(base: str) -> dict:
    """What /_stcore/metrics says: sessions (active, events) and per cache its entries
    (or bytes with --server.enableExpensiveMemoryStats), media files' bytes."""
    text = urllib.request.urlopen(base + "_stcore/metrics", timeout=30).read().decode()
    out: dict = {"caches": {}}
    for line in text.splitlines():
        if m := re.match(r'session_events_total\{type="(\w+)"\} (\d+)', line):
            out[m.group(1)] = int(m.group(2))
        elif m := re.match(r"active_sessions (\d+)", line):
            out["active"] = int(m.group(1))
        elif m := re.match(r'cache_memory_bytes\{cache_type="(\w+)"(?:,cache="([^"]*)")?\} (\d+)', line):
            name = f"{m.group(1)}:{(m.group(2) or '').rsplit('.', 1)[-1]}".rstrip(":")
            out["caches"][name] = out["caches"].get(name, 0) + int(m.group(3))
    return out


# -- the students ------------------------------------------------------------------------------

class Student:
    """One tab: what it saw, measured and got wrong."""

    def __init__(self, i: int, page, probe: bool):
        self.i, self.page, self.probe = i, page, probe
        self.errors = testing.page_errors(page)  # (works on an async page: it only adds listeners)
        self.boxes: list[str] = []
        self.steps: list[float] = []
        self.enters: list[float] = []
        self.enters_server: list[float] = []  # Enter -> the payload in the page
        self.violations: list[str] = []  # another session's text or state, or not its own
        self.timeouts: list[str] = []
        self.notes: list[str] = []  # the step not kept across a new sentence (a race, not a leak)
        self.open_ms: float | None = None
        self.text, self.key, self.t, self.T, self.round = SHARED, None, SHARED_STEP, 0, 0
        self.drop_errors: list[str] = []
        self.reconnect_s: float | None = None

    async def watch(self) -> None:
        await self.page.expose_function("__rsExceptionBox", lambda text: self.boxes.append(text))
        await self.page.add_init_script(EXCEPTION_WATCH)

    async def state(self) -> dict:
        return await self.page.evaluate(PAGE_STATE, [testing.SCOPE, TEXT_BOX])

    async def check_own(self, where: str, t: int | None = None, wait: float = 10.0) -> None:
        """The tab shows its own text (strips, text box, URL) and payload (and step t), within
        `wait` s (the text box and the URL may follow the drawing by a moment); any sight of
        another session's sentence is a violation at once."""
        deadline = time.perf_counter() + wait
        while True:
            s = await self.state()
            if others := foreign(s, self.i):
                self.violations.append(f"tab {self.i} {where}: shows session(s) {sorted(others)}: {s}")
                return
            wrong = not_own(s, self.text, self.key, t)
            if not url_is_own(s["search"], self.text):
                wrong.append(f"URL {urllib.parse.unquote_plus(s['search'])!r}")
            if not wrong or time.perf_counter() > deadline:
                self.violations += [f"tab {self.i} {where}: {w}" for w in wrong]
                return
            await asyncio.sleep(0.25)

    async def sync(self) -> None:
        """Take the drawn payload and step as this tab's."""
        s = await self.state()
        if s["drawn"]:
            self.key, t = s["drawn"].rsplit(":", 1)
            self.t = int(t)
            self.T = int(await self.page.locator(testing.SCOPE + " .rs-slider").first.get_attribute("max")) + 1

    async def resync(self) -> None:
        """After an error (a wait that timed out): once the page has settled, take what it
        shows as this tab's, its text too when the strips show a whole sentence of its own
        (a sentence typed before the error may be read later, when the box loses focus)."""
        with contextlib.suppress(Exception):
            await self.page.wait_for_function(CONNECTED, timeout=ENTER_TIMEOUT * 1000, polling=200)
        await asyncio.sleep(2)
        await self.sync()
        strips = (await self.state())["strips"]
        text = " ".join(strips[0]) if strips else ""
        if text != self.text and (text == SHARED or MARKER.findall(text) == [f"{self.i:02d}"]):
            self.notes.append(f"tab {self.i}: after an error it shows its own {text!r}, taken as its text")
            self.text = text

    async def open(self, url: str, delay: float, no_cache: bool) -> None:
        await asyncio.sleep(delay)
        cdp = None
        if no_cache:
            cdp = await self.page.context.new_cdp_session(self.page)
            await cdp.send("Network.enable")
            await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        t0 = time.perf_counter()
        try:
            await self.page.goto(url, timeout=OPEN_TIMEOUT * 1000)
            await self.page.wait_for_function(
                f"() => {{ const e = document.querySelector({testing.SCOPE!r}); return e && e.dataset.drawn; }}",
                timeout=OPEN_TIMEOUT * 1000, polling=20)
            self.open_ms = (time.perf_counter() - t0) * 1000
            await self.sync()
            await self.page.evaluate(testing.LATENCY_PROBE)
            await self.page.evaluate(bench_app.ENTER_PROBE)
            await self.page.evaluate(RECEIVED_PROBE)
            if self.t != SHARED_STEP:
                self.violations.append(f"tab {self.i} opened at step {self.t}, not the link's {SHARED_STEP}")
            await self.check_own("on opening the shared link")
        except Exception as e:  # noqa: BLE001  (a tab that fails is counted, the class goes on)
            self.timeouts.append(f"tab {self.i} opening: {type(e).__name__}: {str(e)[:200]}")
        finally:
            if cdp is not None:
                await cdp.detach()

    async def step(self) -> None:
        key = "ArrowLeft" if self.t >= self.T - 1 else "ArrowRight"
        n0 = await self.page.evaluate("window.__t0 = null; window.__lat.length")  # an Enter's press is not a step
        await self.page.locator(testing.SCOPE + " .rs-slider").first.press(key, timeout=STEP_TIMEOUT * 1000)
        await self.page.wait_for_function(f"window.__lat.length > {n0}", timeout=STEP_TIMEOUT * 1000, polling=10)
        self.steps.append(await self.page.evaluate(f"window.__lat[{n0}]"))
        self.t += 1 if key == "ArrowRight" else -1

    async def new_sentence(self) -> None:
        self.round += 1
        text, old = own_sentence(self.i, self.round), self.key
        await self.page.evaluate("window.__drawn = []")
        box = self.page.get_by_label(TEXT_BOX)
        await box.fill(text, timeout=ENTER_TIMEOUT * 1000)
        await box.press("Enter", timeout=ENTER_TIMEOUT * 1000)
        await self.page.wait_for_function(
            "(key) => window.__drawn.some((d) => !d[0].startsWith(key + ':'))", arg=old,
            timeout=ENTER_TIMEOUT * 1000, polling=10)
        stamp, at = (await self.page.evaluate("(key) => window.__drawn.find((d) => !d[0].startsWith(key + ':'))",
                                              old))[:2]
        pressed, received = await self.page.evaluate(
            "(key) => [window.__enterAt, window.__rx[key]]", stamp.rsplit(":", 1)[0])
        self.enters.append(at - pressed)
        self.enters_server.append(received - pressed)
        self.text = text
        before = self.t
        await self.sync()
        if self.t != min(before, self.T - 1):
            self.notes.append(f"tab {self.i}: new sentence drawn at step {self.t}, not {min(before, self.T - 1)}")
        await self.check_own(f"after its sentence {self.round}")

    async def work(self, until: float, pause: float, rng: random.Random) -> None:
        """Rounds of steps, a sentence and a pause, until `until` (perf_counter)."""
        while time.perf_counter() < until and self.key is not None:
            try:
                await self.check_own("before a round")
                for _ in range(STEPS_PER_ROUND):
                    await self.step()
                    await asyncio.sleep(rng.uniform(*STEP_GAP))
                key, t = (await self.state())["drawn"].rsplit(":", 1)
                if (key, int(t)) != (self.key, self.t):
                    self.violations.append(f"tab {self.i}: stepped to {self.key}:{self.t}, drawn {key}:{t}")
                await asyncio.sleep(AFTER_STEPS)
                await self.new_sentence()
            except Exception as e:  # noqa: BLE001
                self.timeouts.append(f"tab {self.i} round {self.round}: {type(e).__name__}: {str(e)[:200]}")
                await self.resync()
            await asyncio.sleep(rng.uniform(0.5 * pause, 1.5 * pause))

    async def reconnect(self, restored: float) -> None:
        """After the network is back: connected again, its own text and step still shown,
        then a step and a sentence work."""
        try:
            await self.page.wait_for_function(CONNECTED, timeout=CONNECT_TIMEOUT * 1000, polling=100)
            self.reconnect_s = time.perf_counter() - restored
            self.drop_errors, self.errors[:] = list(self.errors[self._mark:]), self.errors[:self._mark]
            await self.check_own("after the drop", self.t)
            await self.step()
            await self.new_sentence()
        except Exception as e:  # noqa: BLE001
            self.timeouts.append(f"tab {self.i} after the drop: {type(e).__name__}: {str(e)[:200]}")

    def mark_drop(self) -> None:
        self._mark = len(self.errors)


# -- browsers ----------------------------------------------------------------------------------

async def chromium(pw, tmp: str, name: str, nice: int = 0, idle: bool = False,
                   viewport: tuple[int, int] = (1500, 1300)):
    """A headless Chromium (one process tree, one context) as testing.browsers starts it, at
    `nice`, or with `idle` under SCHED_IDLE (testing.chromium_executable)."""
    exe = testing.chromium_executable(tmp, name, nice, idle)
    return await pw.chromium.launch_persistent_context(
        os.path.join(tmp, f"profile-{name}"), executable_path=exe, headless=True, args=testing.CHROMIUM_ARGS,
        viewport={"width": viewport[0], "height": viewport[1]})


async def visit(ctx, base: str, i: int, rounds: int = 1) -> Student:
    """One tab (numbered i) alone: the shared link, then rounds of 5 steps and a sentence,
    closed (the warm-up, which measures a tab alone; the late visitor)."""
    page = await ctx.new_page()
    s = Student(i, page, probe=True)
    await s.watch()
    await s.open(shared_url(base), 0, no_cache=False)
    for _ in range(rounds):
        for _ in range(STEPS_PER_ROUND):
            await s.step()
            await asyncio.sleep(STEP_GAP[0])
        await asyncio.sleep(AFTER_STEPS)
        await s.new_sentence()
        await asyncio.sleep(bench_app.SETTLE_MS / 1000)
    await page.close()
    if s.timeouts or s.violations or s.errors or s.boxes:
        raise RuntimeError(f"a single visit failed: {s.timeouts + s.violations + s.errors + s.boxes}")
    return s


async def run(args) -> dict:
    flags = ["--server.disconnectedSessionTTL", str(args.ttl), *args.flag]
    command = [*(["env", *args.env] if args.env else []), sys.executable, "-m", "streamlit", "run", str(args.app),
               *APP_FLAGS, *flags]
    out: dict = {"sessions": args.sessions, "minutes": args.minutes, "ttl": args.ttl, "pause": args.pause,
                 "drop": args.drop, "first_visits": args.first_visits, "crowd": args.crowd,
                 "probes": min(args.probes, args.sessions),
                 "per_browser": args.per_browser, "server_flags": flags, "server_env": args.env, "app": str(args.app),
                 "cpus": os.cpu_count(),
                 "load_before": os.getloadavg(), "available_mb_before": round(available_mb())}
    rng = random.Random(0)
    with testing.AppServer(command=command, log=args.log) as srv, DropProxy(srv.port) as net, \
            tempfile.TemporaryDirectory(prefix="rnnscope-classroom-") as tmp:
        srv.wait_healthy(60)
        out["server_pid"] = srv.proc.pid
        base = net.url
        with Sampler(srv.proc.pid) as mem:
            from playwright.async_api import async_playwright

            async with async_playwright() as pw:
                mark = {"cold": mem.mark("cold")}
                await asyncio.sleep(3)
                out["rss_cold"] = mem.now()
                probes = min(args.probes, args.sessions)
                probe_ctxs = [await chromium(pw, tmp, f"probe-{k}", 0) for k in range(max(1, probes))]
                mem.mark("warm-up")
                alone = await visit(probe_ctxs[0], base, 98, rounds=ALONE_ROUNDS)
                out["alone_steps_ms"] = alone.steps[STEPS_PER_ROUND:]  # the first round warms the tab up
                out["alone_enters_ms"], out["alone_enters_server_ms"] = alone.enters[1:], alone.enters_server[1:]
                mark["baseline"] = mem.mark("baseline")
                await asyncio.sleep(10)  # the warm-up session's end, its threads gone
                base_samples = [s[2] for s in mem.samples[-5:]]
                out["rss_baseline"] = statistics.median(base_samples)
                out["metrics_baseline"] = server_metrics(srv.url)

                crowd = [await chromium(pw, tmp, f"crowd-{k}", 19, args.crowd == "idle", CROWD_VIEWPORT)
                         for k in range(math.ceil((args.sessions - probes) / args.per_browser))]
                students = [Student(i, await probe_ctxs[i].new_page(), probe=True) for i in range(probes)]
                for i in range(probes, args.sessions):
                    students.append(Student(i, await crowd[(i - probes) // args.per_browser].new_page(), probe=False))
                for s in students:
                    await s.watch()

                mark["open"] = mem.mark("open")
                t_open = time.perf_counter()
                order = [*rng.sample(students[probes:], len(students) - probes), *students[:probes]]  # probes last
                await asyncio.gather(*(s.open(shared_url(base), k * OPEN_WINDOW / max(1, args.sessions - 1),
                                              args.first_visits) for k, s in enumerate(order)))
                out["all_open_s"] = time.perf_counter() - t_open

                mark["load"] = mem.mark("load")
                out["load_at_load"] = os.getloadavg()
                cpu0, t0 = rss_cpu(srv.proc.pid)[1], time.perf_counter()
                until = t0 + args.minutes * 60
                await asyncio.gather(*(s.work(until, args.pause, random.Random(s.i)) for s in students))
                out["load_seconds"] = time.perf_counter() - t0
                out["server_cpu_load"] = (rss_cpu(srv.proc.pid)[1] - cpu0) / out["load_seconds"]
                out["load_after_load"] = os.getloadavg()
                out["metrics_peak"] = server_metrics(srv.url)

                if args.drop:
                    mark["drop"] = mem.mark("drop")
                    for s in students:
                        s.mark_drop()
                    m0 = server_metrics(srv.url)
                    for ctx in (*probe_ctxs, *crowd):
                        await ctx.set_offline(True)
                    net.drop()
                    await asyncio.sleep(args.drop)
                    net.restore()
                    for ctx in (*probe_ctxs, *crowd):
                        await ctx.set_offline(False)
                    mark["reconnect"] = mem.mark("reconnect")
                    await asyncio.gather(*(s.reconnect(time.perf_counter()) for s in students))
                    m1 = server_metrics(srv.url)
                    out["drop_sessions"] = {k: m1.get(k, 0) - m0.get(k, 0)
                                            for k in ("connect", "reconnect", "disconnect")}

                mark["closed"] = mem.mark("closed")
                t_closed = time.perf_counter()
                for s in students:
                    await s.page.close()
                for ctx in crowd:
                    await ctx.close()
                after: list[tuple[float, float]] = []
                while (waited := time.perf_counter() - t_closed) < args.after:
                    await asyncio.sleep(min(10.0, args.after - waited))
                    after.append((round(time.perf_counter() - t_closed), round(mem.now(), 1)))
                out["metrics_after"] = server_metrics(srv.url)
                mark["revisit"] = mem.mark("revisit")
                await visit(probe_ctxs[0], base, 99)
                revisit: list[tuple[float, float]] = []
                for _ in range(3):
                    await asyncio.sleep(10)
                    revisit.append((round(time.perf_counter() - t_closed), round(mem.now(), 1)))
                out["metrics_revisit"] = server_metrics(srv.url)
                for ctx in probe_ctxs:
                    await ctx.close()
            mem.mark("end")
        out["rss_after_close"], out["rss_after_revisit"] = after, revisit
        out["memory"] = mem.samples
        out["marks"] = mark
    out["load_after"] = os.getloadavg()
    out["students"] = [{"i": s.i, "probe": s.probe, "open_ms": s.open_ms, "steps_ms": s.steps, "enters_ms": s.enters,
                        "enters_server_ms": s.enters_server,
                        "rounds": s.round, "errors": s.errors, "exception_boxes": s.boxes, "timeouts": s.timeouts,
                        "violations": s.violations, "notes": s.notes, "drop_errors": s.drop_errors,
                        "reconnect_s": s.reconnect_s} for s in students]
    return out


# -- the report ----------------------------------------------------------------------------------

def p95(xs: list[float]) -> float:
    return bench_app.p95(xs) if xs else math.nan


def phase_cpu(samples: list, phase: str) -> float:
    """The server's CPU use during a phase, from the per-second samples (1.0 = one core)."""
    xs = [m for m in samples if m[1] == phase]
    return (xs[-1][3] - xs[0][3]) / (xs[-1][0] - xs[0][0]) if len(xs) > 1 else math.nan


def summary(r: dict) -> dict:
    """The figures the table shows, from run()'s record."""
    st = r["students"]
    probe = [s for s in st if s["probe"]]
    every = lambda k: [x for s in st for x in s[k]]  # noqa: E731
    opened = [s["open_ms"] for s in st if s["open_ms"] is not None]
    load = [m for m in r["memory"] if m[1] in ("open", "load", "drop", "reconnect")]
    peak = max((m[2] for m in load), default=math.nan)
    base = r["rss_baseline"]
    within = next((t for t, mb in r["rss_after_close"] if mb <= base * (1 + BUDGET["memory_back"])), None)
    sentences = sum(len(s["enters_ms"]) for s in st)
    return {
        "opened": len(opened), "open_median_ms": statistics.median(opened) if opened else math.nan,
        "probe_open_ms": [s["open_ms"] for s in probe if s["open_ms"] is not None],
        "server_cpu_open": phase_cpu(r["memory"], "open"),
        "open_p95_ms": p95(opened), "open_max_ms": max(opened, default=math.nan),
        "probe_steps": [x for s in probe for x in s["steps_ms"]],
        "probe_enters": [x for s in probe for x in s["enters_ms"]],
        "steps": every("steps_ms"), "enters": every("enters_ms"), "enters_server": every("enters_server_ms"),
        "probe_enters_server": [x for s in probe for x in s["enters_server_ms"]],
        "sentences_per_s": sentences / r["load_seconds"],
        "errors": every("errors"), "boxes": every("exception_boxes"), "timeouts": every("timeouts"),
        "violations": every("violations"), "notes": every("notes"), "drop_errors": every("drop_errors"),
        "reconnected": [s["reconnect_s"] for s in st if s["reconnect_s"] is not None],
        "rss_peak": peak, "per_session_mb": (peak - base) / r["sessions"], "back_within_s": within,
        "min_available_mb": min((m[4] for m in r["memory"]), default=math.nan),
        "load_during": [m[5] for m in load],
    }


def markdown(r: dict) -> str:
    s, n, base = summary(r), r["sessions"], r["rss_baseline"]
    probes = "tab 0" if r["probes"] == 1 else f"tabs 0–{r['probes'] - 1}"
    med = lambda xs: statistics.median(xs) if xs else math.nan  # noqa: E731
    yes = lambda ok: "yes" if ok else "**no**"  # noqa: E731
    ms = lambda xs: f"{med(xs):.0f} median, {p95(xs):.0f} p95 (n={len(xs)})"  # noqa: E731
    step_ok = lambda xs: bool(xs) and med(xs) <= BUDGET["step"][0] and p95(xs) <= BUDGET["step"][1]  # noqa: E731
    enter_ok = lambda xs: bool(xs) and p95(xs) <= BUDGET["enter_p95"]  # noqa: E731
    load = s["load_during"]
    after = ", ".join(f"{mb:.0f} MB at {t // 60:.0f}:{t % 60:02.0f}" for t, mb in r["rss_after_close"][2::6]) or "–"
    revisit = r["rss_after_revisit"][-1][1] if r["rss_after_revisit"] else math.nan
    lines = [
        f"{n} sessions for {r['minutes']:g} min, one server (`--server.disconnectedSessionTTL {r['ttl']}`"
        + (f", {' '.join(r['server_env'])}" if r["server_env"] else "") + f"), {r['cpus']} CPUs; "
        f"each tab: {STEPS_PER_ROUND} step key presses {STEP_GAP[0]}–{STEP_GAP[1]} s apart, then its own "
        f"20-token sentence, then a pause of {0.5 * r['pause']:g}–{1.5 * r['pause']:g} s; "
        f"load average (1 min) {r['load_before'][0]:.1f} before, {min(load, default=math.nan):.1f}–"
        f"{max(load, default=math.nan):.1f} during, {r['load_after'][0]:.1f} after; "
        f"the machine's available memory never below {s['min_available_mb'] / 1024:.1f} GB\n",
        "| measure | value | budget | met |",
        "|---|---|---|---|",
        f"| tabs opened the shared link, started over {OPEN_WINDOW:.0f} s "
        f"({'first visits' if r['first_visits'] else 'returning visitors'}): first chart drawn | "
        f"{s['opened']} of {n}; {s['open_median_ms'] / 1000:.1f} s median, {s['open_p95_ms'] / 1000:.1f} s p95, "
        f"{s['open_max_ms'] / 1000:.1f} s max; all drawn {r['all_open_s']:.1f} s after the first started; {probes}, "
        f"opened last: {', '.join(f'{x / 1000:.1f}' for x in s['probe_open_ms'])} s; server CPU meanwhile "
        f"{s['server_cpu_open']:.0%} | – | – |",
        f"| step key press → drawn, one tab alone before the class (the same Chromium) | {ms(r['alone_steps_ms'])} | "
        f"≤ 80 / ≤ 150 | {yes(step_ok(r['alone_steps_ms']))} |",
        f"| new sentence (Enter) → its columns drawn, one tab alone | {ms(r['alone_enters_ms'])}; the payload in the "
        f"page after {ms(r['alone_enters_server_ms'])} | p95 ≤ 1500 | {yes(enter_ok(r['alone_enters_ms']))} |",
        f"| step key press → drawn, {probes} (each in a Chromium of its own, nice 0) | {ms(s['probe_steps'])} | "
        f"≤ 80 / ≤ 150 | "
        f"{yes(step_ok(s['probe_steps']))} |",
        f"| step key press → drawn, all {n} tabs (the others: {math.ceil((n - r['probes']) / r['per_browser'])} "
        f"Chromiums {'under SCHED_IDLE' if r.get('crowd') == 'idle' else 'at nice 19'} on the server's 2 cores) | "
        f"{ms(s['steps'])} | ≤ 80 / ≤ 150 | "
        f"{yes(step_ok(s['steps']))} |",
        f"| new sentence (Enter) → its columns drawn, {probes} | {ms(s['probe_enters'])}; "
        f"the payload in the page after "
        f"{ms(s['probe_enters_server'])} | p95 ≤ 1500 | "
        f"{yes(enter_ok(s['probe_enters']))} |",
        f"| new sentence (Enter) → its columns drawn, all tabs | {ms(s['enters'])}; the payload in the page after "
        f"{ms(s['enters_server'])}; {s['sentences_per_s']:.1f} "
        f"sentences/s read by the server | p95 ≤ 1500 | {yes(enter_ok(s['enters']))} |",
        f"| server CPU during the {r['minutes']:g} min (100 % = one core) | {r['server_cpu_load']:.0%} | – | – |",
        f"| console errors, page errors, failed requests · exception boxes · waits timed out | "
        f"{len(s['errors'])} · {len(s['boxes'])} · {len(s['timeouts'])} | 0 | "
        f"{yes(not (s['errors'] or s['boxes'] or s['timeouts']))} |",
        f"| a tab showing text or a state not its own (token strips, text box, URL, drawn payload and step) | "
        f"{len(s['violations'])} | 0 | {yes(not s['violations'])} |",
        f"| server memory: cold · baseline (after one visit) · peak | {r['rss_cold']:.0f} · {base:.0f} · "
        f"{s['rss_peak']:.0f} MB | – | – |",
        f"| memory per extra session, (peak − baseline) / {n} | {s['per_session_mb']:.1f} MB | – | – |",
        f"| memory after the tabs closed | {after} | within 10 % of baseline ({base * 1.1:.0f} MB) in 5 min | "
        f"{yes(s['back_within_s'] is not None and s['back_within_s'] <= BUDGET['memory_back_within'])}"
        + (f" ({s['back_within_s']} s)" if s["back_within_s"] is not None else "") + " |",
        f"| … then one new visit (it reaps the expired sessions) | {revisit:.0f} MB 30 s later | – | – |",
    ]
    if r["drop"]:
        rc = s["reconnected"]
        ds = r.get("drop_sessions", {})
        kinds = sorted({re.sub(r"\d+", "#", e.split(": ", 1)[-1])[:90] for e in s["drop_errors"]})
        lines.append(
            f"| network down {r['drop']:g} s for every tab, then back: reconnected, own text and step shown, a step "
            f"and a sentence drawn | {len(rc)} of {n} reconnected, {med(rc):.1f} s median, "
            f"{max(rc, default=math.nan):.1f} s max; "
            f"sessions resumed {ds.get('reconnect', 0)}, new {ds.get('connect', 0)} | all, errors after: 0 | "
            f"{yes(len(rc) == n and not s['violations'] and not s['timeouts'] and not s['errors'])} |")
        lines.append(f"\nWhile the network was down the tabs logged {len(s['drop_errors'])} errors, of these kinds: "
                     + ("; ".join(kinds) if kinds else "none") + ".")
    m = {k: r.get(f"metrics_{k}", {}) for k in ("baseline", "peak", "after", "revisit")}
    lines.append("\nWhat the server holds (/_stcore/metrics: active sessions; cache entries, or bytes with "
                 "enableExpensiveMemoryStats; media bytes): " + "; ".join(
                     f"{k}: {v.get('active', '?')} active, "
                     + ", ".join(f"{c} {b:,}" for c, b in sorted(v['caches'].items()))
                     for k, v in m.items() if v))
    for what in ("errors", "boxes", "timeouts", "violations", "notes"):
        if s[what]:
            lines.append(f"\n{what} ({len(s[what])}), the first five:\n"
                         + "\n".join(f"- {e[:300]}" for e in s[what][:5]))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--ttl", type=int, default=120, help="server.disconnectedSessionTTL, seconds")
    ap.add_argument("--pause", type=float, default=8.0, help="mean seconds a student pauses after each sentence")
    ap.add_argument("--drop", type=float, default=20.0, help="seconds the network is down (0: no drop)")
    ap.add_argument("--after", type=float, default=300.0, help="seconds to watch the memory after the tabs close")
    ap.add_argument("--probes", type=int, default=2,
                    help="tabs in the nice-0 Chromium, whose latencies are the budgets'")
    ap.add_argument("--per-browser", type=int, default=10, help="tabs per Chromium process of the crowd")
    ap.add_argument("--crowd", choices=("idle", "nice"), default="idle",
                    help="the crowd's Chromiums under SCHED_IDLE (default: they take only CPU time the server and "
                         "the probes leave) or at nice 19")
    ap.add_argument("--first-visits", action="store_true",
                    help="each tab opens with its HTTP cache off, as a first visit (default: the tabs of one Chromium "
                         "share its cache, as returning visitors)")
    ap.add_argument("--flag", action="append", default=[],
                    help="another server option, e.g. --flag=--server.enableExpensiveMemoryStats=true")
    ap.add_argument("--env", action="append", default=[],
                    help="a variable of the server's environment, e.g. --env MALLOC_ARENA_MAX=2")
    ap.add_argument("--app", type=Path, default=testing.APP,
                    help="the app to serve, e.g. a patched copy to measure a change before making it (with "
                         "--env PYTHONPATH=<the copy's parent>)")
    ap.add_argument("--log", type=Path, help="the server's log")
    ap.add_argument("--out", type=Path, default=Path("classroom"), help="writes OUT.md and OUT.json")
    args = ap.parse_args()
    r = asyncio.run(run(args))
    text = markdown(r)
    print(text)
    args.out.with_suffix(".md").write_text(text + "\n")
    args.out.with_suffix(".json").write_text(json.dumps({**r, "summary": summary(r)}, default=str))


if __name__ == "__main__":
    main()
