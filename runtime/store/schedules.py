"""Where each schedule of ``asl serve --schedules`` stands, in SQLite: so that after a
restart a schedule neither fires twice for one time nor forgets the times it missed.

One row per schedule (``group/name``): the signature of its timing and target (a
changed schedule starts afresh), when this store first saw it (a rate schedule without
StartDate counts from there) and the last fire time it has handled. The table can live in the same
file as the server's other tables; its path is given.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runtime.store.errors import StoreError
from runtime.store.tasks import store_file

__all__ = ["ScheduleRecord", "ScheduleStore", "ScheduleStoreError"]

# WAL, as the task store's file: readers never wait for the writer (in memory: no-op).
_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS schedules (
    key       TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    created   INTEGER NOT NULL,
    handled   INTEGER NOT NULL
);
"""


class ScheduleStoreError(StoreError):
    """The schedule store's file cannot be used; the message names it."""

    def __init__(self, path: object, reason: object) -> None:
        Exception.__init__(self, f"the schedule store {path} cannot be used: {reason}")


@dataclass(frozen=True, slots=True)
class ScheduleRecord:
    """Where one schedule stands. Times are whole epoch seconds."""

    key: str
    signature: str
    #: When the store first saw it (a rate without StartDate counts from there).
    created: int
    #: Every fire time up to this one has been handled: started, or dropped as too old.
    handled: int


class ScheduleStore:
    """The schedules table, in a SQLite file (a directory holds ``store.sqlite3``) or in
    memory (``":memory:"``, nothing kept across restarts)."""

    def __init__(self, path: str | os.PathLike[str] = ":memory:") -> None:
        self.path: Path | None = None if str(path) == ":memory:" else store_file(path)
        self._connection: sqlite3.Connection | None = None

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        try:
            if self._connection is None:
                self._connection = self._connect()
            yield self._connection
        except (sqlite3.Error, OSError) as exc:
            raise ScheduleStoreError(self.path or ":memory:", exc) from exc

    def _connect(self) -> sqlite3.Connection:
        target: str | Path = ":memory:"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target = self.path
        db = sqlite3.connect(target, timeout=30.0, isolation_level=None)
        try:
            db.executescript(_SCHEMA)
        except BaseException:
            db.close()
            raise
        return db

    def get(self, key: str) -> ScheduleRecord | None:
        """The schedule's record, or None for one never seen."""
        with self._db() as db:
            row = db.execute(
                "SELECT key, signature, created, handled FROM schedules WHERE key = ?", (key,)
            ).fetchone()
        return None if row is None else ScheduleRecord(*row)

    def put(self, record: ScheduleRecord) -> None:
        """Write the schedule's record (replacing an older one), durably."""
        with self._db() as db:
            db.execute(
                "INSERT OR REPLACE INTO schedules (key, signature, created, handled) "
                "VALUES (?, ?, ?, ?)",
                (record.key, record.signature, record.created, record.handled),
            )

    def close(self) -> None:
        """Close the connection (it reopens on the next use)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
