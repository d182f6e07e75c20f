"""Results of concurrent work handed back in the order the work started.

Handlers run on threads, in worker processes or over the network: when several Tasks
run at once (Parallel branches, Map iterations), which finishes first is a matter of
real time, and so is the order of the events their executions record. A seeded Host
runs every Task invocation through :class:`InOrder`: the work itself still runs side
by side, but each result is handed back only after the results of every invocation
started before it. Executions then record their events in the same order on every run.

A call waiting for its turn parks its strand: the work it waits for is either still
running (which holds the virtual clock) or itself waiting on the clock. Work that takes
virtual time (a test's fake) then shows it: a later call that finished first is
recorded when the earlier one is, so its timestamp can be later than on AWS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from runtime.clock import Clock, Wake

__all__ = ["InOrder"]

T = TypeVar("T")


class InOrder:
    """Hands back the results of awaited work in the order :meth:`run` was called."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._issued = 0  # tickets given out
        self._next = 0  # the ticket whose result goes out next
        self._ready: dict[int, Wake] = {}  # tickets waiting for their turn
        self._gone: set[int] = set()  # tickets whose callers left (cancelled)

    async def run(self, work: Awaitable[T]) -> T:
        """``await work``, then wait for the turn of this call before returning (or
        raising) what it gave."""
        ticket = self._issued
        self._issued += 1
        try:
            result = await work
        except asyncio.CancelledError:
            self._leave(ticket)
            raise
        except BaseException:
            await self._turn(ticket)
            raise
        await self._turn(ticket)
        return result

    async def _turn(self, ticket: int) -> None:
        if ticket != self._next:
            turn = self._ready[ticket] = self._clock.wake()
            try:
                await self._clock.park(turn)
            except asyncio.CancelledError:
                self._ready.pop(ticket, None)
                self._leave(ticket)
                raise
        self._advance()

    def _leave(self, ticket: int) -> None:
        """A caller cancelled before its turn: later tickets do not wait for it."""
        if ticket == self._next:
            self._advance()
        else:
            self._gone.add(ticket)

    def _advance(self) -> None:
        self._next += 1
        while self._next in self._gone:
            self._gone.discard(self._next)
            self._next += 1
        turn = self._ready.pop(self._next, None)
        if turn is not None and not turn.done():
            turn.set_result(None)
