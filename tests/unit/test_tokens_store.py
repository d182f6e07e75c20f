"""The task store: SQLite shared by processes, AWS's errors for every token."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.store import (
    ApiError,
    InvalidToken,
    NewTask,
    StoreError,
    TaskDoesNotExist,
    TaskStore,
    TaskTimedOut,
    default_store_path,
)
from runtime.store.tasks import KEEP_ENDED_SECONDS, store_file

ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"


def _task(token: str, kind: str = "callback", resource: str = "sqs:sendMessage") -> NewTask:
    return NewTask(token, kind, ARN, "Ask", resource, '{"a":1}', 10, 100)  # type: ignore[arg-type]


def _token(n: int) -> str:
    return f"{n:043d}"


def test_a_file_that_is_not_a_database_is_a_store_error_from_every_call(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    path.write_text("not a database")
    store = TaskStore(path)
    calls = [
        store.check,
        lambda: store.add(_task(_token(1))),
        lambda: store.get(_token(1)),
        store.open_tasks,
        lambda: store.succeed(_token(1), "{}"),
        lambda: store.claim(ACTIVITY, None),
    ]
    for call in calls:
        with pytest.raises(StoreError, match=f"^the task store {path} cannot be used: file is not"):
            call()


def test_checking_a_store_not_made_yet_makes_nothing(tmp_path: Path) -> None:
    TaskStore(tmp_path / "a" / "b" / ".asl").check()
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("")
    with pytest.raises(StoreError, match=f"{tmp_path / 'file'} is not a directory$"):
        TaskStore(tmp_path / "file" / ".asl").check()


def test_the_store_is_created_on_first_use_in_wal_mode(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / ".asl")
    assert not (tmp_path / ".asl").exists()
    store.add(_task(_token(1)))
    path = tmp_path / ".asl" / "store.sqlite3"
    assert store.path == path and path.exists()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA user_version").fetchone() == (1,)
    db.close()
    store.close()


def test_store_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store_file(tmp_path) == tmp_path / "store.sqlite3"
    assert store_file(tmp_path / "tasks.db") == tmp_path / "tasks.db"
    monkeypatch.delenv("ASL_STORE", raising=False)
    assert default_store_path(tmp_path) == tmp_path / ".asl"
    monkeypatch.setenv("ASL_STORE", str(tmp_path / "elsewhere"))
    assert default_store_path(tmp_path) == tmp_path / "elsewhere"
    assert not TaskStore().shared and TaskStore(tmp_path).shared


def test_an_answer_is_seen_by_another_connection(tmp_path: Path) -> None:
    waiting, answering = TaskStore(tmp_path), TaskStore(tmp_path)
    waiting.add(_task(_token(1)))
    answering.heartbeat(_token(1))
    answering.succeed(_token(1), '{"ok":true}')
    record = waiting.get(_token(1))
    assert record is not None
    assert (record.status, record.output, record.heartbeats) == ("SUCCEEDED", '{"ok":true}', 1)
    assert record.ended is not None and record.last_heartbeat is not None


def test_failure_keeps_null_error_and_cause_apart_from_empty_ones() -> None:
    store = TaskStore()
    store.add(_task(_token(1)))
    store.add(_task(_token(2)))
    failed = store.fail(_token(1), None, None)
    assert (failed.error, failed.cause) == (None, None)
    assert store.fail(_token(2), "", "").error == ""


def test_ending_a_task_an_answer_reached_first_keeps_the_answer() -> None:
    store = TaskStore()
    store.add(_task(_token(1)))
    store.succeed(_token(1), "1")
    record = store.end(_token(1), "TIMED_OUT")
    assert record is not None and record.status == "SUCCEEDED"
    store.add(_task(_token(2)))
    assert store.end(_token(2), "TIMED_OUT").status == "TIMED_OUT"  # type: ignore[union-attr]
    with pytest.raises(TaskTimedOut):
        store.succeed(_token(2), "1")


def test_activity_tasks_go_to_one_worker_oldest_first() -> None:
    store = TaskStore()
    store.add(_task(_token(1), "activity", ACTIVITY))
    store.add(_task(_token(2), "activity", ACTIVITY))
    assert store.get(_token(1)).status == "SCHEDULED"  # type: ignore[union-attr]
    first = store.claim(ACTIVITY, "w1")
    second = store.claim(ACTIVITY, None)
    assert first is not None and second is not None
    assert (first.token, first.worker_name, first.status) == (_token(1), "w1", "RUNNING")
    assert (second.token, second.worker_name) == (_token(2), None)
    assert store.claim(ACTIVITY, "w3") is None
    assert store.activities()[0][:2] == (ACTIVITY, "review")


def test_answering_a_scheduled_activity_task_takes_it() -> None:
    store = TaskStore()
    store.add(_task(_token(1), "activity", ACTIVITY))
    record = store.succeed(_token(1), "{}")
    assert (record.status, record.worker_name) == ("SUCCEEDED", None)
    assert record.started is not None
    assert store.claim(ACTIVITY, "late") is None


def test_tasks_of_a_process_that_exited_are_over(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    store = TaskStore(tmp_path)
    store._owner = f"{gone.stdout.strip()}@{store._owner.partition('@')[2]}"
    store.add(_task(_token(1)))
    store.add(_task(_token(2)))
    store.add(_task(_token(3), "activity", ACTIVITY))
    assert TaskStore(tmp_path).claim(ACTIVITY, "w") is None
    with pytest.raises(TaskTimedOut):
        TaskStore(tmp_path).succeed(_token(1), "{}")
    assert TaskStore(tmp_path).open_tasks() == []
    assert store.get(_token(2)).status == "ABORTED"  # type: ignore[union-attr]


def test_ended_tasks_are_forgotten_after_90_days(tmp_path: Path) -> None:
    clock = [1_000_000.0]
    store = TaskStore(tmp_path, now=lambda: clock[0])
    store.add(_task(_token(1)))
    store.succeed(_token(1), "{}")
    store.add(_task(_token(2)))
    store.close()
    clock[0] += KEEP_ENDED_SECONDS + 1
    reopened = TaskStore(tmp_path, now=lambda: clock[0])
    assert reopened.get(_token(1)) is None
    assert reopened.get(_token(2)) is not None  # still waiting: kept


def test_unknown_tokens() -> None:
    store = TaskStore()
    with pytest.raises(TaskDoesNotExist):
        store.fail(_token(9), "E", "c")
    with pytest.raises(InvalidToken):
        store.heartbeat("not a token")


@given(st.text(max_size=60))
def test_any_token_gets_an_api_error_and_nothing_else(token: str) -> None:
    store = TaskStore()
    for call in (
        lambda: store.succeed(token, "{}"),
        lambda: store.fail(token, None, None),
        lambda: store.heartbeat(token),
    ):
        with pytest.raises(ApiError) as raised:
            call()
        assert raised.value.code in {"InvalidToken", "TaskDoesNotExist"}
