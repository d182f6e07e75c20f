"""Activity ARNs on Temporal: an execution waits for a worker that takes its task with
GetActivityTask (``TemporalExecutions.get_activity_task``) and answers it with SendTask*;
each task goes to one poller however many poll at once, and a task that ended (stopped,
timed out) is given to none. Each test has activities of its own: a poller takes any
execution's task of its ARN."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client

from runtime.store import InvalidArn
from runtime.temporal.search_attributes import (
    PENDING_ACTIVITIES,
    STARTED_FROM,
    STATE_MACHINE,
    register_search_attributes,
)
from tests.temporal import machines
from tests.temporal.backend import Backend

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")


def _activity() -> str:
    return machines.activity_arn(f"work-{uuid.uuid4().hex[:12]}")


async def _start(backend: Backend, definition: dict[str, Any], value: Any) -> str:
    workflow_id = f"activities-{uuid.uuid4()}"
    await backend.executions.start(definition, value, workflow_id=workflow_id)
    return workflow_id


async def _events(backend: Backend, workflow_id: str) -> list[tuple[str, Any]]:
    found = []
    for event in (await backend.executions.history(workflow_id))["events"]:
        details = [v for k, v in event.items() if k.endswith("EventDetails")]
        found.append((event["type"], details[0] if details else None))
    return found


def test_two_pollers_at_once_get_distinct_tasks(temporal: Backend) -> None:
    activity = _activity()
    executions = temporal.executions

    async def scenario() -> tuple[list[Any], Any, list[dict[str, Any]], list[Any]]:
        ids = [await _start(temporal, machines.working(activity), {"n": n}) for n in (1, 2)]
        tasks = await asyncio.gather(
            executions.get_activity_task(activity, "worker-a", 30),
            executions.get_activity_task(activity, "worker-b", 30),
        )
        third = await executions.get_activity_task(activity, "worker-c", 1)
        for task in tasks:
            assert task is not None
            await executions.send_task_success(task[0], {"echo": json.loads(task[1])})
        ended = [await executions.wait(workflow_id) for workflow_id in ids]
        started = [(await _events(temporal, workflow_id))[3] for workflow_id in ids]
        return list(tasks), third, ended, started

    tasks, third, ended, started = temporal.run(scenario())
    assert third is None
    assert len({task[0] for task in tasks}) == 2
    assert sorted(json.loads(task[1])["n"] for task in tasks) == [1, 2]
    assert [(e["status"], json.loads(e["output"])) for e in ended] == [
        ("SUCCEEDED", {"echo": {"n": 1}}),
        ("SUCCEEDED", {"echo": {"n": 2}}),
    ]
    assert sorted((kind, details["workerName"]) for kind, details in started) == [
        ("ActivityStarted", "worker-a"),
        ("ActivityStarted", "worker-b"),
    ]


def test_many_pollers_take_each_task_once(temporal: Backend) -> None:
    """Six pollers race for three tasks: three get one each, all different, and the other
    three find nothing."""
    activity = _activity()
    executions = temporal.executions

    async def scenario() -> list[Any]:
        ids = [await _start(temporal, machines.working(activity), {"n": n}) for n in range(3)]
        for _ in range(100):  # until visibility lists all three
            listed = executions.client.list_workflows(f"{PENDING_ACTIVITIES.name} = '{activity}'")
            if len([w async for w in listed]) == 3:
                break
            await asyncio.sleep(0.1)
        polls = await asyncio.gather(
            *(executions.get_activity_task(activity, f"w{i}", 2) for i in range(6))
        )
        for task in polls:
            if task is not None:
                await executions.send_task_success(task[0], {})
        for workflow_id in ids:
            await executions.wait(workflow_id)
        return list(polls)

    polls = temporal.run(scenario())
    taken = [task for task in polls if task is not None]
    assert len(taken) == 3
    assert len({token for token, _ in taken}) == 3


def test_a_stopped_execution_gives_its_task_to_no_one(temporal: Backend) -> None:
    activity = _activity()
    executions = temporal.executions

    async def scenario() -> tuple[Any, dict[str, Any]]:
        workflow_id = await _start(temporal, machines.working(activity), {})
        for _ in range(100):  # until the task waits
            if any(t == "ActivityScheduled" for t, _ in await _events(temporal, workflow_id)):
                break
            await asyncio.sleep(0.05)
        await executions.stop(workflow_id, "Stopped", "by the test")
        ended = await executions.wait(workflow_id)
        return await executions.get_activity_task(activity, "late", 1), ended

    found, ended = temporal.run(scenario())
    assert found is None
    assert ended["status"] == "ABORTED"


def test_a_task_no_worker_takes_times_out(temporal: Backend) -> None:
    activity = _activity()
    executions = temporal.executions

    async def scenario() -> tuple[dict[str, Any], list[tuple[str, Any]], Any]:
        definition = machines.working(activity, TimeoutSeconds=1)
        workflow_id = await _start(temporal, definition, {})
        ended = await executions.wait(workflow_id)
        late = await executions.get_activity_task(activity, "late", 0.5)
        return ended, await _events(temporal, workflow_id), late

    ended, events, late = temporal.run(scenario())
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")
    assert [t for t, _ in events][2:4] == ["ActivityScheduled", "ActivityTimedOut"]
    assert late is None


def test_an_activity_given_by_name_and_a_bad_one(temporal: Backend) -> None:
    name = f"named-{uuid.uuid4().hex[:12]}"
    executions = temporal.executions

    async def scenario() -> tuple[Any, dict[str, Any]]:
        workflow_id = await _start(temporal, machines.working(machines.activity_arn(name)), 7)
        task = await executions.get_activity_task(name, None, 30)
        assert task is not None
        await executions.send_task_failure(task[0], "Broken", "it broke")
        return task, await executions.wait(workflow_id)

    task, ended = temporal.run(scenario())
    assert task[1] == "7"
    assert (ended["status"], ended["error"], ended["cause"]) == ("FAILED", "Broken", "it broke")
    with pytest.raises(InvalidArn, match="Invalid Arn: 'no:such/activity'"):
        temporal.run(executions.get_activity_task("no:such/activity", None, 1))


def test_a_taken_task_without_heartbeats_times_out(temporal: Backend) -> None:
    activity = _activity()
    executions = temporal.executions

    async def scenario() -> tuple[dict[str, Any], list[tuple[str, Any]]]:
        definition = machines.working(activity, HeartbeatSeconds=1, TimeoutSeconds=60)
        workflow_id = await _start(temporal, definition, {})
        assert await executions.get_activity_task(activity, "silent", 30) is not None
        return await executions.wait(workflow_id), await _events(temporal, workflow_id)

    ended, events = temporal.run(scenario())
    assert (ended["status"], ended["error"]) == ("FAILED", "States.Timeout")
    assert [t for t, _ in events][2:5] == [
        "ActivityScheduled",
        "ActivityStarted",
        "ActivityTimedOut",
    ]


def test_a_worker_registers_the_search_attributes_where_they_are_missing(
    temporal: Backend,
) -> None:
    """On a namespace without them (the dev server registers them on ``default`` only),
    the registration adds them, and a second finds them there."""
    namespace = f"bare-{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[list[str], list[str], Any]:
        client = temporal.executions.client
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
            )
        )
        other = await Client.connect(temporal.address, namespace=namespace)
        first = await register_search_attributes(other)
        second = await register_search_attributes(other)
        listed = await other.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        names = (PENDING_ACTIVITIES.name, STATE_MACHINE.name, STARTED_FROM.name)
        return first, second, [listed.custom_attributes.get(name) for name in names]

    keyword_list = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST
    keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
    assert temporal.run(scenario()) == (
        [PENDING_ACTIVITIES.name, STATE_MACHINE.name, STARTED_FROM.name],
        [],
        [keyword_list, keyword, keyword_list],
    )
