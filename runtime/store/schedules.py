"""Where each schedule of ``asl serve --schedules`` stands, in SQLite: so that after a
restart a schedule neither fires twice for one time nor forgets the times it missed, and
so that servers sharing one file never both fire one time.

One row per schedule (``group/name``): the signature of its timing and target (a
changed schedule starts afresh), when this store first saw it (a rate schedule without
StartDate counts from there), the last fire time it has handled, and the *claim* on the
time being fired: which scheduler fires it, until when. A scheduler claims a time in a
transaction before it starts its execution (:meth:`ScheduleStore.claim`), and marks it
handled after (:meth:`ScheduleStore.handled`); another finds the time handled, or claimed
and waits. A claim whose scheduler died (its lease expired unhandled) is taken over, and
the time fired again: the execution's name, fixed by the schedule and the time, finds
the one the dead scheduler may have started. Beside it, each schedule's latest
``KEPT_FIRES`` handled fires (the time, the execution started or why none was), each
written in the transaction that marks its time handled, so a reader (the console's
Schedules page) lists them after a restart, whichever server sharing the file fired them.
The tables can live in the same file as the server's other tables; its path is given.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from runtime.store.errors import StoreError
from runtime.store.sqlite import transaction
from runtime.store.tasks import store_file

__all__ = ["KEPT_FIRES", "Claim", "Fired", "ScheduleRecord", "ScheduleStore", "ScheduleStoreError"]

#: How many handled fires the store keeps of each schedule.
KEPT_FIRES = 10

# WAL, as the task store's file: readers never wait for the writer (in memory: no-op).
_SCHEMA = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS schedules (
    key       TEXT PRIMARY KEY,
    signature TEXT NOT NULL,
    created   INTEGER NOT NULL,
    handled   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS schedule_fires (
    key           TEXT NOT NULL,
    scheduled     INTEGER NOT NULL,
    execution_arn TEXT,
    problem       TEXT,
    PRIMARY KEY (key, scheduled)
);
"""
#: Columns added since the first version of the file (the claim), and their definitions.
_ADDED = {"claimed": "INTEGER", "claimer": "TEXT", "claim_expires": "REAL"}
_COLUMNS = "key, signature, created, handled"


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


@dataclass(frozen=True, slots=True)
class Fired:
    """One fire a schedule handled: the time it was for and the execution it started, or
    why none was started."""

    scheduled: int
    execution_arn: str | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """What :meth:`ScheduleStore.claim` found: the time is ours to fire (``won``); or the
    schedule as it stands now (another handled the time, or changed the schedule: None
    when it is gone); or another's live claim on it, until ``busy_until``."""

    won: bool
    record: ScheduleRecord | None
    busy_until: float | None = None


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

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._db() as db, transaction(db):
            yield db

    def _connect(self) -> sqlite3.Connection:
        target: str | Path = ":memory:"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target = self.path
        db = sqlite3.connect(target, timeout=30.0, isolation_level=None)
        try:
            db.executescript(_SCHEMA)
            with transaction(db):
                present = {row[1] for row in db.execute("PRAGMA table_info(schedules)")}
                for column, kind in _ADDED.items():
                    if column not in present:
                        db.execute(f"ALTER TABLE schedules ADD COLUMN {column} {kind}")
        except BaseException:
            db.close()
            raise
        return db

    def open(self, fresh: ScheduleRecord) -> ScheduleRecord:
        """The schedule's record as stored when its signature is ``fresh``'s; else
        ``fresh``, stored in its place (in one transaction, so two servers opening one new
        schedule keep one record)."""
        with self._write() as db:
            record = _record(db, fresh.key)
            if record is not None and record.signature == fresh.signature:
                return record
            _put(db, fresh)
            return fresh

    def claim(
        self, record: ScheduleRecord, fire: int, claimer: str, now: float, lease: float
    ) -> Claim:
        """Claim the schedule's time ``fire`` for ``claimer`` until ``now + lease``, in one
        transaction: won unless the time is handled already (or the schedule changed), or
        another's claim on it has not expired."""
        with self._write() as db:
            stored = _record(db, record.key)
            if stored is None or stored.signature != record.signature or stored.handled >= fire:
                return Claim(False, stored)
            claimed, by, expires = db.execute(
                "SELECT claimed, claimer, claim_expires FROM schedules WHERE key = ?",
                (record.key,),
            ).fetchone()
            if claimed is not None and by != claimer and expires > now:
                return Claim(False, stored, busy_until=float(expires))
            db.execute(
                "UPDATE schedules SET claimed = ?, claimer = ?, claim_expires = ? WHERE key = ?",
                (fire, claimer, now + lease, record.key),
            )
            return Claim(True, stored)

    def handled(self, record: ScheduleRecord, claimer: str, fired: Fired | None = None) -> None:
        """Every time up to ``record.handled`` is handled (never moving back), and
        ``claimer``'s claim, if it holds one, released; ``fired``, the fire that handled
        it (none when the times were dropped), kept among the schedule's latest."""
        with self._write() as db:
            db.execute(
                "UPDATE schedules SET handled = max(handled, ?), claimed = CASE WHEN claimer = ? "
                "THEN NULL ELSE claimed END, claimer = CASE WHEN claimer = ? THEN NULL "
                "ELSE claimer END WHERE key = ? AND signature = ?",
                (record.handled, claimer, claimer, record.key, record.signature),
            )
            if fired is not None:
                _keep_fire(db, record.key, fired)

    def fires(self, key: str) -> tuple[Fired, ...]:
        """The schedule's latest handled fires (at most ``KEPT_FIRES``), newest first."""
        with self._db() as db:
            rows = db.execute(
                "SELECT scheduled, execution_arn, problem FROM schedule_fires WHERE key = ? "
                "ORDER BY scheduled DESC LIMIT ?",
                (key, KEPT_FIRES),
            ).fetchall()
        return tuple(Fired(*row) for row in rows)

    def close(self) -> None:
        """Close the connection (it reopens on the next use)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _record(db: sqlite3.Connection, key: str) -> ScheduleRecord | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM schedules WHERE key = ?", (key,)).fetchone()
    return None if row is None else ScheduleRecord(*row)


def _keep_fire(db: sqlite3.Connection, key: str, fired: Fired) -> None:
    """Keep ``fired`` (in place of an earlier fire of its time, one a scheduler that died
    holding its claim handled) and forget the schedule's fires beyond the latest few."""
    db.execute(
        "INSERT OR REPLACE INTO schedule_fires (key, scheduled, execution_arn, problem) "
        "VALUES (?, ?, ?, ?)",
        (key, fired.scheduled, fired.execution_arn, fired.problem),
    )
    db.execute(
        "DELETE FROM schedule_fires WHERE key = ? AND scheduled NOT IN (SELECT scheduled "
        "FROM schedule_fires WHERE key = ? ORDER BY scheduled DESC LIMIT ?)",
        (key, key, KEPT_FIRES),
    )


def _put(db: sqlite3.Connection, record: ScheduleRecord) -> None:
    db.execute(
        f"INSERT OR REPLACE INTO schedules ({_COLUMNS}) VALUES (?, ?, ?, ?)",
        (record.key, record.signature, record.created, record.handled),
    )
