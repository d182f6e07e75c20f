"""Processes an in-process handler started, found and ended when the engine closes.

A handler running on one of the in-process executor's threads may start processes
(``subprocess.Popen(["sleep", "1000"])``) and return without waiting for them. Lambda ends
them with its sandbox; here they would outlive the engine. Linux lists, for each thread,
the processes it started (``/proc/self/task/<tid>/children``), and only handlers run on
those threads, so what such a thread started is a handler's, never the engine's nor the
program's around it. :class:`HandlerProcesses` notes them when each call ends (or, for a
call still running, at close) and kills each, with its descendants, at close.

Not found: processes started by an async handler (it runs on the event loop's thread,
beside the engine's own), by threads a handler starts, or that left their parent (a
grandchild whose parent has exited). Elsewhere than Linux nothing is found.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

__all__ = ["HandlerProcesses"]

_PROC = Path("/proc")
#: A process: its id and its start time (ticks after boot), so a reused id is told apart.
_Process = tuple[int, int]
_PRUNE_AT = 64
# Linux's wait options (<linux/wait.h>) that Python's os module does not name: wait for
# the calling thread's own children only, whatever signal they end with.
_WNOTHREAD, _WALL = 0x20000000, 0x40000000
_ANY_CHILD = os.WEXITED | os.WNOHANG | os.WNOWAIT | _WNOTHREAD | _WALL


class HandlerProcesses:
    """The processes started by the threads that run handlers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[int] = set()  # native ids of threads running a handler now
        self._started: set[_Process] = set()
        # Ended ones are dropped whenever the set has doubled, so it stays as small as
        # what still runs: an engine may serve for weeks.
        self._prune_at = _PRUNE_AT

    def call_started(self) -> None:
        """This thread begins a handler."""
        with self._lock:
            self._running.add(threading.get_native_id())

    def call_ended(self) -> None:
        """This thread's handler has returned: note what it left running."""
        tid = threading.get_native_id()
        found = _children(f"self/task/{tid}") if _has_children() else set()
        with self._lock:
            self._running.discard(tid)
            self._started.update(found)
            if len(self._started) >= self._prune_at:
                self._started = {p for p in self._started if _identity(p[0]) == p}
                self._prune_at = max(_PRUNE_AT, 2 * len(self._started))

    def kill(self) -> None:
        """Kill every noted process still running, and its descendants."""
        with self._lock:
            found = set(self._started)
            for tid in self._running:  # handlers still running (abandoned at a timeout)
                found.update(_children(f"self/task/{tid}"))
            self._started.clear()
        for process in found:
            for pid in _tree(process):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def _has_children() -> bool:
    """Whether the calling thread has started a process that was not reaped yet: one
    system call (nothing is reaped), where reading ``/proc`` takes several, so a call
    that started none costs about a microsecond. Elsewhere than Linux: never."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.waitid(os.P_ALL, 0, _ANY_CHILD)
    except ChildProcessError:  # ECHILD: no child at all
        return False
    return True


def _children(task: str) -> set[_Process]:
    """The live processes a thread (``self/task/<tid>``) or process (``<pid>``) started."""
    pids: set[int] = set()
    if task.startswith("self/"):
        files = [_PROC / task / "children"]
    else:
        try:
            files = [path / "children" for path in (_PROC / task / "task").iterdir()]
        except OSError:
            return set()
    for file in files:
        with contextlib.suppress(OSError, ValueError):
            pids.update(int(pid) for pid in file.read_text().split())
    return {process for pid in pids if (process := _identity(pid)) is not None}


def _identity(pid: int) -> _Process | None:
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # the name, in parentheses, may hold anything
    return pid, int(fields[19])  # field 22, the start time (the 3rd is fields[0])


def _tree(process: _Process) -> list[int]:
    """The process (if it is still the one noted) and its descendants, parents first."""
    if _identity(process[0]) != process:
        return []
    order, pending = [], [process]
    while pending:
        pid = pending.pop()[0]
        order.append(pid)
        pending.extend(_children(str(pid)))
    return order
