"""The interpreter is deterministic on Temporal: recorded workflow histories replay
through Temporal's Replayer with the engine of today (those kept under ``histories/``,
recorded by an earlier engine, and fresh ones), and the Replayer does notice a change
of what the workflow does.

``python -m tests.temporal.test_replay`` records ``histories/`` again: do it only for a
change that running workflows cannot see (see docs/architecture.md, *Versioning*).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from integrations.base import Invoker, Registry, TaskRequest
from integrations.lambdas import LocalFunctions
from runtime.host import SEEDED_START
from runtime.temporal.host import WorkflowHost, workflow_of_token
from runtime.temporal.worker import WORKFLOWS, workflow_runner
from tests.temporal import machines
from tests.temporal.backend import Backend, temporal_backend

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

HISTORIES = Path(__file__).parent / "histories"
MACHINES: dict[str, dict[str, Any]] = {
    "wait": machines.waiting(86_400),
    "retry": machines.backing_off(30),
    "callback": machines.calling_back(),
    "everything": machines.everything(),
    "activity": machines.working(machines.activity_arn("replay"), HeartbeatSeconds=600),
    # 1,401 states: activations ended at pauses (the kept one recorded before a journaled
    # execution ended one at each pause, the fresh one after).
    "loop": machines.looping(700),
    # The execution's side of a Distributed Map: its Map Run's slices as child workflows.
    "distributed": machines.distributing(
        {"StartAt": "Echo", "States": {"Echo": machines.task("echo")}}
    ),
}


def _functions() -> Invoker:
    def fail(event: Any, context: Any) -> Any:
        raise ValueError("no")

    def slow(event: Any, context: Any) -> Any:
        time.sleep(2)
        return event

    local = LocalFunctions()
    local.register("echo", lambda event, context: event)
    local.register("fail", fail)
    local.register("slow", slow)
    registry = Registry()
    local.install(registry)
    return registry


async def _answer_token(backend: Backend, workflow_id: str) -> None:
    while True:
        events = (await backend.executions.history(workflow_id))["events"]
        submitted = [e for e in events if e["type"] == "TaskSubmitted"]
        if submitted:
            scheduled = next(e for e in events if e["type"] == "TaskScheduled")
            details = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
            await backend.executions.send_task_success(details["Payload"]["token"], {"ok": 1})
            return
        await asyncio.sleep(0.05)


async def _answer_activity(backend: Backend, workflow_id: str) -> None:
    """Take this execution's activity task (the fresh and kept recordings share the ARN
    with no other test), beat once and answer it."""
    executions = backend.executions
    task = await executions.get_activity_task(machines.activity_arn("replay"), "recorder", 60)
    assert task is not None and workflow_of_token(task[0]) == workflow_id, task
    await executions.send_task_heartbeat(task[0])
    await executions.send_task_success(task[0], {"ok": 1})


async def _record(backend: Backend, name: str, workflow_id: str) -> WorkflowHistory:
    """Run MACHINES[name] as ``workflow_id`` (which its task tokens name: a replay must
    be given the same) and fetch its workflow history."""
    backend.routed.invokers[workflow_id] = _functions()
    executions = backend.executions
    await executions.start(
        MACHINES[name], {"items": [1, 2, 3]}, workflow_id=workflow_id, seed=3,
        clock="virtual", start=SEEDED_START,
    )  # fmt: skip
    if name == "callback":
        await _answer_token(backend, workflow_id)
    if name == "activity":
        await _answer_activity(backend, workflow_id)
    ended = await executions.wait(workflow_id)
    assert ended["status"] == "SUCCEEDED", ended
    del backend.routed.invokers[workflow_id]
    return await executions.client.get_workflow_handle(workflow_id).fetch_history()


def _replayer() -> Replayer:
    return Replayer(workflows=list(WORKFLOWS), workflow_runner=workflow_runner())


def _kept(name: str) -> WorkflowHistory:
    text = (HISTORIES / f"{name}.json").read_text(encoding="utf-8")
    return WorkflowHistory.from_json(f"replay-{name}", text)


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_a_kept_history_replays(name: str) -> None:
    asyncio.run(_replayer().replay_workflow(_kept(name)))


def test_fresh_histories_replay(temporal: Backend) -> None:
    async def record_all() -> list[WorkflowHistory]:
        return list(
            await asyncio.gather(
                *(_record(temporal, name, f"fresh-{name}-{uuid.uuid4()}") for name in MACHINES)
            )
        )

    histories = temporal.run(record_all())
    for history in histories:
        asyncio.run(_replayer().replay_workflow(history))


def test_replay_notices_a_task_no_longer_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """An interpreter that would no longer schedule the recorded activity fails replay."""

    async def answered_here(self: WorkflowHost, request: TaskRequest) -> Any:
        return request.parameters["Payload"]

    monkeypatch.setattr(WorkflowHost, "invoke", answered_here)
    with pytest.raises(NondeterminismError):
        asyncio.run(_replayer().replay_workflow(_kept("everything")))


def _record_kept() -> None:
    HISTORIES.mkdir(exist_ok=True)
    with temporal_backend() as backend:
        for name in MACHINES:
            history = backend.run(_record(backend, name, f"replay-{name}"))
            (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"recorded {name}", file=sys.stderr)


if __name__ == "__main__":
    _record_kept()
