"""The API's bookkeeping in SQLite (``asl serve --db``): a :class:`Catalog` that outlives
the server, beside the durable engine's tables in the same file.

Each record is kept as the JSON text of its fields, one table per kind. An execution's
origin names its target by digest (``catalog_targets``, whose text names its definitions
by digest in turn, ``catalog_definitions``), so the thousands of executions of one machine
share one copy of each. Beside a durable engine's store (``rows``) that digest is kept in
the execution's own row, written by its start (``Machine.start``'s ``origin``): a row of
the catalog's own, at a place of its table the random ARN picks, would cost each start a
page to write. Alone (the catalog of executions on Temporal), and for executions a file
holds from before, it is a short row of ``catalog_execution_origins``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import asdict, dataclass
from typing import Any

from asl.jsontext import escape_surrogates, json_text, parse_json
from runtime.service.catalog import (
    REDRIVE_TOKENS_KEPT,
    ActivityRecord,
    AliasRecord,
    ExecutionOrigin,
    MachineRecord,
    RedriveToken,
    Target,
    VersionRecord,
)
from runtime.service.recent import Recent
from runtime.store.errors import StoreError
from runtime.store.executions import ExecutionStore
from runtime.store.sqlite import Database

__all__ = ["SqliteCatalog"]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS catalog_machines (arn TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_versions (
    arn TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_aliases (
    arn TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS catalog_activities (arn TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_tags (arn TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_definitions (digest TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_targets (digest TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_execution_origins (
    execution_arn TEXT PRIMARY KEY, target TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS catalog_starts (
    machine_arn TEXT NOT NULL, start_date REAL NOT NULL, execution_arn TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS catalog_starts_order ON catalog_starts (machine_arn, start_date);
CREATE TABLE IF NOT EXISTS catalog_redrive_tokens (
    execution_arn TEXT NOT NULL,
    token         TEXT NOT NULL,
    redrive_date  REAL NOT NULL,
    used          REAL NOT NULL,
    PRIMARY KEY (execution_arn, token)
);
"""
#: How many definitions' texts and targets :meth:`SqliteCatalog.origin` keeps at hand, by
#: digest.
_DEFINITIONS_AT_HAND = 64
_TARGETS_AT_HAND = 64
#: The origins of a file written before targets were kept once: each with its target's text.
_OLD_ORIGINS = "catalog_origins"


@dataclass(slots=True)
class _LastTarget:
    """The target the latest execution started from, its rows (its definitions', then its
    own), and whether a committed transaction holds them."""

    target: Target
    rows: list[tuple[str, str]]
    stored: bool = False


class SqliteCatalog(Database):
    """A :class:`~runtime.service.catalog.Catalog` in a SQLite file (or in memory:
    ``":memory:"``), or in the file of ``beside`` through its connection; given ``rows``
    (the durable engine's store, then ``beside`` by default), each execution's origin is
    kept in the execution's row there. Used from the event loop's thread only; a file that
    cannot be used raises ``StoreError`` naming it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        beside: Database | None = None,
        rows: ExecutionStore | None = None,
    ) -> None:
        super().__init__(path, _SCHEMA, rows if beside is None else beside)
        self._rows = rows
        with self._write() as db:
            _share_targets(db)
        # Most executions start from the target the one before started from: its row (and
        # its definitions' rows) are made once, and written until a start holding them is
        # known committed (:meth:`origin_committed`).
        self._last_target: _LastTarget | None = None
        self._definitions: Recent[str, str] = Recent(_DEFINITIONS_AT_HAND)
        # The executions of one target share its row: DescribeExecution reads it back, and
        # it is read (parsed, its definitions found) once.
        self._targets: Recent[str, Target] = Recent(_TARGETS_AT_HAND)
        # Every StartExecution reads its machine: kept as last read or written (this
        # process is the file's only writer), forgotten when the machine is deleted.
        self._machines: dict[str, MachineRecord] = {}

    def _bodies(self, query: str, *args: Any) -> list[dict[str, Any]]:
        try:
            rows = self._db.execute(query, args).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(self.path, exc, "database") from exc
        return [parse_json(row[0]) for row in rows]  # type: ignore[misc]

    def _body(self, table: str, arn: str) -> dict[str, Any] | None:
        found = self._bodies(f"SELECT body FROM {table} WHERE arn = ?", arn)
        return found[0] if found else None

    def _put(self, table: str, arn: str, body: Any, machine_arn: str | None = None) -> None:
        with self._write() as db:
            if machine_arn is None:
                query = f"INSERT OR REPLACE INTO {table} (arn, body) VALUES (?, ?)"
                db.execute(query, (arn, _text(body)))
            else:
                query = f"INSERT OR REPLACE INTO {table} (arn, machine_arn, body) VALUES (?, ?, ?)"
                db.execute(query, (arn, machine_arn, _text(body)))

    def _delete(self, table: str, arn: str) -> None:
        with self._write() as db:
            db.execute(f"DELETE FROM {table} WHERE arn = ?", (arn,))

    # --- machines, versions, aliases ----------------------------------------------------

    def machine(self, arn: str) -> MachineRecord | None:
        """The state machine of that (unqualified) ARN."""
        record = self._machines.get(arn)
        if record is None:
            body = self._body("catalog_machines", arn)
            if body is None:
                return None
            record = self._machines[arn] = MachineRecord(**body)
        return record

    def machines(self) -> list[MachineRecord]:
        """Every state machine, by ARN."""
        found = self._bodies("SELECT body FROM catalog_machines ORDER BY arn")
        return [MachineRecord(**body) for body in found]

    def put_machine(self, record: MachineRecord) -> None:
        """Create or replace a state machine."""
        self._machines.pop(record.arn, None)
        self._put("catalog_machines", record.arn, asdict(record))
        self._machines[record.arn] = record

    def delete_machine(self, arn: str) -> None:
        """Forget a state machine with its versions, aliases and tags."""
        self._machines.pop(arn, None)
        with self._write() as db:
            db.execute("DELETE FROM catalog_machines WHERE arn = ?", (arn,))
            db.execute("DELETE FROM catalog_tags WHERE arn = ?", (arn,))
            db.execute("DELETE FROM catalog_versions WHERE machine_arn = ?", (arn,))
            db.execute("DELETE FROM catalog_aliases WHERE machine_arn = ?", (arn,))

    def version(self, arn: str) -> VersionRecord | None:
        """A published version by its ARN."""
        body = self._body("catalog_versions", arn)
        return None if body is None else VersionRecord(**body)

    def versions(self, machine_arn: str) -> list[VersionRecord]:
        """The versions of a machine, the newest first."""
        query = "SELECT body FROM catalog_versions WHERE machine_arn = ?"
        found = [VersionRecord(**body) for body in self._bodies(query, machine_arn)]
        return sorted(found, key=lambda version: -version.number)

    def put_version(self, record: VersionRecord) -> None:
        """Record a published version."""
        self._put("catalog_versions", record.arn, asdict(record), record.machine_arn)

    def delete_version(self, arn: str) -> None:
        """Forget a version."""
        self._delete("catalog_versions", arn)

    def alias(self, arn: str) -> AliasRecord | None:
        """An alias by its ARN."""
        body = self._body("catalog_aliases", arn)
        return None if body is None else _alias(body)

    def aliases(self, machine_arn: str) -> list[AliasRecord]:
        """The aliases of a machine, by name."""
        query = "SELECT body FROM catalog_aliases WHERE machine_arn = ?"
        found = [_alias(body) for body in self._bodies(query, machine_arn)]
        return sorted(found, key=lambda alias: alias.name)

    def put_alias(self, record: AliasRecord) -> None:
        """Create or replace an alias."""
        self._put("catalog_aliases", record.arn, asdict(record), record.machine_arn)

    def delete_alias(self, arn: str) -> None:
        """Forget an alias."""
        self._delete("catalog_aliases", arn)

    # --- activities and tags ------------------------------------------------------------

    def activity(self, arn: str) -> ActivityRecord | None:
        """An activity by its ARN."""
        body = self._body("catalog_activities", arn)
        return None if body is None else ActivityRecord(**body)

    def activities(self) -> list[ActivityRecord]:
        """Every activity, by ARN."""
        found = self._bodies("SELECT body FROM catalog_activities ORDER BY arn")
        return [ActivityRecord(**body) for body in found]

    def put_activity(self, record: ActivityRecord) -> None:
        """Create an activity."""
        self._put("catalog_activities", record.arn, asdict(record))

    def delete_activity(self, arn: str) -> None:
        """Forget an activity and its tags."""
        with self._write() as db:
            db.execute("DELETE FROM catalog_activities WHERE arn = ?", (arn,))
            db.execute("DELETE FROM catalog_tags WHERE arn = ?", (arn,))

    def tags(self, arn: str) -> dict[str, str]:
        """A resource's tags (empty when it has none)."""
        return self._body("catalog_tags", arn) or {}

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        """Replace a resource's tags."""
        self._put("catalog_tags", arn, tags)

    # --- execution origins --------------------------------------------------------------

    def origin(self, execution_arn: str) -> ExecutionOrigin | None:
        """What an execution was started from."""
        digest = None if self._rows is None else self._kept_in_row(execution_arn)
        if digest is None:  # kept apart: on Temporal, or started before origins were in rows
            row = self._row(
                "SELECT target FROM catalog_execution_origins WHERE execution_arn = ?",
                execution_arn,
            )
            if row is None:
                return None
            digest = str(row[0])
        target = self._targets.get_or_make(digest, self._target)
        return ExecutionOrigin(execution_arn, target)

    def _kept_in_row(self, execution_arn: str) -> str | None:
        assert self._rows is not None
        try:
            return self._rows.origin(execution_arn)
        except sqlite3.Error as exc:
            raise StoreError(self.path, exc, "database") from exc

    def _target(self, digest: str) -> Target:
        """The target of that digest."""
        row = self._row("SELECT body FROM catalog_targets WHERE digest = ?", digest)
        body = parse_json(row[0])
        assert isinstance(body, dict)  # written by put_origin
        record = MachineRecord(**body["record"], definition=self._definition(body["record_digest"]))
        return Target(
            record,
            self._definition(body["digest"]),
            body["role_arn"],
            body["revision_id"],
            body["version_arn"],
            body["alias_arn"],
        )

    def _definition(self, digest: str) -> str:
        return self._definitions.get_or_make(digest, self._stored_definition)

    def _stored_definition(self, digest: str) -> str:
        row = self._row("SELECT text FROM catalog_definitions WHERE digest = ?", digest)
        return str(row[0])

    def _row(self, query: str, *args: Any) -> Any:
        """The first row ``query`` finds (None: none)."""
        try:
            return self._db.execute(query, args).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(self.path, exc, "database") from exc

    def origin_key(self, aim: Target) -> str | None:
        """The digest of ``aim``, which the row of an execution started from it keeps, when
        this catalog reads origins from the execution rows of ``rows``; else None."""
        return None if self._rows is None else self._last(aim).rows[2][0]

    def _last(self, aim: Target) -> _LastTarget:
        """The latest target started from, ``aim`` from now on."""
        last = self._last_target
        if last is None or last.target != aim:
            last = self._last_target = _LastTarget(aim, _target_rows(aim))
        return last

    def put_origin(self, origin: ExecutionOrigin) -> None:
        """Record what an execution was started from (the definitions it names kept once;
        the origin itself in the execution's row, when kept there: see :meth:`origin_key`)."""
        last = self._last(origin.target)
        definitions, (digest, body) = last.rows[:2], last.rows[2]
        if last.stored and self._rows is not None:
            return  # all in the execution's row
        with self._write() as db:
            if not last.stored:  # the transaction that wrote them last may have rolled back
                db.executemany(
                    "INSERT OR IGNORE INTO catalog_definitions (digest, text) VALUES (?, ?)",
                    definitions,
                )
                db.execute(
                    "INSERT OR IGNORE INTO catalog_targets (digest, body) VALUES (?, ?)",
                    (digest, body),
                )
            if self._rows is None:
                db.execute(
                    "INSERT OR REPLACE INTO catalog_execution_origins (execution_arn, target) "
                    "VALUES (?, ?)",
                    (origin.execution_arn, digest),
                )

    def origin_committed(self, origin: ExecutionOrigin) -> None:
        """The transaction holding ``origin`` was committed: its target's rows (never
        deleted) need not be written with the next origins of that target."""
        last = self._last_target
        if last is not None and last.target == origin.target:
            last.stored = True

    # --- executions started (where the catalog is their only list) -----------------------

    def put_start(self, machine_arn: str, execution_arn: str, start_date: float) -> None:
        """Record that an execution of a machine started."""
        with self._write() as db:
            db.execute(
                "INSERT INTO catalog_starts (machine_arn, start_date, execution_arn) "
                "VALUES (?, ?, ?)",
                (machine_arn, start_date, execution_arn),
            )

    def starts(
        self, machine_arn: str, limit: int, after: tuple[float, int] | None = None
    ) -> list[tuple[str, tuple[float, int]]]:
        """Executions of a machine, newest first, from ``after`` on (keyset pagination on
        the machine's index: only those rows are read)."""
        clause, args = "", list[object]([machine_arn])
        if after is not None:
            clause = " AND (start_date < ? OR (start_date = ? AND rowid < ?))"
            args += [after[0], after[0], after[1]]
        try:
            rows = self._db.execute(
                "SELECT execution_arn, start_date, rowid FROM catalog_starts WHERE machine_arn = ?"
                f"{clause} ORDER BY start_date DESC, rowid DESC LIMIT ?",
                [*args, limit],
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(self.path, exc, "database") from exc
        return [(str(arn), (float(date), int(rowid))) for arn, date, rowid in rows]

    # --- redrive client tokens ----------------------------------------------------------

    def redrive_token(self, execution_arn: str, token: str) -> RedriveToken | None:
        """The redrive an execution's client token made, if it is one of those kept."""
        row = self._row(
            "SELECT redrive_date, used FROM catalog_redrive_tokens "
            "WHERE execution_arn = ? AND token = ?",
            execution_arn,
            token,
        )
        return None if row is None else RedriveToken(execution_arn, token, *row)

    def put_redrive_token(self, record: RedriveToken) -> None:
        """Keep a client token that redrove an execution (and only the execution's latest
        :data:`~runtime.service.catalog.REDRIVE_TOKENS_KEPT`)."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO catalog_redrive_tokens "
                "(execution_arn, token, redrive_date, used) VALUES (?, ?, ?, ?)",
                (record.execution_arn, record.token, record.redrive_date, record.used),
            )
            # The latest by the order they were written (rowid): on a virtual clock many
            # share one time of first use.
            db.execute(
                "DELETE FROM catalog_redrive_tokens WHERE execution_arn = ? AND token NOT IN "
                "(SELECT token FROM catalog_redrive_tokens WHERE execution_arn = ? "
                "ORDER BY rowid DESC LIMIT ?)",
                (record.execution_arn, record.execution_arn, REDRIVE_TOKENS_KEPT),
            )


def _target_rows(aim: Target) -> list[tuple[str, str]]:
    """The (digest, text) rows that keep a target: its two definitions', then its own (JSON
    text naming those definitions by digest)."""
    definitions = [_digest_row(aim.definition), _digest_row(aim.record.definition)]
    body = {
        "digest": definitions[0][0],
        "record": {k: v for k, v in asdict(aim.record).items() if k != "definition"},
        "record_digest": definitions[1][0],
        "role_arn": aim.role_arn,
        "revision_id": aim.revision_id,
        "version_arn": aim.version_arn,
        "alias_arn": aim.alias_arn,
    }
    return [*definitions, _digest_row(_text(body))]


def _share_targets(db: sqlite3.Connection) -> None:
    """Move the origins of a file written before targets were kept once (each origin with
    its target's text) to the origins naming their targets by digest, in the transaction
    ``db`` has open."""
    found = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_OLD_ORIGINS,)
    ).fetchone()
    if found is None:
        return
    for (body,) in db.execute(f"SELECT DISTINCT body FROM {_OLD_ORIGINS}").fetchall():
        digest, text = _digest_row(body)
        db.execute(
            "INSERT OR IGNORE INTO catalog_targets (digest, body) VALUES (?, ?)", (digest, text)
        )
        db.execute(
            "INSERT OR REPLACE INTO catalog_execution_origins (execution_arn, target) "
            f"SELECT execution_arn, ? FROM {_OLD_ORIGINS} WHERE body = ?",
            (digest, body),
        )
    db.execute(f"DROP TABLE {_OLD_ORIGINS}")


def _digest_row(text: str) -> tuple[str, str]:
    """A text's row (a definition's, a target's): its digest (which names it) and the text."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return digest, escape_surrogates(text)


def _text(value: Any) -> str:
    """A record's fields as JSON text that UTF-8 can encode."""
    return escape_surrogates(json_text(value))


def _alias(body: dict[str, Any]) -> AliasRecord:
    routing = tuple((arn, weight) for arn, weight in body.pop("routing"))
    return AliasRecord(**body, routing=routing)
