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
