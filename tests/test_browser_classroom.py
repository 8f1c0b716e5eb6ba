"""End to end in a real browser: a class's tabs come back after a network drop, each with its
own text and step (the issue's "sessions reconnecting at once after a network drop").

Five tabs of one Chromium on one server (started as `rnnscope` starts it, with an 8 s
`server.disconnectedSessionTTL`), reached through relay.DropProxy (tests/benchmarks). Each
tab opens the shared link, reads a sentence of its own and steps to a step of its own. Then
every tab goes offline and every connection is cut:
  - for 2 s, shorter than the TTL: every tab reconnects to its own session (the server
    counts five reconnects and no new session)
  - for 11 s, longer than the TTL: the sessions are gone, so each tab gets a new one
    (five new sessions, no reconnect)
and after each, every tab shows its own text, payload and step, steps (the step in its
address bar), and reads a new sentence at that step. While the network
is down, only the network's errors may appear (requests that fail, Streamlit's "cannot
reach the server"); before and after, none, and no exception box.
bench_classroom.py does the same with 50 tabs and measures it.
"""

from __future__ import annotations

import re
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
import bench_classroom as bc  # noqa: E402
from relay import DropProxy  # noqa: E402

from cells.cli import APP_FLAGS  # noqa: E402
from viz_app import testing  # noqa: E402

pytestmark = pytest.mark.browser
TABS, TTL = 5, 8
NETWORK_ERROR = re.compile(r"reaching server endpoint|Is Streamlit still running|WebSocket connection .* failed|"
                           r"ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_(REFUSED|RESET|CLOSED)")


class Tab:
    """A page with its own sentence and step, and the errors it has logged."""

    def __init__(self, i: int, page):
        self.i, self.page, self.round = i, page, 0
        self.errors, self.boxes = testing.page_errors(page), testing.exception_boxes(page)
        self.text, self.key, self.t = bc.SHARED, None, bc.SHARED_STEP

    def state(self) -> dict:
        return self.page.evaluate(bc.PAGE_STATE, [testing.SCOPE, bc.TEXT_BOX])

    def type_sentence(self) -> None:
        """Its next sentence typed and Enter pressed; drawn() waits for it."""
        self.round += 1
        self.text = bc.own_sentence(self.i, self.round)
        box = self.page.get_by_label(bc.TEXT_BOX)
        box.fill(self.text)
        box.press("Enter")
        self._was = f"{self.key}:{self.t}"

    def drawn(self, timeout: float = 60) -> None:
        testing.drawn_scope(self.page, timeout, after=self._was)
        self.key, t = testing.stamp(self.page)
        assert t == self.t, f"tab {self.i}: the new sentence was drawn at step {t}, not at {self.t}"

    def step_to(self, t: int) -> None:
        slider = self.page.locator(testing.SCOPE + " .rs-slider").first
        for _ in range(abs(t - self.t)):
            slider.press("ArrowRight" if t > self.t else "ArrowLeft")
        self.t = t
        testing.drawn_step(self.page, t, self.key)

    def wait_own(self, timeout: float = 15.0) -> None:
        """Its own text in every strip, the text box and the URL, its payload and step drawn,
        and its step in the URL (the page writes it at once, the server once the step reaches
        it): within `timeout` s."""
        deadline = time.perf_counter() + timeout
        while True:
            s = self.state()
            assert not bc.foreign(s, self.i), f"tab {self.i} shows another session's text: {s}"
            wrong = bc.not_own(s, self.text, self.key, self.t)
            q = urllib.parse.parse_qs(s["search"].lstrip("?"))
            if not bc.url_is_own(s["search"], self.text) or q.get("step") != [str(self.t)]:
                wrong.append(f"URL {urllib.parse.unquote_plus(s['search'])}")
            if not wrong:
                return
            assert time.perf_counter() < deadline, f"tab {self.i}: {wrong}"
            self.page.wait_for_timeout(200)


def every(tabs: list[Tab], *acts: str) -> None:
    """Each act (a Tab method's name) in every tab, then the next: the tabs work at once."""
    for act in acts:
        for tab in tabs:
            getattr(tab, act)()


def drop(ctx, net: DropProxy, tabs: list[Tab], seconds: float) -> list[str]:
    """Network down for `seconds` (offline, every connection cut), then back; once every tab
    is connected again, the errors logged meanwhile (taken out of each tab's list)."""
    marks = [len(tab.errors) for tab in tabs]
    ctx.set_offline(True)
    net.drop()
    time.sleep(seconds)
    net.restore()
    ctx.set_offline(False)
    for tab in tabs:
        tab.page.wait_for_function(bc.CONNECTED, timeout=60_000, polling=100)
    during = [e for tab, m in zip(tabs, marks) for e in tab.errors[m:]]
    for tab, m in zip(tabs, marks):
        del tab.errors[m:]
    return during


@pytest.fixture(scope="module")
def klass(artifacts):
    """A server with an 8 s session TTL behind a DropProxy, and five tabs of one Chromium,
    each with its own sentence and its own step: (server, proxy, context, tabs)."""
    command = [sys.executable, "-m", "streamlit", "run", str(testing.APP), *APP_FLAGS,
               "--server.disconnectedSessionTTL", str(TTL)]
    with testing.AppServer(command=command, log=artifacts / "classroom.log") as srv, DropProxy(srv.port) as net, \
            testing.browser() as ctx:
        srv.wait_healthy(60)
        tabs = [Tab(i, ctx.new_page()) for i in range(TABS)]
        for tab in tabs:
            tab.page.goto(bc.shared_url(net.url), wait_until="commit")  # the five load at once
        for tab in tabs:
            testing.drawn_scope(tab.page, 90)
            tab.key, tab.t = testing.stamp(tab.page)
            assert tab.t == bc.SHARED_STEP
        every(tabs, "wait_own", "type_sentence", "drawn", "wait_own")
        for tab in tabs:
            tab.step_to(tab.i + 1)  # each its own step
        every(tabs, "wait_own")
        yield srv, net, ctx, tabs


def no_errors(tabs: list[Tab]) -> None:
    for tab in tabs:
        assert not tab.boxes, f"tab {tab.i}: Streamlit exception box: {tab.boxes}"
        assert not tab.errors, f"tab {tab.i}: {tab.errors}"


def test_a_drop_shorter_than_the_ttl_resumes_every_session(browser_ready, klass):
    srv, net, ctx, tabs = klass
    before = bc.server_metrics(srv.url)
    during = drop(ctx, net, tabs, 2)
    after = bc.server_metrics(srv.url)
    assert not [e for e in during if not NETWORK_ERROR.search(e)], f"errors that are not the network's: {during}"
    assert {k: after[k] - before[k] for k in ("connect", "reconnect")} == {"connect": 0, "reconnect": TABS}
    every(tabs, "wait_own")  # its own text, payload and step, still
    for tab in tabs:
        tab.step_to(tab.t + 1)
    every(tabs, "wait_own", "type_sentence", "drawn", "wait_own")
    no_errors(tabs)


def test_a_drop_longer_than_the_ttl_gives_each_tab_a_new_session_with_its_own_text_and_step(browser_ready, klass):
    """Past the TTL the server has forgotten the sessions: each tab gets a new one and still
    shows its own text and step (the page keeps them), and the sentence typed next is read
    at the tab's own step (viz_app.sessions.sent_by_the_page: the new session's first run
    takes the text box's value and the component's step from the page, not from the URL).
    Streamlit 1.67's frontend asks a reconnected session for a run only when its last run
    was a fragment's (App.handleConnectionStateChanged: `fragmentIdsThisRun.length > 0`);
    after a sentence (a full run) the new session does not run, and the step the component
    reports (a fragment rerun) is dropped ("The fragment with id … does not exist anymore").
    So the component writes the step into the address bar itself (scope.js, stepInAddress),
    and the server has it at the next full run."""
    srv, net, ctx, tabs = klass
    every(tabs, "wait_own", "type_sentence", "drawn", "wait_own")  # the last run is a full one
    before = bc.server_metrics(srv.url)
    during = drop(ctx, net, tabs, TTL + 3)
    after = bc.server_metrics(srv.url)
    assert not [e for e in during if not NETWORK_ERROR.search(e)], f"errors that are not the network's: {during}"
    assert {k: after[k] - before[k] for k in ("connect", "reconnect")} == {"connect": TABS, "reconnect": 0}
    every(tabs, "wait_own")  # its own text, payload and step, still
    for tab in tabs:
        tab.step_to(tab.t + 1)
    every(tabs, "wait_own")  # the new step in the address bar: a reload or a copied address opens it
    every(tabs, "type_sentence", "drawn", "wait_own")  # its sentence, read at its step: the session is whole again
    no_errors(tabs)
