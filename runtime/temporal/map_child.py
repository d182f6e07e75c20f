"""One child execution of a Distributed Map as a Temporal child workflow (of a slice of
its Map Run: see :mod:`runtime.temporal.map_runs`).

The workflow runs the ItemProcessor, compiled from the definition its request carries,
on a :class:`~runtime.temporal.host.WorkflowHost` of its own, with the engine's own code
for a child execution (:mod:`runtime.states.child_executions`), and returns how the
execution ended. Its AWS history is read with the ``history`` query and its task tokens
are answered by its updates, as an execution's workflow's.

A STANDARD child is journaled as a local engine journals a child (its events keyed by the
strand its parent gave it, its answers: :mod:`runtime.child_history`), in a database in
memory that its ``journal`` query reads: a redrive of its parent reads it, and when it
redrives the child, the child's next run goes on from the state it failed in, reading its
stored events and kept answers from the workflow that redrives it
(:mod:`runtime.temporal.earlier_children`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from functools import lru_cache, partial
from typing import Any

from temporalio import workflow

import asl
from asl import model as m
from asl.jsontext import json_text, parse_json
from asl.variables import VariableScope
from runtime.child_history import ChildHistory, redrives
from runtime.clock import Clock, VirtualClock
from runtime.frame import Run
from runtime.history import Event, History
from runtime.host import Host
from runtime.journal import JournaledHost, Log
from runtime.map_children import ChildEnd, ChildStart, MapRunWork
from runtime.states import STEPS
from runtime.states.child_executions import child_run, run_child
from runtime.states.map_run import MapRunRecord
from runtime.store.executions import (
    EventRow,
    ExecutionRow,
    ExecutionStore,
    JournalRow,
    commit_write,
    start_write,
)
from runtime.strands import in_strand
from runtime.temporal.host import WorkflowClock, WorkflowHost
from runtime.temporal.payloads import (
    CHILD_WORKFLOW,
    RESUME_FROM,
    ChildRequest,
    child_start,
    end_payload,
    map_run_work,
)
from runtime.temporal.redrive import (
    JOURNAL_QUERY,
    READ_CHILD_JOURNAL_ACTIVITY,
    Page,
    journal_page,
    read_journal,
)
from runtime.temporal.workflow import ExecutionHandlers

__all__ = ["MapChildWorkflow"]

#: The patch under which a STANDARD child is journaled (so a redrive of its parent can
#: redrive it from where it failed): children recorded before it replay unjournaled.
_JOURNALED = "journal-map-child"
#: The patch under which a journaled child ends an activation at each of its pauses, as a
#: journaled top-level execution does (``runtime.temporal.host``); journaled children
#: recorded before it end one every 16th pause, and replay so.
_SHORT_ACTIVATIONS = "journaled-map-child-activation-per-pause"
#: How long reading one page of what a redriven child goes on from may take.
_READ_SECONDS = timedelta(seconds=60)


@lru_cache(maxsize=64)
def _processor(definition: str) -> m.StateMachine:
    """The ItemProcessor compiled once per worker process, not once per child."""
    return asl.load(parse_json(definition))


@workflow.defn(name=CHILD_WORKFLOW)
class MapChildWorkflow(ExecutionHandlers):
    """A Distributed Map's child execution (see the module's docstring)."""

    def __init__(self) -> None:
        self._run: Run | None = None
        self._store: ExecutionStore | None = None
        self._arn = ""

    @workflow.run
    async def run(self, request: ChildRequest) -> dict[str, Any]:
        """Run the child execution to its end event; how it ended (ABORTED when the
        workflow is cancelled: its Map Run stopped)."""
        spec = request.run
        clock: Clock = VirtualClock(spec.start) if spec.clock == "virtual" else WorkflowClock()
        info = workflow.info()
        definition = parse_json(spec.processor)
        machine = _processor(spec.processor)
        work = map_run_work(spec.work)
        start = child_start(request.child, work)
        self._arn = start.arn
        journaled = work.execution_type == "STANDARD" and workflow.patched(_JOURNALED)
        inner = self._host = WorkflowHost(
            clock, request.seed, info.task_queue, spec.liveness_seconds, definition,
            journaled=journaled and workflow.patched(_SHORT_ACTIVATIONS),
        )  # fmt: skip
        host: Host = inner
        history: History | None = None
        log: Log | None = None
        if journaled:
            events: Sequence[EventRow] = ()
            answers: Sequence[JournalRow] = ()
            resume_from = request.child.get(RESUME_FROM)
            if resume_from is not None:
                journal = await read_journal(partial(_resumed_page, resume_from, start.arn))
                events, answers = journal.events, journal.answers
            log = self._journal(inner, start, work, answers)
            host, history = JournaledHost(inner, log, None), ChildHistory(clock, log, events)
        with in_strand(start.strand):
            run = self._run = child_run(host, STEPS, machine, start, work, history)
            began = inner.now()
            strand = clock.spawn(run_child, machine.scope, run, start.input, VariableScope())
        try:
            status, output, failure = await strand
        except asyncio.CancelledError:
            clock.cancel(strand)
            await asyncio.wait([strand])
            status, output, failure = "ABORTED", None, None
        if log is not None and isinstance(run.history, ChildHistory):
            await log.committed()
            assert self._store is not None
            self._store.write(commit_write(start.arn, run.history.rows(), ()))
        error, cause = (None, None) if failure is None else (failure.error, failure.cause)
        redriven = redrives(run.history)
        end = ChildEnd(
            start.index, status, output, error, cause, began, inner.now(), len(redriven),
            redriven[-1] if redriven else None,
        )  # fmt: skip
        return end_payload(end)

    def _journal(
        self, host: WorkflowHost, start: ChildStart, work: MapRunWork, answers: Sequence[JournalRow]
    ) -> Log:
        """The child's journal, in a database in memory, holding the answers it keeps."""
        store = self._store = ExecutionStore(":memory:")
        row = ExecutionRow(
            start.arn, work.state_machine_arn, "", start.name, "RUNNING",
            json_text(start.input), None, None, None, host.now(), None, 0, 0,
        )  # fmt: skip
        store.write(start_write(row, (), answers))
        return Log(store, start.arn, (), answers)

    def _events(self) -> Sequence[Event]:
        return [] if self._run is None else self._run.history

    def _map_runs(self) -> Sequence[MapRunRecord]:
        return [] if self._run is None else self._run.map_runs

    @workflow.query(name=JOURNAL_QUERY)
    def journal(self, first_event: int, first_answer: int, max_bytes: int) -> Page:
        """A page of what the child journaled (see
        :func:`~runtime.temporal.redrive.journal_page`): none until it has ended, or when
        it journals nothing."""
        return journal_page(self._store, self._arn, 0, first_event, first_answer, max_bytes)


async def _resumed_page(
    workflow_id: str, child_arn: str, first_event: int, first_answer: int
) -> Page:
    """A page of what the child ``child_arn`` goes on from, read of the workflow
    ``workflow_id`` that redrives it."""
    page: Page = await workflow.execute_activity(
        READ_CHILD_JOURNAL_ACTIVITY, args=[workflow_id, child_arn, first_event, first_answer],
        task_queue=workflow.info().task_queue, start_to_close_timeout=_READ_SECONDS,
    )  # fmt: skip
    return page
