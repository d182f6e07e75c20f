"""What the store's SQLite files share: how one is opened and how it is written."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from runtime.store.errors import StoreError


def connect(path: Path | None, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit, see :func:`transaction`)
    to the file at ``path`` (its folder made) or to memory (None), with ``schema`` applied.
    A file is in WAL mode with ``synchronous=NORMAL``: a commit survives the process being
    killed; a power cut may lose the last few."""
    if path is None:
        # Used by one thread at a time, though not always the same one: a Temporal
        # workflow's activations run on a pool's threads.
        db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    try:
        if path is not None:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(schema)
    except BaseException:
        db.close()
        raise
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction, taken at once (``BEGIN IMMEDIATE``), rolled back on error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class _OneFailed(Exception):
    """A write of :meth:`Database.write_each`'s first attempt raised."""


class Database:
    """One SQLite file (or memory: ``":memory:"``) opened with a schema; a file that cannot
    be used raises ``StoreError`` naming it, on opening and on each write.

    Given ``beside`` (another ``Database``), it adds its schema to that one's file and
    uses that one's connection: two kinds of records in one file then share one page
    cache, which one connection's writes do not invalidate for the other's reads. The
    connection is then the other's to close."""

    def __init__(
        self, path: str | os.PathLike[str], schema: str, beside: Database | None = None
    ) -> None:
        self.path = None if str(path) == ":memory:" else Path(path)
        self._owned = beside is None
        try:
            if beside is None:
                self._db = connect(self.path, schema)
            else:
                self.path, self._db = beside.path, beside._db
                self._db.executescript(schema)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(self.path, exc, "database") from exc

    def close(self) -> None:
        """Close the file (unless its connection is another ``Database``'s)."""
        if self._owned:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; one already open on a shared connection is joined (the
        ``Database`` that opened it commits or rolls back what is written)."""
        if self._db.in_transaction:
            yield self._db
            return
        try:
            with transaction(self._db) as db:
                yield db
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(self.path, exc, "database") from exc

    def write_each(
        self, writes: Sequence[Callable[[sqlite3.Connection], None]]
    ) -> list[BaseException | None]:
        """Run ``writes`` in one transaction: one that raises is rolled back alone (its
        exception, a ``StoreError`` for SQLite's, in its place in the list returned; None for
        each that was written), the others are committed together. ``StoreError`` when the
        transaction itself cannot be had or committed.

        They are run all together first, in the transaction alone: a savepoint around them
        would copy every page they change to a sub-journal (a temporary file once it holds
        more than a few pages). Only when one raises is that transaction rolled back and
        they are run again in another, each in a savepoint of its own. So a write must do
        the same when run twice. In a transaction already open on a shared connection,
        which cannot be rolled back here, each goes in a savepoint at once."""
        if self._db.in_transaction:
            return self._each(self._db, writes)
        try:
            with self._write() as db:
                try:
                    for write in writes:
                        write(db)
                except Exception as exc:  # one of them failed: each on its own, to find which
                    raise _OneFailed from exc  # out of the transaction, which rolls back
        except _OneFailed:
            with self._write() as db:
                return self._each(db, writes)
        return [None] * len(writes)

    def _each(
        self, db: sqlite3.Connection, writes: Sequence[Callable[[sqlite3.Connection], None]]
    ) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = []
        for write in writes:
            db.execute("SAVEPOINT one")
            try:
                write(db)
            except Exception as exc:  # that write's own failure, handed to its caller
                db.execute("ROLLBACK TO one")
                failure = exc
                if isinstance(exc, sqlite3.Error | OSError):
                    failure = StoreError(self.path, exc, "database")
                outcomes.append(failure)
            else:
                outcomes.append(None)
            db.execute("RELEASE one")
        return outcomes
