"""One child execution of a Distributed Map as a Temporal child workflow (of a slice of
its Map Run: see :mod:`runtime.temporal.map_runs`).

The workflow runs the ItemProcessor, compiled from the definition its request carries,
on a :class:`~runtime.temporal.host.WorkflowHost` of its own, with the engine's own code
for a child execution (:mod:`runtime.states.child_executions`), and returns how the
execution ended. Its AWS history is read with the ``history`` query and its task tokens
are answered by its updates, as an execution's workflow's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from temporalio import workflow

import asl
from asl import model as m
from asl.jsontext import parse_json
from asl.variables import VariableScope
from runtime.clock import Clock, VirtualClock
from runtime.frame import Run
from runtime.history import Event
from runtime.map_children import ChildEnd
from runtime.states import STEPS
from runtime.states.child_executions import child_run, run_child
from runtime.states.map_run import MapRunRecord
from runtime.temporal.host import WorkflowClock, WorkflowHost
from runtime.temporal.payloads import (
    CHILD_WORKFLOW,
    ChildRequest,
    child_start,
    end_payload,
    map_run_work,
)
from runtime.temporal.workflow import ExecutionHandlers

__all__ = ["MapChildWorkflow"]


@lru_cache(maxsize=64)
def _processor(definition: str) -> m.StateMachine:
    """The ItemProcessor compiled once per worker process, not once per child."""
    return asl.load(parse_json(definition))


@workflow.defn(name=CHILD_WORKFLOW)
class MapChildWorkflow(ExecutionHandlers):
    """A Distributed Map's child execution (see the module's docstring)."""

    def __init__(self) -> None:
        self._run: Run | None = None

    @workflow.run
    async def run(self, request: ChildRequest) -> dict[str, Any]:
        """Run the child execution to its end event; how it ended (ABORTED when the
        workflow is cancelled: its Map Run stopped)."""
        spec = request.run
        clock: Clock = VirtualClock(spec.start) if spec.clock == "virtual" else WorkflowClock()
        info = workflow.info()
        definition = parse_json(spec.processor)
        host = self._host = WorkflowHost(
            clock, request.seed, info.task_queue, spec.liveness_seconds, definition
        )
        machine = _processor(spec.processor)
        work = map_run_work(spec.work)
        start = child_start(request.child, work)
        run = self._run = child_run(host, STEPS, machine, start, work)
        began = host.now()
        strand = clock.spawn(run_child, machine.scope, run, start.input, VariableScope())
        try:
            status, output, failure = await strand
        except asyncio.CancelledError:
            clock.cancel(strand)
            await asyncio.wait([strand])
            status, output, failure = "ABORTED", None, None
        error, cause = (None, None) if failure is None else (failure.error, failure.cause)
        return end_payload(ChildEnd(start.index, status, output, error, cause, began, host.now()))

    def _events(self) -> Sequence[Event]:
        return [] if self._run is None else self._run.history

    def _map_runs(self) -> Sequence[MapRunRecord]:
        return [] if self._run is None else self._run.map_runs
