"""The API's bookkeeping in SQLite (``asl serve --db``): a :class:`Catalog` that outlives
the server, beside the durable engine's tables in the same file.

Each record is kept as the JSON text of its fields, one table per kind. An execution's
origin names its definition by digest (``catalog_definitions``), so the thousands of
executions of one machine share one copy of its text.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from dataclasses import asdict
from typing import Any

from asl.jsontext import escape_surrogates, json_text, parse_json
from runtime.service.catalog import (
    ActivityRecord,
    AliasRecord,
    ExecutionOrigin,
    MachineRecord,
    Target,
    VersionRecord,
)
from runtime.store.errors import StoreError
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
CREATE TABLE IF NOT EXISTS catalog_origins (
    execution_arn TEXT PRIMARY KEY, body TEXT NOT NULL
) WITHOUT ROWID;
"""


class SqliteCatalog(Database):
    """A :class:`~runtime.service.catalog.Catalog` in a SQLite file (or in memory:
    ``":memory:"``). Used from the event loop's thread only; a file that cannot be used
    raises ``StoreError`` naming it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(path, _SCHEMA)

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
        body = self._body("catalog_machines", arn)
        return None if body is None else MachineRecord(**body)

    def machines(self) -> list[MachineRecord]:
        """Every state machine, by ARN."""
        found = self._bodies("SELECT body FROM catalog_machines ORDER BY arn")
        return [MachineRecord(**body) for body in found]

    def put_machine(self, record: MachineRecord) -> None:
        """Create or replace a state machine."""
        self._put("catalog_machines", record.arn, asdict(record))

    def delete_machine(self, arn: str) -> None:
        """Forget a state machine with its versions, aliases and tags."""
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
        query = "SELECT body FROM catalog_origins WHERE execution_arn = ?"
        found = self._bodies(query, execution_arn)
        if not found:
            return None
        body = found[0]
        record = MachineRecord(**body["record"], definition=self._definition(body["record_digest"]))
        target = Target(
            record,
            self._definition(body["digest"]),
            body["role_arn"],
            body["revision_id"],
            body["version_arn"],
            body["alias_arn"],
        )
        return ExecutionOrigin(execution_arn, target)

    def _definition(self, digest: str) -> str:
        try:
            row = self._db.execute(
                "SELECT text FROM catalog_definitions WHERE digest = ?", (digest,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(self.path, exc, "database") from exc
        return str(row[0])

    def put_origin(self, origin: ExecutionOrigin) -> None:
        """Record what an execution was started from (the definitions it names kept once)."""
        aim = origin.target
        record = {k: v for k, v in asdict(aim.record).items() if k != "definition"}
        with self._write() as db:
            body = {
                "digest": _keep_definition(db, aim.definition),
                "record": record,
                "record_digest": _keep_definition(db, aim.record.definition),
                "role_arn": aim.role_arn,
                "revision_id": aim.revision_id,
                "version_arn": aim.version_arn,
                "alias_arn": aim.alias_arn,
            }
            db.execute(
                "INSERT OR REPLACE INTO catalog_origins (execution_arn, body) VALUES (?, ?)",
                (origin.execution_arn, _text(body)),
            )


def _keep_definition(db: sqlite3.Connection, text: str) -> str:
    """Store a definition's text once; its digest names it."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    db.execute(
        "INSERT OR IGNORE INTO catalog_definitions (digest, text) VALUES (?, ?)",
        (digest, escape_surrogates(text)),
    )
    return digest


def _text(value: Any) -> str:
    """A record's fields as JSON text that UTF-8 can encode."""
    return escape_surrogates(json_text(value))


def _alias(body: dict[str, Any]) -> AliasRecord:
    routing = tuple((arn, weight) for arn, weight in body.pop("routing"))
    return AliasRecord(**body, routing=routing)
