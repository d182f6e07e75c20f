"""The execution spec cases on the Temporal backend: each case's execution started as a
workflow (seeded as the local run is, on a virtual clock from the same start), its Tasks
answered by the case's own mocks and functions on the test worker; many at once, since
each waits mostly on the server.

The ``callback`` cases run here too: their calls go through
:class:`~runtime.temporal.TemporalExecutions` (GetActivityTask, SendTask*), as a worker's;
a task token is found as the console finds it (``waiting_tasks``). Those that sleep run
on the local backend only (:data:`SLEEPS_LOCAL`).

Cases that fake the time a Task takes (``taskDurations``) run on the local backend only:
the fake is a wrapper of the local Host that spends virtual time before each invocation;
on Temporal a Task runs on a worker, in real time, and the execution's virtual clock
lives in its workflow, out of the test's reach. :data:`LOCAL_ONLY` names them.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from asl.jsontext import parse_json
from runtime.host import SEEDED_START
from runtime.temporal import TemporalExecutions
from runtime.temporal.host import workflow_of_token
from tests.spec.kinds import callback
from tests.spec.kinds import execution as kind
from tests.temporal.backend import Backend

#: Why a case runs on the local backend only, by the field that makes it so.
LOCAL_ONLY = {
    "taskDurations": "fakes a Task's duration on the local Host's virtual clock; on "
    "Temporal a Task runs on a worker in real time",
}
#: How many executions run at once.
_AT_ONCE = 16
_SEED = 7
#: How long a case's GetActivityTask waits for its task (real seconds).
_POLL_SECONDS = 60.0
#: How many times (0.1 s apart) a case looks for the token its execution waits on.
_TOKEN_LOOKS = 600


#: Why a ``callback`` case that sleeps runs on the local backend only.
SLEEPS_LOCAL = (
    "its Sleep spends the local Host's virtual time; on Temporal the execution's virtual "
    "clock lives in its workflow, out of the test's reach"
)


def local_only(case: dict[str, Any]) -> str | None:
    """Why ``case`` cannot run on Temporal (None: it can)."""
    for field, reason in LOCAL_ONLY.items():
        if field in case:
            return reason
    calls = [call["call"] for call in case.get("calls", [])]
    if case.get("kind") == "callback" and "Sleep" in calls:
        return SLEEPS_LOCAL
    return None


@dataclass
class Ended:
    """What :func:`tests.spec.kinds.execution.check` reads of an execution."""

    status: str
    output: Any
    error: str | None
    cause: str | None
    path: list[str]
    history: dict[str, Any]

    def history_json(self) -> dict[str, Any]:
        return self.history


async def _run(backend: Backend, case: dict[str, Any]) -> Ended:
    if case["kind"] == "callback":
        return await _run_callbacks(backend, case)
    case = kind.expanded(case)
    engine = kind.integrations(case, _SEED)
    workflow_id = str(uuid.uuid4())
    backend.routed.invokers[workflow_id] = engine.host.invoker
    executions: TemporalExecutions = backend.executions
    try:
        await executions.start(
            case["definition"], case.get("input", {}), name=case.get("executionName"),
            state_machine_name=kind.MACHINE, type=case.get("machineType", "STANDARD"),
            workflow_id=workflow_id, seed=_SEED, clock="virtual", start=SEEDED_START,
        )  # fmt: skip
        return await _ended(executions, workflow_id)
    finally:
        del backend.routed.invokers[workflow_id]
        await engine.aclose()


async def _run_callbacks(backend: Backend, case: dict[str, Any]) -> Ended:
    """A ``callback`` case whose calls take an activity task (with GetActivityTask) and
    answer it through :class:`TemporalExecutions`, as an activity worker would."""
    workflow_id = str(uuid.uuid4())
    backend.routed.invokers[workflow_id] = callback.integrations()
    executions: TemporalExecutions = backend.executions
    try:
        await executions.start(
            case["definition"], case.get("input", {}), workflow_id=workflow_id,
            seed=callback.SEED, clock="virtual", start=SEEDED_START,
        )  # fmt: skip
        token = ""
        for call in case.get("calls", []):
            name = call["call"]
            if name == "GetActivityTask":
                found = await executions.get_activity_task(
                    call["activityArn"], call.get("workerName"), _POLL_SECONDS
                )
                assert found is not None, "GetActivityTask found no task"
                token = found[0]
            elif name == "SendTaskSuccess":
                token = token or await _first_waiting(executions, workflow_id)
                await executions.send_task_success(token, call["output"])
            elif name == "SendTaskFailure":
                token = token or await _first_waiting(executions, workflow_id)
                await executions.send_task_failure(token, call.get("error"), call.get("cause"))
            else:
                assert name == "SendTaskHeartbeat", name
                token = token or await _first_waiting(executions, workflow_id)
                await executions.send_task_heartbeat(token)
        return await _ended(executions, workflow_id)
    finally:
        del backend.routed.invokers[workflow_id]


async def _first_waiting(executions: TemporalExecutions, workflow_id: str) -> str:
    """The first task token the execution waits on, as the console finds it (its
    workflow's ``waiting_tasks`` query, through Temporal's visibility)."""
    for _ in range(_TOKEN_LOOKS):
        for task in await executions.waiting_tasks():
            if workflow_of_token(task.token) == workflow_id:
                return task.token
        await asyncio.sleep(0.1)
    raise AssertionError("the execution never waited on a token")


async def _ended(executions: TemporalExecutions, workflow_id: str) -> Ended:
    """The execution once it has ended, as the spec kinds' checks read it."""
    ended = await executions.wait(workflow_id)
    history = await executions.history(workflow_id)
    output = ended["output"]
    return Ended(
        ended["status"], None if output is None else parse_json(output), ended["error"],
        ended["cause"], ended["path"], history,
    )  # fmt: skip


async def run_all(
    backend: Backend, cases: dict[str, dict[str, Any]]
) -> dict[str, Ended | BaseException]:
    """Run the cases (by id), at most :data:`_AT_ONCE` at once, the ``callback`` cases one
    after another (their activities share ARNs, and a worker takes whichever execution's
    task comes first); each one's execution or what running it raised."""
    gate = asyncio.Semaphore(_AT_ONCE)
    callbacks = asyncio.Lock()

    async def one(case: dict[str, Any]) -> Ended:
        async with gate:
            if case["kind"] != "callback":
                return await _run(backend, case)
            async with callbacks:
                return await _run(backend, case)

    results = await asyncio.gather(*(one(case) for case in cases.values()), return_exceptions=True)
    return dict(zip(cases, results, strict=True))
