"""Background training (viz_app/jobs.py): one run per session, off the calling thread; pause,
resume, stop, reset; a closed session ends its run; a failure is reported, not raised."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
import torch

from cells import lab
from viz_app import jobs

SMALL = dict(task="copy", hidden_size=8, batch_size=8, T=3)


def settings(steps: int, **kw) -> list[lab.Settings]:
    return [lab.Settings(kind=k, steps=steps, **{**SMALL, **kw}) for k in ("rnn", "lstm", "gru")]


def until(cond, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@pytest.fixture
def session(request):
    sid = f"test-{request.node.name}"
    yield sid
    jobs.reset(sid)


def test_a_job_trains_the_cells_in_turn_off_the_calling_thread(session):
    job = jobs.start(session, settings(30))
    assert job.thread is not threading.current_thread()
    until(lambda: job.state == "done")
    p = job.view()
    assert p.steps_done == p.steps_total == 30 and [len(h) for h in p.histories] == [30] * 3
    # Stepped in turn, each cell's history is what it gives trained alone.
    alone = lab.train(**{**SMALL, "kind": "gru", "steps": 30})
    assert p.histories[2] == alone.history
    assert jobs.get(session) is job  # kept for its page until the session ends


def test_pause_holds_the_step_and_resume_goes_on(session):
    job = jobs.start(session, settings(20_000))
    until(lambda: job.view().steps_done > 5)
    job.pause()
    held = job.view()
    time.sleep(0.5)
    assert job.view().steps_done == held.steps_done and held.state == "paused"
    paused_for = job.view().seconds
    time.sleep(0.3)
    assert job.view().seconds == paused_for  # time left counts running time only
    job.resume()
    until(lambda: job.view().steps_done > held.steps_done)
    job.pause()
    ran = job.view().seconds
    time.sleep(0.3)
    job.stop()  # stopped while paused: the pause is not counted as running time
    p = job.view()
    assert p.seconds == ran
    assert p.state == "stopped" and all(n.startswith("stopped at step") for n in p.notes)
    assert p.steps_done < 20_000 and all(max(s) == len(h) for s, h in zip(p.snapshot_steps, p.histories))


def test_one_run_per_session_and_bad_settings_start_nothing(session):
    with pytest.raises(lab.LabError, match="lr must be between"):
        jobs.start(session, settings(10, lr=0.0))
    with pytest.raises(lab.LabError, match="at least one cell"):
        jobs.start(session, [])
    assert jobs.get(session) is None
    job = jobs.start(session, settings(20_000))
    with pytest.raises(lab.LabError, match="already going in this tab"):
        jobs.start(session, settings(10))
    assert jobs.get(session) is job and job.training
    job.stop()
    again = jobs.start(session, settings(5))  # a finished run may be replaced
    until(lambda: again.state == "done")


def test_a_closed_session_ends_its_run_and_is_forgotten(session, monkeypatch):
    monkeypatch.setattr(jobs, "WATCH", 0.05)
    alive = {"yes": True}
    job = jobs.start(session, settings(20_000), alive=lambda sid: alive["yes"])
    until(lambda: job.view().steps_done > 0)
    alive["yes"] = False
    until(lambda: not job.thread.is_alive(), timeout=5)
    assert job.state == "closed" and jobs.get(session) is None


def test_reset_stops_and_forgets_a_paused_run(session):
    job = jobs.start(session, settings(20_000))
    job.pause()
    jobs.reset(session)
    until(lambda: not job.thread.is_alive(), timeout=5)
    assert jobs.get(session) is None and job.state == "stopped"


def test_a_failure_in_training_is_reported_on_the_job(session, monkeypatch):
    def broken(self):
        raise MemoryError("no room for the batch")

    monkeypatch.setattr(lab.Trainer, "step", broken)
    job = jobs.start(session, settings(10))
    until(lambda: job.state == "failed")
    assert job.view().error == "MemoryError: no room for the batch"


def test_training_uses_one_torch_thread(session, monkeypatch):
    seen = []
    step = lab.Trainer.step
    monkeypatch.setattr(lab.Trainer, "step", lambda self: (seen.append(torch.get_num_threads()), step(self))[1])
    job = jobs.start(session, settings(3))
    until(lambda: job.state == "done")
    assert seen and set(seen) == {1}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_worker_yields_the_cpu_to_requests(session):
    job = jobs.start(session, settings(20_000))
    until(lambda: job.native_id is not None and job.view().steps_done > 0)
    stat = open(f"/proc/self/task/{job.native_id}/stat").read()
    nice = int(stat.rsplit(")", 1)[1].split()[16])  # field 19 of proc(5), counted after the name
    assert nice == jobs.NICE and os.getpriority(os.PRIO_PROCESS, 0) != jobs.NICE  # the thread only
