"""Activities: workers poll for activity tasks and answer them; the history says so."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from runtime.activities import MAX_POLLERS_PER_ARN, Activities, ActivityTask
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from runtime.store import ActivityWorkerLimitExceeded, InvalidArn, TaskStore
from runtime.tokens import TaskTimedOut

ARN = "arn:aws:states:us-east-1:123456789012:activity:review"


def _machine(**task: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": ARN, "End": True, **task}
    return {"StartAt": "Review", "States": {"Review": state}}


async def _start(definition: dict[str, Any], host: LocalHost | None = None) -> Execution:
    engine = Engine(host if host is not None else LocalHost())
    return await engine.create_state_machine(definition).start({"Value1": "HelloWorld"})


def _host(execution: Execution) -> LocalHost:
    host = execution.machine.engine.host
    assert isinstance(host, LocalHost)
    return host


def _events(execution: Execution) -> list[tuple[str, dict[str, Any] | None]]:
    found = []
    for event in execution.history_json()["events"]:
        details = [v for k, v in event.items() if k.endswith("EventDetails")]
        found.append((event["type"], details[0] if details else None))
    return found


async def test_a_worker_takes_the_task_and_succeeds() -> None:
    execution = await _start(_machine())
    task = await _host(execution).activities.get_task(ARN, "BASE_ID_ACTIVITY_CONSUMER")
    assert isinstance(task, ActivityTask)
    token, value = task
    assert value == {"Value1": "HelloWorld"}
    _host(execution).activities.send_success(token, {"done": True})
    await execution.wait()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"done": True})
    assert _events(execution)[2:5] == [
        (
            "ActivityScheduled",
            {
                "resource": ARN,
                "input": '{"Value1":"HelloWorld"}',
                "inputDetails": {"truncated": False},
            },
        ),
        ("ActivityStarted", {"workerName": "BASE_ID_ACTIVITY_CONSUMER"}),
        ("ActivitySucceeded", {"output": '{"done":true}', "outputDetails": {"truncated": False}}),
    ]
    assert [t for t, _ in _events(execution)][5:] == ["TaskStateExited", "ExecutionSucceeded"]
    with pytest.raises(TaskTimedOut):
        _host(execution).activities.send_success(token, {})


async def test_a_worker_without_a_name_and_a_failure() -> None:
    execution = await _start(_machine())
    task = await _host(execution).activities.get_task("review")  # by name
    assert task is not None
    _host(execution).activities.send_failure(task.token, "Programmatic Error", "it broke")
    await execution.wait()
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "Programmatic Error",
        "it broke",
    )
    assert _events(execution)[3:] == [
        ("ActivityStarted", {}),
        ("ActivityFailed", {"error": "Programmatic Error", "cause": "it broke"}),
        ("ExecutionFailed", {"error": "Programmatic Error", "cause": "it broke"}),
    ]


async def test_timeout_after_the_worker_took_the_task() -> None:
    execution = await _start(_machine(TimeoutSeconds=5))
    assert await _host(execution).activities.get_task(ARN, "slow") is not None
    await execution.wait()
    assert (execution.status, execution.error, execution.cause) == (
        "FAILED",
        "States.Timeout",
        None,
    )
    events = _events(execution)
    assert events[2][1] == {
        "resource": ARN,
        "input": '{"Value1":"HelloWorld"}',
        "inputDetails": {"truncated": False},
        "timeoutInSeconds": 5,
    }
    assert events[4:] == [
        ("ActivityTimedOut", {"error": "States.Timeout"}),
        ("ExecutionFailed", {"error": "States.Timeout"}),
    ]
    history = execution.history
    assert history[4].timestamp - history[2].timestamp == pytest.approx(5)


async def test_timeout_counts_from_scheduling_heartbeat_from_the_worker() -> None:
    execution = await _start(_machine(TimeoutSeconds=100, HeartbeatSeconds=10))
    host = _host(execution)
    await host.sleep(30)  # no worker yet: no heartbeat is missed
    task = await host.activities.get_task(ARN, "w")
    assert task is not None
    await host.sleep(8)
    host.activities.send_heartbeat(task.token)
    await execution.wait()
    history = execution.history
    scheduled = next(e for e in history if e.type == "ActivityScheduled")
    timed_out = next(e for e in history if e.type == "ActivityTimedOut")
    assert timed_out.timestamp - scheduled.timestamp == pytest.approx(48)
    assert _events(execution)[2][1]["heartbeatInSeconds"] == 10  # type: ignore[index]


async def test_nobody_polls_so_the_task_times_out() -> None:
    execution = await _start(_machine(TimeoutSeconds=60))
    await execution.wait()
    assert [t for t, _ in _events(execution)][2:] == [
        "ActivityScheduled",
        "ActivityTimedOut",
        "ExecutionFailed",
    ]


async def test_an_empty_poll_returns_none_after_its_timeout() -> None:
    host = LocalHost()
    started = host.now()
    assert await host.activities.get_task(ARN, "w") is None
    assert host.now() - started == pytest.approx(60)
    assert await host.activities.get_task(ARN, "w", timeout=0) is None


async def test_a_poll_waiting_first_gets_the_task_scheduled_later() -> None:
    host = LocalHost()
    poll = asyncio.ensure_future(host.activities.get_task(ARN, "early"))
    await asyncio.sleep(0)
    execution = await _start(_machine(), host)
    task = await poll
    assert task is not None and task.input == {"Value1": "HelloWorld"}
    host.activities.send_success(task.token, "ok")
    await execution.wait()
    assert execution.output == "ok"


async def test_two_workers_one_task() -> None:
    # The answer comes from outside the engine: the clock must not run ahead meanwhile.
    execution = await _start(_machine(TimeoutSeconds=30), LocalHost(external_answers=True))
    activities = _host(execution).activities
    first, second = await asyncio.gather(
        activities.get_task(ARN, "a", timeout=0.5), activities.get_task(ARN, "b", timeout=0.5)
    )
    assert [t is None for t in (first, second)].count(True) == 1
    taken = first or second
    assert taken is not None
    activities.send_success(taken.token, 1)
    await execution.wait()
    assert execution.output == 1


async def test_answering_without_polling_starts_the_task_with_no_worker() -> None:
    execution = await _start(_machine())
    host = _host(execution)
    for _ in range(10):
        await asyncio.sleep(0)
    host.activities.send_success(host.tokens.pending()[0].token, {"by": "a person"})
    await execution.wait()
    assert [t for t, _ in _events(execution)][2:5] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
    ]


async def test_a_retried_activity_is_scheduled_again() -> None:
    retry = [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    execution = await _start(_machine(Retry=retry))
    activities = _host(execution).activities
    first = await activities.get_task(ARN, "w")
    assert first is not None
    activities.send_failure(first.token, "Flaky")
    second = await activities.get_task(ARN, "w")
    assert second is not None and second.token != first.token
    activities.send_success(second.token, 2)
    await execution.wait()
    assert [t for t, _ in _events(execution)][2:9] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityFailed",
        "ActivityScheduled",
        "ActivityStarted",
        "ActivitySucceeded",
        "TaskStateExited",
    ]


async def test_a_worker_in_another_process(tmp_path: Path) -> None:
    host = LocalHost(task_store=TaskStore(tmp_path), external_answers=True)
    host.tokens.poll_interval = 0.01
    execution = await _start(_machine(HeartbeatSeconds=1), host)
    worker = Activities.connect(tmp_path)
    worker.tokens.poll_interval = 0.01
    task = await asyncio.wait_for(worker.get_task(ARN, "remote", timeout=10), 10)
    assert task is not None
    worker.send_heartbeat(task.token)
    worker.send_success(task.token, {"remote": True})
    await asyncio.wait_for(execution.wait(), 10)
    assert execution.output == {"remote": True}
    assert _events(execution)[3] == ("ActivityStarted", {"workerName": "remote"})
    assert [arn for arn, _, _ in worker.list()] == [ARN]


async def test_activity_names_and_arns() -> None:
    activities = LocalHost().activities
    assert activities.arn("review") == ARN
    assert activities.arn(ARN) == ARN
    for wrong in ("", "has space", "arn:aws:states:us-east-1:123456789012:stateMachine:x"):
        with pytest.raises(InvalidArn) as raised:
            activities.arn(wrong)
        assert raised.value.code == "InvalidArn"


async def test_at_most_1000_workers_poll_one_activity() -> None:
    activities = LocalHost().activities
    polls = [asyncio.ensure_future(activities.get_task(ARN)) for _ in range(MAX_POLLERS_PER_ARN)]
    await asyncio.sleep(0)
    with pytest.raises(ActivityWorkerLimitExceeded):
        await activities.get_task(ARN)
    assert await activities.get_task(ARN.replace("review", "other"), timeout=0) is None
    for poll in polls:
        poll.cancel()
    await asyncio.gather(*polls, return_exceptions=True)
    assert await activities.get_task(ARN, timeout=0) is None
