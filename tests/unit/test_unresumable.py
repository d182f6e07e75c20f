"""Executions a durable engine cannot resume (runtime.unresumable), through the Python API.

A crash leaves executions RUNNING in the file (the event loop ends under them, as in
tests/unit/test_durable.py); the file is then damaged by hand with sqlite3, or the
machine's kept revision deleted, and a new engine recovers. Each damaged execution ends
FAILED with ``States.Runtime`` and a cause saying what is wrong, its end written after its
stored events; the intact ones are resumed and complete. AWS keeps no damaged rows, so the
outcome is what a careful user expects (our words in the cause), and AWS's redrive rules
(a FAILED Standard execution within 14 days) still apply to it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from runtime.journal import ReplayDiverged
from runtime.redrive import ExecutionNotRedrivable, not_redrivable
from runtime.store.executions import ExecutionStore

SQS = "arn:aws:states:::sqs:sendMessage"
WAIT_AND_TASK = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Task", "Resource": SQS, "Parameters": {"step": 1}, "Next": "Nap"},
        "Nap": {"Type": "Wait", "Seconds": 86400, "Next": "Last"},
        "Last": {"Type": "Pass", "Result": "done", "End": True},
    },
}
ARN = "arn:aws:states:us-east-1:123456789012:execution:M:"


def _engine(db: Path) -> Engine:
    async def send(request: TaskRequest) -> Any:
        return {"sent": request.parameters}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    return Engine(LocalHost(invoker=registry, seed=7), database=db)


def _crash_in_the_wait(db: Path, names: tuple[str, ...] = ("good", "bad")) -> None:
    """Start an execution per name, each into its Wait (the clock held), then crash."""

    async def main() -> None:
        engine = _engine(db)
        engine.host.clock.begin_hold()
        machine = engine.create_state_machine(WAIT_AND_TASK, name="M")
        started = [await machine.start({"n": name}, name=name) for name in names]
        for _ in range(5000):
            if all(e.history[-1].type == "WaitStateEntered" for e in started):
                return
            await asyncio.sleep(0.001)
        raise AssertionError("the executions never reached their Wait")

    asyncio.run(main())


def _damage(db: Path, statement: str, *args: Any) -> None:
    with sqlite3.connect(db) as tampered:
        assert tampered.execute(statement, args).rowcount >= 1


def _history_of(name: str) -> str:
    return f"(SELECT rowid FROM executions WHERE arn = '{ARN}{name}')"


def _recover(db: Path) -> dict[str, Execution]:
    """Recover on a new engine; every execution it returns, once ended, by name."""

    async def main() -> dict[str, Execution]:
        recovered = await _engine(db).recover()
        return {e.name: await e.wait() for e in recovered}

    return asyncio.run(main())


def _read(db: Path, name: str) -> Execution:
    async def main() -> Execution:
        found = _engine(db).get_execution(ARN + name)
        assert found is not None
        found.history_json()  # read while the engine's loop is there
        return found

    return asyncio.run(main())


def _cannot_resume(db: Path, because: str) -> Execution:
    """Recover: the good execution completes, the bad one fails saying ``because``; both
    as the file keeps them. The bad one, as read back by another engine."""
    ended = _recover(db)
    assert (ended["good"].status, ended["good"].output) == ("SUCCEEDED", "done")
    bad = ended["bad"]
    assert (bad.status, bad.error) == ("FAILED", "States.Runtime")
    assert bad.cause is not None and bad.cause.startswith("Execution cannot be resumed: ")
    assert because in bad.cause
    stored = _read(db, "bad")
    assert (stored.status, stored.error, stored.cause) == ("FAILED", "States.Runtime", bad.cause)
    events = stored.history_json()["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    last = events[-1]
    assert last["type"] == "ExecutionFailed" and last["previousEventId"] == len(events) - 1
    assert last["executionFailedEventDetails"] == {"error": "States.Runtime", "cause": bad.cause}
    assert asyncio.run(_engine(db).recover()) == []  # ended for good: nothing to resume
    return stored


def test_an_input_that_is_not_json_fails_that_execution_alone(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(db, "UPDATE executions SET input = '{\"n\": ' WHERE name = 'bad'")
    stored = _cannot_resume(db, "its stored input is not JSON text")
    assert stored.input == '{"n": '  # shown as what is stored
    assert stored.history[0].details == {"input": {"n": "bad"}, "roleArn": stored.machine.role_arn}


def test_a_machine_revision_not_kept_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(db, "UPDATE executions SET revision = 'gone' WHERE name = 'bad'")
    stored = _cannot_resume(db, "the revision gone of its state machine")
    assert stored.machine.arn == "arn:aws:states:us-east-1:123456789012:stateMachine:M"
    assert [e.type for e in stored.history][-2:] == ["WaitStateEntered", "ExecutionFailed"]


def test_a_definition_that_no_longer_compiles_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    # An older revision, kept with a definition this engine refuses (as a stricter release
    # of the validator would), is the bad execution's; also the latest row of the machine.
    invalid = '{"StartAt": "Nowhere", "States": {}}'
    _damage(
        db, "INSERT INTO machines SELECT arn, 'old', name, type, role_arn, ? FROM machines", invalid
    )
    _damage(db, "UPDATE executions SET revision = 'old' WHERE name = 'bad'")
    _cannot_resume(db, "(revision old) does not compile")


def test_a_journal_answer_that_is_not_json_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(db, f"UPDATE journal SET answer = '{{\"ok\"' WHERE history = {_history_of('bad')}")
    _cannot_resume(db, "its journal's answer")


def test_an_event_whose_details_are_damaged_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db, f"UPDATE events SET details = 'garbage' WHERE id = 3 AND history = {_history_of('bad')}"
    )
    stored = _cannot_resume(db, "its history's event 3 is not JSON")
    assert stored.history[2].details is None  # still read, without what cannot be


def test_an_event_of_the_wrong_kind_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(db, f"UPDATE events SET seq = 'x' WHERE id = 2 AND history = {_history_of('bad')}")
    _cannot_resume(db, "its history's event 2 is damaged")


def test_a_replay_that_diverges_says_where_on_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db,
        "UPDATE events SET type = 'PassStateEntered' WHERE id = 2 AND history = "
        + _history_of("bad"),
    )
    with caplog.at_level(logging.WARNING):
        _cannot_resume(db, "its event 2 was PassStateEntered after 0")
    said = [r for r in caplog.records if ARN + "bad" in r.getMessage()]
    assert len(said) == 1 and said[0].exc_info is None and "\n" not in said[0].getMessage()
    assert not any(ARN + "good" in r.getMessage() for r in caplog.records)


def test_a_diverging_start_event_fails_before_the_execution_runs(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db,
        f"UPDATE events SET details = ? WHERE id = 1 AND history = {_history_of('bad')}",
        '{"input":{},"roleArn":"r"}',
    )
    _cannot_resume(db, "its event 1 was ExecutionStarted")


def test_a_replay_diverging_mid_run_keeps_its_fault(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db,
        "UPDATE events SET type = 'PassStateEntered' WHERE id = 2 AND history = "
        + _history_of("bad"),
    )
    ended = _recover(db)
    assert isinstance(ended["bad"].fault, ReplayDiverged)


def test_an_execution_that_cannot_be_resumed_is_redriven_and_fails_again(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(db, "UPDATE executions SET input = 'not json' WHERE name = 'bad'")
    first = _cannot_resume(db, "its stored input")

    async def redrive() -> Execution:
        engine = _engine(db)
        return await (await engine.redrive(ARN + "bad")).wait()

    again = asyncio.run(redrive())
    assert (again.status, again.cause, again.redrive_count) == ("FAILED", first.cause, 1)
    types = [e.type for e in _read(db, "bad").history]
    assert types[-3:] == ["ExecutionFailed", "ExecutionRedriven", "ExecutionFailed"]


def test_an_execution_whose_events_are_damaged_is_not_redriven(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db, f"UPDATE events SET timestamp = 'noon' WHERE id = 4 AND history = {_history_of('bad')}"
    )
    _cannot_resume(db, "its history's event 4 is damaged")

    async def redrive() -> None:
        with pytest.raises(ExecutionNotRedrivable, match="stored history is damaged"):
            await _engine(db).redrive(ARN + "bad")

    asyncio.run(redrive())
    assert _read(db, "bad").status == "FAILED"
    store = ExecutionStore(db)  # DescribeExecution's redriveStatusReason says the same
    reason = not_redrivable("FAILED", "STANDARD", None, 0.0, store.events(ARN + "bad"), False)
    store.close()
    assert reason is not None and "stored history is damaged" in reason


def test_a_journaled_time_that_is_not_a_number_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db,
        'UPDATE journal SET answer = \'{"v":"noon","of":"now"}\' WHERE strand = \'\' AND '
        f"seq = '0' AND history = {_history_of('bad')}",
    )
    _cannot_resume(db, 'its call (\'\', \'0\') was {"v":"noon","of":"now"}')


def test_a_timestamp_no_history_can_show_fails_its_execution(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    _damage(
        db, f"UPDATE events SET timestamp = 1e300 WHERE id = 3 AND history = {_history_of('bad')}"
    )
    stored = _cannot_resume(db, "its history's event 3 is damaged")
    assert stored.history[2].timestamp == stored.history[1].timestamp


def test_a_bug_recovering_one_execution_fails_it_alone_with_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "db.sqlite3"
    _crash_in_the_wait(db)
    resume = Engine._resume

    def buggy(engine: Engine, row: Any, events: Any, answers: Any) -> Execution:
        if row.name == "bad":  # a bug of the engine's, met by this execution alone
            raise RuntimeError("a bug of ours")
        return resume(engine, row, events, answers)

    monkeypatch.setattr(Engine, "_resume", buggy)
    with caplog.at_level(logging.WARNING):
        _cannot_resume(db, "Internal engine error: RuntimeError('a bug of ours')")
    (said,) = [r for r in caplog.records if ARN + "bad" in r.getMessage()]
    assert said.levelno == logging.ERROR and said.exc_info is not None  # a bug: its traceback
