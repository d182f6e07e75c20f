"""State machines, executions, their histories and journals, in SQLite.

The durable half of an engine (see :mod:`runtime.journal`): every row an execution
writes as it moves goes in as a batch (:func:`start_write`, :func:`commit_write`), in a
transaction with the other batches of the same event-loop turn
(:mod:`runtime.store.group_commit`), so after the process dies the file holds each
execution as of its last commit.
SQLite as :mod:`runtime.store.sqlite` opens it: a commit survives the process being killed.

Values are kept as JSON text (AWS's, :func:`asl.jsontext.json_text`); times as epoch
seconds of the Host's clock.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from asl.jsontext import escape_surrogates
from runtime.store.group_commit import GroupCommit, Write
from runtime.store.runners import RunnerLock
from runtime.store.sqlite import Database

__all__ = [
    "INERT",
    "ChildRedrive",
    "Ended",
    "EventRow",
    "ExecutionRow",
    "ExecutionStore",
    "ExecutionTaken",
    "HistoryNumber",
    "JournalRow",
    "MachineRow",
    "MapRunRows",
    "RedrivePlan",
    "commit_write",
    "start_write",
]

#: The prefix of the strand of an event no replay matches (the path a redrive set aside).
INERT = "~"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS machines (
    arn        TEXT NOT NULL,
    revision   TEXT NOT NULL,
    name       TEXT NOT NULL,
    type       TEXT NOT NULL,
    role_arn   TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (arn, revision)
);
CREATE TABLE IF NOT EXISTS executions (
    arn           TEXT PRIMARY KEY,
    machine_arn   TEXT NOT NULL,
    revision      TEXT NOT NULL,
    name          TEXT NOT NULL,
    status        TEXT NOT NULL,
    input         TEXT NOT NULL,
    output        TEXT,
    error         TEXT,
    cause         TEXT,
    start_time    REAL NOT NULL,
    stop_time     REAL,
    seed          INTEGER NOT NULL,
    redrive_count INTEGER NOT NULL DEFAULT 0,
    redrive_date  REAL
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (machine_arn, start_time);
CREATE TABLE IF NOT EXISTS map_runs (
    arn        TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    parent_arn TEXT NOT NULL,
    ord        INTEGER NOT NULL,
    body       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS map_runs_by_owner ON map_runs (owner, ord);
CREATE TABLE IF NOT EXISTS map_run_children (
    arn         TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    map_run_arn TEXT NOT NULL,
    ord         INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS map_run_children_by_owner ON map_run_children (owner, ord);
"""
# An execution's events and answers are keyed by the number of its history (see
# :func:`_history`), not its ARN: numbers grow as executions start, so a turn's rows go at
# the end of the tables, in a few pages, where random ARNs would dirty a page each.
_HISTORIES = (
    """CREATE TABLE IF NOT EXISTS events (
    history     INTEGER NOT NULL,
    id          INTEGER NOT NULL,
    previous_id INTEGER NOT NULL,
    timestamp   REAL NOT NULL,
    type        TEXT NOT NULL,
    details     TEXT,
    strand      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    calls       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (history, id)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS journal (
    history INTEGER NOT NULL,
    strand  TEXT NOT NULL,
    seq     TEXT NOT NULL,
    ord     INTEGER NOT NULL,
    answer  TEXT NOT NULL,
    PRIMARY KEY (history, strand, seq)
) WITHOUT ROWID""",
)
#: Every task token an execution drew, by the number of its history: a token stays
#: recognised after its execution ended and the server restarted (SendTask* then answers
#: AWS's ``TaskTimedOut``, not ``TaskDoesNotExist``). Kept apart from the journal, whose
#: answers a redrive may forget.
_TASK_TOKENS = """CREATE TABLE task_tokens (
    token   TEXT PRIMARY KEY,
    history INTEGER NOT NULL
) WITHOUT ROWID"""
#: How a journal answer that is a task token ends: ``runtime.journal.Log.recall`` journals
#: it as ``{"v":<token>,"of":"token"}``.
_TOKEN_ANSWER = ',"of":"token"}'
#: The number of an ARN's history: its execution's row number, or, for a Map Run's child
#: execution (which has no row of its own there), its ``map_run_children`` row's, negated.
_HISTORY = (
    "SELECT rowid FROM executions WHERE arn = ?1 UNION ALL "
    "SELECT -rowid FROM map_run_children WHERE arn = ?1 LIMIT 1"
)
#: The executions running, by runner (what :meth:`ExecutionStore.adopt` reads): an index
#: of those alone, which an execution leaves as it ends (one of every status, as files
#: before kept, grew with each execution that ended and was written to at two places).
_RUNNING_INDEX = (
    "CREATE INDEX IF NOT EXISTS executions_running ON executions (runner) WHERE status = 'RUNNING'"
)
#: Columns added since the first version of the file, and their definitions (``origin``:
#: see :func:`start_write`).
_ADDED = {
    "executions": {"redrive_date": "REAL", "runner": "TEXT", "origin": "TEXT"},
    "events": {"calls": "INTEGER NOT NULL DEFAULT 0"},
}

_MACHINE_COLUMNS = "arn, revision, name, type, role_arn, definition"
_EXECUTION_COLUMNS = (
    "arn, machine_arn, revision, name, status, input, output, error, cause, start_time, stop_time, "
    "seed, redrive_count, redrive_date"
)


@dataclass(slots=True)
class HistoryNumber:
    """The number an execution's events and journal are keyed by, once known: the batches
    of one execution share it, so only the first of a resumed one looks it up."""

    value: int | None = None


class ExecutionTaken(Exception):
    """A new execution's ARN is stored already (its start batch is not written)."""


@dataclass(frozen=True, slots=True)
class MachineRow:
    """A state machine as stored: its definition is JSON text; ``revision`` tells its
    definitions (and types, roles) apart, so an execution keeps the one it started with."""

    arn: str
    revision: str
    name: str
    type: str
    role_arn: str
    definition: str


@dataclass(slots=True)  # not frozen, as EventRow below: one is read for every describe
class ExecutionRow:
    """An execution as stored; ``input`` and ``output`` are JSON text."""

    arn: str
    machine_arn: str
    revision: str  # the machine's revision it runs
    name: str
    status: str
    input: str
    output: str | None
    error: str | None
    cause: str | None
    start_time: float
    stop_time: float | None
    seed: int
    redrive_count: int
    redrive_date: float | None = None


# EventRow and JournalRow are never changed once made, but are not frozen: a row is made
# for every event and answer an execution records, and a frozen dataclass's __init__ sets
# each field through object.__setattr__, several times slower.
@dataclass(slots=True)
class EventRow:
    """One history event as stored: ``details`` is JSON text of its raw details (None when
    it has none); ``strand`` and ``seq`` say which thread of the execution recorded it,
    and as its how-manieth event, ``calls`` how many calls to the world that thread had
    made by then (see :mod:`runtime.journal`)."""

    id: int
    previous_id: int
    timestamp: float
    type: str
    details: str | None
    strand: str
    seq: int
    calls: int = 0


@dataclass(slots=True)
class JournalRow:
    """One answer the world gave an execution: ``answer`` is JSON text; ``ord`` orders the
    answers of one execution as they came."""

    strand: str
    seq: str
    ord: int
    answer: str


@dataclass(frozen=True, slots=True)
class ChildRedrive:
    """What redriving a Map Run's child execution with its parent changes in the child's
    stored history (see :mod:`runtime.redrive`)."""

    arn: str
    #: The ids of its events of the path that failed: kept, their strand marked inert.
    set_aside: tuple[int, ...]
    #: The events added: its ``ExecutionRedriven``.
    events: tuple[EventRow, ...]


@dataclass(frozen=True, slots=True)
class RedrivePlan:
    """What redriving an execution changes in its rows (see :mod:`runtime.redrive`)."""

    #: The ids of the events of the path that failed: kept, their strand marked inert.
    set_aside: tuple[int, ...]
    #: The journal keys of that path's answers: forgotten, so that work runs again.
    forgotten: tuple[tuple[str, str], ...]
    #: The events added: ``ExecutionRedriven``, then a ``MapRunRedriven`` per Map Run
    #: redriven (their strands inert: nothing replays them).
    events: tuple[EventRow, ...]
    #: The execution's redrive count from now on.
    count: int
    #: The Map Run children redriven from where they failed.
    children: tuple[ChildRedrive, ...] = ()


@dataclass(frozen=True, slots=True)
class MapRunRows:
    """The Map Runs an execution's Distributed Maps started (nested ones too), written with
    its end: each Map Run as ``(arn, the ARN of the execution or child execution that
    started it, JSON text of its fields)``, each child execution as ``(arn, its Map Run's
    ARN, JSON text of its fields)``, in the order they started, and each child's history."""

    runs: Sequence[tuple[str, str, str]]
    children: Sequence[tuple[str, str, str]]
    histories: Sequence[tuple[str, Sequence[EventRow]]]


@dataclass(frozen=True, slots=True)
class Ended:
    """How an execution ended, written with its last events."""

    status: str
    output: str | None  # JSON text
    error: str | None
    cause: str | None
    stop_time: float


class ExecutionStore(Database):
    """The machines, executions, events and journal tables of one SQLite file (or of memory,
    for tests: ``":memory:"``). Used from the event loop's thread only."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, _SCHEMA + "".join(f"{table};\n" for table in _HISTORIES))
        #: The lock naming this engine as the runner of the executions it starts (none in
        #: memory: nothing else can open the database).
        self.runner = None if self.path is None else RunnerLock(self.path)
        #: Batches of many executions written in one transaction per event-loop turn.
        self.group = GroupCommit(self)
        with self._write() as db:
            for table, columns in _ADDED.items():
                present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for column, kind in columns.items():
                    if column not in present:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            db.execute("DROP INDEX IF EXISTS executions_by_status")
            db.execute(_RUNNING_INDEX)
            _number_histories(db)
            _keep_task_tokens(db)

    def close(self) -> None:
        """Close the file and release this engine's runner lock."""
        super().close()
        if self.runner is not None:
            self.runner.close()

    @property
    def runner_id(self) -> str | None:
        """The runner recorded with the executions this engine starts or redrives."""
        return None if self.runner is None else self.runner.id

    # --- machines ----------------------------------------------------------------------

    def put_machine(self, row: MachineRow) -> None:
        """Store a state machine's revision; the latest stored is the machine's current one."""
        with self._write() as db:
            db.execute(
                "DELETE FROM machines WHERE arn = ? AND revision = ?", (row.arn, row.revision)
            )
            db.execute(
                f"INSERT INTO machines ({_MACHINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (row.arn, row.revision, row.name, row.type, row.role_arn,
                 escape_surrogates(row.definition)),
            )  # fmt: skip

    def machine(self, arn: str, revision: str | None = None) -> MachineRow | None:
        """A stored state machine by ARN: its current revision, or the one given."""
        if revision is None:
            query = f"SELECT {_MACHINE_COLUMNS} FROM machines WHERE arn = ? ORDER BY rowid DESC"
            row = self._db.execute(query, (arn,)).fetchone()
        else:
            query = f"SELECT {_MACHINE_COLUMNS} FROM machines WHERE arn = ? AND revision = ?"
            row = self._db.execute(query, (arn, revision)).fetchone()
        return None if row is None else MachineRow(*row)

    def machines(self) -> list[MachineRow]:
        """Every stored state machine (its current revision), by name."""
        rows = self._db.execute(
            f"SELECT {_MACHINE_COLUMNS} FROM machines WHERE rowid IN "
            "(SELECT max(rowid) FROM machines GROUP BY arn) ORDER BY name"
        )
        return [MachineRow(*row) for row in rows]

    # --- executions --------------------------------------------------------------------

    def write(self, write: Write) -> None:
        """Write one batch (:func:`start_write`, :func:`commit_write`) in a transaction of
        its own; ``self.group.queue(write)`` writes it with the other batches of this
        event-loop turn instead (:mod:`runtime.store.group_commit`)."""
        with self._write() as db:
            write(db)

    def execution(self, arn: str) -> ExecutionRow | None:
        """A stored execution by ARN."""
        row = self._db.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE arn = ?", (arn,)
        ).fetchone()
        return None if row is None else _execution_row(row)

    def executions(
        self, machine_arn: str | None = None, status: str | None = None
    ) -> list[ExecutionRow]:
        """Stored executions, newest first, of one machine and in one status if given."""
        clauses, args = [], []
        if machine_arn is not None:
            clauses.append("machine_arn = ?")
            args.append(machine_arn)
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._db.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions{where} "
            "ORDER BY start_time DESC, rowid DESC",
            args,
        )
        return [_execution_row(row) for row in rows]

    def execution_page(
        self,
        machine_arn: str,
        limit: int,
        *,
        status: str | None = None,
        after: tuple[float, int] | None = None,
    ) -> list[tuple[ExecutionRow, tuple[float, int]]]:
        """Up to ``limit`` executions of a machine (in one status, if given), newest first,
        each with its place in that order; ``after`` a place, those that follow it. Only
        those rows are read (keyset pagination on the machine's index)."""
        clauses: list[str] = ["machine_arn = ?"]
        args: list[object] = [machine_arn]
        if status is not None:
            clauses.append("status = ?")
            args.append(status)
        if after is not None:
            clauses.append("(start_time < ? OR (start_time = ? AND rowid < ?))")
            args.extend([after[0], after[0], after[1]])
        rows = self._db.execute(
            f"SELECT rowid, {_EXECUTION_COLUMNS} FROM executions WHERE {' AND '.join(clauses)} "
            "ORDER BY start_time DESC, rowid DESC LIMIT ?",
            [*args, limit],
        )
        found = [(_execution_row(row[1:]), int(row[0])) for row in rows]
        return [(execution, (execution.start_time, rowid)) for execution, rowid in found]

    def events(self, arn: str) -> list[EventRow]:
        """The stored history of an execution (or of a Map Run's child), in order."""
        history = _history(self._db, arn)
        if history is None:
            return []
        rows = self._db.execute(
            "SELECT id, previous_id, timestamp, type, details, strand, seq, calls FROM events "
            "WHERE history = ? ORDER BY id",
            (history,),
        )
        return [EventRow(*row) for row in rows]

    def map_runs(self, owner: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
        """The Map Runs and child executions stored with an ended execution (see
        :class:`MapRunRows`), in the order they started."""
        runs = self._db.execute(
            "SELECT arn, parent_arn, body FROM map_runs WHERE owner = ? ORDER BY ord", (owner,)
        ).fetchall()
        children = self._db.execute(
            "SELECT arn, map_run_arn, body FROM map_run_children WHERE owner = ? ORDER BY ord",
            (owner,),
        ).fetchall()
        return runs, children

    def map_run_row(self, arn: str) -> tuple[str, str, str] | None:
        """A stored Map Run by ARN, read alone: the execution it is stored with, the ARN
        of the execution (or child execution) that started it, and JSON text of its fields."""
        return self._db.execute(
            "SELECT owner, parent_arn, body FROM map_runs WHERE arn = ?", (arn,)
        ).fetchone()

    def map_run_child(self, arn: str) -> tuple[str, str, str] | None:
        """A stored Map Run child execution by ARN, read alone (not with its siblings): the
        execution it is stored with, its Map Run's ARN, and JSON text of its fields."""
        return self._db.execute(
            "SELECT owner, map_run_arn, body FROM map_run_children WHERE arn = ?", (arn,)
        ).fetchone()

    def map_runs_started_by(self, owner: str, parent: str) -> list[tuple[str, str, str]]:
        """The Map Runs stored with the execution ``owner`` that the execution (or child
        execution) ``parent`` started, as :meth:`map_runs` gives them, in order."""
        return self._db.execute(
            "SELECT arn, parent_arn, body FROM map_runs WHERE owner = ? AND parent_arn = ? "
            "ORDER BY ord",
            (owner, parent),
        ).fetchall()

    def map_run_children(
        self, owner: str, map_run: str, after: int = -1, limit: int = -1, offset: int = 0,
        status: str | None = None, redriven: bool | None = None,
    ) -> list[tuple[str, str, int]]:  # fmt: skip
        """The children of the Map Run ``map_run`` stored with the execution ``owner``, in
        the order they started: ``(arn, JSON text of its fields, its place in that order)``;
        only those after the place ``after``, in ``status`` if given and redriven (or not)
        if ``redriven`` says; the first ``offset`` of those left out, ``limit`` of them at
        most (-1: all). The filters run in SQLite: only the rows answered are parsed."""
        clauses = ["owner = ?", "ord > ?", "map_run_arn = ?"]
        args: list[object] = [owner, after, map_run]
        if status is not None:
            clauses.append("json_extract(body, '$.status') = ?")
            args.append(status)
        if redriven is not None:
            clauses.append(f"json_extract(body, '$.redrive_count') {'>' if redriven else '='} 0")
        return self._db.execute(
            f"SELECT arn, body, ord FROM map_run_children WHERE {' AND '.join(clauses)} "
            "ORDER BY ord LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()

    def map_run_child_counts(self, owner: str, map_run: str) -> list[tuple[str, bool, int, int]]:
        """The children of the Map Run ``map_run`` stored with the execution ``owner``
        counted in SQLite, for a Map Run stored without its counts (by earlier versions):
        ``(status, past the redrive limit, children, items)`` for each pair found."""
        return [
            (status, bool(past), children, items)
            for status, past, children, items in self._db.execute(
                "SELECT json_extract(body, '$.status') AS status, "
                "coalesce(json_extract(body, '$.past_redrive_limit'), 0) AS past, "
                "count(*), sum(coalesce(json_extract(body, '$.item_count'), 1)) "
                "FROM map_run_children "
                "WHERE owner = ? AND map_run_arn = ? GROUP BY status, past",
                (owner, map_run),
            )
        ]

    def journal(self, arn: str) -> list[JournalRow]:
        """The journaled answers of an execution, in the order they came."""
        history = _history(self._db, arn)
        if history is None:
            return []
        rows = self._db.execute(
            "SELECT strand, seq, ord, answer FROM journal WHERE history = ? ORDER BY ord",
            (history,),
        )
        return [JournalRow(*row) for row in rows]

    def origin(self, arn: str) -> str | None:
        """The origin the start of the stored execution ``arn`` kept (see
        :func:`start_write`), if it kept one."""
        row = self._db.execute("SELECT origin FROM executions WHERE arn = ?", (arn,)).fetchone()
        return None if row is None else row[0]

    def token_issuer(self, token: str) -> ExecutionRow | None:
        """The stored execution that drew the task token ``token``, if one did."""
        row = self._db.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM executions "
            "WHERE rowid = (SELECT history FROM task_tokens WHERE token = ?)",
            (token,),
        ).fetchone()
        return None if row is None else _execution_row(row)

    def tokens_drawn_by(self, arns: Iterable[str]) -> set[str]:
        """The task tokens the stored executions ``arns`` have drawn so far."""
        rows = self._db.execute(
            "SELECT token FROM task_tokens WHERE history IN "
            "(SELECT rowid FROM executions WHERE arn IN (SELECT value FROM json_each(?)))",
            (json.dumps(list(arns)),),
        )
        return {token for (token,) in rows}

    def adopt(self, skip: Collection[str] = ()) -> list[ExecutionRow]:
        """The RUNNING executions (but those in ``skip``) whose runner is dead, each made
        this engine's in the same transaction that finds it so: another engine adopting at
        the same time gets the others. Those of a live runner are left to it."""
        with self._write() as db:
            runners = db.execute(
                "SELECT DISTINCT runner FROM executions WHERE status = 'RUNNING'"
            ).fetchall()
            # Each runner's lock looked at once; no runner: written before runners were
            # recorded, or by an in-memory engine (which nothing else can reach).
            dead = [r for (r,) in runners if r is not None and self._dead(r)]
            rows = db.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM executions WHERE status = 'RUNNING' AND "
                "(runner IS NULL OR runner IN (SELECT value FROM json_each(?))) "
                "ORDER BY start_time DESC, rowid DESC",
                (json.dumps(dead),),
            )
            found = [_execution_row(row) for row in rows if row[0] not in skip]
            db.executemany(
                "UPDATE executions SET runner = ? WHERE arn = ?",
                [(self.runner_id, row.arn) for row in found],
            )
        return found

    def _dead(self, runner: str) -> bool:
        return self.runner is None or not self.runner.alive(runner)

    def redrive(self, arn: str, plan: RedrivePlan) -> None:
        """Make an ended execution RUNNING again as ``plan`` says, in one transaction: the
        events of the path that failed set aside (kept in the history, never replayed), its
        answers forgotten, its events added; the same for the histories of the Map Run
        children it redrives."""
        with self._write() as db:
            history = _execution_history(db, arn)
            _set_aside(db, history, plan.set_aside)
            for child in plan.children:
                number = _history(db, child.arn)
                if number is None:
                    raise LookupError(f"no Map Run child {child.arn} is stored")
                _set_aside(db, number, child.set_aside)
                _insert_events(db, number, child.events)
            db.executemany(
                "DELETE FROM journal WHERE history = ? AND strand = ? AND seq = ?",
                [(history, strand, seq) for strand, seq in plan.forgotten],
            )
            _insert_events(db, history, plan.events)
            db.execute(
                "UPDATE executions SET status = 'RUNNING', output = NULL, error = NULL, "
                "cause = NULL, stop_time = NULL, redrive_count = ?, redrive_date = ?, "
                "runner = ? WHERE arn = ?",
                (plan.count, plan.events[0].timestamp, self.runner_id, arn),
            )


def start_write(
    row: ExecutionRow,
    events: Sequence[EventRow],
    answers: Sequence[JournalRow],
    also: Callable[[str], None] | None = None,
    runner: str | None = None,
    number: HistoryNumber | None = None,
    origin: str | None = None,
) -> Write:
    """The batch that records a new execution with its first event (``ExecutionStarted``)
    and answers, run by ``runner`` (:attr:`ExecutionStore.runner_id`); ``also`` (given
    the execution's ARN) writes in the same transaction, through a ``Database`` sharing
    the store's connection; ``number`` is given the number of its history; ``origin``,
    text of the caller's kept in the row (:meth:`ExecutionStore.origin`; the API server's
    name of what the execution was started from: a row of its own, keyed by the random
    ARN, would cost each start a page of its own to write).
    ``ExecutionTaken`` when the file holds that ARN already."""

    def write(db: sqlite3.Connection) -> None:
        try:
            inserted = db.execute(
                f"INSERT INTO executions ({_EXECUTION_COLUMNS}, runner, origin) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.arn, row.machine_arn, row.revision, row.name, row.status,
                 escape_surrogates(row.input), row.output, row.error, row.cause,
                 row.start_time, row.stop_time, row.seed, row.redrive_count, row.redrive_date,
                 runner, None if origin is None else escape_surrogates(origin)),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            if "executions.arn" not in str(exc):
                raise
            raise ExecutionTaken(row.arn) from None
        history = inserted.lastrowid
        assert history is not None  # an INSERT's row
        if number is not None:
            number.value = history
        _insert_events(db, history, events)
        _insert_answers(db, history, answers)
        if also is not None:
            also(row.arn)

    return write


def commit_write(
    arn: str,
    events: Sequence[EventRow],
    answers: Sequence[JournalRow],
    ended: Ended | None = None,
    map_runs: MapRunRows | None = None,
    number: HistoryNumber | None = None,
) -> Write:
    """The batch that appends events and journal answers of an execution, and its end if
    it ended; with ``map_runs``, its Map Runs replace those stored for it (a redriven
    execution writes them again when it ends again). ``number``: the number of its
    history, looked up (and kept there) when not known."""

    def write(db: sqlite3.Connection) -> None:
        history = None if number is None else number.value
        if events or answers:
            if history is None:
                history = _execution_history(db, arn)
                if number is not None:
                    number.value = history
            _insert_events(db, history, events)
            _insert_answers(db, history, answers)
        if map_runs is not None:
            _replace_map_runs(db, arn, map_runs)
        if ended is not None:
            output = None if ended.output is None else escape_surrogates(ended.output)
            # By its row number (its history's) when known: no look-up of the ARN's index.
            where = "arn = ?" if history is None else "rowid = ?"
            db.execute(
                "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, "
                f"stop_time = ? WHERE {where}",
                (ended.status, output, _plain(ended.error), _plain(ended.cause),
                 ended.stop_time, arn if history is None else history),
            )  # fmt: skip

    return write


def _plain(text: str | None) -> str | bytes | None:
    """Plain text (an error, a cause) as the executions table keeps it: as text, or, when
    it holds a lone surrogate (a Fail state's Cause, a handler's message), which UTF-8
    cannot encode, as a blob of its code units in UTF-8 with ``surrogatepass``: kept as it
    was, as the history's events keep it (JSON text, escaped), so DescribeExecution and
    GetExecutionHistory show the same text."""
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


def _execution_row(row: Sequence[object]) -> ExecutionRow:
    """An ``executions`` row read (its error and cause as :func:`_plain` kept them)."""
    values = [v.decode("utf-8", "surrogatepass") if isinstance(v, bytes) else v for v in row]
    return ExecutionRow(*values)  # type: ignore[arg-type]


def _history(db: sqlite3.Connection, arn: str) -> int | None:
    """The number of the history of ``arn`` (an execution's, a Map Run child's), if any."""
    row = db.execute(_HISTORY, (arn,)).fetchone()
    return None if row is None else int(row[0])


def _set_aside(db: sqlite3.Connection, history: int, ids: Sequence[int]) -> None:
    """Mark the events ``ids`` of a history inert (see :data:`INERT`)."""
    db.executemany(
        f"UPDATE events SET strand = '{INERT}' || strand WHERE history = ? AND id = ?",
        [(history, event_id) for event_id in ids],
    )


def _execution_history(db: sqlite3.Connection, arn: str) -> int:
    """The number of the history of the stored execution ``arn``."""
    row = db.execute("SELECT rowid FROM executions WHERE arn = ?", (arn,)).fetchone()
    if row is None:
        raise LookupError(f"no execution {arn} is stored")
    return int(row[0])


def _insert_events(db: sqlite3.Connection, history: int, events: Sequence[EventRow]) -> None:
    if events:
        db.executemany(
            "INSERT INTO events (history, id, previous_id, timestamp, type, details, strand, "
            "seq, calls) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(history, e.id, e.previous_id, e.timestamp, e.type,
              None if e.details is None else escape_surrogates(e.details), e.strand, e.seq,
              e.calls)
             for e in events],
        )  # fmt: skip


def _insert_answers(db: sqlite3.Connection, history: int, answers: Sequence[JournalRow]) -> None:
    if answers:
        db.executemany(
            "INSERT OR REPLACE INTO journal (history, strand, seq, ord, answer) "
            "VALUES (?, ?, ?, ?, ?)",
            [(history, a.strand, a.seq, a.ord, escape_surrogates(a.answer)) for a in answers],
        )
        tokens = [json.loads(a.answer)["v"] for a in answers if a.answer.endswith(_TOKEN_ANSWER)]
        if tokens:
            db.executemany(
                "INSERT OR IGNORE INTO task_tokens (token, history) VALUES (?, ?)",
                [(token, history) for token in tokens],
            )


def _keep_task_tokens(db: sqlite3.Connection) -> None:
    """Make the task tokens table of a file that has none, with the tokens its journal
    holds already, in the transaction ``db`` has open."""
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'task_tokens'").fetchone():
        return
    db.execute(_TASK_TOKENS)
    db.execute(
        "INSERT OR IGNORE INTO task_tokens (token, history) "
        "SELECT json_extract(answer, '$.v'), history FROM journal WHERE substr(answer, ?) = ?",
        (-len(_TOKEN_ANSWER), _TOKEN_ANSWER),
    )


def _number_histories(db: sqlite3.Connection) -> None:
    """Key the events and journal of a file written before histories were numbered (keyed
    by ARN) by their histories' numbers, in the transaction ``db`` has open."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(events)")}
    if "execution_arn" not in columns:
        return
    numbers = (
        "(SELECT rowid AS history, arn FROM executions UNION ALL "
        "SELECT -rowid, arn FROM map_run_children)"
    )
    for table, kept in (
        ("events", "id, previous_id, timestamp, type, details, strand, seq, calls"),
        ("journal", "strand, seq, ord, answer"),
    ):
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_by_arn")
        db.execute(next(ddl for ddl in _HISTORIES if f" {table} (" in ddl))
        db.execute(
            f"INSERT INTO {table} (history, {kept}) SELECT n.history, {kept} FROM "
            f"{table}_by_arn JOIN {numbers} AS n ON n.arn = {table}_by_arn.execution_arn"
        )
        db.execute(f"DROP TABLE {table}_by_arn")


def _replace_map_runs(db: sqlite3.Connection, owner: str, rows: MapRunRows) -> None:
    db.execute(
        "DELETE FROM events WHERE history IN (SELECT -rowid FROM map_run_children WHERE owner = ?)",
        (owner,),
    )
    db.execute("DELETE FROM map_run_children WHERE owner = ?", (owner,))
    db.execute("DELETE FROM map_runs WHERE owner = ?", (owner,))
    db.executemany(
        "INSERT INTO map_runs (arn, owner, parent_arn, ord, body) VALUES (?, ?, ?, ?, ?)",
        [(arn, owner, parent, i, escape_surrogates(body))
         for i, (arn, parent, body) in enumerate(rows.runs)],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO map_run_children (arn, owner, map_run_arn, ord, body) VALUES (?, ?, ?, ?, ?)",
        [(arn, owner, run, i, escape_surrogates(body))
         for i, (arn, run, body) in enumerate(rows.children)],
    )  # fmt: skip
    numbers = dict(db.execute("SELECT arn, -rowid FROM map_run_children WHERE owner = ?", (owner,)))
    for child, events in rows.histories:
        _insert_events(db, numbers[child], events)
