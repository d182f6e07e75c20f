"""`.waitForTaskToken`: the execution waits until the token is answered or times out."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine
from runtime.host import LocalHost
from runtime.tokens import TaskDoesNotExist

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


def _engine(sent: list[TaskRequest]) -> tuple[Engine, LocalHost]:
    async def send(request: TaskRequest) -> Any:
        sent.append(request)
        return {"MessageId": "m-1"}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    host = LocalHost(invoker=registry)
    return Engine(host), host


async def _until_pending(host: LocalHost) -> str:
    for _ in range(100):
        if host.tokens.pending():
            return host.tokens.pending()[0].token
        await asyncio.sleep(0)
    raise AssertionError("no task token became pending")


async def test_send_task_success_completes_the_task() -> None:
    sent: list[TaskRequest] = []
    engine, host = _engine(sent)
    execution = await engine.create_state_machine(CALLBACK).start({})
    token = await _until_pending(host)
    assert sent[0].parameters == {"QueueUrl": "q", "MessageBody": {"token": token}}
    assert len(token) >= 22  # at least 128 bits, URL-safe
    host.tokens.send_success(token, {"decision": "yes"})
    await execution.wait()
    assert execution.status == "SUCCEEDED"
    assert execution.output == {"decision": "yes"}
    types = [e.type for e in execution.history]
    assert types[2:6] == ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]
    with pytest.raises(TaskDoesNotExist):
        host.tokens.send_success(token, {})


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


async def test_missed_heartbeat_times_out_in_virtual_time() -> None:
    engine, _host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    await execution.wait()
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    timed_out = next(e for e in execution.history if e.type == "TaskTimedOut")
    submitted = next(e for e in execution.history if e.type == "TaskSubmitted")
    assert timed_out.timestamp - submitted.timestamp == pytest.approx(60)


async def test_heartbeats_keep_the_task_alive_until_its_timeout() -> None:
    engine, host = _engine([])
    execution = await engine.create_state_machine(CALLBACK).start({})
    token = await _until_pending(host)
    started = host.now()
    while execution.status == "RUNNING" and host.now() - started < 7200:
        try:
            host.tokens.send_heartbeat(token)
        except TaskDoesNotExist:
            break
        await host.sleep(30)
    await execution.wait()
    assert execution.error == "States.Timeout"
    timed_out = next(e for e in execution.history if e.type == "TaskTimedOut")
    assert timed_out.timestamp - started == pytest.approx(3600)
