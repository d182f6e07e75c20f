"""Reusable daemon threads that run blocking calls for an event loop.

A call handed to :class:`ThreadPool` runs on an idle thread of the pool, or on a new one
when none is idle, so a call that never returns (a hung handler, abandoned at its
timeout) holds only its own thread and never starves later calls. A thread that finishes
goes back to wait for the next call, unless ``max_idle`` threads already wait; then it
ends. The hand-off is one queue put and, for the answer, one
``loop.call_soon_threadsafe``: the cheapest way from a loop to a thread and back.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from integrations.base import settle

__all__ = ["ThreadPool"]

_T = TypeVar("_T")
_Job = tuple[
    Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], None] | None
]


class ThreadPool:
    """Daemon threads named ``<name>-<n>``, reused between calls (see the module)."""

    def __init__(self, name: str, *, max_idle: int = 16) -> None:
        if max_idle < 0:
            raise ValueError("max_idle must not be negative")
        self._name = name
        self._max_idle = max_idle
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting on _jobs that no job was put for yet
        self._started = 0
        self._closed = False

    @property
    def idle(self) -> int:
        """How many threads wait for a call."""
        return self._idle

    def submit(
        self, work: Callable[[], _T], after: Callable[[], None] | None = None
    ) -> asyncio.Future[_T]:
        """Run ``work()`` on a thread; its result (or exception) as a future of the running
        loop. Cancelling the future abandons the call: its result is dropped. ``after()``
        runs on the same thread once the answer is on its way (bookkeeping the caller need
        not wait for), before the thread takes another call; what it raises is dropped."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_T] = loop.create_future()
        job: _Job = (work, loop, future, after)
        with self._lock:
            self._closed = False
            reuse = self._idle > 0
            if reuse:
                self._idle -= 1
        if reuse:
            self._jobs.put(job)
        else:
            self._started += 1
            name = f"{self._name}-{self._started}"
            threading.Thread(target=self._serve, args=(job,), name=name, daemon=True).start()
        return future

    def close(self) -> None:
        """End every idle thread; a busy one ends when its call returns. The pool may be
        used again (it starts new threads)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(None)

    def _serve(self, job: _Job | None) -> None:
        while job is not None:
            work, loop, future, after = job
            settle, value = _call(work)
            with self._lock:  # idle before answering, so the next call finds this thread
                stay = not self._closed and self._idle < self._max_idle
                if stay:
                    self._idle += 1
            with contextlib.suppress(RuntimeError):  # the loop closed while the call ran
                loop.call_soon_threadsafe(settle, future, value)
            if after is not None:
                _call(after)
            if not stay:
                return
            job = self._jobs.get()


def _call(work: Callable[[], Any]) -> tuple[Callable[[asyncio.Future[Any], Any], None], Any]:
    """How to settle the caller's future: with ``work()``'s result or its exception."""
    try:
        return settle, work()
    except BaseException as exc:  # handed to the loop, which raises it where awaited
        return _fail, exc


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
