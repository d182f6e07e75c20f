"""Clocks: real time, and a virtual time that jumps when everything is waiting on it.

The virtual clock keeps its own timers. When every execution is parked on one of them
(nothing else is runnable on the event loop and no external operation is in flight),
time jumps to the next deadline. A ``Wait`` of 30 days, a Retry backoff or a heartbeat
timeout then takes no real time, and the order of events is deterministic.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    """What the Host needs of a clock."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return after ``seconds`` of this clock's time."""
        ...

    def begin_external(self) -> None:
        """Start an operation this clock does not control (real I/O, a thread)."""
        ...

    def end_external(self) -> None:
        """End an operation started with :meth:`begin_external`."""
        ...


class RealClock:
    """Wall-clock time and asyncio's own timers."""

    virtual = False

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        return time.time()

    async def sleep(self, seconds: float) -> None:
        """Sleep in real time."""
        await asyncio.sleep(max(seconds, 0.0))

    def begin_external(self) -> None:
        """Nothing to track."""

    def end_external(self) -> None:
        """Nothing to track."""


class VirtualClock:
    """Time that advances only when everything is waiting for it."""

    virtual = True

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._sequence = itertools.count()
        self._external = 0
        self._external_done: asyncio.Event | None = None
        self._advancer: asyncio.Task[None] | None = None

    def now(self) -> float:
        """The virtual time, in seconds since the Unix epoch."""
        return self._now

    async def sleep(self, seconds: float) -> None:
        """Park until the virtual time reaches now + ``seconds``."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._timers, (self._now + seconds, next(self._sequence), future))
        if self._advancer is None or self._advancer.done():
            self._advancer = loop.create_task(self._advance())
        await future

    def begin_external(self) -> None:
        """Time stands still until the matching :meth:`end_external`."""
        self._external += 1

    def end_external(self) -> None:
        """One operation outside the clock's control is over."""
        self._external -= 1
        if self._external == 0 and self._external_done is not None:
            self._external_done.set()

    async def _advance(self) -> None:
        loop = asyncio.get_running_loop()
        while self._timers:
            await asyncio.sleep(0)
            if self._external:
                self._external_done = asyncio.Event()
                await self._external_done.wait()
                continue
            if _runnable(loop):
                continue
            self._fire_next()

    def _fire_next(self) -> None:
        self._now = max(self._now, self._timers[0][0])
        while self._timers and self._timers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._timers)
            if not future.done():
                future.set_result(None)


def _runnable(loop: asyncio.AbstractEventLoop) -> bool:
    """True when callbacks other than the caller's are ready to run on the loop."""
    # CPython's event loops keep ready callbacks in ``_ready``; a loop without it is
    # treated as idle after the caller yielded once.
    ready = getattr(loop, "_ready", None)
    return bool(ready)
