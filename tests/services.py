"""A fake :class:`~integrations.base.TaskServices` for tests: a clock that moves only when
told to, counted ids, and timers that fire when the clock passes them."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any


def uid(n: int) -> str:
    """The ``n``-th id :meth:`FakeServices.new_uuid` gives (a UUID text, counting from 1)."""
    return str(uuid.UUID(int=n))


class FakeServices:
    """A Host's services under the test's control.

    ``now()`` is ``clock`` (settable, or moved with :meth:`advance`); ``new_uuid()`` gives
    ``uid(1)``, ``uid(2)``...; ``timer(s)`` is a future done once :meth:`advance` moves the
    clock to its deadline. ``timers`` lists the delays asked for, in order.
    """

    def __init__(self, clock: float = 0.0) -> None:
        self.clock = clock
        self.timers: list[float] = []
        self._counter = itertools.count(1)
        self._pending: list[tuple[float, asyncio.Future[Any]]] = []

    def now(self) -> float:
        """The fake clock."""
        return self.clock

    def new_uuid(self) -> str:
        """``uid(n)`` for n = 1, 2, ..."""
        return uid(next(self._counter))

    def timer(self, seconds: float, elapsed: float = 0.0) -> asyncio.Future[Any]:
        """A future done when :meth:`advance` reaches now + ``seconds`` (the fake clock is
        the only time there is: ``elapsed`` real seconds change nothing)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.timers.append(seconds)
        self._pending.append((self.clock + seconds, future))
        return future

    def alone(self) -> bool:
        """False: a Task answering at once lets other work go first."""
        return False

    @property
    def pending(self) -> int:
        """Timers neither fired nor cancelled."""
        return sum(not future.done() for _, future in self._pending)

    def advance(self, seconds: float) -> None:
        """Move the clock and fire every timer it reaches."""
        self.clock += seconds
        for deadline, future in self._pending:
            if deadline <= self.clock and not future.done():
                future.set_result(None)

    async def wait_for_timer(self) -> None:
        """Let the loop run until some timer is pending."""
        while not self.pending:
            await asyncio.sleep(0.001)
