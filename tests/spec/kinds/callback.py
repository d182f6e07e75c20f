"""Spec cases of kind ``callback``: an execution that waits on a task token or an activity
task, answered by a script of API calls (the Python API of :mod:`runtime.tokens` and
:mod:`runtime.activities`).

Case fields:
- ``definition``, ``input`` (default ``{}``). Every service integration answers ``{}``
  (what a callback Task's resource returns does not matter here).
- ``calls``: applied in order once the execution waits, each one of
  ``{"call": "SendTaskSuccess", "output": <JSON>}``,
  ``{"call": "SendTaskFailure", "error"?: ..., "cause"?: ...}``,
  ``{"call": "SendTaskHeartbeat"}``, ``{"call": "GetActivityTask", "activityArn": ...,
  "workerName"?: ...}`` (the SendTask* calls after it use the token it returned), and
  ``{"call": "Sleep", "seconds": n}`` (virtual time passes).
- Expected: ``status``, ``output``, ``error``, ``cause``; ``events`` (the history's event
  types); ``eventDetails``: ``[[<index>, <the event's whole details object, or null>],
  ...]`` as ``GetExecutionHistory`` returns it (a negative index counts from the end).
"""

from __future__ import annotations

import asyncio
from typing import Any

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine, Execution
from runtime.host import LocalHost

#: The seed of a case's execution (on the virtual clock from its seeded start).
SEED = 7


async def _answer_all(request: TaskRequest) -> Any:
    return {}


async def _first_waiting(host: LocalHost) -> str:
    for _ in range(1000):
        pending = host.tokens.pending()
        if pending:
            return pending[0].token
        await asyncio.sleep(0)
    raise AssertionError("the execution never waited on a token")


async def _call(host: LocalHost, call: dict[str, Any], token: str | None) -> str | None:
    name = call["call"]
    if name == "Sleep":
        await host.sleep(call["seconds"])
        return token
    if name == "GetActivityTask":
        task = await host.activities.get_task(call["activityArn"], call.get("workerName"))
        assert task is not None, "GetActivityTask found no task"
        return task.token
    token = token if token is not None else await _first_waiting(host)
    if name == "SendTaskSuccess":
        host.tokens.send_success(token, call["output"])
    elif name == "SendTaskFailure":
        host.tokens.send_failure(token, call.get("error"), call.get("cause"))
    else:
        assert name == "SendTaskHeartbeat", name
        host.tokens.send_heartbeat(token)
    return token


def integrations() -> Registry:
    """What answers a case's Tasks: every resource answers ``{}``."""
    registry = Registry()
    registry.register("", FunctionIntegration(_answer_all))
    return registry


async def _execute(case: dict[str, Any]) -> Execution:
    host = LocalHost(invoker=integrations(), seed=SEED)
    machine = Engine(host).create_state_machine(case["definition"])
    execution = await machine.start(case.get("input", {}))
    token = None
    for call in case.get("calls", []):
        token = await _call(host, call, token)
    return await execution.wait()


def run(case: dict[str, Any]) -> None:
    """Run the case's execution and its calls; assert what AWS recorded."""
    check(case, asyncio.run(_execute(case)))


def check(case: dict[str, Any], execution: Any) -> None:
    """Assert what AWS recorded of the case's ended ``execution`` (its status, output,
    error, cause and ``history_json()``)."""
    events = execution.history_json()["events"]
    summary = (execution.status, execution.error, execution.cause, [e["type"] for e in events])
    assert execution.status == case["status"], summary
    for field in ("output", "error", "cause"):
        if field in case:
            assert getattr(execution, field) == case[field], summary
    if "events" in case:
        assert [e["type"] for e in events] == case["events"], summary
    for index, expected in case.get("eventDetails", []):
        event = events[index]
        details = [v for k, v in event.items() if k.endswith("EventDetails")]
        assert (details[0] if details else None) == expected, (index, event)
