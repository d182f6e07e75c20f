"""Tasks waiting for an answer: ``.waitForTaskToken`` callbacks and activity tasks, in SQLite.

One table holds every task token an execution waits on, from the moment it is issued
until long after it is answered (so a late answer gets AWS's ``TaskTimedOut``, not
``TaskDoesNotExist``). The file is shared by processes: ``asl run`` waits on a token while
``asl tasks`` in another terminal lists and answers it; later the API server serves
SendTask* and GetActivityTask from the same tables. SQLite in WAL mode, every write in a
``BEGIN IMMEDIATE`` transaction, so two processes never answer the same task twice.

Times in the store are wall-clock seconds (they are shown as ages to people); deadlines
(HeartbeatSeconds, TimeoutSeconds) are kept by the waiting process on its Host's clock.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Concatenate, Literal, ParamSpec, TypeVar

from asl.jsontext import escape_surrogates, replace_surrogates
from runtime.store.errors import InvalidToken, StoreError, TaskDoesNotExist, TaskTimedOut
from runtime.store.sqlite import connect, transaction

Kind = Literal["callback", "activity"]
#: SCHEDULED: an activity task no worker has taken yet; RUNNING: the token is out (with
#: the integration, or with the worker that took the activity task). The rest are ends.
Status = Literal["SCHEDULED", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
OPEN: tuple[Status, ...] = ("SCHEDULED", "RUNNING")

#: The environment variable naming the store (a directory or a ``.sqlite3`` file).
STORE_ENV = "ASL_STORE"
STORE_DIR = ".asl"
STORE_FILE = "store.sqlite3"
#: Ended tasks are kept this long (AWS keeps a closed execution's history 90 days).
KEEP_ENDED_SECONDS = 90 * 24 * 3600

# Tokens this engine issues are URL-safe base64 of at least 128 bits; AWS allows up to
# 2,048 characters.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,2048}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    token             TEXT PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('callback', 'activity')),
    execution_arn     TEXT NOT NULL,
    state_name        TEXT NOT NULL,
    resource          TEXT NOT NULL,
    input             TEXT NOT NULL,
    heartbeat_seconds INTEGER,
    timeout_seconds   INTEGER,
    status            TEXT NOT NULL,
    worker_name       TEXT,
    owner             TEXT NOT NULL,
    created           REAL NOT NULL,
    started           REAL,
    last_heartbeat    REAL,
    heartbeats        INTEGER NOT NULL DEFAULT 0,
    ended             REAL,
    output            TEXT,
    error             TEXT,
    cause             TEXT
);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, resource);
CREATE TABLE IF NOT EXISTS activities (
    arn     TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    created REAL NOT NULL
);
PRAGMA user_version = 1;
"""

_COLUMNS = (
    "token, kind, execution_arn, state_name, resource, input, heartbeat_seconds, "
    "timeout_seconds, status, worker_name, owner, created, started, last_heartbeat, "
    "heartbeats, ended, output, error, cause"
)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One row of the tasks table. ``input`` and ``output`` are JSON text."""

    token: str
    kind: Kind
    execution_arn: str
    state_name: str
    resource: str
    input: str
    heartbeat_seconds: int | None
    timeout_seconds: int | None
    status: Status
    worker_name: str | None
    owner: str
    created: float
    started: float | None
    last_heartbeat: float | None
    heartbeats: int
    ended: float | None
    output: str | None
    error: str | None
    cause: str | None

    @property
    def is_open(self) -> bool:
        """Still waiting for an answer."""
        return self.status in OPEN


@dataclass(frozen=True, slots=True)
class NewTask:
    """What an execution records when it starts waiting on a token."""

    token: str
    kind: Kind
    execution_arn: str
    state_name: str
    resource: str
    input: str
    heartbeat_seconds: int | None = None
    timeout_seconds: int | None = None


def default_store_path(cwd: Path | None = None) -> Path:
    """``$ASL_STORE`` if set, else ``.asl/store.sqlite3`` in the working directory."""
    configured = os.environ.get(STORE_ENV)
    return Path(configured) if configured else (cwd or Path.cwd()) / STORE_DIR


def store_file(path: str | os.PathLike[str]) -> Path:
    """The database file of a store path: a directory holds ``store.sqlite3``."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        return path / STORE_FILE
    return path


def this_owner() -> str:
    """Who owns the tasks this process waits on: ``<pid>@<host>``."""
    return f"{os.getpid()}@{socket.gethostname()}"


def owner_alive(owner: str) -> bool:
    """False only when the owner is a process on this machine that has exited."""
    pid_text, _, host = owner.partition("@")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_token(token: str) -> None:
    """Raise ``InvalidToken`` for a token this engine could not have issued."""
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise InvalidToken()


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _guarded(
    method: Callable[Concatenate[TaskStore, _P], _R],
) -> Callable[Concatenate[TaskStore, _P], _R]:
    """A store method whose file cannot be used raises :class:`StoreError`, naming it."""

    @functools.wraps(method)
    def guarded(store: TaskStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return method(store, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(store.path, exc) from exc

    return guarded


class TaskStore:
    """The tasks table, in a SQLite file shared by processes or in memory.

    The file and its directory are created on first use, so a run that never waits on a
    token leaves nothing behind. A file that cannot be used (corrupt, read-only, its
    folder a file) raises :class:`StoreError` from every method.
    """

    def __init__(
        self, path: str | os.PathLike[str] = ":memory:", *, now: Callable[[], float] = time.time
    ) -> None:
        self.path = None if str(path) == ":memory:" else store_file(path)
        self._now = now
        self._owner = this_owner()
        self._connection: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None  # the file the connection opened

    @property
    def shared(self) -> bool:
        """True for a file other processes may write to (answers can arrive from outside)."""
        return self.path is not None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = self._connect()
            self._identity = self._file_identity()
        elif self.path is not None and self._file_identity() != self._identity:
            # An open connection goes on reading and writing a deleted or replaced file,
            # where no other process will ever answer: say so rather than wait forever.
            self.close()
            raise StoreError(self.path, "the file was deleted or replaced while in use")
        return self._connection

    def _file_identity(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return None
        return found.st_dev, found.st_ino

    def _connect(self) -> sqlite3.Connection:
        db = connect(self.path, _SCHEMA)
        try:
            db.execute(
                "DELETE FROM tasks WHERE ended IS NOT NULL AND ended < ?",
                (self._now() - KEEP_ENDED_SECONDS,),
            )
        except BaseException:
            db.close()
            raise
        return db

    @_guarded
    def check(self) -> None:
        """Raise :class:`StoreError` now if the store could not be used when a task
        waits: an existing file is opened (a corrupt or read-only one fails); for a file
        not made yet, the nearest folder that exists must be a directory this process
        may write to."""
        if self.path is None:
            return
        if self.path.exists():
            self._db()
            self.close()  # opened again where it is used: a connection keeps to its thread
            return
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            raise StoreError(self.path, f"{folder} is not a directory")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StoreError(self.path, f"the directory {folder} cannot be written to")

    def close(self) -> None:
        """Close the connection (it reopens on the next use)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self._db())

    @_guarded
    def add(self, task: NewTask) -> TaskRecord:
        """Record a task an execution starts waiting on (an activity task is SCHEDULED). A
        recovered execution waiting again on its token takes the task over (open, or
        aborted when its process went away); an answer given meanwhile stays, for it to
        find."""
        status: Status = "SCHEDULED" if task.kind == "activity" else "RUNNING"
        now = self._now()
        with self._write() as db:
            db.execute(
                "INSERT INTO tasks (token, kind, execution_arn, state_name, resource, input, "
                "heartbeat_seconds, timeout_seconds, status, owner, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (token) DO UPDATE SET owner = excluded.owner, "
                "status = CASE tasks.status WHEN 'ABORTED' THEN excluded.status "
                "ELSE tasks.status END, ended = NULL "
                "WHERE tasks.execution_arn = excluded.execution_arn "
                "AND tasks.status IN ('SCHEDULED', 'RUNNING', 'ABORTED')",
                (task.token, task.kind, replace_surrogates(task.execution_arn),
                 replace_surrogates(task.state_name), replace_surrogates(task.resource),
                 escape_surrogates(task.input), task.heartbeat_seconds, task.timeout_seconds,
                 status, self._owner, now),
            )  # fmt: skip
            if task.kind == "activity":
                _remember_activity(db, task.resource, now)
        return self._get(self._db(), task.token)  # type: ignore[return-value]

    @_guarded
    def get(self, token: str) -> TaskRecord | None:
        """The task of a token, or None."""
        return self._get(self._db(), token)

    @_guarded
    def get_many(self, tokens: Sequence[str]) -> list[TaskRecord]:
        """The tasks of these tokens (unknown ones left out)."""
        found: list[TaskRecord] = []
        db = self._db()
        for start in range(0, len(tokens), 500):
            chunk = tokens[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE token IN ({marks})", chunk)
            found.extend(TaskRecord(*row) for row in rows)
        return found

    @staticmethod
    def _get(db: sqlite3.Connection, token: str) -> TaskRecord | None:
        row = db.execute(f"SELECT {_COLUMNS} FROM tasks WHERE token = ?", (token,)).fetchone()
        return None if row is None else TaskRecord(*row)

    @_guarded
    def open_tasks(self) -> list[TaskRecord]:
        """Tasks still waiting, oldest first; tasks of processes that have exited are closed."""
        rows = self._db().execute(
            f"SELECT {_COLUMNS} FROM tasks WHERE status IN ('SCHEDULED', 'RUNNING') ORDER BY rowid"
        )
        alive: list[TaskRecord] = []
        for record in [TaskRecord(*row) for row in rows]:
            if owner_alive(record.owner):
                alive.append(record)
            else:  # its execution ended with the process that ran it
                self._end(record.token, "ABORTED")
        return alive

    @_guarded
    def succeed(self, token: str, output: str) -> TaskRecord:
        """SendTaskSuccess: ``output`` is JSON text."""
        return self._answer(token, "SUCCEEDED", escape_surrogates(output), None, None)

    @_guarded
    def fail(self, token: str, error: str | None, cause: str | None) -> TaskRecord:
        """SendTaskFailure."""
        error = None if error is None else replace_surrogates(error)
        cause = None if cause is None else replace_surrogates(cause)
        return self._answer(token, "FAILED", None, error, cause)

    @_guarded
    def heartbeat(self, token: str) -> TaskRecord:
        """SendTaskHeartbeat: count a heartbeat of an open task."""
        now = self._now()

        def beat(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE tasks SET heartbeats = heartbeats + 1, last_heartbeat = ? WHERE token = ?",
                (now, token),
            )

        return self._update_open(token, beat)

    def _answer(
        self, token: str, status: Status, output: str | None, error: str | None, cause: str | None
    ) -> TaskRecord:
        now = self._now()

        def answer(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE tasks SET status = ?, output = ?, error = ?, cause = ?, ended = ? "
                "WHERE token = ?",
                (status, output, error, cause, now, token),
            )

        return self._update_open(token, answer)

    def _update_open(self, token: str, update: Callable[[sqlite3.Connection], None]) -> TaskRecord:
        """Apply ``update`` to an open task, or raise AWS's error for the token.

        An activity task answered before any worker took it counts as taken, with no
        worker name (a person answering from ``asl tasks`` is its worker).
        """
        check_token(token)
        orphaned = False
        with self._write() as db:
            record = self._get(db, token)
            if record is None:
                raise TaskDoesNotExist()
            if not record.is_open:
                raise TaskTimedOut()
            if owner_alive(record.owner):
                if record.status == "SCHEDULED":
                    db.execute(
                        "UPDATE tasks SET status = 'RUNNING', started = ? WHERE token = ?",
                        (self._now(), token),
                    )
                update(db)
            else:
                orphaned = True
                db.execute(
                    "UPDATE tasks SET status = 'ABORTED', ended = ? WHERE token = ?",
                    (self._now(), token),
                )
        if orphaned:  # its execution ended with the process that ran it
            raise TaskTimedOut()
        return self._get(self._db(), token)  # type: ignore[return-value]

    @_guarded
    def end(self, token: str, status: Literal["TIMED_OUT", "ABORTED"]) -> TaskRecord | None:
        """End an open task without an answer; return the task as it is now (an answer may
        have arrived first: then it is returned unchanged)."""
        return self._end(token, status)

    def _end(self, token: str, status: Status) -> TaskRecord | None:
        with self._write() as db:
            db.execute(
                "UPDATE tasks SET status = ?, ended = ? "
                "WHERE token = ? AND status IN ('SCHEDULED', 'RUNNING')",
                (status, self._now(), token),
            )
            return self._get(db, token)

    @_guarded
    def claim(self, activity_arn: str, worker_name: str | None) -> TaskRecord | None:
        """GetActivityTask: give the oldest scheduled task of the activity to a worker."""
        now = self._now()
        with self._write() as db:
            _remember_activity(db, activity_arn, now)
            row = db.execute(
                "SELECT token, owner FROM tasks WHERE status = 'SCHEDULED' AND resource = ? "
                "ORDER BY rowid",
                (activity_arn,),
            ).fetchall()
            token = next((t for t, owner in row if owner_alive(owner)), None)
            if token is None:
                return None
            worker = None if worker_name is None else replace_surrogates(worker_name)
            db.execute(
                "UPDATE tasks SET status = 'RUNNING', worker_name = ?, started = ? WHERE token = ?",
                (worker, now, token),
            )
            return self._get(db, token)

    @_guarded
    def activities(self) -> list[tuple[str, str, float]]:
        """Every activity named so far: ``(arn, name, created)``, oldest first."""
        rows = self._db().execute("SELECT arn, name, created FROM activities ORDER BY created")
        return [(arn, name, created) for arn, name, created in rows]


def _remember_activity(db: sqlite3.Connection, arn: str, now: float) -> None:
    """Activities exist once named (CreateActivity is implicit)."""
    name = arn.rsplit(":", 1)[-1]
    db.execute(
        "INSERT OR IGNORE INTO activities (arn, name, created) VALUES (?, ?, ?)", (arn, name, now)
    )
