"""The execution spec cases on the Temporal backend: each case's execution started as a
workflow (seeded as the local run is, on a virtual clock from the same start), its Tasks
answered by the case's own mocks and functions on the test worker; many at once, since
each waits mostly on the server.

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


def local_only(case: dict[str, Any]) -> str | None:
    """Why ``case`` cannot run on Temporal (None: it can)."""
    for field, reason in LOCAL_ONLY.items():
        if field in case:
            return reason
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
        ended = await executions.wait(workflow_id)
        history = await executions.history(workflow_id)
    finally:
        del backend.routed.invokers[workflow_id]
        await engine.aclose()
    output = ended["output"]
    return Ended(
        ended["status"], None if output is None else parse_json(output), ended["error"],
        ended["cause"], ended["path"], history,
    )  # fmt: skip


async def run_all(
    backend: Backend, cases: dict[str, dict[str, Any]]
) -> dict[str, Ended | BaseException]:
    """Run the cases (by id), at most :data:`_AT_ONCE` at once; each one's execution or
    what running it raised."""
    gate = asyncio.Semaphore(_AT_ONCE)

    async def one(case: dict[str, Any]) -> Ended:
        async with gate:
            return await _run(backend, case)

    results = await asyncio.gather(*(one(case) for case in cases.values()), return_exceptions=True)
    return dict(zip(cases, results, strict=True))
