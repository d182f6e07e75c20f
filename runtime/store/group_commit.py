"""Group commit: the writes that come within one turn of the event loop, in one transaction.

A durable execution writes a batch (its start, new events and journal answers, its end)
before it touches the world or answers its caller, and waits for the batch to be
committed. Many executions running side by side each write small batches; one SQLite
transaction per batch costs a commit (a WAL frame and its lock) each time. Here a batch
is queued and the first one of a turn schedules a flush at the end of that turn (the
event loop's next round of callbacks), so every batch queued by the strands and requests
that run in the same turn goes in one transaction. A batch that fails is rolled back
alone and its writer told, the others are committed (they are written together first, in
the transaction alone, and only when one fails, that transaction rolled back, again each
in a savepoint of its own: ``Database.write_each``). No
writer goes on before its batch is committed, so durability is what one transaction per
batch gave: whatever was acknowledged survives the process being killed.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable

from runtime.store.sqlite import Database

__all__ = ["GroupCommit", "Write"]

#: One batch: what it writes, given the connection inside the group's transaction.
Write = Callable[[sqlite3.Connection], None]


class GroupCommit:
    """The batches queued for one :class:`Database`, written together at the end of the
    event-loop turn they were queued in (or at once, by :meth:`flush`), in their order."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._queued: list[tuple[Write, asyncio.Future[None]]] = []

    def queue(self, write: Write) -> asyncio.Future[None]:
        """Queue a batch; the future is done once it is committed (or holds its failure: a
        ``StoreError`` when the file could not be written)."""
        loop = asyncio.get_running_loop()
        if not self._queued:
            loop.call_soon(self.flush)
        done: asyncio.Future[None] = loop.create_future()
        self._queued.append((write, done))
        return done

    def flush(self) -> None:
        """Write every queued batch now, in one transaction."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        try:
            outcomes = self._database.write_each([write for write, _ in queued])
        except Exception as exc:  # the transaction failed: every batch with it
            outcomes = [exc] * len(queued)
        for (_, done), failure in zip(queued, outcomes, strict=True):
            if done.cancelled():
                continue
            if failure is None:
                done.set_result(None)
            else:
                done.set_exception(failure)
