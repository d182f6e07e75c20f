"""Executions on Temporal through ``TemporalExecutions``: StopExecution (the signal and
the workflow's cancellation), task tokens (answers, heartbeats and AWS's errors), what
StartExecution refuses before any workflow starts, and ``asl worker --processes``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

import asl
from runtime.executions import InvalidName
from runtime.store import InvalidToken, TaskDoesNotExist, TaskTimedOut
from runtime.temporal import TemporalExecutions
from runtime.temporal.host import workflow_of_token
from tests.temporal import machines
from tests.temporal.backend import Backend
from tests.temporal.test_replay import _functions

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

ROOT = Path(__file__).resolve().parents[2]


async def _started(backend: Backend, definition: dict[str, Any], moment: str) -> str:
    """An execution (real clock) once its history holds a ``moment`` event."""
    workflow_id = f"executions-{uuid.uuid4()}"
    backend.routed.invokers[workflow_id] = _functions()
    await backend.executions.start(definition, {}, workflow_id=workflow_id)
    for _ in range(600):
        events = (await backend.executions.history(workflow_id))["events"]
        if any(event["type"] == moment for event in events):
            return workflow_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"never reached {moment}")


def _token(events: list[dict[str, Any]]) -> str:
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    token: str = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"][
        "token"
    ]
    return token


def test_stop_execution_ends_it_aborted_with_its_error_and_cause(temporal: Backend) -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        workflow_id = await _started(temporal, machines.waiting(3600), "WaitStateEntered")
        await temporal.executions.stop(workflow_id, "Stopped.ByUser", "enough")
        return await temporal.executions.wait(workflow_id), await temporal.executions.history(
            workflow_id
        )

    ended, history = temporal.run(scenario())
    assert (ended["status"], ended["error"], ended["cause"]) == (
        "ABORTED",
        "Stopped.ByUser",
        "enough",
    )
    last = history["events"][-1]
    assert last["type"] == "ExecutionAborted"
    assert last["executionAbortedEventDetails"] == {"error": "Stopped.ByUser", "cause": "enough"}


def test_a_task_past_its_timeout_seconds_times_out(temporal: Backend) -> None:
    """The execution's own deadline ends the Task's activity, with AWS's event (the local
    backend's spec cases fake the duration; here the function really runs too long)."""
    definition = machines.running("slow")
    definition["States"]["Run"]["TimeoutSeconds"] = 1

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        workflow_id = await _started(temporal, definition, "TaskStarted")
        return await temporal.executions.wait(workflow_id), await temporal.executions.history(
            workflow_id
        )

    ended, history = temporal.run(scenario())
    assert (ended["status"], ended["error"], ended["cause"]) == ("FAILED", "States.Timeout", None)
    # As recorded against AWS: localstack tests/aws/services/stepfunctions/v2/timeouts/
    # test_timeouts.snapshot.json (test_fixed_timeout_service_lambda), no cause.
    events = history["events"]
    assert [event["type"] for event in events] == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskTimedOut",
        "ExecutionFailed",
    ]  # fmt: skip
    assert events[4]["taskTimedOutEventDetails"] == {
        "resourceType": "lambda", "resource": "invoke", "error": "States.Timeout",
    }  # fmt: skip


def test_stop_execution_cancels_a_running_task(temporal: Backend) -> None:
    async def scenario() -> dict[str, Any]:
        workflow_id = await _started(temporal, machines.running("slow"), "TaskStarted")
        await temporal.executions.stop(workflow_id)
        return await temporal.executions.wait(workflow_id)

    ended = temporal.run(scenario())
    assert (ended["status"], ended["error"], ended["cause"]) == ("ABORTED", None, None)


def test_cancelling_the_workflow_stops_the_execution(temporal: Backend) -> None:
    async def scenario() -> dict[str, Any]:
        workflow_id = await _started(temporal, machines.waiting(3600), "WaitStateEntered")
        await temporal.executions.client.get_workflow_handle(workflow_id).cancel()
        return await temporal.executions.wait(workflow_id)

    ended = temporal.run(scenario())
    assert (ended["status"], ended["error"], ended["cause"]) == ("ABORTED", None, None)


def test_task_tokens_are_answered_and_refused_as_aws_refuses_them(temporal: Backend) -> None:
    executions = temporal.executions

    async def scenario() -> dict[str, Any]:
        workflow_id = await _started(temporal, machines.calling_back(), "TaskSubmitted")
        token = _token((await executions.history(workflow_id))["events"])
        assert workflow_of_token(token) == workflow_id
        await executions.send_task_heartbeat(token)
        await executions.send_task_failure(token, "Denied", "no way")
        ended = await executions.wait(workflow_id)
        with pytest.raises(TaskTimedOut):  # its execution has ended
            await executions.send_task_success(token, {})
        return ended

    ended = temporal.run(scenario())
    assert (ended["status"], ended["error"], ended["cause"]) == ("FAILED", "Denied", "no way")


def test_tokens_no_execution_issued_are_refused(temporal: Backend) -> None:
    executions = temporal.executions
    with pytest.raises(InvalidToken):
        temporal.run(executions.send_task_success("not a token", {}))
    unknown = f"{b'no-such-workflow'.hex()}_{'A' * 43}"
    with pytest.raises(TaskDoesNotExist):
        temporal.run(executions.send_task_success(unknown, {}))


def test_start_refuses_what_start_execution_refuses(temporal: Backend) -> None:
    executions = temporal.executions
    with pytest.raises(asl.DefinitionError):
        temporal.run(executions.start({"StartAt": "Nowhere", "States": {}}))
    with pytest.raises(InvalidName):
        temporal.run(executions.start(machines.waiting(1), name="no spaces allowed"))


def test_asl_worker_runs_processes_until_sigterm(temporal: Backend, tmp_path: Path) -> None:
    queue = f"processes-{uuid.uuid4()}"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "runtime.cli", "worker", "--temporal-address",
               temporal.address, "--task-queue", queue, "--processes", "2"]  # fmt: skip
    workers = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert workers.stdout is not None
    try:
        ready = [workers.stdout.readline(), workers.stdout.readline()]
        assert all("serving task queue" in line for line in ready), ready
        assert len({line.split()[3] for line in ready}) == 2  # two processes
        executions = TemporalExecutions(temporal.executions.client, task_queue=queue)

        async def run_one() -> dict[str, Any]:
            return await executions.wait(await executions.start(machines.waiting(0)))

        assert temporal.run(run_one())["output"] == '"waited"'
    finally:
        workers.send_signal(signal.SIGTERM)
        assert workers.wait(60) == 0
