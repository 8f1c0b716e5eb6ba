"""A TCP relay whose cable can be pulled, in a process of its own (bench_classroom's network).

    python tests/benchmarks/relay.py TARGET_PORT PORT
    stdin "drop" -> every connection through it cut, new ones refused; replies "dropped"
    stdin "restore" -> connections go through again; replies "restored"
    stdin closed -> it ends

Prints "listening" once PORT accepts connections. drop() is Wi-Fi going down: the browser's
WebSocket closes, which Chromium's offline emulation (context.set_offline) does not do.

A process rather than a thread of the benchmark: there, the Playwright events of fifty tabs
held Python's GIL while the probes' frames waited in the relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys


class Relay:
    def __init__(self, target: int):
        self.target, self.down = target, False
        self.pipes: set[asyncio.Transport] = set()

    def drop(self) -> None:
        self.down = True
        for tr in list(self.pipes):
            tr.abort()  # a reset, not a polite close
        self.pipes.clear()

    async def connect(self, reader, writer) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("localhost", self.target)
        except OSError:
            writer.transport.abort()
            return
        pair = {writer.transport, up_writer.transport}
        self.pipes |= pair

        async def pipe(src, dst):
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(1 << 16):
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort() if self.down else dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.pipes -= pair


async def serve(target: int, port: int) -> None:
    relay = Relay(target)
    server = await asyncio.start_server(relay.connect, "localhost", port)
    print("listening", flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        if line.strip() == "drop":
            relay.drop()
            print("dropped", flush=True)
        elif line.strip() == "restore":
            relay.down = False
            print("restored", flush=True)
    relay.drop()
    server.close()


class DropProxy:
    """The relay from a port of its own to `target_port`, as a child process; drop() and
    restore() return once it has done them."""

    def __init__(self, target_port: int):
        from viz_app import testing  # here: the relay's own process needs none of the app

        self.target, self.port = target_port, testing.free_port()
        self.url = f"http://localhost:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "DropProxy":
        self.proc = subprocess.Popen([sys.executable, __file__, str(self.target), str(self.port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._expect("listening")
        return self

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()  # it ends on end of input
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # our own child, by its PID
            self.proc.wait(5)

    def _expect(self, word: str) -> None:
        got = self.proc.stdout.readline().strip()
        if got != word:
            raise RuntimeError(f"the relay said {got!r}, not {word!r}")

    def drop(self) -> None:
        self.proc.stdin.write("drop\n")
        self.proc.stdin.flush()
        self._expect("dropped")

    def restore(self) -> None:
        self.proc.stdin.write("restore\n")
        self.proc.stdin.flush()
        self._expect("restored")


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
