"""SqliteCatalog keeps what MemoryCatalog keeps, and a new one on the same file reads it back."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runtime.service.catalog import (
    ActivityRecord,
    AliasRecord,
    Catalog,
    ExecutionOrigin,
    MachineRecord,
    MemoryCatalog,
    RedriveToken,
    Target,
    VersionRecord,
)
from runtime.service.sqlite_catalog import SqliteCatalog
from runtime.store import StoreError
from runtime.store.executions import ExecutionRow, ExecutionStore, start_write

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:m"
MACHINE = MachineRecord(ARN, "m", "STANDARD", '{"StartAt": "\\ud800"}', "role", 1.0)
VERSION = VersionRecord(f"{ARN}:1", ARN, 1, "{}", "role", 2.0, "rev", "first")
ALIAS = AliasRecord(f"{ARN}:live", ARN, "live", ((f"{ARN}:1", 100),), 3.0)
ACTIVITY = ActivityRecord("arn:aws:states:us-east-1:123456789012:activity:a", "a", 4.0)
ORIGIN = ExecutionOrigin(
    "arn:aws:states:us-east-1:123456789012:execution:m:e",
    Target(MACHINE, "{}", "role", "rev", f"{ARN}:1", f"{ARN}:live"),
)


def _fill(catalog: Catalog) -> None:
    catalog.put_machine(MACHINE)
    catalog.put_version(VERSION)
    catalog.put_alias(ALIAS)
    catalog.put_activity(ACTIVITY)
    catalog.set_tags(ARN, {"team": "x"})
    catalog.put_origin(ORIGIN)
    for used in range(12):  # the execution's latest ten are kept
        catalog.put_redrive_token(RedriveToken(ORIGIN.execution_arn, f"t{used}", 7.0, used))


def _seen(catalog: Catalog) -> tuple[object, ...]:
    return (
        catalog.machine(ARN),
        catalog.machines(),
        catalog.version(VERSION.arn),
        catalog.versions(ARN),
        catalog.alias(ALIAS.arn),
        catalog.aliases(ARN),
        catalog.activity(ACTIVITY.arn),
        catalog.activities(),
        catalog.tags(ARN),
        catalog.origin(ORIGIN.execution_arn),
        [catalog.redrive_token(ORIGIN.execution_arn, f"t{used}") for used in range(12)],
    )


def test_a_file_catalog_reads_back_what_memory_keeps(tmp_path: Path) -> None:
    memory, kept = MemoryCatalog(), SqliteCatalog(tmp_path / "catalog.sqlite3")
    _fill(memory)
    _fill(kept)
    kept.close()
    reopened = SqliteCatalog(tmp_path / "catalog.sqlite3")
    assert _seen(reopened) == _seen(memory)
    assert reopened.origin(ORIGIN.execution_arn) == ORIGIN
    kept_tokens = _seen(reopened)[-1]
    assert kept_tokens[:2] == [None, None]
    assert kept_tokens[11] == RedriveToken(ORIGIN.execution_arn, "t11", 7.0, 11.0)
    reopened.close()


@pytest.mark.parametrize("make", [MemoryCatalog, lambda: SqliteCatalog(":memory:")])
def test_deleting_a_machine_forgets_its_versions_aliases_and_tags(make: type[Catalog]) -> None:
    catalog = make()
    _fill(catalog)
    catalog.delete_machine(ARN)
    catalog.delete_activity(ACTIVITY.arn)
    assert (catalog.machine(ARN), catalog.versions(ARN), catalog.aliases(ARN)) == (None, [], [])
    assert (catalog.tags(ARN), catalog.activities()) == ({}, [])
    assert catalog.origin(ORIGIN.execution_arn) == ORIGIN  # executions outlive their machine


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_text("not a database" * 100)
    with pytest.raises(StoreError, match=r"broken\.sqlite3"):
        SqliteCatalog(broken)


def _row(arn: str) -> ExecutionRow:
    return ExecutionRow(arn, ARN, "rev", "e", "RUNNING", "{}", None, None, None, 1.0, None, 7, 0)


def test_an_origin_written_beside_the_store_is_committed_with_the_start(tmp_path: Path) -> None:
    store = ExecutionStore(tmp_path / "state.sqlite3")
    catalog = SqliteCatalog(store.path or ":memory:", beside=store)
    arn = ORIGIN.execution_arn

    def keep_origin(execution_arn: str) -> None:
        catalog.put_origin(ExecutionOrigin(execution_arn, ORIGIN.target))
        raise ValueError("the caller failed after writing")

    with pytest.raises(ValueError, match="after writing"):
        store.write(start_write(_row(arn), [], [], keep_origin))
    assert (store.execution(arn), catalog.origin(arn)) == (None, None)  # neither kept
    store.write(start_write(_row(arn), [], [], lambda execution_arn: catalog.put_origin(ORIGIN)))
    catalog.close()  # the store's connection: still open
    store.close()
    reopened, kept = (
        SqliteCatalog(tmp_path / "state.sqlite3"),
        ExecutionStore(tmp_path / "state.sqlite3"),
    )
    assert (kept.execution(arn), reopened.origin(arn)) == (_row(arn), ORIGIN)
    reopened.close()
    kept.close()


def test_a_targets_rows_go_with_each_origin_until_a_start_holding_them_is_committed(
    tmp_path: Path,
) -> None:
    store = ExecutionStore(tmp_path / "state.sqlite3")
    catalog = SqliteCatalog(store.path or ":memory:", beside=store)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)

    def start(name: str) -> ExecutionOrigin:
        origin = ExecutionOrigin(f"{ORIGIN.execution_arn}{name}", ORIGIN.target)
        statements.clear()
        store.write(
            start_write(_row(origin.execution_arn), [], [], lambda _: catalog.put_origin(origin))
        )
        return origin

    def target_rows_written() -> bool:
        return any("catalog_targets" in statement for statement in statements)

    first = start("1")
    assert target_rows_written()
    start("2")
    assert target_rows_written()  # the first start not known committed yet
    catalog.origin_committed(first)
    start("3")
    assert not target_rows_written()
    other = Target(MACHINE, '{"other": 1}', "role", "rev2", None, None)
    catalog.put_origin(ExecutionOrigin(f"{ORIGIN.execution_arn}4", other))
    catalog.origin_committed(first)  # not the latest target any more: nothing learnt
    start("5")
    assert target_rows_written()
    catalog.close()
    store.close()
    reopened = SqliteCatalog(tmp_path / "state.sqlite3")
    assert [reopened.origin(f"{ORIGIN.execution_arn}{n}") for n in "1235"] == [
        ExecutionOrigin(f"{ORIGIN.execution_arn}{n}", ORIGIN.target) for n in "1235"
    ]
    reopened.close()


def test_origins_of_a_file_written_before_targets_were_shared_are_read_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    catalog = SqliteCatalog(path)
    catalog.put_origin(ORIGIN)
    catalog.close()
    # The layout such a file has: each origin with its target's text.
    db = sqlite3.connect(path)
    (body,) = db.execute("SELECT body FROM catalog_targets").fetchone()
    db.executescript(
        "DROP TABLE catalog_execution_origins; DROP TABLE catalog_targets; "
        "CREATE TABLE catalog_origins (execution_arn TEXT PRIMARY KEY, body TEXT NOT NULL) "
        "WITHOUT ROWID;"
    )
    db.execute("INSERT INTO catalog_origins VALUES (?, ?)", (ORIGIN.execution_arn, body))
    db.commit()
    db.close()
    reopened = SqliteCatalog(path)
    assert reopened.origin(ORIGIN.execution_arn) == ORIGIN
    reopened.close()
    db = sqlite3.connect(path)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    assert "catalog_origins" not in tables


def _start_kept_in_row(store: ExecutionStore, catalog: SqliteCatalog, arn: str) -> None:
    """An execution's start as the server's local backend writes it: the origin's key in
    its row, the target's rows (while not known committed) in the same transaction."""

    def keep(execution_arn: str) -> None:
        catalog.put_origin(ExecutionOrigin(execution_arn, ORIGIN.target))

    store.write(start_write(_row(arn), [], [], keep, origin=catalog.origin_key(ORIGIN.target)))


def _origin_rows(path: Path) -> list[tuple[str, str]]:
    db = sqlite3.connect(path)
    rows = db.execute("SELECT execution_arn, target FROM catalog_execution_origins").fetchall()
    db.close()
    return rows


def test_beside_the_engines_store_an_origin_is_kept_in_the_executions_row(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = ExecutionStore(path)
    catalog = SqliteCatalog(path, rows=store)
    statements: list[str] = []
    store._db.set_trace_callback(statements.append)
    first, second = ORIGIN.execution_arn, f"{ORIGIN.execution_arn}2"
    _start_kept_in_row(store, catalog, first)
    assert any("catalog_targets" in statement for statement in statements)
    catalog.origin_committed(ExecutionOrigin(first, ORIGIN.target))
    statements.clear()
    _start_kept_in_row(store, catalog, second)
    # Its row alone: nothing of the catalog's is written with a start of a stored target.
    assert not any("catalog_" in statement for statement in statements)
    assert catalog.origin(first) == ORIGIN
    catalog.close()
    store.close()
    assert _origin_rows(path) == []
    store = ExecutionStore(path)
    reopened = SqliteCatalog(path, rows=store)
    assert reopened.origin(second) == ExecutionOrigin(second, ORIGIN.target)
    assert reopened.origin("arn:aws:states:us-east-1:123456789012:execution:m:none") is None
    reopened.close()
    store.close()


def test_origins_a_file_kept_apart_are_read_beside_the_engines_store(tmp_path: Path) -> None:
    """A file written before origins were kept in execution rows: its executions table
    without the column, each origin a row of the catalog's own. Opened so, the old origins
    are read where they are, and new ones go in the new executions' rows."""
    path = tmp_path / "state.sqlite3"
    store = ExecutionStore(path)
    apart = SqliteCatalog(path, beside=store)
    store.write(start_write(_row(ORIGIN.execution_arn), [], [], lambda _: apart.put_origin(ORIGIN)))
    apart.close()
    store.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE executions DROP COLUMN origin")  # the layout such a file has
    db.close()
    store = ExecutionStore(path)
    catalog = SqliteCatalog(path, rows=store)
    assert catalog.origin(ORIGIN.execution_arn) == ORIGIN
    newer = f"{ORIGIN.execution_arn}2"
    _start_kept_in_row(store, catalog, newer)
    assert catalog.origin(newer) == ExecutionOrigin(newer, ORIGIN.target)
    catalog.close()
    store.close()
    assert _origin_rows(path) == [(ORIGIN.execution_arn, catalog.origin_key(ORIGIN.target))]
