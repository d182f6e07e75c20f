"""The SQLite store of machines, executions, histories and journals (runtime.store.executions)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runtime.store import StoreError
from runtime.store.executions import (
    Ended,
    EventRow,
    ExecutionRow,
    ExecutionStore,
    JournalRow,
    MachineRow,
    commit_write,
    start_write,
)

MACHINE = MachineRow("arn:m", "r1", "M", "STANDARD", "arn:role", '{"StartAt":"A","States":{}}')


def _execution(arn: str, start: float, machine: str = "arn:m") -> ExecutionRow:
    return ExecutionRow(arn, machine, "r1", arn[-1], "RUNNING", '{"a":"\\ud800"}', None, None, None,
                        start, None, 42, 0)  # fmt: skip


def test_a_file_keeps_everything_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "db.sqlite3"
    store = ExecutionStore(path)
    store.put_machine(MACHINE)
    first = EventRow(1, 0, 10.0, "ExecutionStarted", '{"input":{}}', "", 0)
    answer = JournalRow("", "0", 0, '{"v":10.0}')
    store.write(start_write(_execution("arn:e1", 10.0), [first], [answer]))
    second = EventRow(2, 1, 11.5, "PassStateEntered", '{"name":"A","input":{}}', "/3.b0", 0)
    store.write(commit_write("arn:e1", [second], [JournalRow("/3.b0", "0", 1, '{"ok":[1,2]}')]))
    store.close()

    again = ExecutionStore(path)
    assert again.machine("arn:m") == MACHINE
    assert again.machines() == [MACHINE]
    assert again.execution("arn:e1") == _execution("arn:e1", 10.0)
    assert again.events("arn:e1") == [first, second]
    assert again.journal("arn:e1") == [answer, JournalRow("/3.b0", "0", 1, '{"ok":[1,2]}')]
    assert again.machine("arn:other") is None and again.execution("arn:other") is None


def test_a_machine_keeps_its_revisions_the_latest_current() -> None:
    store = ExecutionStore(":memory:")
    store.put_machine(MACHINE)
    updated = MachineRow("arn:m", "r2", "M", "STANDARD", "arn:role", '{"StartAt":"B","States":{}}')
    store.put_machine(updated)
    assert store.machine("arn:m") == updated
    assert store.machine("arn:m", "r1") == MACHINE
    assert store.machines() == [updated]
    store.put_machine(MACHINE)  # back to the first definition: current again
    assert store.machine("arn:m") == MACHINE


def test_an_end_is_written_with_the_last_events() -> None:
    store = ExecutionStore(":memory:")
    store.write(start_write(_execution("arn:e1", 1.0), [], []))
    last = EventRow(2, 1, 3.0, "ExecutionSucceeded", '{"output":null}', "", 1)
    store.write(commit_write("arn:e1", [last], [], Ended("SUCCEEDED", "null", None, None, 3.0)))
    row = store.execution("arn:e1")
    assert row is not None
    assert (row.status, row.output, row.stop_time) == ("SUCCEEDED", "null", 3.0)
    assert store.events("arn:e1") == [last]


def test_executions_are_listed_newest_first_by_machine_and_status() -> None:
    store = ExecutionStore(":memory:")
    for arn, start, machine in [("arn:e1", 1.0, "arn:m"), ("arn:e2", 2.0, "arn:m"),
                                ("arn:e3", 3.0, "arn:n")]:  # fmt: skip
        store.write(start_write(_execution(arn, start, machine), [], []))
    store.write(commit_write("arn:e2", [], [], Ended("FAILED", None, "Boom", "why", 4.0)))
    assert [row.arn for row in store.executions()] == ["arn:e3", "arn:e2", "arn:e1"]
    assert [row.arn for row in store.executions("arn:m")] == ["arn:e2", "arn:e1"]
    assert [row.arn for row in store.executions(status="RUNNING")] == ["arn:e3", "arn:e1"]
    assert [row.arn for row in store.executions("arn:m", "FAILED")] == ["arn:e2"]


def test_a_file_that_cannot_be_used_is_named(tmp_path: Path) -> None:
    folder_is_a_file = tmp_path / "file"
    folder_is_a_file.write_text("")
    with pytest.raises(StoreError, match="file"):
        ExecutionStore(folder_is_a_file / "db.sqlite3")
    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match=r"corrupt\.sqlite3"):
        ExecutionStore(corrupt)


def test_a_file_keyed_by_arn_is_keyed_by_history_numbers_on_opening(tmp_path: Path) -> None:
    """A file written before histories were numbered: its events and answers (a Map Run
    child's history too) are read back as they were, and new ones go beside them."""
    path = tmp_path / "old.sqlite3"
    ExecutionStore(path).close()  # the other tables, as they are now
    old = sqlite3.connect(path)
    old.executescript(
        """
        DROP TABLE events; DROP TABLE journal;
        CREATE TABLE events (execution_arn TEXT NOT NULL, id INTEGER NOT NULL,
            previous_id INTEGER NOT NULL, timestamp REAL NOT NULL, type TEXT NOT NULL,
            details TEXT, strand TEXT NOT NULL, seq INTEGER NOT NULL,
            PRIMARY KEY (execution_arn, id)) WITHOUT ROWID;
        CREATE TABLE journal (execution_arn TEXT NOT NULL, strand TEXT NOT NULL,
            seq TEXT NOT NULL, ord INTEGER NOT NULL, answer TEXT NOT NULL,
            PRIMARY KEY (execution_arn, strand, seq)) WITHOUT ROWID;
        INSERT INTO executions (arn, machine_arn, revision, name, status, input, start_time,
            seed) VALUES ('arn:e1', 'arn:m', 'r1', '1', 'RUNNING', '{}', 1.0, 42);
        INSERT INTO events VALUES ('arn:e1', 1, 0, 1.0, 'ExecutionStarted', '{"input":{}}', '', 0);
        INSERT INTO journal VALUES ('arn:e1', '', '0', 0, '{"v":1.0}');
        INSERT INTO map_run_children VALUES ('arn:c1', 'arn:e1', 'arn:run', 0, '{}');
        INSERT INTO events VALUES ('arn:c1', 1, 0, 2.0, 'ExecutionStarted', NULL, '', 0);
        """
    )
    old.commit()
    old.close()

    store = ExecutionStore(path)
    assert store.events("arn:e1") == [
        EventRow(1, 0, 1.0, "ExecutionStarted", '{"input":{}}', "", 0)
    ]
    assert store.journal("arn:e1") == [JournalRow("", "0", 0, '{"v":1.0}')]
    assert store.events("arn:c1") == [EventRow(1, 0, 2.0, "ExecutionStarted", None, "", 0)]
    later = EventRow(2, 1, 3.0, "PassStateEntered", '{"name":"A","input":{}}', "", 1)
    store.write(commit_write("arn:e1", [later], []))
    assert [event.id for event in store.events("arn:e1")] == [1, 2]
    assert store.events("arn:other") == [] and store.journal("arn:other") == []


TOKEN = "Tk3n-of-the-first-task_0123456789abcdef"


def _with_token(store: ExecutionStore) -> None:
    """Execution ``arn:e1`` drawing ``TOKEN`` (as ``Log.recall`` journals a task token),
    then ending."""
    started = EventRow(1, 0, 1.0, "ExecutionStarted", '{"input":{}}', "", 0)
    drawn = JournalRow("", "1", 1, '{"v":"' + TOKEN + '","of":"token"}')
    store.write(start_write(_execution("arn:e1", 1.0), [started], [JournalRow("", "0", 0, "{}")]))
    assert store.token_issuer(TOKEN) is None
    store.write(commit_write("arn:e1", [], [drawn]))
    ended = Ended("SUCCEEDED", "{}", None, None, 2.0)
    store.write(commit_write("arn:e1", [], [], ended))


def test_a_task_token_names_the_execution_that_drew_it(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = ExecutionStore(path)
    _with_token(store)
    store.close()

    again = ExecutionStore(path)
    issuer = again.token_issuer(TOKEN)
    assert issuer is not None and (issuer.arn, issuer.status) == ("arn:e1", "SUCCEEDED")
    assert again.token_issuer("A" * 43) is None


def test_a_file_written_before_tokens_were_kept_finds_them_in_its_journal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    store = ExecutionStore(path)
    _with_token(store)
    store.close()
    old = sqlite3.connect(path)
    old.execute("DROP TABLE task_tokens")
    old.commit()
    old.close()

    issuer = ExecutionStore(path).token_issuer(TOKEN)
    assert issuer is not None and issuer.arn == "arn:e1"


def test_a_file_that_indexed_every_status_indexes_its_running_executions(tmp_path: Path) -> None:
    """A file from before: an index of every execution by status, no runner or origin
    column. Opened, it gets those columns and the index of running executions alone, which
    ``adopt`` reads; the index by status is gone."""
    path = tmp_path / "old.sqlite3"
    store = ExecutionStore(path)
    store.write(start_write(_execution("arn:e1", 1.0), [], []))
    store.write(start_write(_execution("arn:e2", 2.0), [], []))
    store.write(commit_write("arn:e2", [], [], Ended("SUCCEEDED", "{}", None, None, 3.0)))
    store.close()
    old = sqlite3.connect(path)
    old.executescript(
        """
        DROP INDEX executions_running;
        ALTER TABLE executions DROP COLUMN runner;
        ALTER TABLE executions DROP COLUMN origin;
        CREATE INDEX executions_by_status ON executions (status);
        """
    )
    old.close()

    store = ExecutionStore(path)
    indexes = {
        name for (name,) in store._db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    assert "executions_running" in indexes and "executions_by_status" not in indexes
    assert [row.arn for row in store.adopt()] == ["arn:e1"]
    store.write(commit_write("arn:e1", [], [], Ended("SUCCEEDED", "{}", None, None, 4.0)))
    assert store.adopt() == []
    store.close()
