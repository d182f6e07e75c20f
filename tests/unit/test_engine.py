"""The engine's life cycle: clocks, concurrency, stop/abort, names and duplicates."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine, Execution, ExecutionAlreadyExists, InvalidName
from runtime.host import LocalHost

DAY = 86_400


def _wait(seconds: float, name: str = "W") -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Wait", "Seconds": seconds, "End": True}}}


def _seconds(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp()


def _types(execution: Execution) -> list[str]:
    return [event["type"] for event in execution.history_json()["events"]]


async def _stopped_after(
    engine: Engine,
    definition: dict[str, Any],
    *,
    error: str | None = None,
    cause: str | None = None,
    input_value: Any = None,
) -> Execution:
    """Start an execution, let it park, stop it, and wait for its end (time held still
    meanwhile: the virtual clock would otherwise jump as soon as it parks)."""
    with engine.host.clock.hold():
        execution = await engine.create_state_machine(definition, name="Stopped").start(input_value)
        for _ in range(5):
            await asyncio.sleep(0)
        execution.stop(error, cause)
    return await execution.wait()


async def test_a_30_day_wait_ends_at_once_on_the_virtual_clock() -> None:
    engine = Engine(LocalHost(clock="virtual"))
    execution = await (await engine.create_state_machine(_wait(30 * DAY)).start({"a": 1})).wait()
    events = execution.history_json()["events"]
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"a": 1}
    entered, exited = (e for e in events if e["type"].startswith("WaitState"))
    assert _seconds(exited) - _seconds(entered) == pytest.approx(30 * DAY)


async def test_real_clock_waits_do_not_block_each_other() -> None:
    engine = Engine(LocalHost(clock="real"))
    machine = engine.create_state_machine(_wait(1))
    executions = [await machine.start({"n": n}) for n in range(20)]
    await asyncio.gather(*(e.wait() for e in executions))
    assert {e.status for e in executions} == {"SUCCEEDED"}
    spans = []
    for execution in executions:
        events = {e["type"]: e for e in execution.history_json()["events"]}
        spans.append((_seconds(events["WaitStateEntered"]), _seconds(events["WaitStateExited"])))
    # Every wait began before any ended: they all overlapped.
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    assert all(end - start >= 0.99 for start, end in spans)


async def test_many_concurrent_executions_on_one_host() -> None:
    async def double(request: TaskRequest) -> Any:
        return {"n": request.parameters["n"] * 2}

    registry = Registry()
    registry.register("lambda-function", FunctionIntegration(double))
    engine = Engine(LocalHost(clock="virtual", invoker=registry))
    definition = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "SecondsPath": "$.n", "Next": "T"},
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
                "End": True,
            },
        },
    }
    machine = engine.create_state_machine(definition)
    executions = [await machine.start({"n": n}) for n in range(500)]
    await asyncio.gather(*(e.wait() for e in executions))
    assert [e.output for e in executions] == [{"n": 2 * n} for n in range(500)]
    assert len({e.arn for e in executions}) == 500


async def test_stop_aborts_a_waiting_execution() -> None:
    execution = await _stopped_after(Engine(LocalHost()), _wait(DAY), error="Stop", cause="by hand")
    assert (execution.status, execution.error, execution.cause) == ("ABORTED", "Stop", "by hand")
    events = execution.history_json()["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "WaitStateEntered", "WaitStateAborted", "ExecutionAborted",
    ]  # fmt: skip
    assert events[-1]["executionAbortedEventDetails"] == {"error": "Stop", "cause": "by hand"}
    assert [e["previousEventId"] for e in events] == [0, 0, 2, 3]


async def test_stop_without_error_or_cause() -> None:
    execution = await _stopped_after(Engine(LocalHost()), _wait(DAY))
    assert (execution.status, execution.error, execution.cause) == ("ABORTED", None, None)
    assert "executionAbortedEventDetails" not in execution.history_json()["events"][-1]


async def test_stop_aborts_a_running_task() -> None:
    async def never(request: TaskRequest) -> Any:
        await asyncio.Event().wait()

    registry = Registry()
    registry.register("lambda:invoke", FunctionIntegration(never))
    definition = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "f"},
                "End": True,
            }
        },
    }
    execution = await _stopped_after(Engine(LocalHost(invoker=registry)), definition)
    assert execution.status == "ABORTED"
    assert _types(execution)[-2:] == ["TaskStateAborted", "ExecutionAborted"]


async def test_stop_aborts_map_iterations_and_the_map() -> None:
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "End": True, "ItemProcessor": _wait(DAY)}},
    }
    execution = await _stopped_after(Engine(LocalHost()), definition, input_value=[1, 2])
    types = _types(execution)
    assert execution.status == "ABORTED"
    assert types.count("WaitStateAborted") == 2
    assert types.count("MapIterationAborted") == 2
    assert types[-2:] == ["MapStateAborted", "ExecutionAborted"]


async def test_stop_aborts_parallel_branches() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "End": True, "Branches": [_wait(DAY), _wait(DAY, "W2")]}
        },
    }
    execution = await _stopped_after(Engine(LocalHost()), definition)
    types = _types(execution)
    assert types.count("WaitStateAborted") == 2
    assert types[-2:] == ["ParallelStateAborted", "ExecutionAborted"]


async def test_stop_of_an_ended_execution_changes_nothing() -> None:
    engine = Engine(LocalHost())
    execution = await (await engine.create_state_machine(_wait(0)).start({})).wait()
    execution.stop("Late")
    assert (execution.status, execution.error) == ("SUCCEEDED", None)


async def test_an_execution_name_may_be_used_once_per_machine() -> None:
    engine = Engine(LocalHost())
    machine = engine.create_state_machine(_wait(0), name="M")
    first = await machine.start({}, name="run-1")
    with pytest.raises(ExecutionAlreadyExists) as raised:
        await machine.start({}, name="run-1")
    assert str(raised.value) == f"Execution Already Exists: '{first.arn}'"
    other = await engine.create_state_machine(_wait(0), name="Other").start({}, name="run-1")
    assert other.arn != first.arn


@pytest.mark.parametrize(
    "name", ["", "a" * 81, "has space", "tab\tname", "a/b", "a:b", "a*b", "a?b", "a{b", "a$b"]
)
async def test_invalid_execution_names(name: str) -> None:
    machine = Engine(LocalHost()).create_state_machine(_wait(0))
    with pytest.raises(InvalidName):
        await machine.start({}, name=name)


@pytest.mark.parametrize("name", ["", "a" * 81, "bad name", "x#y", "x%y", "x,y"])
def test_invalid_state_machine_names(name: str) -> None:
    with pytest.raises(InvalidName):
        Engine(LocalHost()).create_state_machine(_wait(0), name=name)


@pytest.mark.parametrize("name", ["a", "a" * 80, "run-1_2.3", "Ünïcödé"])
async def test_valid_names(name: str) -> None:
    engine = Engine(LocalHost())
    execution = await engine.create_state_machine(_wait(0), name=name).start({}, name=name)
    assert execution.arn.endswith(f":{name}:{name}")
    assert (await execution.wait()).status == "SUCCEEDED"


async def test_execution_names_default_to_uuids_and_arns_name_the_kind() -> None:
    engine = Engine(LocalHost())
    standard = await engine.create_state_machine(_wait(0), name="S").start({})
    express = await engine.create_state_machine(_wait(0), name="E", type="EXPRESS").start({})
    assert len(standard.name) == 36 and standard.name.count("-") == 4
    assert standard.arn == f"arn:aws:states:us-east-1:123456789012:execution:S:{standard.name}"
    prefix = f"arn:aws:states:us-east-1:123456789012:express:E:{express.name}:"
    assert express.arn.startswith(prefix)
    assert len(express.arn.removeprefix(prefix)) == 36


async def test_express_names_can_repeat_and_the_context_id_is_the_arn() -> None:
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "End": True}},
    }
    machine = Engine(LocalHost()).create_state_machine(definition, name="E", type="EXPRESS")
    first = await (await machine.start({}, name="same")).wait()
    second = await (await machine.start({}, name="same")).wait()
    assert first.arn != second.arn
    assert first.output == {"id": first.arn} and second.output == {"id": second.arn}


async def test_an_execution_timeout_aborts_the_running_state() -> None:
    definition = {**_wait(DAY), "TimeoutSeconds": 60}
    execution = await (await Engine(LocalHost()).create_state_machine(definition).start()).wait()
    events = execution.history_json()["events"]
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert events[-1]["type"] == "ExecutionTimedOut"
    assert _seconds(events[-1]) - _seconds(events[0]) == pytest.approx(60)


async def test_an_engine_bug_ends_the_execution_and_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(request: TaskRequest) -> Any:
        raise RuntimeError("boom")  # an integration must raise StatesError: this is a bug

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(broken))
    task = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
    definition = {"StartAt": "T", "States": {"T": task}}
    execution = await Engine(LocalHost(invoker=registry)).create_state_machine(definition).start()
    assert await execution.wait() is execution
    assert isinstance(execution.fault, RuntimeError)
    assert "ended by an engine error" in caplog.text and "RuntimeError: boom" in caplog.text
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause == "Internal engine error: RuntimeError: boom"
    assert _types(execution)[-1] == "ExecutionFailed"


async def test_a_cancelled_wait_leaves_the_other_waiters_waiting() -> None:
    engine = Engine(LocalHost())
    with engine.host.clock.hold():  # the Wait cannot end until the test lets time move
        execution = await engine.create_state_machine(_wait(DAY)).start({"a": 1})
        cancelled = asyncio.ensure_future(execution.wait())
        kept = asyncio.ensure_future(execution.wait())
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.sleep(0)
        assert cancelled.cancelled() and not kept.done()
    assert await kept is execution
    assert execution.status == "SUCCEEDED"
    assert await execution.wait() is execution  # an ended execution's wait returns at once
