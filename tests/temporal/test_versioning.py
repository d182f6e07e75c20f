"""A new build of the interpreter rolled out with Worker Versioning (``asl worker
--build-id ... --make-current``) does not break the executions running on the old one.

Build A's workers run executions that park (a Wait on the real clock, a task token);
build B, whose interpreter makes other commands (``changed_build``: a Lambda Task
answered in the workflow, no activity), is then made current. A's executions end on A,
their Task token answered through A; an execution started afterwards runs on B; no
workflow task fails. That B would have broken A's executions is shown by replaying
their histories with B's change: Temporal reports non-determinism.

A Distributed Map running on A when B becomes current runs its later children on A too
(child workflows of a pinned parent inherit its version), and a redrive of an execution
that failed on A runs on A while A's workers poll.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from runtime.temporal import TemporalExecutions
from runtime.temporal.host import WorkflowHost
from runtime.temporal.versioning import Build, make_current
from runtime.temporal.worker import WORKFLOWS, workflow_runner
from tests.temporal import changed_build, machines
from tests.temporal.backend import Backend
from tests.temporal.worker_process import asl_worker, reached

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

#: How long A's Wait lasts (seconds of real time): longer than build B takes to become
#: current, even on a loaded machine (checked below).
_WAIT = 10


def _parked(seconds: int) -> dict[str, Any]:
    """A Lambda Task (an activity on build A), then a Wait of ``seconds``."""
    return {
        "StartAt": "Echo",
        "States": {
            "Echo": machines.task("echo", "Wait"),
            "Wait": {"Type": "Wait", "Seconds": seconds, "End": True},
        },
    }


def _functions(directory: Path) -> Path:
    (directory / "build_handlers.py").write_text(
        textwrap.dedent("""
            def echo(event, context):
                return event

            def fail(event, context):
                raise ValueError("on build A")
        """),
        encoding="utf-8",
    )
    functions = directory / "functions.yaml"
    functions.write_text(
        textwrap.dedent("""
            functions:
              echo: build_handlers:echo
              fail: build_handlers:fail
        """),
        encoding="utf-8",
    )
    return functions


async def _build_of(executions: TemporalExecutions, workflow_id: str) -> str:
    """The Build ID the execution's workflow is pinned to."""
    described = await executions.client.get_workflow_handle(workflow_id).describe()
    info = described.raw_description.workflow_execution_info.versioning_info
    return info.deployment_version.build_id


def _stop(worker: subprocess.Popen[str]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(30)
    finally:
        worker.kill()


@contextmanager
def _builds(temporal: Backend, queue: str, directory: Path) -> Iterator[TemporalExecutions]:
    """Workers of build A, current at once, and of build B on ``queue``; its executions.

    B polls from the start (a version no execution starts on until it is made current),
    so the moment a test makes it current falls within the test's waits however slowly
    processes start."""
    functions = ("--functions", str(_functions(directory)))
    workers = [asl_worker(temporal.address, queue, *functions, "--build-id", "A", "--make-current")]
    try:
        workers.append(
            asl_worker(
                temporal.address, queue, *functions, "--build-id", "B",
                main=Path(changed_build.__file__),
            )
        )  # fmt: skip
        yield TemporalExecutions(temporal.executions.client, task_queue=queue)
    finally:
        for worker in workers:
            _stop(worker)


def test_executions_started_on_a_build_end_on_it(temporal: Backend, tmp_path: Path) -> None:
    queue = f"versioning-{uuid.uuid4()}"
    with _builds(temporal, queue, tmp_path) as executions:

        async def park() -> dict[str, str]:
            ids = {"token": await executions.start(machines.calling_back(), {})}
            await reached(executions, ids["token"], "TaskSubmitted")
            ids["wait"] = await executions.start(_parked(_WAIT), {"build": "A"})
            await reached(executions, ids["wait"], "WaitStateEntered")
            # What --make-current does:
            await make_current(executions.client, Build(executions.task_queue, "B"))
            return ids

        ids = temporal.run(park())

        async def finish() -> dict[str, Any]:
            events = (await executions.history(ids["wait"]))["events"]
            assert events[-1]["type"] == "WaitStateEntered"  # still waiting on A: B is current
            ids["new"] = await executions.start(_parked(1), {"build": "A"})
            scheduled = next(
                e for e in (await executions.history(ids["token"]))["events"]
                if e["type"] == "TaskScheduled"
            )  # fmt: skip
            parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
            await executions.send_task_success(parameters["Payload"]["token"], {"answer": 42})
            ended = {name: await executions.wait(workflow_id) for name, workflow_id in ids.items()}
            builds = {
                name: await _build_of(executions, workflow_id) for name, workflow_id in ids.items()
            }
            handles = {name: executions.client.get_workflow_handle(w) for name, w in ids.items()}
            histories = {name: await handle.fetch_history() for name, handle in handles.items()}
            return {"ended": ended, "builds": builds, "histories": histories}

        result = temporal.run(finish())
    ended = result["ended"]
    assert {name: ended[name]["status"] for name in ended} == dict.fromkeys(ended, "SUCCEEDED")
    assert json.loads(ended["wait"]["output"]) == {"value": {"build": "A"}}
    assert json.loads(ended["token"]["output"]) == {"answer": 42}
    assert json.loads(ended["new"]["output"]) == {"value": changed_build.ANSWER}
    assert result["builds"] == {"wait": "A", "token": "A", "new": "B"}
    histories: dict[str, WorkflowHistory] = result["histories"]
    for name, history in histories.items():
        kinds = {event.event_type for event in history.events}
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED not in kinds, name
    _assert_b_breaks(histories["wait"], histories["token"])


def _assert_b_breaks(*histories: WorkflowHistory) -> None:
    """Build B, here, replaying A's executions fails on non-determinism."""
    replayer = Replayer(workflows=list(WORKFLOWS), workflow_runner=workflow_runner())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(WorkflowHost, "invoke", changed_build.invoke_inline)
        for history in histories:
            with pytest.raises(NondeterminismError):
                asyncio.run(replayer.replay_workflow(history))


#: Each child of the Map below echoes its item (on A; B answers ``changed_build.ANSWER``),
#: then waits this long (real seconds), one child at a time.
_CHILD_WAIT = 3


def _map_run_children(workflow_id: str, events: list[dict[str, Any]]) -> str:
    """The prefix of the workflow ids of the execution's Map Run's children."""
    started = next(e for e in events if e["type"] == "MapRunStarted")
    return f"{workflow_id}/{started['mapRunStartedEventDetails']['mapRunArn'].rsplit(':', 1)[-1]}"


async def _started(executions: TemporalExecutions, workflow_id: str) -> bool:
    try:
        await executions.client.get_workflow_handle(workflow_id).describe()
    except RPCError as missing:
        if missing.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


def test_a_map_s_children_and_a_redrive_stay_on_the_build_they_began_on(
    temporal: Backend, tmp_path: Path
) -> None:
    processor = {
        "StartAt": "Echo",
        "States": {
            "Echo": machines.task("echo", "Nap"),
            "Nap": {"Type": "Wait", "Seconds": _CHILD_WAIT, "End": True},
        },
    }
    mapping = machines.distributing(processor, MaxConcurrency=1)
    with _builds(temporal, f"versioning-map-{uuid.uuid4()}", tmp_path) as executions:

        async def scenario() -> dict[str, Any]:
            ids = {"failed": await executions.start(machines.running("fail"), {})}
            assert (await executions.wait(ids["failed"]))["status"] == "FAILED"
            ids["map"] = await executions.start(mapping, {"items": [0, 1, 2]})
            prefix = _map_run_children(
                ids["map"], await reached(executions, ids["map"], "MapRunStarted")
            )
            while not await _started(executions, f"{prefix}/0"):
                await asyncio.sleep(0.05)
            await reached(executions, f"{prefix}/0", "WaitStateEntered")
            await make_current(executions.client, Build(executions.task_queue, "B"))
            # The last child starts only now, with B current (each child waits 3 s first).
            assert not await _started(executions, f"{prefix}/2")
            await executions.redrive(ids["failed"])
            ended = {name: await executions.wait(workflow_id) for name, workflow_id in ids.items()}
            children = [f"{prefix}/{index}" for index in range(3)]
            builds = {
                workflow_id: await _build_of(executions, workflow_id)
                for workflow_id in [*ids.values(), f"{prefix}/slice-0", *children]
            }
            return {"ended": ended, "builds": builds}

        result = temporal.run(scenario())
    ended = result["ended"]
    assert ended["map"]["status"] == "SUCCEEDED"
    outputs = [child["value"] for child in json.loads(ended["map"]["output"])]
    assert outputs == [0, 1, 2]  # B would have answered {"build": "B"}
    # Redriven on A, it fails again there (B would have answered its Task inline).
    assert (ended["failed"]["status"], ended["failed"]["redriveCount"]) == ("FAILED", 1)
    assert set(result["builds"].values()) == {"A"}, result["builds"]
