"""A Distributed Map on Temporal: its child executions are child workflows (of slices
of its Map Run, themselves child workflows of the execution's), their histories read
from them; slices cut a Map Run as their bounds say, keep item order and the tolerated
failure threshold across slices."""

from __future__ import annotations

import asyncio
import json
import signal
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.service import RPCError

from runtime.map_children import ChildStart
from runtime.temporal import TemporalExecutions, map_runs
from tests.temporal import machines
from tests.temporal.backend import Backend
from tests.temporal.test_replay import _functions
from tests.temporal.test_worker_crash import _worker

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

ECHO = {"StartAt": "Echo", "States": {"Echo": machines.task("echo")}}
DOUBLE = {
    "StartAt": "Double",
    "States": {"Double": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, $.n)"},
                          "End": True}},
}  # fmt: skip


def _run(backend: Backend, definition: dict[str, Any], value: Any) -> dict[str, Any]:
    """Run an execution to its end: its description, its history, the Map Run's id."""
    workflow_id = f"map-{uuid.uuid4()}"
    backend.routed.invokers[workflow_id] = _functions()

    async def scenario() -> dict[str, Any]:
        executions = backend.executions
        await executions.start(definition, value, workflow_id=workflow_id)
        ended = await executions.wait(workflow_id)
        events = (await executions.history(workflow_id))["events"]
        return {"id": workflow_id, "ended": ended, "events": events}

    try:
        return backend.run(scenario())
    finally:
        del backend.routed.invokers[workflow_id]


def _map_run_id(events: list[dict[str, Any]]) -> str:
    started = next(e for e in events if e["type"] == "MapRunStarted")
    arn: str = started["mapRunStartedEventDetails"]["mapRunArn"]
    return arn.rsplit(":", 1)[-1]


def test_children_are_child_workflows_of_a_slice_of_the_execution(temporal: Backend) -> None:
    items = [{"n": n} for n in range(5)]
    ran = _run(temporal, machines.distributing(ECHO), {"items": items})
    assert ran["ended"]["status"] == "SUCCEEDED"
    assert ran["ended"]["output"] == '[{"value":{"n":0}},{"value":{"n":1}},{"value":{"n":2}},' \
        '{"value":{"n":3}},{"value":{"n":4}}]'  # fmt: skip
    prefix = f"{ran['id']}/{_map_run_id(ran['events'])}"
    client = temporal.executions.client

    async def look() -> dict[str, Any]:
        slice_ = await client.get_workflow_handle(f"{prefix}/slice-0").describe()
        children = [await client.get_workflow_handle(f"{prefix}/{i}").describe() for i in range(5)]
        listed = [
            w.id async for w in client.list_workflows(f"ParentWorkflowId = '{prefix}/slice-0'")
        ]
        history = await temporal.executions.history(f"{prefix}/3")
        return {"slice": slice_, "children": children, "listed": listed, "history": history}

    seen = temporal.run(look())
    assert (seen["slice"].workflow_type, seen["slice"].parent_id) == ("AslMapRunSlice", ran["id"])
    assert {(c.workflow_type, c.parent_id) for c in seen["children"]} == {
        ("AslMapChild", f"{prefix}/slice-0")
    }
    assert sorted(seen["listed"]) == sorted(f"{prefix}/{i}" for i in range(5))
    events = seen["history"]["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    assert events[0]["executionStartedEventDetails"]["input"] == '{"n":3}'


def test_slices_keep_item_order_and_the_threshold_across_them(
    temporal: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three children per slice (the test's worker runs in this process): 10 items are 4
    slices, two side by side; the output is in item order all the same."""
    monkeypatch.setattr(map_runs, "SLICE_CHILDREN", 3)
    monkeypatch.setattr(map_runs, "_SLICE_SHARE", 2)
    items = [{"n": n} for n in range(10)]
    ran = _run(temporal, machines.distributing(DOUBLE, MaxConcurrency=4), {"items": items})
    assert ran["ended"]["output"] == str([{"n": 2 * n} for n in range(10)]).replace(
        " ", ""
    ).replace("'", '"')
    prefix = f"{ran['id']}/{_map_run_id(ran['events'])}"

    async def slices() -> list[str]:
        client = temporal.executions.client
        return [w.id async for w in client.list_workflows(f"ParentWorkflowId = '{ran['id']}'")]

    assert sorted(temporal.run(slices())) == [f"{prefix}/slice-{n}" for n in range(4)]
    # One failure in each of two slices: within either slice's tolerance of one, over
    # the Map Run's once both have ended.
    failing = {
        "StartAt": "Check",
        "States": {
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericEquals": 1, "Next": "No"},
                {"Variable": "$.n", "NumericEquals": 7, "Next": "No"},
            ], "Default": "Yes"},
            "No": {"Type": "Fail", "Error": "Nope"},
            "Yes": {"Type": "Succeed"},
        },
    }  # fmt: skip
    ran = _run(temporal, machines.distributing(failing, ToleratedFailureCount=1), {"items": items})
    assert (ran["ended"]["status"], ran["ended"]["error"]) == (
        "FAILED", "States.ExceedToleratedFailureThreshold"
    )  # fmt: skip
    assert [e["type"] for e in ran["events"]][-3:] == [
        "MapRunFailed", "MapStateFailed", "ExecutionFailed"
    ]  # fmt: skip


def test_stop_execution_aborts_the_map_run_and_its_children(temporal: Backend) -> None:
    """StopExecution mid-map: the Map Run aborted, each running child workflow told (its
    own history ends ``ExecutionAborted``), none left running."""
    waiting = {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 3600,
                                                       "End": True}}}  # fmt: skip
    workflow_id = f"map-{uuid.uuid4()}"
    executions = temporal.executions

    async def scenario() -> dict[str, Any]:
        await executions.start(
            machines.distributing(waiting), {"items": [1, 2, 3]}, workflow_id=workflow_id
        )
        for _ in range(600):
            events = (await executions.history(workflow_id))["events"]
            if any(e["type"] == "MapRunStarted" for e in events):
                child = f"{workflow_id}/{_map_run_id(events)}/2"
                try:
                    if (await executions.history(child))["events"][-1]["type"] == (
                        "WaitStateEntered"
                    ):
                        break
                except RPCError:  # not started yet
                    pass
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the children never reached their Wait")
        await executions.stop(workflow_id, "Halt", "by hand")
        ended = await executions.wait(workflow_id)
        prefix = child.rsplit("/", 1)[0]
        children = [(await executions.history(f"{prefix}/{i}"))["events"] for i in range(3)]
        query = f"ParentWorkflowId = '{prefix}/slice-0' AND ExecutionStatus = 'Running'"
        running = [w.id async for w in executions.client.list_workflows(query)]
        events = (await executions.history(workflow_id))["events"]
        return {"ended": ended, "children": children, "running": running, "events": events}

    seen = temporal.run(scenario())
    assert (seen["ended"]["status"], seen["ended"]["error"]) == ("ABORTED", "Halt")
    assert "MapRunAborted" in [e["type"] for e in seen["events"]]
    assert [events[-1]["type"] for events in seen["children"]] == ["ExecutionAborted"] * 3
    assert seen["running"] == []


SLOW_ECHO = """
import time

def slow_echo(event, context):
    time.sleep(event["seconds"])
    return event
"""


def test_a_worker_killed_mid_map_loses_and_repeats_no_result(
    temporal: Backend, tmp_path: Path
) -> None:
    """SIGKILL the only worker while the first children's Tasks run (two at a time); a
    second worker finishes the Map Run: every item's result once, in item order."""
    (tmp_path / "map_crash_handlers.py").write_text(textwrap.dedent(SLOW_ECHO), "utf-8")
    functions = tmp_path / "functions.yaml"
    functions.write_text(
        'functions:\n  slow_echo: {handler: "map_crash_handlers:slow_echo", timeout: 60}\n',
        "utf-8",
    )
    queue = f"map-crash-{uuid.uuid4()}"
    executions = TemporalExecutions(temporal.executions.client, task_queue=queue)
    processor = {"StartAt": "Run", "States": {"Run": machines.task("slow_echo")}}
    items = [{"i": i, "seconds": 3} for i in range(6)]
    first = _worker(temporal.address, queue, functions)

    async def start() -> tuple[str, str]:
        workflow_id = await executions.start(
            machines.distributing(processor, MaxConcurrency=2), {"items": items},
            liveness_seconds=2,
        )  # fmt: skip
        for _ in range(600):
            events = (await executions.history(workflow_id))["events"]
            if any(e["type"] == "MapRunStarted" for e in events):
                child = f"{workflow_id}/{_map_run_id(events)}/0"
                try:
                    child_events = (await executions.history(child))["events"]
                except RPCError:  # not started yet
                    child_events = []
                if child_events and child_events[-1]["type"] == "TaskStarted":
                    return workflow_id, child.rsplit("/", 1)[0]
            await asyncio.sleep(0.05)
        raise AssertionError("the first child's Task never started")

    try:
        workflow_id, prefix = temporal.run(start())
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    second = _worker(temporal.address, queue, functions)
    try:

        async def finish() -> dict[str, Any]:
            ended = await executions.wait(workflow_id)
            client = executions.client
            query = f"ParentWorkflowId = '{prefix}/slice-0'"
            children = [w.id async for w in client.list_workflows(query)]
            histories = [(await executions.history(c))["events"] for c in children]
            return {"ended": ended, "children": children, "histories": histories}

        seen = temporal.run(finish())
    finally:
        second.terminate()
        second.wait(30)
    assert seen["ended"]["status"] == "SUCCEEDED"
    assert json.loads(seen["ended"]["output"]) == [{"value": item} for item in items]
    assert sorted(seen["children"]) == sorted(f"{prefix}/{i}" for i in range(6))
    for events in seen["histories"]:
        types = [event["type"] for event in events]
        assert types.count("TaskSucceeded") == 1 and types[-1] == "ExecutionSucceeded", types


def test_a_slice_s_bounds() -> None:
    """Pure parts: how children are cut into slices and how MaxConcurrency is shared."""
    small = [ChildStart(i, "n", "arn", {"k": "v"}, 1) for i in range(2500)]
    assert [len(s) for s in map_runs._slices(small, 100)] == [100] * 25
    # A big ItemProcessor: fewer children per slice, so the slice's history stays small.
    assert [len(s) for s in map_runs._slices(small[:40], 1024 * 1024)] == [16, 16, 8]
    big = [ChildStart(i, "n", "arn", "x" * 400_000, 1) for i in range(5)]
    assert [len(s) for s in map_runs._slices(big, 100)] == [2, 2, 1]
    assert map_runs._shares(0) == (40, 25)  # no MaxConcurrency: DEFAULT_AT_ONCE
    assert map_runs._shares(10) == (1, 10)
    assert map_runs._shares(1) == (1, 1)
    assert map_runs._shares(60) == (2, 30)


def test_the_item_processor_is_found_by_its_map_state_s_name() -> None:
    inner = machines.distributing(ECHO)
    outer = {
        "QueryLanguage": "JSONPath",
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "Branches": [inner], "End": True}},
    }
    assert map_runs.processor_definition(outer, "Each") == {
        "QueryLanguage": "JSONPath", "StartAt": "Echo", "States": ECHO["States"]
    }  # fmt: skip
    with pytest.raises(LookupError):
        map_runs.processor_definition(outer, "Both")
