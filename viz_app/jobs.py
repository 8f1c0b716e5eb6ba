"""Training runs in the background: one per browser session, each in a process of its own.

    job = jobs.start(session_id, [settings_rnn, settings_lstm, settings_gru])   # LabError if refused
    job.pause(); job.resume(); job.stop()       # from the page's buttons
    job.view() -> Progress                      # a consistent copy for drawing, any time
    job.model(cell, step) -> lab.LabModel       # a snapshot, built from its files once
    jobs.reset(session_id)                      # stop it and forget it

A job is a worker process (`python -m cells.lab_worker`, see there for what goes over its
pipes) that steps the cells' `cells.lab.Trainer`s in turn, one step each, so their curves
advance together. A thread in the server would hold Python's GIL while it trains, and a
page's request would wait for it: five tabs training made a sixth tab's new sentence take
1.5 s (p95). The process runs torch on one thread at nice `NICE`, so a run takes at most
one core and the CPU goes to the pages' requests first.

In the server, a reader thread per job applies what the worker sends (history rows, held-out
losses, samples, notes, snapshot files) to the job under its lock; nothing is unpickled. A
job is "starting" until the worker's first record arrives (it imports torch: about 2 s). It
ends when every cell has run its steps, when stopped, on an error (shown on the page, never
raised into it; the worker dying says so), or within `WATCH` seconds of its session ending
(the tab closed): a watch thread asks Streamlit's runtime whether the session is still
there, tells the worker to stop, and kills it if it has not ended `KILL_AFTER` seconds
later. A worker also ends when its stdin closes, so none outlives a server that died.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from cells import lab, lab_worker

from .i18n import _, _n
from .sessions import session_alive

WATCH = 1.0  # seconds between checks that the session still exists
KILL_AFTER = 3.0  # seconds a worker told to stop has before it is killed
MAX_RUNS = 8  # runs training at once on one server: each worker process takes about 300 MB (torch), and a
# ninth would only share the same cores more thinly; the page says so and the tab starts once one ends
NICE = 19  # the worker processes' scheduling priority, the lowest: training takes only the CPU the pages leave
# (at nice 10, five runs still took a third of a core from a page drawing a new sentence on the same machine)
WORKER = [sys.executable, "-m", "cells.lab_worker"]  # the worker's command, the server's own interpreter
_JOBS: dict[str, Job] = {}  # by session: the job its page shows
_WORKERS: weakref.WeakSet[Job] = weakref.WeakSet()  # every job whose process may still run, shown or not
_LOCK = threading.Lock()  # guards _JOBS and _WORKERS


@dataclass(frozen=True)
class Progress:
    """What a page draws: copies, safe to read while the job goes on."""

    state: str  # "starting" | "running" | "paused" | "done" | "stopped" | "failed" | "closed"
    settings: tuple[lab.Settings, ...]
    histories: tuple[list[dict], ...]
    evals: tuple[list[tuple[int, float]], ...]
    samples: tuple[dict[int, str], ...]
    notes: tuple[str, ...]
    snapshot_steps: tuple[tuple[int, ...], ...]  # empty until the worker's first record
    seconds: float  # wall-clock seconds the job has been running (starting and pauses excluded)
    error: str

    @property
    def steps_done(self) -> int:
        return max((len(h) for h in self.histories), default=0)

    @property
    def steps_total(self) -> int:
        return max(s.steps for s in self.settings)


class Job:
    def __init__(self, session_id: str, settings: list[lab.Settings],
                 alive: Callable[[str], bool] = session_alive):
        settings = [lab.check(s) for s in settings]  # LabError before any process starts
        self.session_id, self.alive = session_id, alive
        self.state, self.error = "starting", ""
        # What the worker recorded, per cell. The runs' `snapshots` stay empty: the snapshots
        # are kept as their files (sidecar, weights), and `model` builds one when it is asked for.
        self.runs = [lab.Run(s) for s in settings]
        self.files: list[dict[int, tuple[bytes, bytes]]] = [{} for _ in settings]
        self._models: dict[tuple[int, int], lab.LabModel] = {}
        self._stopping = self._closing = False  # why the worker is ending, if we asked it to
        self._paused = threading.Event()  # the worker said it paused (or ended)
        self._ended = threading.Event()  # set once training has ended, however it ended
        self._gone = threading.Event()  # set by reset: the watch forgets the job and ends
        self._lock = threading.Lock()  # held while applying a record and while copying for a view
        self._active = 0.0  # seconds running before the current stretch
        self._since = time.perf_counter()
        self.proc = subprocess.Popen([*WORKER, "--nice", str(NICE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     start_new_session=True)  # its own CPU share: cells.lab_worker.lower_priority
        self._send({"settings": [dataclasses.asdict(s) for s in settings]})
        name = f"rnnscope-lab-{session_id[:8]}"
        self.reader = threading.Thread(target=self._read, name=f"{name}-read", daemon=True)
        self.watch = threading.Thread(target=self._watch, name=f"{name}-watch", daemon=True)
        self.reader.start()
        self.watch.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _send(self, message) -> None:
        """A line to the worker; nothing if it has ended (its pipe is closed)."""
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except (OSError, ValueError):  # it ended (a broken pipe), or close() closed its stdin
            pass

    # -- what the worker says (the reader thread) -------------------------------------------

    def _read(self) -> None:
        try:
            while (frame := lab_worker.read(self.proc.stdout)) is not None:
                message, payload = frame
                if message["kind"] == "round":
                    self._apply(message["cells"], payload)
                elif message["kind"] == "paused":
                    self._paused.set()
                elif message["kind"] == "end":
                    self._end(message["state"], message["error"])
        except (ValueError, KeyError, TypeError) as e:  # a bug on one side: end the run, say so
            self.proc.kill()
            self._end("failed", f"the training process sent a record the server cannot read ({e})")
        try:
            code = self.proc.wait(KILL_AFTER)  # its output ended: so does it
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._end("failed", _died(code, self.runs))  # unless it said how it ended

    def _apply(self, cells: list[dict], payload: bytes) -> None:
        at = 0
        with self._lock:
            for run, files, c in zip(self.runs, self.files, cells):
                run.history += c["history"]
                run.evals += [tuple(e) for e in c["evals"]]
                run.samples.update((k, v) for k, v in c["samples"])
                run.seconds += c["seconds"]
                run.note = c["note"]
                for step, n, m in c["snapshots"]:
                    files[step] = (payload[at : at + n], payload[at + n : at + n + m])
                    at += n + m
            if self.state == "starting":  # the first record: the clock starts now
                self.state, self._since = "running", time.perf_counter()

    def _end(self, state: str, error: str = "") -> None:
        with self._lock:
            if self._ended.is_set():
                return
            if self._closing:  # the tab closed, and we told the worker to stop (or killed it)
                state, error = "closed", ""
            elif self._stopping and state == "failed":  # killed after a stop it did not answer
                state, error = "stopped", ""
            self._pause_clock()
            self.state, self.error = state, error
        self._ended.set()
        self._paused.set()  # nobody waits for a pause that will not come

    # -- the session's end (the watch thread) -----------------------------------------------

    def _watch(self) -> None:
        while not self._gone.wait(WATCH):
            if not self.alive(self.session_id):
                if self.training:
                    self._closing = True
                    self._end_worker()
                break
        # The finished run stayed for its page (charts, snapshots) until the session ended or reset.
        _forget(self)

    def _end_worker(self, wait: float | None = None) -> None:
        """Tell the worker to stop and wait for it to end; kill it if it has not within `wait`
        seconds (default KILL_AFTER)."""
        self._stopping = True
        self._send("stop")
        try:
            self.proc.wait(KILL_AFTER if wait is None else wait)  # it exits once it has sent its last record
        except subprocess.TimeoutExpired:
            self.proc.kill()

    # -- the page's controls ------------------------------------------------------------------

    def _pause_clock(self) -> None:
        """Add the stretch since the last start or resume to the running time (once)."""
        if self.state == "running":
            self._active += time.perf_counter() - self._since

    def pause(self, wait: float = 5.0) -> None:
        """Pause after the step the worker is in; wait (at most `wait` s) until it says so, so
        that what `view` shows next is where it holds."""
        with self._lock:
            if self.state != "running":
                return
            self._pause_clock()
            self._paused.clear()
            self.state = "paused"
        self._send("pause")
        self._paused.wait(wait)

    def resume(self) -> None:
        with self._lock:
            if self.state == "paused":
                self._since = time.perf_counter()
                self.state = "running"
                self._send("resume")

    @property
    def training(self) -> bool:
        return self.state in ("starting", "running", "paused")

    def stop(self, wait: float = 5.0) -> None:
        """Ask the worker to end after the step it is in; wait for it (at most `wait` s)."""
        self._stopping = True
        self._send("stop")
        self._ended.wait(wait)

    def close(self, wait: float = 5.0) -> None:
        """Stop the run, end the worker (killed if it does not end within `wait` s) and the
        job's threads, waiting for them."""
        self._end_worker(wait)
        self._gone.set()
        with contextlib.suppress(OSError):  # its end of the pipe already gone
            self.proc.stdin.close()
        for t in (self.reader, self.watch):
            if t is not threading.current_thread():
                t.join(timeout=wait)

    # -- what the page reads ------------------------------------------------------------------

    def view(self) -> Progress:
        with self._lock:
            seconds = self._active + (time.perf_counter() - self._since if self.state == "running" else 0.0)
            return Progress(self.state, tuple(r.settings for r in self.runs), tuple(list(r.history) for r in self.runs),
                            tuple(list(r.evals) for r in self.runs), tuple(dict(r.samples) for r in self.runs),
                            tuple(r.note for r in self.runs), tuple(tuple(sorted(f)) for f in self.files), seconds,
                            self.error)

    def model(self, cell: int, step: int | None = None) -> lab.LabModel:
        """A cell's snapshot at `step` (None: its latest), built from its files once."""
        with self._lock:
            files = self.files[cell]
            step = max(files) if step is None else step
            if (cell, step) in self._models:
                return self._models[(cell, step)]
            side, blob = files[step]
        model = lab.from_files(side, blob, f"lab-{self.runs[cell].settings.kind}-step{step}")  # outside the lock
        with self._lock:
            return self._models.setdefault((cell, step), model)


def _died(code: int, runs: list[lab.Run]) -> str:
    """What the page says when the worker ended without saying how."""
    how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    step = max(len(r.history) for r in runs)
    return f"the training process ended unexpectedly ({how}) after step {step:,}"


def get(session_id: str) -> Job | None:
    with _LOCK:
        return _JOBS.get(session_id)


def start(session_id: str, settings: list[lab.Settings], alive: Callable[[str], bool] = session_alive) -> Job:
    """Start a session's run; LabError if its settings are refused, one is already running in
    the session, or MAX_RUNS are training on the server."""
    if not settings:
        raise lab.LabError(_("choose at least one cell to train"))
    with _LOCK:
        _refuse_second(session_id)
        if sum(j.training for j in _WORKERS) >= MAX_RUNS:
            raise lab.LabError(_n("the server is training {n} run already, its limit: start yours when it ends",
                                  "the server is training {n} runs already, its limit: start yours when one ends",
                                  MAX_RUNS))
        job = Job(session_id, settings, alive)  # starts the process (no torch import here): quick
        old = _JOBS.get(session_id)
        if old is not None:
            old._gone.set()  # the finished run it replaces
        _JOBS[session_id] = job
        _WORKERS.add(job)
    return job


def _refuse_second(session_id: str) -> None:
    old = _JOBS.get(session_id)
    if old is not None and old.training:
        raise lab.LabError(_("a run is already going in this tab: stop it first (one run per tab)"))


def reset(session_id: str) -> None:
    """Stop the session's run, if any, and forget it."""
    with _LOCK:
        job = _JOBS.pop(session_id, None)
    if job is not None:
        job.close()


def _forget(job: Job) -> None:
    with _LOCK:
        if _JOBS.get(job.session_id) is job:
            del _JOBS[job.session_id]


@atexit.register
def _stop_all() -> None:
    """At exit: tell every worker to stop, then end each (Job.close kills one that lingers)."""
    with _LOCK:
        js = list(_WORKERS)
    for j in js:
        j.stop(wait=0)  # all of them at once, then wait for each
    for j in js:
        j.close()


def sessions() -> list[str]:
    """The sessions that have a job (training or finished)."""
    with _LOCK:
        return list(_JOBS)


def count() -> tuple[int, int]:
    """(jobs training now, jobs kept) over every session."""
    with _LOCK:
        return sum(j.training for j in _JOBS.values()), len(_JOBS)
