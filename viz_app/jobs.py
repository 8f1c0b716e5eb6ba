"""Training runs in the background: one per browser session, off the script thread.

    job = jobs.start(session_id, [settings_rnn, settings_lstm, settings_gru])   # LabError if refused
    job.pause(); job.resume(); job.stop()       # from the page's buttons
    job.view() -> Progress                      # a consistent copy for drawing, any time
    jobs.reset(session_id)                      # stop it and forget it

A job is a worker thread that steps the cells' `cells.lab.Trainer`s in turn, one step
each, so their curves advance together. It holds the trainers; the session's
`session_state` holds only which settings the controls show. torch runs with one
thread (set once for the process: the app's own computing is numpy), so a run takes at
most one core whatever else the server does, and on Linux the worker runs at nice `NICE`,
so the CPU goes to the pages' requests first. A job ends when every cell has run its
steps, when stopped, on an error (shown on the page, never raised into it), or within
`WATCH` seconds of its session ending (the tab closed): the worker asks Streamlit's
runtime whether the session is still there.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import torch

from cells import lab

from .sessions import session_alive

WATCH = 1.0  # seconds between checks that the session still exists
NICE = 10  # the worker threads' scheduling priority (Linux): pages are served before training steps
_JOBS: dict[str, Job] = {}  # by session: the job its page shows
_WORKERS: weakref.WeakSet[Job] = weakref.WeakSet()  # every job whose thread may still run, shown or not
_LOCK = threading.Lock()  # guards _JOBS and _WORKERS


@dataclass(frozen=True)
class Progress:
    """What a page draws: copies, safe to read while the job goes on."""

    state: str  # "running" | "paused" | "done" | "stopped" | "failed" | "closed"
    settings: tuple[lab.Settings, ...]
    histories: tuple[list[dict], ...]
    evals: tuple[list[tuple[int, float]], ...]
    samples: tuple[dict[int, str], ...]
    notes: tuple[str, ...]
    snapshot_steps: tuple[tuple[int, ...], ...]
    seconds: float  # wall-clock seconds the job has been running (pauses excluded)
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
        self.trainers = [lab.Trainer(lab.check(s)) for s in settings]  # LabError before any thread starts
        self.session_id, self.alive = session_id, alive
        self.state, self.error = "running", ""
        self._running = threading.Event()  # set while not paused
        self._running.set()
        self._stop = threading.Event()
        self._gone = threading.Event()  # set by reset: the worker forgets the job and ends
        self._ended = threading.Event()  # set once training has ended, however it ended
        self._lock = threading.Lock()  # held while stepping and while copying for a view
        self._active = 0.0  # seconds running before the current stretch
        self._since = time.perf_counter()
        self.native_id: int | None = None  # the worker's thread id, once it runs
        self.thread = threading.Thread(target=self._work, name=f"rnnscope-lab-{session_id[:8]}", daemon=True)

    def _work(self) -> None:
        torch.set_num_threads(1)
        self.native_id = threading.get_native_id()
        try:  # on Linux a thread has its own nice value: training yields the CPU to requests
            os.setpriority(os.PRIO_PROCESS, self.native_id, NICE)
        except (AttributeError, OSError):  # elsewhere the run shares the CPU evenly
            pass
        try:
            self._end(self._train())
        except Exception as e:  # a bug or an exhausted machine: say so on the page, keep the snapshots
            self.error = f"{type(e).__name__}: {e}"
            self._end("failed")
        # The finished run stays for its page (charts, snapshots) until the session ends or resets.
        while not self._gone.wait(WATCH) and self.alive(self.session_id):
            pass
        _forget(self)

    def _train(self) -> str:
        """Step the trainers in turn until they are done; how it ended."""
        checked = time.perf_counter()
        while not self._stop.is_set() and not all(t.done for t in self.trainers):
            if time.perf_counter() - checked > WATCH:
                checked = time.perf_counter()
                if not self.alive(self.session_id):
                    return "closed"
            if not self._running.wait(timeout=WATCH):
                continue
            with self._lock:
                if not self._running.is_set() or self._stop.is_set():  # paused or stopped while it waited
                    continue
                for t in self.trainers:
                    if not t.done:
                        t.step()
        return "stopped" if self._stop.is_set() else "done"

    def _end(self, state: str) -> None:
        with self._lock:
            if state in ("stopped", "closed"):
                for t in self.trainers:
                    t.stop()
            self._pause_clock()
            self.state = state
        self._ended.set()

    def _pause_clock(self) -> None:
        """Add the stretch since the last start or resume to the running time (once)."""
        if self.state == "running":
            self._active += time.perf_counter() - self._since

    def pause(self) -> None:
        with self._lock:
            if self.state == "running":
                self._pause_clock()
                self._running.clear()
                self.state = "paused"

    def resume(self) -> None:
        with self._lock:
            if self.state == "paused":
                self._since = time.perf_counter()
                self._running.set()
                self.state = "running"

    @property
    def training(self) -> bool:
        return self.state in ("running", "paused")

    def stop(self, wait: float = 5.0) -> None:
        """Ask the worker to end after the step it is in; wait for it (at most `wait` s)."""
        self._stop.set()
        self._running.set()  # a paused worker must wake to end
        if threading.current_thread() is not self.thread:
            self._ended.wait(wait)

    def close(self, wait: float = 5.0) -> None:
        """Stop the run and end the worker thread, waiting for it: a torch thread still ending
        as the process exits aborts the process (a test run showed it)."""
        self.stop(wait)
        self._gone.set()
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout=wait)

    def view(self) -> Progress:
        with self._lock:
            runs = [t.run for t in self.trainers]
            seconds = self._active + (time.perf_counter() - self._since if self.state == "running" else 0.0)
            return Progress(self.state, tuple(r.settings for r in runs), tuple(list(r.history) for r in runs),
                            tuple(list(r.evals) for r in runs), tuple(dict(r.samples) for r in runs),
                            tuple(r.note for r in runs), tuple(tuple(r.snapshots) for r in runs), seconds, self.error)

    def model(self, cell: int, step: int | None = None) -> lab.LabModel:
        """A cell's snapshot at `step` (None: its latest)."""
        with self._lock:
            snaps = self.trainers[cell].run.snapshots
            return snaps[max(snaps) if step is None else step]


def get(session_id: str) -> Job | None:
    with _LOCK:
        return _JOBS.get(session_id)


def start(session_id: str, settings: list[lab.Settings], alive: Callable[[str], bool] = session_alive) -> Job:
    """Start a session's run; LabError if its settings are refused or one is already running."""
    if not settings:
        raise lab.LabError("choose at least one cell to train")
    _refuse_second(session_id)
    job = Job(session_id, settings, alive)  # builds the models (and reads the lyrics): outside the lock
    with _LOCK:
        _refuse_second(session_id)  # again: another click may have started one meanwhile
        old = _JOBS.get(session_id)
        if old is not None:
            old._gone.set()  # the finished run it replaces
        _JOBS[session_id] = job
        _WORKERS.add(job)
    job.thread.start()
    return job


def _refuse_second(session_id: str) -> None:
    old = _JOBS.get(session_id)
    if old is not None and old.training:
        raise lab.LabError("a run is already going in this tab: stop it first (one run per tab)")


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
    """At exit: end every worker between two steps and wait for it (Job.close)."""
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
