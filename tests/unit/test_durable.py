"""Durable engines: executions kept in SQLite, resumed after a crash by replaying their
journal (runtime.journal), finished ones read back from the file.

A crash is simulated by ending the event loop the engine runs on (``asyncio.run``
returns): its strands are cancelled without StopExecution, so nothing more is written,
as when the process dies. A new engine on the same file then recovers. Each recovered
history is compared with an uninterrupted run of the same seed: byte for byte the same.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from asl.errors import StatesError
from asl.jsontext import json_text, parse_json
from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from runtime.journal import ReplayDiverged

SQS = "arn:aws:states:::sqs:sendMessage"
Behave = Callable[[Any], Awaitable[Any]]


async def _echo(parameters: Any) -> Any:
    return {"echo": parameters}


def _engine(db: Path, calls: list[Any], behave: Behave = _echo, seed: int = 3) -> Engine:
    async def send(request: TaskRequest) -> Any:
        calls.append(request.parameters)
        return await behave(request.parameters)

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    return Engine(LocalHost(invoker=registry, seed=seed), database=db)


def _task(name: str, then: str | None, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": SQS, "Parameters": {"step": name}, **fields}
    return state | ({"Next": then} if then else {"End": True})


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the execution never got there")


def _recover(db: Path, calls: list[Any], behave: Behave = _echo) -> Execution:
    """Recover the one execution a crash left running in ``db``, and run it to its end."""

    async def main() -> Execution:
        (execution,) = await _engine(db, calls, behave).recover()
        return await execution.wait()

    return asyncio.run(main())


def _types(execution: Execution) -> list[str]:
    return [event.type for event in execution.history]


def _uninterrupted(
    tmp_path: Path,
    definition: dict[str, Any],
    behave: Behave = _echo,
    answer: Callable[[Engine], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """The history of the same execution run without a crash."""

    async def main() -> dict[str, Any]:
        engine = _engine(tmp_path / "straight.sqlite3", [], behave)
        execution = await engine.create_state_machine(definition, name="M").start(
            {"n": 1}, name="e"
        )
        if answer is not None:
            await answer(engine)
        await execution.wait()
        return execution.history_json()

    return asyncio.run(main())


async def _answer_token(engine: Engine) -> None:
    host = engine.host
    assert isinstance(host, LocalHost)
    record = await host.tokens.next_task()
    host.tokens.send_success(record.token, {"approved": True})


WAIT_AND_TASK = {
    "StartAt": "First",
    "States": {
        "First": _task("first", "Nap"),
        "Nap": {"Type": "Wait", "Seconds": 86400, "Next": "Last"},
        "Last": _task("last", None),
    },
}


def test_a_wait_keeps_its_deadline_and_finished_work_does_not_run_again(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def before_crash() -> None:
        engine = _engine(db, calls)
        engine.host.clock.begin_hold()  # the Wait never ends in this process
        execution = await engine.create_state_machine(WAIT_AND_TASK, name="M").start(
            {"n": 1}, name="e"
        )
        await _until(lambda: _types(execution)[-1] == "WaitStateEntered")

    asyncio.run(before_crash())
    assert calls == [{"step": "first"}]

    execution = _recover(db, calls)
    assert (execution.status, execution.output, execution.fault) == (
        "SUCCEEDED", {"echo": {"step": "last"}}, None,
    )  # fmt: skip
    assert calls == [{"step": "first"}, {"step": "last"}]
    assert execution.history_json() == _uninterrupted(tmp_path, WAIT_AND_TASK)
    events = execution.history_json()["events"]
    nap = [e["timestamp"] for e in events if e["type"].startswith("WaitState")]
    assert nap == ["2025-01-01T00:00:00.000000+00:00", "2025-01-02T00:00:00.000000+00:00"]


ASK = {
    "Type": "Task",
    "Resource": f"{SQS}.waitForTaskToken",
    "Parameters": {"token.$": "$$.Task.Token"},
    "TimeoutSeconds": 3600,
}
UNTIMED_ASK = {key: value for key, value in ASK.items() if key != "TimeoutSeconds"}
CALLBACK = {
    "StartAt": "Ask",
    "States": {"Ask": ASK | {"Next": "Done"}, "Done": {"Type": "Pass", "End": True}},
}


def test_a_task_token_stays_valid_across_a_crash(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def before_crash() -> str:
        engine = _engine(db, calls)
        machine = engine.create_state_machine(CALLBACK, name="M")
        await machine.start({"n": 1}, name="e")
        host = engine.host
        assert isinstance(host, LocalHost)
        return (await host.tokens.next_task()).token

    token = asyncio.run(before_crash())

    async def after() -> Execution:
        engine = _engine(db, calls)
        engine.host.clock.begin_hold()  # no time passes before the answer, as in _answer_token
        (execution,) = await engine.recover()
        host = engine.host
        assert isinstance(host, LocalHost)
        host.tokens.send_success(token, {"approved": True})
        engine.host.clock.end_hold()
        return await execution.wait()

    execution = asyncio.run(after())
    assert (execution.status, execution.output) == ("SUCCEEDED", {"approved": True})
    assert calls == [{"token": token}]  # the message with the token was sent once
    assert execution.history_json() == _uninterrupted(tmp_path, CALLBACK, answer=_answer_token)


RETRY = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": _task(
            "flaky", None,
            Retry=[{"ErrorEquals": ["Boom"], "IntervalSeconds": 600, "MaxAttempts": 3}],
        ),
    },
}  # fmt: skip


def _fails_first_time() -> Behave:
    seen: list[Any] = []

    async def behave(parameters: Any) -> Any:
        seen.append(parameters)
        if len(seen) == 1:
            raise StatesError("Boom", "the first call fails")
        return {"ok": len(seen)}

    return behave


def test_a_retry_backoff_keeps_its_deadline(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def before_crash() -> None:
        engine = _engine(db, calls, _fails_first_time())
        engine.host.clock.begin_hold()  # the backoff never ends in this process
        execution = await engine.create_state_machine(RETRY, name="M").start({"n": 1}, name="e")
        await _until(lambda: _types(execution)[-1] == "TaskFailed")

    asyncio.run(before_crash())

    async def succeeds(parameters: Any) -> Any:
        return {"ok": 2}

    execution = _recover(db, calls, succeeds)
    assert (execution.status, execution.output) == ("SUCCEEDED", {"ok": 2})
    assert len(calls) == 2  # the failed attempt is not made again
    assert execution.history_json() == _uninterrupted(tmp_path, RETRY, _fails_first_time())
    events = execution.history_json()["events"]
    scheduled = [e["timestamp"] for e in events if e["type"] == "TaskScheduled"]
    assert scheduled == ["2025-01-01T00:00:00.000000+00:00", "2025-01-01T00:10:00.000000+00:00"]


def test_a_task_in_flight_at_the_crash_is_invoked_again_once(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def hangs(parameters: Any) -> Any:
        await asyncio.sleep(3600)

    async def before_crash() -> None:
        engine = _engine(db, calls, hangs)
        machine = engine.create_state_machine(WAIT_AND_TASK, name="M")
        await machine.start({"n": 1}, name="e")
        await _until(lambda: len(calls) == 1)

    asyncio.run(before_crash())
    assert calls == [{"step": "first"}]

    execution = _recover(db, calls)
    assert execution.status == "SUCCEEDED"
    # at least once: the call in flight is made again (once), then the run goes on
    assert calls == [{"step": "first"}, {"step": "first"}, {"step": "last"}]
    assert _types(execution).count("TaskScheduled") == 2  # one per state, none twice
    assert execution.history_json() == _uninterrupted(tmp_path, WAIT_AND_TASK)


CONCURRENT = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Each",
                    "States": {
                        "Each": {
                            "Type": "Map",
                            "ItemsPath": "$.items",
                            "MaxConcurrency": 2,
                            "ItemProcessor": {
                                "StartAt": "Work",
                                "States": {
                                    "Work": {
                                        "Type": "Task",
                                        "Resource": SQS,
                                        "Parameters": {"item.$": "$"},
                                        "Next": "Rest",
                                    },
                                    "Rest": {"Type": "Wait", "SecondsPath": "$.item", "End": True},
                                },
                            },
                            "End": True,
                        }
                    },
                },
                # No timeout: nothing but the answer moves it on (and no clock is held).
                {"StartAt": "Ask", "States": {"Ask": UNTIMED_ASK | {"End": True}}},
            ],
            "End": True,
        }
    },
}


async def _slow_in_reverse(parameters: Any) -> Any:
    if "item" not in parameters:  # the message carrying the task token
        return {"sent": True}
    # Later items answer sooner (in real time): their answers come back out of order.
    await asyncio.sleep(0.002 * (5 - parameters["item"]))
    return parameters


def test_parallel_branches_and_map_iterations_replay_in_order(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []
    definition = CONCURRENT
    items = {"items": [1, 2, 3, 4]}

    async def before_crash() -> str:
        engine = _engine(db, calls, _slow_in_reverse)
        execution = await engine.create_state_machine(definition, name="M").start(items, name="e")
        host = engine.host
        assert isinstance(host, LocalHost)
        await _until(lambda: _types(execution).count("MapIterationSucceeded") == 4)
        await _until(lambda: bool(host.tokens.pending()))
        return host.tokens.pending()[0].token

    token = asyncio.run(before_crash())
    assert len(calls) == 5

    async def after() -> Execution:
        engine = _engine(db, calls, _slow_in_reverse)
        (execution,) = await engine.recover()
        host = engine.host
        assert isinstance(host, LocalHost)
        # The events after the last commit are made again; the answer comes when the
        # iterations are done, as in the uninterrupted run.
        await _until(lambda: _types(execution).count("MapIterationSucceeded") == 4)
        host.tokens.send_success(token, {"approved": True})
        return await execution.wait()

    execution = asyncio.run(after())
    assert (execution.status, execution.fault) == ("SUCCEEDED", None)
    assert execution.output == [[{"item": 1}, {"item": 2}, {"item": 3}, {"item": 4}],
                                {"approved": True}]  # fmt: skip
    assert len(calls) == 5  # nothing ran twice

    async def straight() -> dict[str, Any]:
        engine = _engine(tmp_path / "straight.sqlite3", [], _slow_in_reverse)
        run = await engine.create_state_machine(definition, name="M").start(items, name="e")
        host = engine.host
        assert isinstance(host, LocalHost)
        await _until(lambda: _types(run).count("MapIterationSucceeded") == 4)
        await _until(lambda: bool(host.tokens.pending()))
        host.tokens.send_success(host.tokens.pending()[0].token, {"approved": True})
        await run.wait()
        return run.history_json()

    assert execution.history_json() == asyncio.run(straight())


def test_finished_executions_leave_memory_and_are_read_back(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"

    async def main() -> None:
        engine = _engine(db, [])
        machine = engine.create_state_machine(WAIT_AND_TASK, name="M")
        execution = await (await machine.start({"n": 1}, name="e")).wait()
        stored = engine.get_execution(execution.arn)
        assert stored is not None and stored is not execution
        assert (stored.status, stored.output, stored.start_time, stored.stop_time) == (
            execution.status, execution.output, execution.start_time, execution.stop_time,
        )  # fmt: skip
        assert stored.history_json() == execution.history_json()
        assert stored.path == execution.path == ["First", "Nap", "Last"]
        with pytest.raises(ValueError, match="Execution Already Exists"):
            await machine.start({}, name="e")

    asyncio.run(main())

    async def reopened() -> None:
        engine = _engine(db, [])
        (machine,) = engine.machines()
        assert (machine.name, machine.type) == ("M", "STANDARD")
        assert machine.definition_text is not None
        assert machine.definition.start_at == "First"
        assert await engine.recover() == []
        stored = engine.get_execution("arn:aws:states:us-east-1:123456789012:execution:M:e")
        assert stored is not None and stored.status == "SUCCEEDED"
        assert stored.states["Last"].entered == 1

    asyncio.run(reopened())


def test_a_finished_execution_nobody_keeps_is_freed_without_the_collector(
    tmp_path: Path,
) -> None:
    """A durable engine lets ended executions go (they are read back from the file): no
    reference cycle may keep one (its Run, its history) until the garbage collector runs."""
    db = tmp_path / "db.sqlite3"

    def alive(arn: str) -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, Execution) and o.arn == arn)

    async def main() -> None:
        engine = _engine(db, [])
        machine = engine.create_state_machine(WAIT_AND_TASK, name="M")
        execution = await (await machine.start({"n": 1}, name="e")).wait()
        arn = execution.arn
        assert alive(arn) == 1
        del execution
        assert alive(arn) == 0

    gc.collect()
    gc.disable()
    try:
        asyncio.run(main())
    finally:
        gc.enable()


def _in_the_wait(db: Path, then: Callable[[Execution], Awaitable[None]] | None = None) -> None:
    """Run WAIT_AND_TASK into its Wait (which never ends: the clock is held), then
    ``then(execution)``, then crash."""

    async def main() -> None:
        engine = _engine(db, [])
        engine.host.clock.begin_hold()
        execution = await engine.create_state_machine(WAIT_AND_TASK, name="M").start({})
        await _until(lambda: _types(execution)[-1] == "WaitStateEntered")
        if then is not None:
            await then(execution)

    asyncio.run(main())


def test_a_stopped_execution_is_not_resumed(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"

    async def stop(execution: Execution) -> None:
        execution.stop("Halt", "by hand")
        await execution.wait()

    _in_the_wait(db, stop)

    async def reopened() -> None:
        engine = _engine(db, [])
        assert await engine.recover() == []
        assert engine.store is not None
        (row,) = engine.store.executions()
        assert (row.status, row.error, row.cause) == ("ABORTED", "Halt", "by hand")

    asyncio.run(reopened())


def test_a_replay_that_diverges_fails_loudly(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    _in_the_wait(db)
    with sqlite3.connect(db) as tampered:
        tampered.execute("UPDATE events SET type = 'PassStateEntered' WHERE id = 2")

    execution = _recover(db, [])
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert isinstance(execution.fault, ReplayDiverged)


def test_a_durable_engine_needs_the_definitions_text(tmp_path: Path) -> None:
    async def main() -> None:
        import asl

        engine = _engine(tmp_path / "db.sqlite3", [])
        with pytest.raises(TypeError, match="durable engine keeps a definition's text"):
            engine.create_state_machine(asl.load(WAIT_AND_TASK))

    asyncio.run(main())


ACTIVITY = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:us-east-1:123456789012:activity:approve",
            "End": True,
        }
    },
}


def test_an_activity_task_taken_before_a_crash_is_answered_after_it(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"

    async def take(engine: Engine) -> str:
        host = engine.host
        assert isinstance(host, LocalHost)
        with host.clock.hold():  # no time passes while the worker holds the task
            task = await host.activities.get_task("approve", "worker-1")
        assert task is not None and task.input == {"n": 1}
        return task.token

    async def before_crash() -> str:
        engine = _engine(db, [])
        engine.host.clock.begin_hold()
        await engine.create_state_machine(ACTIVITY, name="M").start({"n": 1}, name="e")
        return await take(engine)

    token = asyncio.run(before_crash())

    async def after() -> Execution:
        engine = _engine(db, [])
        engine.host.clock.begin_hold()
        (execution,) = await engine.recover()
        host = engine.host
        assert isinstance(host, LocalHost)
        host.activities.send_success(token, {"approved": True})  # the worker's token still works
        host.clock.end_hold()
        return await execution.wait()

    execution = asyncio.run(after())
    assert (execution.status, execution.output) == ("SUCCEEDED", {"approved": True})

    async def answer(engine: Engine) -> None:
        host = engine.host
        assert isinstance(host, LocalHost)
        host.activities.send_success(await take(engine), {"approved": True})

    assert execution.history_json() == _uninterrupted(tmp_path, ACTIVITY, answer=answer)
    assert _types(execution)[2:5] == ["ActivityScheduled", "ActivityStarted", "ActivitySucceeded"]


def test_a_recovered_execution_keeps_the_definition_it_started_with(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def before_crash() -> None:
        engine = _engine(db, calls)
        engine.host.clock.begin_hold()
        execution = await engine.create_state_machine(WAIT_AND_TASK, name="M").start({})
        await _until(lambda: _types(execution)[-1] == "WaitStateEntered")
        changed = {"StartAt": "Other", "States": {"Other": {"Type": "Succeed"}}}
        assert engine.create_state_machine(changed, name="M").revision != execution.machine.revision

    asyncio.run(before_crash())
    execution = _recover(db, calls)
    assert (execution.status, execution.path) == ("SUCCEEDED", ["First", "Nap", "Last"])
    assert execution.machine.definition.start_at == "First"
    current = execution.machine.engine.get_machine(execution.machine.arn)
    assert current is not None and current.definition.start_at == "Other"


def test_the_execution_timeout_keeps_its_deadline(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    definition = WAIT_AND_TASK | {"TimeoutSeconds": 100}

    async def before_crash() -> None:
        engine = _engine(db, [])
        engine.host.clock.begin_hold()
        execution = await engine.create_state_machine(definition, name="M").start(
            {"n": 1}, name="e"
        )
        await _until(lambda: _types(execution)[-1] == "WaitStateEntered")

    asyncio.run(before_crash())
    execution = _recover(db, [])
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.history_json() == _uninterrupted(tmp_path, definition)
    assert execution.history_json()["events"][-1]["timestamp"] == "2025-01-01T00:01:40.000000+00:00"


def test_what_a_durable_execution_writes_is_the_json_text_of_its_values(tmp_path: Path) -> None:
    """The texts the journal writes without the encoder (the time and random draws it
    recalls, a state's details, a value written again) are the encoder's own texts, and
    its stored events are its history's, byte for byte."""
    db = tmp_path / "db.sqlite3"
    chain = {
        "StartAt": "Draw",
        "States": {
            "Draw": {"Type": "Pass", "Parameters": {"r.$": "States.MathRandom(1, 99)",
                                                    "id.$": "States.UUID()"}, "Next": "Echo"},
            "Echo": {"Type": "Pass", "ResultPath": "$.again", "Next": "Same"},
            "Same": {"Type": "Pass", "End": True},
        },
    }  # fmt: skip

    async def main() -> None:
        engine = _engine(db, [])
        machine = engine.create_state_machine(json_text(chain), name="M")
        execution = await (await machine.start({"é": [1.5, "\u2028"]}, name="e")).wait()
        assert execution.status == "SUCCEEDED"
        store = engine.store
        assert store is not None
        row = store.execution(execution.arn)
        assert row is not None and row.input == json_text({"é": [1.5, "\u2028"]})
        answers = [a.answer for a in store.journal(execution.arn)]
        assert {parse_json(a)["of"] for a in answers} >= {"now", "random", "uuid"}
        assert answers == [json_text(parse_json(a)) for a in answers]
        events = store.events(execution.arn)
        assert [e.details for e in events] == [
            None if e.details is None else json_text(e.details) for e in execution.history
        ]

    asyncio.run(main())
