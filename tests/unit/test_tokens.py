"""`.waitForTaskToken`: the execution waits until the token is answered or times out."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.clock import RealClock
from runtime.executions import Engine
from runtime.host import LocalHost
from runtime.store import TaskStore
from runtime.tokens import InvalidToken, TaskDoesNotExist, TaskTimedOut, TaskTokens

CALLBACK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 60,
            "TimeoutSeconds": 3600,
            "End": True,
        }
    },
}


def _engine(sent: list[TaskRequest], **host_options: Any) -> tuple[Engine, LocalHost]:
    async def send(request: TaskRequest) -> Any:
        sent.append(request)
        return {"MessageId": "m-1"}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    host = LocalHost(invoker=registry, **host_options)
    return Engine(host), host


async def _until_pending(host: LocalHost) -> str:
    for _ in range(100):
        if host.tokens.pending():
            return host.tokens.pending()[0].token
        await asyncio.sleep(0)
    raise AssertionError("no task token became pending")


def _types(execution: Any) -> list[str]:
    return [e.type for e in execution.history]


def _details(execution: Any, event_type: str) -> dict[str, Any]:
    event = next(e for e in execution.history_json()["events"] if e["type"] == event_type)
    return {k: v for k, v in event.items() if k.endswith("EventDetails")}


async def test_send_task_success_completes_the_task() -> None:
    sent: list[TaskRequest] = []
    engine, host = _engine(sent)
    execution = await engine.create_state_machine(CALLBACK).start({})
    token = await _until_pending(host)
    assert sent[0].parameters == {"QueueUrl": "q", "MessageBody": {"token": token}}
    assert len(token) >= 22  # at least 128 bits, URL-safe
    waiting = host.tokens.pending()[0]
    assert (waiting.state_name, waiting.kind, waiting.status) == ("Ask", "callback", "RUNNING")
    assert waiting.execution_arn == execution.arn
    host.tokens.send_success(token, {"decision": "yes"})
    await execution.wait()
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"decision": "yes"}
    assert _types(execution)[2:6] == [
        "TaskScheduled",
        "TaskStarted",
        "TaskSubmitted",
        "TaskSucceeded",
    ]
    assert host.tokens.pending() == []


async def test_an_answered_token_is_timed_out_as_aws_says() -> None:
    engine, host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    token = await _until_pending(host)
    host.tokens.send_success(token, {})
    await execution.wait()
    for answer in (
        lambda: host.tokens.send_success(token, {}),
        lambda: host.tokens.send_failure(token, "E", "c"),
        lambda: host.tokens.send_heartbeat(token),
    ):
        with pytest.raises(TaskTimedOut) as raised:
            answer()
        assert (raised.value.code, raised.value.message) == (
            "TaskTimedOut",
            "Task Timed Out: 'Provided task does not exist anymore'",
        )


async def test_unknown_and_malformed_tokens() -> None:
    tokens = TaskTokens(RealClock())
    with pytest.raises(TaskDoesNotExist) as unknown:
        tokens.send_success("A" * 43, {})
    assert unknown.value.code == "TaskDoesNotExist"
    for malformed in ("", "short", "has spaces in it and is long enough", "x" * 2049):
        with pytest.raises(InvalidToken) as invalid:
            tokens.send_heartbeat(malformed)
        assert str(invalid.value) == "InvalidToken: Invalid Token: 'Invalid token'"


async def test_send_task_failure_fails_the_task() -> None:
    engine, host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    host.tokens.send_failure(await _until_pending(host), "Rejected", "not today")
    await execution.wait()
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "Rejected",
        "not today",
    )
    assert _details(execution, "TaskFailed")["taskFailedEventDetails"] == {
        "resourceType": "sqs",
        "resource": "sendMessage.waitForTaskToken",
        "error": "Rejected",
        "cause": "not today",
    }


async def test_send_task_failure_without_error_or_cause() -> None:
    engine, host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    host.tokens.send_failure(await _until_pending(host))
    await execution.wait()
    assert (execution.status, execution.error, execution.cause) == ("FAILED", None, None)
    assert _details(execution, "TaskFailed")["taskFailedEventDetails"] == {
        "resourceType": "sqs",
        "resource": "sendMessage.waitForTaskToken",
    }


async def test_missed_heartbeat_times_out_in_virtual_time() -> None:
    engine, _host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    await execution.wait()
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "States.Timeout",
        None,
    )
    timed_out = next(e for e in execution.history if e.type == "TaskTimedOut")
    submitted = next(e for e in execution.history if e.type == "TaskSubmitted")
    assert timed_out.timestamp - submitted.timestamp == pytest.approx(60)
    assert _details(execution, "ExecutionFailed") == {
        "executionFailedEventDetails": {"error": "States.Timeout"}
    }


async def test_heartbeats_keep_the_task_alive_until_its_timeout() -> None:
    engine, host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    token = await _until_pending(host)
    started = host.now()
    while execution.status == "RUNNING" and host.now() - started < 7200:
        try:
            host.tokens.send_heartbeat(token)
        except TaskTimedOut:
            break
        await host.sleep(30)
    await execution.wait()
    assert execution.error == "States.Timeout"
    timed_out = next(e for e in execution.history if e.type == "TaskTimedOut")
    assert timed_out.timestamp - started == pytest.approx(3600)
    with pytest.raises(TaskTimedOut):
        host.tokens.send_heartbeat(token)


async def test_an_aborted_execution_closes_its_token() -> None:
    engine, host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    token = await _until_pending(host)
    execution.stop("Stopped", "by a test")
    await execution.wait()
    assert execution.status == "ABORTED"
    assert host.tokens.store.get(token).status == "ABORTED"  # type: ignore[union-attr]
    with pytest.raises(TaskTimedOut):
        host.tokens.send_success(token, {})


async def test_an_answer_from_another_process_is_noticed(tmp_path: Path) -> None:
    """Two stores on one file stand for two processes; time stands still meanwhile."""
    store = TaskStore(tmp_path / "store")
    engine, host = _engine([], task_store=store, external_answers=True)
    host.tokens.poll_interval = 0.01
    execution = await engine.create_state_machine(CALLBACK).start({})
    other = TaskTokens(RealClock(), TaskStore(tmp_path / "store"))
    token = await _other_sees_a_task(other)
    other.send_heartbeat(token)
    other.send_success(token, {"from": "elsewhere"})
    await asyncio.wait_for(execution.wait(), 10)
    assert execution.output == {"from": "elsewhere"}
    submitted = next(e for e in execution.history if e.type == "TaskSubmitted")
    succeeded = next(e for e in execution.history if e.type == "TaskSucceeded")
    assert succeeded.timestamp == submitted.timestamp  # the virtual clock stood still


async def _other_sees_a_task(other: TaskTokens) -> str:
    for _ in range(500):
        if other.pending():
            return other.pending()[0].token
        await asyncio.sleep(0.01)
    raise AssertionError("the other process never saw the task")


async def test_without_external_answers_virtual_time_moves_on(tmp_path: Path) -> None:
    engine, _host = _engine([], task_store=TaskStore(tmp_path / "store"))
    execution = await engine.create_state_machine(CALLBACK).start({})
    await asyncio.wait_for(execution.wait(), 10)
    assert execution.error == "States.Timeout"


async def test_on_task_waiting_is_told_of_each_wait() -> None:
    told: list[str] = []
    engine, host = _engine([], on_task_waiting=lambda record: told.append(record.state_name))
    execution = await engine.create_state_machine(CALLBACK).start({})
    host.tokens.send_success(await _until_pending(host), 1)
    await execution.wait()
    assert told == ["Ask"]


async def test_next_task_holds_the_clock_until_the_test_answers() -> None:
    engine, host = _engine([])
    then_wait = {
        "StartAt": "Ask",
        "States": {
            "Ask": {**CALLBACK["States"]["Ask"], "End": False, "Next": "Later"},
            "Later": {"Type": "Wait", "Seconds": 86_400, "End": True},
        },
    }
    taking = asyncio.ensure_future(host.tokens.next_task())  # asked before the task exists
    execution = await engine.create_state_machine(then_wait).start({})
    task = await taking
    await asyncio.sleep(0.05)  # a test looking at it: no heartbeat runs out meanwhile
    host.tokens.send_success(task.token, {"approved": True})
    await asyncio.wait_for(execution.wait(), 10)  # the held clock was let go: the day passes
    assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
    submitted = next(e for e in execution.history if e.type == "TaskSubmitted")
    succeeded = next(e for e in execution.history if e.type == "TaskSucceeded")
    assert succeeded.timestamp == submitted.timestamp
    assert execution.history[-1].timestamp - succeeded.timestamp == 86_400


async def test_next_task_takes_a_task_already_waiting_once() -> None:
    engine, host = _engine([])
    machine = engine.create_state_machine(CALLBACK)
    first = await machine.start({})
    token = await _until_pending(host)
    assert (await host.tokens.next_task()).token == token
    host.tokens.send_failure(token, "Rejected", "no")
    await first.wait()
    assert (first.status, first.error) == ("FAILED", "Rejected")


async def _waiting_on_a_store_file(tmp_path: Path) -> tuple[LocalHost, Any, Path]:
    path = tmp_path / "store.sqlite3"
    engine, host = _engine([], task_store=TaskStore(path))
    host.tokens.poll_interval = 0.01
    execution = await engine.create_state_machine(CALLBACK).start({})
    await _until_pending(host)
    return host, execution, path


async def test_a_store_file_deleted_while_a_task_waits_fails_the_execution_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    host, execution, path = await _waiting_on_a_store_file(tmp_path)
    with host.clock.hold():  # real time passes for the poller; the heartbeat waits
        for part in tmp_path.iterdir():
            part.unlink()
        await asyncio.wait_for(execution.wait(), 5)
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "States.Runtime",
        f"the task store {path} cannot be used: the file was deleted or replaced while in use",
    )
    assert execution.fault is None  # not an engine bug
    assert _types(execution)[-2:] == ["TaskSubmitted", "ExecutionFailed"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_store_file_overwritten_while_a_task_waits_fails_the_execution(
    tmp_path: Path,
) -> None:
    host, execution, path = await _waiting_on_a_store_file(tmp_path)
    with host.clock.hold():
        for part in tmp_path.iterdir():
            part.write_bytes(b"not a database " * 4096)
        await asyncio.wait_for(execution.wait(), 5)
    assert (execution.status, execution.cause) == (
        "FAILED",
        f"the task store {path} cannot be used: file is not a database",
    )


async def test_an_execution_waiting_on_a_broken_store_can_still_be_stopped(
    tmp_path: Path,
) -> None:
    _, execution, _ = await _waiting_on_a_store_file(tmp_path)
    for part in tmp_path.iterdir():
        part.write_bytes(b"not a database " * 4096)
    execution.stop("Stopped", "by hand")
    await asyncio.wait_for(execution.wait(), 5)
    assert (execution.status, execution.error, execution.cause) == ("ABORTED", "Stopped", "by hand")
