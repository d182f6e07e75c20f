"""A worker killed with SIGKILL in the middle of executions: during a Wait, a Retry's
backoff, a task token wait and a running Task. A second worker, started afterwards,
finishes every one of them correctly (the running Task run again: at least once)."""

from __future__ import annotations

import asyncio
import json
import signal
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from runtime.temporal import TemporalExecutions
from tests.temporal import machines
from tests.temporal.backend import Backend
from tests.temporal.worker_process import asl_worker, reached

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

#: How long the Wait, the backoff and the Task last (seconds): long enough for every
#: execution to be at its moment when the worker is killed, even on a loaded machine.
_LONG = 8
HANDLERS = """
import time

def echo(event, context):
    return event

def fail(event, context):
    raise ValueError("no")

def slow(event, context):
    time.sleep(event["seconds"])
    return {"slept": event["seconds"]}
"""
FUNCTIONS = """
functions:
  echo: crash_handlers:echo
  fail: crash_handlers:fail
  slow: {handler: "crash_handlers:slow", timeout: 60}
"""


def test_a_killed_worker_s_executions_end_on_another(temporal: Backend, tmp_path: Path) -> None:
    (tmp_path / "crash_handlers.py").write_text(textwrap.dedent(HANDLERS), encoding="utf-8")
    functions = tmp_path / "functions.yaml"
    functions.write_text(FUNCTIONS, encoding="utf-8")
    queue = f"crash-{uuid.uuid4()}"
    executions = TemporalExecutions(temporal.executions.client, task_queue=queue)
    started: dict[str, tuple[dict[str, Any], Any, str]] = {
        "wait": (machines.waiting(_LONG), {}, "WaitStateEntered"),
        "backoff": (machines.backing_off(_LONG), {}, "TaskFailed"),
        "token": (machines.calling_back(), {}, "TaskSubmitted"),
        "task": (machines.running("slow"), {"seconds": _LONG}, "TaskStarted"),
    }
    first = asl_worker(temporal.address, queue, "--functions", str(functions))

    async def start_all() -> dict[str, list[Any]]:
        ids = {
            name: await executions.start(definition, value, liveness_seconds=2)
            for name, (definition, value, _) in started.items()
        }
        for name, workflow_id in ids.items():
            await reached(executions, workflow_id, started[name][2])
        await asyncio.sleep(0.5)  # the slow Task well into its run
        # Each is still at its moment when the worker dies (else the test proves nothing).
        now = {name: (await executions.history(ids[name]))["events"] for name in ids}
        assert {name: now[name][-1]["type"] for name in ids} == {
            name: moment for name, (_, _, moment) in started.items()
        }
        return {name: [ids[name], now[name]] for name in ids}

    try:
        runs = temporal.run(start_all())
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    second = asl_worker(temporal.address, queue, "--functions", str(functions))
    try:
        ids = {name: run[0] for name, run in runs.items()}
        scheduled = next(e for e in runs["token"][1] if e["type"] == "TaskScheduled")
        token = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])["Payload"]["token"]

        async def finish() -> dict[str, Any]:
            await executions.send_task_success(token, {"answer": 42})
            ended = {name: await executions.wait(workflow_id) for name, workflow_id in ids.items()}
            ended["task history"] = await executions.history(ids["task"])
            return ended

        ended = temporal.run(finish())
    finally:
        second.terminate()
        second.wait(30)
    outputs = {name: json.loads(ended[name]["output"] or "null") for name in started}
    assert {name: ended[name]["status"] for name in started} == dict.fromkeys(started, "SUCCEEDED")
    assert outputs == {
        "wait": "waited",
        "backoff": {"caught": "ValueError"},
        "token": {"answer": 42},
        "task": {"value": {"slept": _LONG}},
    }
    types = [event["type"] for event in ended["task history"]["events"]]
    assert types.count("TaskSucceeded") == 1 and "TaskFailed" not in types, types
