"""Drive the app in a real browser (tests/test_browser*.py and the benchmarks), and in AppTest.

    with AppServer() as srv, browser() as ctx:
        page = ctx.new_page(); page.goto(srv.url)
        scope = drawn_scope(page)              # the component, once it has drawn a step

The server is `streamlit run` on a free localhost port, started from a temporary
working directory (the app must not rely on the cwd) and stopped by its own PID.
The browser is Debian's /usr/bin/chromium driven by Playwright's Python package.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

from cells.cli import APP_ENV, APP_FLAGS

APP = Path(__file__).parent / "app.py"
CHROMIUM = os.environ.get("RNNSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCOPE = '[data-testid="rs-scope"]'  # the browser component's root element


def app_test(widgets: dict | None = None, timeout: float = 120, **params):
    """The app run once in Streamlit's AppTest with these URL query parameters; when
    `widgets` (key -> value) is given, they are set and the app runs again."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=timeout)
    for k, v in params.items():
        at.query_params[k] = str(v)
    at.run()
    if widgets:
        for key, value in widgets.items():
            at.session_state[key] = value
        at.run()
    return at


def share_link(at, run=None) -> str:
    """The link in the sidebar's "Share this view" expander, which is made only while the
    expander is open: asserts it is not made while closed, opens it, reads the link and
    closes it again. `run` reruns the app (default at.run)."""
    run = run or at.run
    assert not at.sidebar.code
    at.session_state["share_open"] = True
    run()
    (code,) = [c.value for c in at.sidebar.code]
    at.session_state["share_open"] = False
    run()
    return code


def shown(markdown: str) -> str:
    """The text Streamlit displays for markdown made by `checks.plain` (the escapes undone)."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("\\\n", "\n"))


def said(at, levels: tuple[str, ...] = ("info", "warning", "error")) -> list[str]:
    """What the page's messages say, as the user reads them."""
    return [shown(m.value) for level in levels for m in getattr(at, level)]


def assert_no_errors(at) -> None:
    """No exception and no st.error on the page."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def component_data(at, which: int = 0) -> dict:
    """What the page's browser component (its `which`-th mount) received: {key, payload, start}
    or a patch {update_for, patches}."""
    import json

    mounts = [json.loads(e.proto.json) for e in at.get("bidi_component") if e.proto.component_name == "rnnscope.scope"]
    return [m for m in mounts if not m.get("preload")][which]  # the sidebar's plotly.js preload draws nothing


def mounted(at) -> bool:
    """Whether the page mounted the component with a payload (not just the plotly.js preload)."""
    return any("payload" in e.proto.json for e in at.get("bidi_component"))


def component_payload(at) -> dict:
    """The payload (the parsed envelope) the page's browser component received."""
    import json

    return json.loads(component_data(at)["payload"])


def report_step(at, t: int) -> None:
    """What scope.js sends after the user stepped to t (AppTest cannot run it): then rerun."""
    at.session_state["scope"] = {"step": [component_data(at)["key"], t]}
    at.run()


def plotly_array(v) -> np.ndarray:
    """A plotly JSON array as numpy: a list, or plotly's base64 {dtype, bdata, shape}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=v["dtype"])
        return a.reshape([int(s) for s in str(v.get("shape", a.size)).split(",")])
    return np.asarray(v, dtype=float)


def page_errors(page) -> list[str]:
    """A list that fills with the page's console errors, uncaught exceptions and failed requests.

    Opened on a view's own path (/cell), Streamlit's frontend first probes /cell/_stcore/health
    and /cell/_stcore/host-config to find the server's base path; those 404s are expected.
    Other failed responses are errors (the console reports them without their address)."""
    errors: list[str] = []
    probe = re.compile(r"/[^/]+/_stcore/(health|host-config)$")

    def response(r) -> None:
        if r.status >= 400 and not (r.status == 404 and probe.search(r.url.split("?")[0])):
            errors.append(f"HTTP {r.status}: {r.url}")

    page.on("console", lambda m: errors.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("response", response)
    return errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


class AppServer:
    """`streamlit run viz_app/app.py` on a free port; `started` is time.perf_counter() at launch."""

    def __init__(self, port: int | None = None, log: Path | None = None, command: list[str] | None = None):
        """command: how to start the app, default `python -m streamlit run viz_app/app.py`
        with the project's flags; e.g. ["rnnscope"] to test the console command."""
        self.command = command
        self.port = port or free_port()
        self.url = f"http://localhost:{self.port}/"
        self.log = log
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    def __enter__(self) -> "AppServer":
        self._cwd = tempfile.TemporaryDirectory(prefix="rnnscope-cwd-")
        self.log = Path(self.log) if self.log else None
        out = self._out = open(self.log, "wb") if self.log else subprocess.DEVNULL
        self.started = time.perf_counter()
        cmd = self.command or [sys.executable, "-m", "streamlit", "run", str(APP), *APP_FLAGS]  # as `rnnscope` starts it
        self.proc = subprocess.Popen(
            [*cmd, "--server.port", str(self.port), "--server.fileWatcherType", "none"],
            cwd=self._cwd.name, stdout=out, stderr=subprocess.STDOUT, env={**APP_ENV, **os.environ},
        )
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log and self.log.exists() else ""
                raise RuntimeError(f"the app exited with code {self.proc.returncode}:\n{tail}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url + "_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return
            time.sleep(0.05)
        raise TimeoutError(f"streamlit did not answer on {self.url} within {timeout} s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # our own child, by its PID
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.log:
            self._out.close()
        self._cwd.cleanup()


@contextlib.contextmanager
def browser(user_data_dir: str | None = None):
    """A headless Chromium context (Playwright), closed on exit."""
    with browsers(1, user_data_dir) as (ctx,):
        yield ctx


def chromium_executable(folder: str, name: str, nice: int = 0, idle: bool = False) -> str:
    """The Chromium to launch: CHROMIUM itself, or a script in `folder` that starts it at
    `nice` (with `idle`, under SCHED_IDLE: only CPU time nothing else wants). Run as root,
    Chromium sets its threads' nice values itself (0, and -8 for its display and I/O
    threads), undoing `nice`; without CAP_SYS_NICE it cannot, so the script drops it.
    Playwright starts Chromium in a session of its own, and Linux's autogroup scheduling
    gives each session an equal share of the CPU whatever its processes' nice values: the
    script lowers its session's share too (/proc/self/autogroup, where the kernel has it)."""
    if not nice and not idle:
        return CHROMIUM
    exe = os.path.join(folder, f"chromium-{name}")
    keep = "setpriv --bounding-set=-sys_nice --inh-caps=-sys_nice " if os.geteuid() == 0 else ""
    group = f"echo {19 if idle else int(nice)} 2>/dev/null >/proc/self/autogroup\n"
    with open(exe, "w") as f:
        f.write(f'#!/bin/sh\n{group}exec {keep}{"chrt --idle 0 " if idle else ""}nice -n {int(nice)} {CHROMIUM} "$@"\n')
    os.chmod(exe, 0o755)
    return exe


@contextlib.contextmanager
def browsers(n: int, user_data_dir: str | None = None, nices: tuple[int, ...] = ()):
    """n headless Chromium contexts from one Playwright (it allows one per thread); the i-th
    runs at scheduling priority nices[i] if given (a benchmark's background tabs, standing
    in for browsers on other machines)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="rnnscope-chromium-") as tmp, sync_playwright() as p, \
            contextlib.ExitStack() as stack:
        ctxs = []
        for i in range(n):
            executable = chromium_executable(tmp, f"nice-{i}", nices[i] if i < len(nices) else 0)
            ctx = p.chromium.launch_persistent_context(
                user_data_dir if user_data_dir and i == 0 else os.path.join(tmp, f"profile-{i}"),
                executable_path=executable, headless=True, args=CHROMIUM_ARGS, viewport={"width": 1500, "height": 1300})
            stack.callback(ctx.close)
            ctxs.append(ctx)
        yield tuple(ctxs)


def drawn_scope(page, timeout: float = 30.0, after: str | None = None):
    """The component's root (a Playwright locator) once it has drawn a step; with `after`,
    once it has drawn something other than that stamp ("key:t")."""
    scope = page.locator(SCOPE).first
    cond = "(e) => e.dataset.drawn" + (f" && e.dataset.drawn !== {after!r}" if after else "")
    page.wait_for_function(f"() => {{ const e = document.querySelector({SCOPE!r}); return e && ({cond})(e); }}",
                           timeout=timeout * 1000, polling=20)
    return scope


def stamp(page) -> tuple[str, int]:
    """(payload key, step) of what the component drew last."""
    key, step = page.locator(SCOPE).first.get_attribute("data-drawn").rsplit(":", 1)
    return key, int(step)


# Installed in the page: the latency from each key press (the event's own timestamp) to
# the next "rnnscope:drawn" event, which fires after the following paint.
LATENCY_PROBE = """() => {
  window.__lat = []; window.__t0 = null;
  document.addEventListener('keydown', e => { window.__t0 = performance.timeOrigin + e.timeStamp; }, true);
  window.addEventListener('rnnscope:drawn', e => {
    if (window.__t0 !== null) { window.__lat.push(e.detail.at - window.__t0); window.__t0 = null; }
  });
}"""


def step_latencies(page, n: int = 40) -> list[float]:
    """Press → (← once at the last step, and so on) on the step slider n times, each after
    the previous step was drawn; returns the n latencies in ms."""
    page.evaluate(LATENCY_PROBE)
    slider = page.locator(SCOPE + " .rs-slider").first
    slider.focus()
    key = "ArrowRight"
    for _ in range(n):
        t, last = int(slider.input_value()), int(slider.get_attribute("max"))
        key = "ArrowLeft" if t >= last else "ArrowRight" if t <= 0 else key
        before = page.evaluate("window.__lat.length")
        slider.press(key)
        page.wait_for_function(f"window.__lat.length > {before}", timeout=5000, polling=10)
        page.wait_for_timeout(30)
    return page.evaluate("window.__lat")


# -- for the browser tests: one server and one browser per test module, a page per test -------

PNG_BUTTON = '.modebar-btn[data-title="Download plot as a PNG"]'  # plotly's modebar camera

# Installed in every document of a page: reports each Streamlit exception box once, even
# one that a rerun or a navigation removes before the test looks.
_EXCEPTION_WATCH = """(() => {
  const seen = new WeakSet();
  new MutationObserver(() => document.querySelectorAll('[data-testid="stException"]').forEach((e) => {
    if (seen.has(e)) return;
    seen.add(e);
    window.__rsExceptionBox(e.textContent || "(an empty exception box)");
  })).observe(document, { childList: true, subtree: true });
})();"""


def exception_boxes(page) -> list[str]:
    """A list that fills with the text of every Streamlit exception box the page shows."""
    boxes: list[str] = []
    page.expose_function("__rsExceptionBox", lambda text: boxes.append(text))
    page.add_init_script(_EXCEPTION_WATCH)
    return boxes


class Session:
    """An AppServer and a browser shared by a test module, both started on first use
    (a test that skips for want of Chromium starts neither).

        with Session(artifacts, "compare") as app, app.tab() as page:
            page.goto(app.url("cell", task="trec"))

    A tab fails its test on any page error (page_errors) or exception box. The server's
    log is <artifacts>/<name>.log."""

    def __init__(self, artifacts: Path, name: str):
        self.artifacts, self.name = Path(artifacts), name
        self._stack = contextlib.ExitStack()
        self.srv = self.ctx = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def start(self) -> None:
        if self.ctx is None:
            self.srv = self._stack.enter_context(AppServer(log=self.artifacts / f"{self.name}.log"))
            self.ctx = self._stack.enter_context(browser())
            self.srv.wait_healthy()

    def url(self, path: str = "", **query) -> str:
        """The address of a view (its path: "", "cell", …) with these query parameters."""
        import urllib.parse

        self.start()
        return self.srv.url + path + ("?" + urllib.parse.urlencode(query) if query else "")

    @contextlib.contextmanager
    def tab(self):
        self.start()
        page = self.ctx.new_page()
        errors, boxes = page_errors(page), exception_boxes(page)
        try:
            yield page
            assert not boxes, "Streamlit exception box:\n" + "\n".join(boxes)
            assert not errors, "\n".join(errors)
        finally:
            page.close()


def drawn_step(page, t: int, key: str | None = None, timeout: float = 10.0) -> None:
    """Wait until the component has drawn step t (of the payload `key`, when given)."""
    page.wait_for_function(
        """([sel, t, key]) => {
          const s = (document.querySelector(sel) || { dataset: {} }).dataset.drawn || "", i = s.lastIndexOf(":");
          return i > 0 && +s.slice(i + 1) === t && (key === null || s.slice(0, i) === key);
        }""", arg=[SCOPE, t, key], timeout=timeout * 1000, polling=20)


RUNNING = '[data-testid="stStatusWidgetRunningIcon"]'


def settled(page, quiet_ms: int = 700, timeout: float = 30.0) -> None:
    """Wait until no script run is going on: Streamlit's running icon has stayed away for
    quiet_ms (a run just started by a click may show it a moment later)."""
    page.evaluate("() => { window.__quietFrom = null; }")
    page.wait_for_function(
        """([sel, quiet]) => {
          const now = performance.now();
          if (document.querySelector(sel)) { window.__quietFrom = null; return false; }
          if (window.__quietFrom === null) window.__quietFrom = now;
          return now - window.__quietFrom >= quiet;
        }""", arg=[RUNNING, quiet_ms], timeout=timeout * 1000, polling=50)


def download(page, button, timeout: float = 20.0, tries: int = 3) -> tuple[str, bytes]:
    """Click `button` (a locator) once the app has settled and return the file it downloads:
    (suggested name, bytes). A rerun that replaces the button under the click (a step
    reported late, a slow machine) costs a try, not the test."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    def attempt() -> tuple[str, bytes]:
        settled(page)
        with page.expect_download(timeout=timeout * 1000) as dl:
            button.click(timeout=timeout * 1000)
        return dl.value.suggested_filename, Path(dl.value.path()).read_bytes()

    for _ in range(tries - 1):
        try:
            return attempt()
        except PlaywrightTimeout:
            pass
    return attempt()


def check_trace_csv(page, model_name: str, text: str, pick: str | None = None) -> str:
    """Download the CSV from the view's "Download the traces" expander (choosing the model
    labelled `pick` first) and assert it holds cells.load_model(model_name).analyze(text)'s
    trace: its tokens and the h of every layer and direction, to float32 precision.
    Returns the file's name."""
    import numpy as np

    import cells
    from cells import export

    box = page.locator('[data-testid="stExpander"]', has_text="Download the traces (JSON, NPZ, CSV)")
    box.get_by_text("Download the traces (JSON, NPZ, CSV)").click()
    if pick:
        box.get_by_text(pick, exact=True).click()
    name, data = download(page, box.get_by_role("button", name="CSV"))
    back, a = export.read_csv(data), cells.load_model(model_name).analyze(text)
    assert back.tokens == list(a.tokens)
    assert set(back.arrays) == {(lt.layer, lt.direction) for lt in a.trace.layers}
    for lt in a.trace.layers:
        np.testing.assert_allclose(back.get("h", lt.layer, lt.direction), lt.h, rtol=1e-5, atol=1e-6)
    return name


def plots_without_png_button(page) -> int:
    """How many of the component's plotly charts lack the modebar's PNG button."""
    return page.locator(SCOPE + " .rs-plot").evaluate_all(
        f"(gds) => gds.filter((g) => !g.querySelector({PNG_BUTTON!r})).length")


def browser_fixtures(name: str):
    """The pytest fixtures of a browser test module: `app`, a Session for the module (its
    server log <artifacts>/<name>.log), and `page`, a tab of it for each test, opened once
    conftest's browser_ready has passed. In the module: `app, page = browser_fixtures(name)`."""
    import pytest

    @pytest.fixture(scope="module")
    def app(artifacts):
        with Session(artifacts, name) as session:
            yield session

    @pytest.fixture
    def page(browser_ready, app):
        with app.tab() as tab:
            yield tab

    return app, page


def save_step_latencies(page, path: Path, n: int = 20) -> None:
    """Step n times with the slider's own arrow keys, each step drawn (step_latencies waits
    for it), and write the latencies to `path` (JSON): speed is the benchmarks' business,
    not a test's."""
    import json
    import statistics

    lat = step_latencies(page, n)
    assert len(lat) == n
    Path(path).write_text(json.dumps({"median_ms": statistics.median(lat), "all_ms": lat}))
