"""A Lambda handler's log: what it writes to ``sys.stdout`` and ``sys.stderr`` while it
runs, kept apart from the engine's own output, as Lambda sends a function's output to
CloudWatch Logs and never to the caller.

Handlers run side by side on threads and tasks of one process, so their output cannot be
caught by swapping ``sys.stdout`` around each call (the swaps of two calls would undo each
other). Instead ``sys.stdout`` and ``sys.stderr`` are each replaced once, on the first
capture, by a *router* that stays: a write goes to the :class:`HandlerLog` of the
invocation whose context it is made in (a context variable: set on the handler's thread
or task, inherited by the tasks the handler creates), and anything else to the stream
that was there before. Output is kept per invocation up to :data:`LOG_LIMIT` characters
(the last ones).

What is not caught: writes to the file descriptors themselves (``os.write(1, ...)``, C
extensions, child processes) and output of threads a handler starts, which have a context
of their own. ``asl run`` sends both to stderr (:func:`stray_output_to`, and descriptor 1
pointed at stderr), so nothing but its own result reaches its stdout.
"""

from __future__ import annotations

import base64
import sys
import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, TextIO

__all__ = ["LOG_LIMIT", "HandlerLog", "capture", "log_tail", "log_text", "stray_output_to"]

#: The most characters of one invocation's output kept (the last ones): our own bound, so
#: a handler printing without end cannot fill the engine's memory.
LOG_LIMIT = 65_536
#: ``LogResult`` (``LogType: Tail``) carries the last 4 KB of the log [Lambda Invoke API].
TAIL_BYTES = 4096


class HandlerLog:
    """The output of one invocation; its last ``limit`` characters are kept."""

    __slots__ = ("_dropped", "_limit", "_lock", "_parts", "_size")

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._limit = limit
        self._parts: deque[str] | None = None  # made on the first write: most write nothing
        self._size = 0
        self._dropped = 0
        self._lock = threading.Lock()  # a handler's own threads may write at once

    def write(self, text: str) -> None:
        """Add output, dropping the oldest beyond the limit."""
        with self._lock:
            parts = self._parts
            if parts is None:
                parts = self._parts = deque()
            parts.append(text)
            self._size += len(text)
            while self._size > self._limit:
                excess = self._size - self._limit
                first = parts[0]
                if len(first) <= excess:
                    parts.popleft()
                    cut = len(first)
                else:
                    parts[0] = first[excess:]
                    cut = excess
                self._size -= cut
                self._dropped += cut

    def text(self) -> str:
        """The output kept, after a line saying how much was dropped, if any."""
        if not self._size and not self._dropped:  # most handlers write nothing
            return ""
        with self._lock:
            kept = "".join(self._parts or ())
            dropped = self._dropped
        if dropped:
            return f"[{dropped} earlier characters of output dropped]\n{kept}"
        return kept


_current: ContextVar[HandlerLog | None] = ContextVar("asl_handler_log", default=None)
_install_lock = threading.Lock()


class _Router:
    """Stands in for ``sys.stdout`` or ``sys.stderr``: writes made in an invocation's
    context go to its log, others to the stream that was there before (or, from threads
    other than the main one, to ``stray`` when one is set)."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.stray: TextIO | None = None

    def _sink(self) -> HandlerLog | TextIO:
        log = _current.get()
        if log is not None:
            return log
        if self.stray is not None and threading.current_thread() is not threading.main_thread():
            return self.stray
        return self.target

    def write(self, text: str) -> int:
        if not isinstance(text, str):  # as a text stream does (click tells them apart so)
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._sink().write(text)
        return len(text)

    def flush(self) -> None:
        sink = self._sink()
        if not isinstance(sink, HandlerLog):
            sink.flush()

    def isatty(self) -> bool:
        sink = self._sink()
        return False if isinstance(sink, HandlerLog) else sink.isatty()

    def __getattr__(self, name: str) -> Any:  # encoding, errors, fileno, buffer, ...
        return getattr(self.target, name)


def _install() -> tuple[_Router, _Router]:
    """The routers in place of ``sys.stdout`` and ``sys.stderr`` (put there if need be:
    by someone else since, or never yet)."""
    out, err = sys.stdout, sys.stderr
    if isinstance(out, _Router) and isinstance(err, _Router):  # as almost always
        return out, err
    with _install_lock:
        if not isinstance(sys.stdout, _Router):
            sys.stdout = _Router(sys.stdout)  # type: ignore[assignment]
        if not isinstance(sys.stderr, _Router):
            sys.stderr = _Router(sys.stderr)  # type: ignore[assignment]
        return sys.stdout, sys.stderr  # type: ignore[return-value]


class _Capture:
    """The context manager :data:`capture` gives (a class: it is entered on every
    invocation, and a generator-based one costs several times more)."""

    __slots__ = ("_log", "_token")

    def __init__(self, log: HandlerLog) -> None:
        self._log = log

    def __enter__(self) -> None:
        if type(sys.stdout) is not _Router or type(sys.stderr) is not _Router:  # as rarely
            _install()
        self._token = _current.set(self._log)

    def __exit__(self, *exc_info: object) -> None:
        _current.reset(self._token)


#: ``with capture(log):`` sends what this context writes to ``sys.stdout`` and
#: ``sys.stderr`` to ``log`` (the class itself: no call of a function in between, on every
#: invocation).
capture: Callable[[HandlerLog], AbstractContextManager[None]] = _Capture


def stray_output_to(stream: TextIO) -> None:
    """Send output written outside any invocation by threads other than the main one (a
    handler's own threads) to ``stream``: for a program whose stdout is its result."""
    if isinstance(stream, _Router):
        stream = stream.target  # itself as its own stray would write without end
    for router in _install():
        router.stray = stream


def log_text(
    request_id: str, output: str, duration_ms: float, billed_ms: int, memory_mb: int
) -> str:
    """One invocation's log as Lambda writes it: START, the output, END and REPORT."""
    if output and not output.endswith("\n"):
        output += "\n"
    return (
        f"START RequestId: {request_id} Version: $LATEST\n"
        f"{output}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Billed Duration: {billed_ms} ms\tMemory Size: {memory_mb} MB\t\n"
    )


def log_tail(text: str) -> str:
    """``LogResult``: the last 4 KB of a log, base64 encoded."""
    data = text.encode("utf-8", "replace")[-TAIL_BYTES:]
    return base64.b64encode(data).decode()
