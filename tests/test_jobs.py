"""Background training (viz_app/jobs.py): one run per session, each in a worker process
(cells/lab_worker.py); the history it sends back is `cells.lab.train`'s, bit for bit; pause,
resume, stop, reset; a closed session, a reset or the server's end ends the process; a
failure or a dead worker is reported, not raised; snapshots come back as files that
`cells.lab.from_files` checks."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from cells import checkpoint, lab
from viz_app import jobs

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes in /proc")

SMALL = dict(task="copy", hidden_size=8, batch_size=8, T=3)
LYRICS = dict(task="jaychou", hidden_size=8, batch_size=4, T=5, sample_every=2, batching="consecutive")


def settings(steps: int, **kw) -> list[lab.Settings]:
    return [lab.Settings(kind=k, steps=steps, **{**SMALL, **kw}) for k in ("rnn", "lstm", "gru")]


def until(cond, timeout: float = 60.0) -> None:
    """Until cond() holds; the worker's start (an interpreter importing torch) takes seconds."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def running(pid: int) -> bool:
    """Whether the process exists and has not exited (a zombie has)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def bits(v):
    """v with every float as its 8 bytes: == is then bit for bit (NaN included), and types must match."""
    if isinstance(v, float):
        return struct.pack("<d", v)
    if isinstance(v, dict):
        return {k: bits(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(bits(x) for x in v)
    return v


def worker(script: str) -> list[str]:
    """A worker command: the real worker after `script` ran in its process."""
    return [sys.executable, "-c", textwrap.dedent(script) + "\nfrom cells import lab_worker\nlab_worker.main()\n"]


@pytest.fixture
def session(request):
    sid = f"test-{request.node.name}"
    yield sid
    jobs.reset(sid)


@pytest.mark.parametrize("kw", [dict(SMALL, steps=30), dict(LYRICS, steps=6)], ids=["copy", "lyrics"])
def test_a_job_trains_in_a_process_of_its_own_and_gives_train_s_history_bit_for_bit(session, kw):
    job = jobs.start(session, [lab.Settings(kind=k, **kw) for k in ("rnn", "lstm", "gru")])
    assert job.pid != os.getpid() and running(job.pid)
    assert job.state == "starting" and job.view().snapshot_steps == ((), (), ())  # the page says "Starting…"
    until(lambda: job.state == "done")
    p = job.view()
    assert p.steps_done == p.steps_total == kw["steps"] and [len(h) for h in p.histories] == [kw["steps"]] * 3
    for i, kind in enumerate(("rnn", "lstm", "gru")):  # stepped in turn, each is what it gives trained alone
        alone = lab.train(**{**kw, "kind": kind})
        assert bits(p.histories[i]) == bits(alone.history) and bits(p.evals[i]) == bits(alone.evals)
        assert p.samples[i] == alone.samples and p.notes[i] == alone.note
        assert p.snapshot_steps[i] == tuple(alone.snapshots)
    assert kw["task"] != "jaychou" or p.samples[0]  # the lyrics' samples came back too
    assert jobs.get(session) is job  # kept for its page until the session ends
    until(lambda: not running(job.pid), timeout=10)  # the worker ended with its run


def test_snapshots_come_back_as_files_equal_to_the_trainer_s_state(session):
    job = jobs.start(session, settings(20))
    until(lambda: job.state == "done")
    for i, kind in enumerate(("rnn", "lstm", "gru")):
        alone = lab.train(**{**SMALL, "kind": kind, "steps": 20})
        for step, want in alone.snapshots.items():
            got = job.model(i, step)
            assert got.settings == want.settings and got.state.keys() == want.state.keys()
            assert all(torch.equal(got.state[k], want.state[k]) for k in want.state)
            assert job.model(i, step) is got  # built once per (cell, step)
        assert job.model(i) is job.model(i, 20)  # None: the latest


def test_from_files_reads_what_files_wrote_and_refuses_tampered_bytes():
    model = lab.train(**{**SMALL, "kind": "lstm", "steps": 3}).model
    side, blob = lab.files(model)
    back = lab.from_files(side, blob)
    assert back.settings == model.settings and all(torch.equal(back.state[k], v) for k, v in model.state.items())
    flipped = bytearray(blob)
    flipped[-1] ^= 1  # one bit of the last weight
    with pytest.raises(checkpoint.CheckpointError, match="fails its sha256"):
        lab.from_files(side, bytes(flipped))
    with pytest.raises(checkpoint.CheckpointError, match="fails its sha256"):
        lab.from_files(side.replace(b'"hidden_size": 8', b'"hidden_size": 9'), blob)
    with pytest.raises(checkpoint.CheckpointError, match="sidecar is not valid JSON"):
        lab.from_files(side[:-5], blob)


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
    job.stop(wait=60)
    again = jobs.start(session, settings(5))  # a finished run may be replaced
    until(lambda: again.state == "done")


def test_the_server_trains_at_most_max_runs_at_once(monkeypatch):
    monkeypatch.setattr(jobs, "MAX_RUNS", 2)
    first = [jobs.start(f"test-cap-{i}", settings(20_000)) for i in range(2)]
    try:
        with pytest.raises(lab.LabError, match="training 2 runs already, its limit"):
            jobs.start("test-cap-2", settings(10))
        assert jobs.get("test-cap-2") is None  # nothing started, nothing kept
        first[0].stop(wait=60)
        until(lambda: not first[0].training)
        third = jobs.start("test-cap-2", settings(5))  # a place came free
        until(lambda: third.state == "done")
    finally:
        for i in range(3):
            jobs.reset(f"test-cap-{i}")


UNRESPONSIVE = [sys.executable, "-c", "import sys, time; sys.stdin.readline(); time.sleep(600)"]  # never answers


@pytest.mark.parametrize("command", [None, UNRESPONSIVE], ids=["worker", "unresponsive"])
def test_a_closed_session_ends_its_process_within_seconds(session, monkeypatch, command):
    monkeypatch.setattr(jobs, "WATCH", 0.05)
    monkeypatch.setattr(jobs, "KILL_AFTER", 1.0)
    if command:
        monkeypatch.setattr(jobs, "WORKER", command)
    alive = {"yes": True}
    job = jobs.start(session, settings(20_000), alive=lambda sid: alive["yes"])
    if command is None:
        until(lambda: job.view().steps_done > 0)
    else:
        time.sleep(0.5)
    alive["yes"] = False
    t0 = time.monotonic()
    until(lambda: not running(job.pid), timeout=5)
    until(lambda: job.state == "closed" and jobs.get(session) is None, timeout=5)
    assert time.monotonic() - t0 < jobs.KILL_AFTER + 2 and job.proc.returncode is not None  # reaped
    assert job.error == ""


def test_reset_ends_and_forgets_a_paused_run(session):
    job = jobs.start(session, settings(20_000))
    until(lambda: job.state == "running")
    job.pause()
    jobs.reset(session)
    assert not running(job.pid) and not job.reader.is_alive() and not job.watch.is_alive()
    assert jobs.get(session) is None and job.state == "stopped"


def test_a_diverging_run_keeps_its_last_finite_snapshot_and_its_note(session):
    kw = dict(task="sine_cosine", optimizer="sgd", lr=10.0, init_scale=10.0, clip=None, hidden_size=16, steps=500)
    job = jobs.start(session, [lab.Settings(kind="rnn", **kw)])
    until(lambda: job.state == "done")
    alone = lab.train(**{**kw, "kind": "rnn"})
    p = job.view()
    assert alone.note.startswith("diverged at step") and p.notes[0] == alone.note
    assert any(not torch.isfinite(torch.tensor(r["loss"])) or not torch.isfinite(torch.tensor(r["grad_norm"]))
               for r in p.histories[0])  # non-finite numbers crossed the pipe...
    assert bits(p.histories[0]) == bits(alone.history)  # ...as the same bits
    last = job.model(0)
    assert p.snapshot_steps[0][-1] == max(alone.snapshots) and all(torch.isfinite(v).all() for v in last.state.values())
    assert all(torch.equal(last.state[k], alone.model.state[k]) for k in last.state)


def test_a_worker_that_dies_fails_the_job_with_a_clear_message(session):
    job = jobs.start(session, settings(20_000))
    until(lambda: job.view().steps_done > 0)
    os.kill(job.pid, signal.SIGKILL)
    until(lambda: job.state == "failed", timeout=10)
    p = job.view()
    assert p.error.startswith("the training process ended unexpectedly (killed by SIGKILL) after step ")
    assert "Traceback" not in p.error and not job.training and all(p.snapshot_steps)  # what it sent is kept


def test_a_failure_in_training_is_reported_on_the_job(session, monkeypatch):
    monkeypatch.setattr(jobs, "WORKER", worker("""
        from cells import lab
        def broken(self):
            raise MemoryError("no room for the batch")
        lab.Trainer.step = broken
    """))
    job = jobs.start(session, settings(10))
    until(lambda: job.state == "failed")
    p = job.view()
    assert p.error == "MemoryError: no room for the batch" and p.snapshot_steps == ((0,),) * 3


def test_training_uses_one_torch_thread(session, monkeypatch):
    assert torch.get_num_threads() > 1 or os.cpu_count() == 1  # else the test could not fail
    monkeypatch.setattr(jobs, "WORKER", worker("""
        import torch
        from cells import lab
        step = lab.Trainer.step
        def checked(self):
            if torch.get_num_threads() != 1:
                raise RuntimeError(f"torch uses {torch.get_num_threads()} threads")
            return step(self)
        lab.Trainer.step = checked
    """))
    job = jobs.start(session, settings(3))
    until(lambda: not job.training)
    assert (job.state, job.error) == ("done", "")


def test_the_worker_yields_the_cpu_to_requests(session):
    job = jobs.start(session, settings(20_000))
    until(lambda: job.view().steps_done > 0)
    nice = lambda pid: int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])  # noqa: E731
    server = os.getpriority(os.PRIO_PROCESS, 0)
    assert nice(job.pid) == max(jobs.NICE, server) and os.getpriority(os.PRIO_PROCESS, 0) == server
    tasks = list(Path(f"/proc/{job.pid}/task").iterdir())  # every thread of the process, torch's included
    assert all(nice(f"{job.pid}/task/{t.name}") == nice(job.pid) for t in tasks)
    # A session of its own, whose share of the CPU (Linux's autogroup) is lowered too; the server's is not
    assert os.getsid(job.pid) == job.pid != os.getsid(0)
    group = lambda pid: Path(f"/proc/{pid}/autogroup").read_text().split()  # noqa: E731  ["/autogroup-N", "nice", "N"]
    if Path("/proc/self/autogroup").exists():
        # The worker leads its session, so it has an autogroup of its own. The server may have
        # none: a process in the session of a container's init is in the root group, whose
        # file is empty (CI's is).
        assert group(job.pid)[0] != (group("self") or [None])[0] and int(group(job.pid)[2]) == nice(job.pid)
        assert not group("self") or int(group("self")[2]) <= server


RATE_LIMITED = """
import pathlib
from cells import lab_worker
real, refused = pathlib.Path.write_text, []
def write_text(self, text):  # Linux refuses a non-root user's second write within 0.1 s
    if str(self) == "/proc/self/autogroup" and len(refused) < 2:
        refused.append(text)
        raise BlockingIOError(11, "Resource temporarily unavailable")
    return real(self, text)
pathlib.Path.write_text = write_text
lab_worker.lower_priority(19)
print(len(refused), pathlib.Path("/proc/self/autogroup").read_text().split()[-1])
"""


def test_a_refused_autogroup_write_is_tried_again():
    # Several tabs starting runs at once: each worker is refused until 0.1 s has passed.
    if not Path("/proc/self/autogroup").exists():
        pytest.skip("a kernel without autogroups")
    out = subprocess.run([sys.executable, "-c", RATE_LIMITED], capture_output=True, text=True,
                         start_new_session=True, check=True).stdout.split()
    assert out == ["2", "19"]

SERVER = """
import sys, time
from cells import lab
from viz_app import jobs
job = jobs.start("s", [lab.Settings(task="copy", kind="gru", hidden_size=8, batch_size=8, T=3, steps=20_000)],
                 alive=lambda sid: True)
while job.state != "running":
    time.sleep(0.01)
if sys.argv[1] == "killed":
    job.pause()  # a paused worker writes nothing: only its stdin closing can tell it the server is gone
print(job.pid, flush=True)
if sys.argv[1] == "exit":
    sys.exit(0)
time.sleep(600)
"""


@pytest.mark.parametrize("how", ["exit", "killed"])
def test_no_worker_outlives_its_server(how):
    """At exit every worker is ended (atexit); a server killed outright closes the workers'
    stdin, and they end on their own, a paused one too."""
    server = subprocess.Popen([sys.executable, "-c", SERVER, how], stdout=subprocess.PIPE, text=True)
    pid = None
    try:
        pid = int(server.stdout.readline())
        if how == "killed":
            assert running(pid)
            server.kill()
        server.wait(30)
        until(lambda: not running(pid), timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if pid is not None and running(pid):  # the test failed: leave no worker behind
            os.kill(pid, signal.SIGKILL)
