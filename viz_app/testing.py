"""Drive the app in a real browser: used by tests/test_browser.py and the benchmark.

    with AppServer() as srv, browser() as ctx:
        page = ctx.new_page(); page.goto(srv.url)
        frame = stepper_frame(page)

The server is `streamlit run` on a free localhost port, started from a temporary
working directory (the app must not rely on the cwd) and stopped by its own PID.
The browser is Debian's /usr/bin/chromium driven by Playwright's Python package.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from cells.cli import APP_FLAGS

APP = Path(__file__).parent / "app.py"
CHROMIUM = os.environ.get("RNNSCOPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STEPPER = "viz_app.stepper.stepper"  # the stepper component's name, in its iframe's URL


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


def assert_no_errors(at) -> None:
    """No exception and no st.error on the page."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def component_payload(at) -> dict:
    """The JSON payload the page's one browser component received."""
    import json

    (comp,) = at.get("component_instance")
    return json.loads(json.loads(comp.proto.json_args)["payload"])


def page_errors(page) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
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
            cwd=self._cwd.name, stdout=out, stderr=subprocess.STDOUT,
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
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="rnnscope-chromium-") as tmp, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            user_data_dir or tmp, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 1300})
        try:
            yield ctx
        finally:
            ctx.close()


def stepper_frame(page, timeout: float = 30.0):
    """The stepper's iframe, once it has drawn a step."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for f in page.frames:
            if STEPPER in f.url:
                with contextlib.suppress(Exception):
                    if f.evaluate("document.body && document.body.dataset.drawn || ''"):
                        return f
        page.wait_for_timeout(20)
    raise TimeoutError("the stepper never drew a step")


# Installed in the stepper frame: the latency from each key press (the event's own
# timestamp) to the next "rnnscope:drawn" event, which fires after the following paint.
LATENCY_PROBE = """() => {
  window.__lat = []; window.__t0 = null;
  document.addEventListener('keydown', e => { window.__t0 = performance.timeOrigin + e.timeStamp; }, true);
  window.addEventListener('rnnscope:drawn', e => {
    if (window.__t0 !== null) { window.__lat.push(e.detail.at - window.__t0); window.__t0 = null; }
  });
}"""


def step_latencies(frame, n: int = 40) -> list[float]:
    """Press → (← once at the last step, and so on) on the step slider n times, each after
    the previous step was drawn; returns the n latencies in ms."""
    frame.evaluate(LATENCY_PROBE)
    slider = frame.locator("#step")
    slider.focus()
    key = "ArrowRight"
    for _ in range(n):
        t, last = frame.evaluate("[+document.getElementById('step').value, +document.getElementById('step').max]")
        key = "ArrowLeft" if t >= last else "ArrowRight" if t <= 0 else key
        before = frame.evaluate("window.__lat.length")
        slider.press(key)
        frame.wait_for_function(f"window.__lat.length > {before}", timeout=5000, polling=10)
        frame.wait_for_timeout(30)
    return frame.evaluate("window.__lat")
