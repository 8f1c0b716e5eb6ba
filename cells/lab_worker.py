"""The training lab's worker process: one per run, so training never holds the server's GIL.

    python -m cells.lab_worker --nice 19      # viz_app/jobs.py starts it (subprocess.Popen)

stdin, JSON lines: first {"settings": [dataclasses.asdict(Settings), …]}, then the commands
"pause", "resume" and "stop". End of input (the server closed the pipe, or died) stops the
run and ends the process: a worker never outlives its server.

stdout, frames: struct ">II" (n JSON bytes, m payload bytes), the JSON message, the payload.
    {"kind": "round", "cells": [per cell: {"history", "evals", "samples", "seconds", "note",
                                           "snapshots": [[step, sidecar bytes, weights bytes]]}]}
        what each cell recorded since the last round; the payload is the snapshots' files,
        `cells.lab.files(model)`, one after another (read back with `cells.lab.from_files`)
    {"kind": "paused"}                      every round before it has been sent
    {"kind": "end", "state": "done" | "stopped" | "failed", "error": "…"}
Nothing is pickled. JSON has no inf or NaN, so a non-finite float (a diverging loss) is sent
as {"float64": its 8 bytes in hex}, which `decode` turns back into the same bits; a note that
is a cells.messages.Message as {"message": template, "params": {…}}, so the page can translate it.

The trainers are stepped in turn, one step each, as `cells.lab.train` steps one: torch on one
thread, so a run gives the history `train` gives with the same settings, bit for bit.

Pause is a command rather than SIGSTOP: a stopped process could not notice its server's end
(its stdin closing) and would be left behind, and a command lands between two steps, so the
page's step count holds exactly where the worker says it paused.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import struct
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .messages import Message

FLUSH = 0.1  # seconds between rounds sent while training: a small model steps hundreds of times a second
HEADER = struct.Struct(">II")  # a frame's JSON and payload lengths


def encode(v):
    """v with every non-finite float as {"float64": hex of its bits} (JSON has no inf or NaN),
    and every cells.messages.Message (a run's note) as {"message": template, "params": {…}}."""
    if isinstance(v, Message):
        return {"message": v.template, "params": encode(v.params)}
    if isinstance(v, float) and not math.isfinite(v):
        return {"float64": struct.pack(">d", v).hex()}
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    return v


def decode(d: dict):
    """json.loads' object_hook: undo `encode`."""
    if len(d) == 1 and "float64" in d:
        return struct.unpack(">d", bytes.fromhex(d["float64"]))[0]
    if d.keys() == {"message", "params"}:
        return Message(d["message"], d["params"])
    return d


def write(out: BinaryIO, message: dict, payload: bytes = b"") -> None:
    body = json.dumps(encode(message), ensure_ascii=False, allow_nan=False).encode()
    out.write(HEADER.pack(len(body), len(payload)) + body + payload)
    out.flush()


def read(f: BinaryIO) -> tuple[dict, bytes] | None:
    """The next frame's (message, payload); None at the end of the stream."""
    head = f.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    n, m = HEADER.unpack(head)
    body, payload = f.read(n), f.read(m)
    if len(body) < n or len(payload) < m:
        return None
    return json.loads(body, object_hook=decode), payload


class Commands:
    """What the server asked, read from stdin by a thread of its own."""

    def __init__(self, lines):
        self.running, self.stop, self.changed = True, False, threading.Condition()
        self.orphaned = False  # stdin ended: the server is gone, nobody reads what we write
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()

    def _read(self, lines) -> None:
        for line in lines:
            with self.changed:
                command = json.loads(line)
                if command == "stop":
                    self.stop = True
                elif command in ("pause", "resume"):
                    self.running = command == "resume"
                self.changed.notify_all()
        with self.changed:
            self.stop = self.orphaned = True
            self.changed.notify_all()

    def wait_while_paused(self, paused: Callable[[], None]) -> None:
        """If paused: say so (after every round so far), then wait for resume or stop."""
        with self.changed:
            if self.running or self.stop:
                return
        paused()
        with self.changed:
            self.changed.wait_for(lambda: self.running or self.stop)


class Sender:
    """Sends what the trainers recorded since the last round."""

    def __init__(self, out: BinaryIO, trainers):
        self.out, self.trainers = out, trainers
        self.sent = [{"history": 0, "evals": 0, "seconds": 0, "samples": set(), "snapshots": set()} for _ in trainers]
        self.last = -math.inf

    def round(self, force: bool = False) -> None:
        if not force and time.perf_counter() - self.last < FLUSH:
            return
        from . import lab

        cells, payload = [], []
        for t, sent in zip(self.trainers, self.sent):
            r = t.run
            snaps = []
            for step in sorted(set(r.snapshots) - sent["snapshots"]):
                side, blob = lab.files(r.snapshots[step])
                snaps.append([step, len(side), len(blob)])
                payload += [side, blob]
                sent["snapshots"].add(step)
            samples = sorted(set(r.samples) - sent["samples"])
            cells.append({"history": r.history[sent["history"]:], "evals": r.evals[sent["evals"]:],
                          "samples": [[k, r.samples[k]] for k in samples], "seconds": r.seconds[sent["seconds"]:],
                          "note": r.note, "snapshots": snaps})
            sent.update(history=len(r.history), evals=len(r.evals), seconds=len(r.seconds))
            sent["samples"].update(samples)
        write(self.out, {"kind": "round", "cells": cells}, b"".join(payload))
        self.last = time.perf_counter()


def train(settings: list[dict], commands: Commands, out: BinaryIO) -> tuple[str, str]:
    """Step the trainers in turn until done or stopped; how it ended, and the error if it failed."""
    import torch

    from . import lab

    torch.set_num_threads(1)  # one core, and the history `lab.train` gives
    trainers = [lab.Trainer(lab.check(lab.Settings(**s))) for s in settings]
    send = Sender(out, trainers)
    send.round(force=True)  # step 0: the first snapshots and held-out losses ("Starting…" ends)
    paused = lambda: (send.round(force=True), write(out, {"kind": "paused"}))  # noqa: E731
    try:
        while not commands.stop and not all(t.done for t in trainers):
            commands.wait_while_paused(paused)
            if commands.stop:
                break
            for t in trainers:
                if not t.done:
                    t.step()
            send.round()
        if commands.stop:
            for t in trainers:
                t.stop()
        state, error = "stopped" if commands.stop else "done", ""
    except Exception as e:  # a bug or an exhausted machine: the page says so, and keeps what was recorded
        state, error = "failed", f"{type(e).__name__}: {e}"
    send.round(force=True)
    return state, error


def lower_priority(nice: int) -> None:
    """Every thread of this process at `nice` (never below the server's), before any other
    starts, so those inherit it. Linux keeps a nice value per thread, and importing `cells`
    (numpy's BLAS) has already started threads by the time `main` runs.

    Linux's autogroup scheduling also gives each session an equal share of the CPU, whatever
    its processes' nice values: in the server's session a run would compete as an equal with
    a browser on the same machine (a session of its own). Started in a session of its own
    (jobs.py), the worker lowers that session's share to `nice` too."""
    if not hasattr(os, "setpriority"):  # elsewhere the run shares the CPU evenly
        return
    nice = max(nice, os.getpriority(os.PRIO_PROCESS, 0))
    tasks = Path("/proc/self/task")
    for tid in sorted(int(t.name) for t in tasks.iterdir()) if tasks.is_dir() else [0]:
        with contextlib.suppress(ProcessLookupError):  # a thread that has just ended
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    if os.getsid(0) == os.getpid():  # never the server's session: that would lower the server
        for _ in range(10):  # Linux takes one such write per 0.1 s from a non-root user
            try:
                Path("/proc/self/autogroup").write_text(str(nice))
                break
            except BlockingIOError:  # EAGAIN: another worker wrote within that 0.1 s
                time.sleep(0.1)
            except OSError:  # a kernel without autogroups
                break


def main() -> None:
    ap = argparse.ArgumentParser(description="The training lab's worker (viz_app/jobs.py starts it).")
    ap.add_argument("--nice", type=int, default=0, help="the process's nice value (never below the server's)")
    args = ap.parse_args()
    lower_priority(args.nice)
    # The frames own the real stdout; anything printed (a library's warning) goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    first = sys.stdin.readline()
    commands = Commands(sys.stdin)
    try:
        state, error = train(json.loads(first)["settings"], commands, out)
    except Exception as e:  # a setting refused, the lyrics missing, the server gone: the page says which
        state, error = "failed", f"{type(e).__name__}: {e}"
    if not commands.orphaned:
        try:
            write(out, {"kind": "end", "state": state, "error": error})
        except OSError:  # the server went away meanwhile
            pass
    # Out now: an interpreter's shutdown would wait for the thread blocked reading stdin.
    os._exit(0)


if __name__ == "__main__":
    main()
