"""One ASL execution as one Temporal workflow, running the engine's own interpreter.

The workflow builds an in-memory :class:`~runtime.executions.Engine` on a
:class:`~runtime.temporal.host.WorkflowHost`, creates the machine from the start
request's definition and runs the execution to its end event. Its result is the
execution's description (status, output, error, cause, dates); the AWS history is kept
by the execution as on a local engine and read with the ``history`` query, so
GetExecutionHistory, the visualizer and the testing kit read it unchanged.

RedriveExecution is a new run of the workflow (see :mod:`runtime.temporal.redrive`): the
execution's engine journals it in a database in memory, which the ``journal`` query
reads, and the run that redrives it replays that journal without its failed path.

StopExecution is the ``stop`` signal (with its error and cause) or the workflow's
cancellation (with none): the execution ends ABORTED and the workflow completes.
SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat are updates, so their errors
(``TaskTimedOut`` for an ended task...) reach the caller; so is GetActivityTask's claim
of a waiting activity task (see :mod:`runtime.temporal.activity_tasks`).

Virtual time (``clock="virtual"``): the execution's clock jumps to its next timer when
every strand of the execution is parked (waiting on that clock only: no activity, no
task token), exactly as :class:`~runtime.clock.VirtualClock` does in one process. That
depends only on the workflow's own state, so it replays the same; a day's Wait takes no
time, while a Task runs in real time and its timeout still fires after as many real
seconds (the clock's real-time watch is a durable timer). It is for tests and
demonstrations: the history's timestamps are then the execution's, not the server's.

Versioning: see docs/architecture.md (*Executions on Temporal*).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from asl.diagnostics import DefinitionError
from asl.jsontext import json_text, parse_json
from runtime.clock import Clock, VirtualClock
from runtime.execution_arns import is_express
from runtime.executions import Engine, Execution, Machine, MachineType
from runtime.history import Event
from runtime.redrive import ExecutionNotRedrivable, kept_child_answers, redrive_count
from runtime.states.map_run import MapRunRecord
from runtime.store import ApiError
from runtime.store.executions import JournalRow, MapRunRows, commit_write, start_write
from runtime.stored_map_runs import child_text, map_run_text
from runtime.temporal.activity_tasks import CLAIM_UPDATE
from runtime.temporal.earlier_children import EarlierChildren
from runtime.temporal.host import WorkflowClock, WorkflowHost
from runtime.temporal.map_runs import TemporalMapChildren, map_run_prefix
from runtime.temporal.payloads import StartRequest, fitting, task_payload
from runtime.temporal.redrive import (
    CHILD_JOURNAL_QUERY,
    JOURNAL_QUERY,
    READ_JOURNAL_ACTIVITY,
    READ_MAP_RUN_CHILDREN_ACTIVITY,
    READ_MAP_RUNS_ACTIVITY,
    ExecutionJournal,
    Page,
    journal_page,
    read_journal,
    read_map_runs_of,
    rows_page,
)
from runtime.tokens import TaskTokens, parse_output

#: The workflow type every execution runs as.
WORKFLOW_NAME = "AslExecution"
#: The ``ApplicationError`` type of a start request the engine refuses (the client
#: checks the same first; a workflow started with one fails at once with this type).
INVALID_START = "InvalidStart"
#: The patch under which an execution is journaled (so it can be redriven): workflows
#: recorded before it replay as they ran, on an engine that journals nothing.
_JOURNALED = "journal-for-redrive"
#: The patch under which a redrive reads the ended run's Map Runs, so that it runs again
#: only the children that did not succeed (runs recorded before it ran them all again).
_MAP_RUNS_REDRIVEN = "redrive-map-run-children"
#: The patch under which a redrive reads the journals of its Map Runs' unsuccessful
#: STANDARD children, so those it redrives go on from the state they failed in (runs
#: recorded before it ran them again from their start, and replay so).
_CHILDREN_RESUMED = "redrive-map-children-from-failed-state"
#: The most unsuccessful children a redrive reads the journals of, and how many at once.
_MOST_CHILDREN_RESUMED = 1000
_CHILDREN_READ_AT_ONCE = 16
#: How long reading one page of an ended run's journal or Map Runs may take (a worker
#: replays that run to answer).
_READ_JOURNAL_TIMEOUT = timedelta(seconds=60)


def describe(execution: Execution) -> dict[str, Any]:
    """What DescribeExecution tells of an execution (JSON values as JSON text)."""
    return {
        "executionArn": execution.arn,
        "stateMachineArn": execution.machine.arn,
        "name": execution.name,
        "status": execution.status,
        "input": json_text(execution.input),
        "output": None if execution.output is None else json_text(execution.output),
        "error": execution.error,
        "cause": execution.cause,
        "startDate": execution.start_time,
        "stopDate": execution.stop_time,
        "path": execution.path,
        "redriveCount": execution.redrive_count,
        "redriveDate": execution.redrive_date,
    }


class ExecutionHandlers:
    """What a client asks of any workflow running an execution (or a Distributed Map's
    child execution): its history, and the answers to its task tokens (a token names the
    workflow that issued it)."""

    _host: WorkflowHost | None = None

    def _events(self) -> Sequence[Event]:
        raise NotImplementedError

    def _map_runs(self) -> Sequence[MapRunRecord]:
        raise NotImplementedError

    @workflow.query
    def map_runs(self) -> list[str]:
        """The Map Runs its Distributed Maps started, in order, each as JSON text without
        its children (:func:`~runtime.stored_map_runs.map_run_text`; the children are read
        by :meth:`map_run_children`)."""
        return [map_run_text(run) for run in self._map_runs()]

    @workflow.query
    def map_run_children(self, map_run_arn: str, first: int, max_bytes: int) -> dict[str, Any]:
        """The child executions of one of its Map Runs by index, from position ``first``,
        each as JSON text without its history (:func:`~runtime.stored_map_runs.child_text`):
        as many as fit in ``max_bytes`` (one at least), and how many there are.
        A child is known here once its slice has ended (it tells its parent then); until
        then its slice knows it (:meth:`map_run_slices`)."""
        run = next((run for run in self._map_runs() if run.arn == map_run_arn), None)
        known = [] if run is None else sorted(run.executions, key=lambda child: child.index)
        return {"children": fitting(map(child_text, known[first:]), max_bytes), "total": len(known)}

    @workflow.query
    def map_run_slices(self, map_run_arn: str) -> list[str]:
        """The workflow ids of the slices of one of its Map Runs that are running: their
        children started so far are read from them (``started_children``, see
        :mod:`runtime.temporal.map_run_progress`)."""
        children = None if self._host is None else self._host.map_children
        if not isinstance(children, TemporalMapChildren):
            return []
        return children.running_slices(map_run_arn)

    @workflow.query
    def history(self, first: int, max_bytes: int) -> dict[str, Any]:
        """The AWS history's events from index ``first``: as many as fit in ``max_bytes``
        of JSON (one at least), and how many there are in all. Only those are made and
        rendered: a history is kept flat, and a slice of it would make an ``Event`` of
        every later one (25,000 per page of a long history, past Temporal's 2 s limit for
        a query under load)."""
        recorded = self._events()
        page = (recorded[index].to_aws() for index in range(first, len(recorded)))
        events = fitting(page, max_bytes)
        return {"events": events, "total": len(recorded)}

    @workflow.query
    def waiting_tasks(self) -> list[dict[str, Any]]:
        """Its task tokens and activity tasks waiting for an answer, oldest first
        (:func:`~runtime.temporal.payloads.task_payload`): the console's waiting tasks."""
        if self._host is None:
            return []
        return [task_payload(record) for record in self._host.tokens.pending()]

    @workflow.update(name="SendTaskSuccess")
    def send_task_success(self, token: str, output: str) -> None:
        """SendTaskSuccess: ``output`` is the task's result as JSON text."""
        with _api_errors():
            self._tokens().send_success(token, parse_output(output))

    @workflow.update(name="SendTaskFailure")
    def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None:
        """SendTaskFailure."""
        with _api_errors():
            self._tokens().send_failure(token, error, cause)

    @workflow.update(name="SendTaskHeartbeat")
    def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat."""
        with _api_errors():
            self._tokens().send_heartbeat(token)

    @workflow.update(name=CLAIM_UPDATE)
    def claim_activity_task(self, activity_arn: str, worker_name: str | None) -> list[str] | None:
        """GetActivityTask's claim: the token and input of the oldest task of the activity
        no worker has taken, now taken by ``worker_name``; None when there is none."""
        if self._host is None:
            return None
        return self._host.pending_activities.claim(activity_arn, worker_name)

    def _tokens(self) -> TaskTokens:
        if self._host is None:
            raise ApplicationError("Provided task does not exist", type="TaskDoesNotExist")
        return self._host.tokens


@workflow.defn(name=WORKFLOW_NAME)
class ExecutionWorkflow(ExecutionHandlers):
    """An ASL execution (see the module's docstring)."""

    def __init__(self) -> None:
        self._execution: Execution | None = None
        self._engine: Engine | None = None
        #: The seed of the Host's entropy (a run that redrives the execution reuses it).
        self._seed = 0
        self._stop: tuple[str | None, str | None] | None = None

    @workflow.run
    async def run(self, start: StartRequest) -> dict[str, Any]:
        """Run the execution (or redrive it) to its end and describe it."""
        begun = self._start(start) if start.redrive_of is None else self._redrive(start)
        execution = self._execution = await begun
        if self._stop is not None:  # stopped before it started
            execution.stop(*self._stop)
        try:
            await execution.wait()
        except asyncio.CancelledError:  # the workflow was cancelled: StopExecution
            execution.stop()
            await execution.wait()
        return describe(execution)

    async def _start(self, start: StartRequest) -> Execution:
        clock: Clock
        if start.clock == "virtual":
            clock = VirtualClock(workflow.now().timestamp() if start.start is None else start.start)
        else:
            clock = WorkflowClock()
        seed = workflow.random().getrandbits(53) if start.seed is None else start.seed
        engine = self._new_engine(start, clock, seed, journaled=workflow.patched(_JOURNALED))
        machine = _machine(engine, start)
        try:
            return await machine.start(parse_json(start.input_text), name=start.name)
        except ValueError as refused:
            raise ApplicationError(str(refused), type=INVALID_START, non_retryable=True) from None

    async def _redrive(self, start: StartRequest) -> Execution:
        """The execution of the ended run ``start.redrive_of``, redriven from its journal."""
        assert start.redrive_of is not None
        journal = await read_journal(partial(self._journal_page, start.redrive_of))
        row = journal.execution
        if row is None:
            raise ApplicationError(
                "Execution was started before the launch of RedriveExecution.",
                type=ExecutionNotRedrivable.code, non_retryable=True,
            )  # fmt: skip
        clock: Clock = WorkflowClock()
        if start.clock == "virtual":  # the execution's own time goes on from its last event
            clock = VirtualClock(max(event.timestamp for event in journal.events))
        engine = self._new_engine(start, clock, journal.seed, journaled=True)
        machine = _machine(engine, start)
        assert engine.store is not None
        kept = replace(row, revision=machine.revision or row.revision)
        engine.store.write(start_write(kept, journal.events, journal.answers))
        mapped = any(event.type == "MapRunStarted" for event in journal.events)
        if mapped and workflow.patched(_MAP_RUNS_REDRIVEN):
            await self._keep_map_runs(engine, start.redrive_of, row.arn)
        if start.name is None:  # the first run drew the execution's name from the Host first
            engine.host.new_uuid()
        try:
            return await engine.redrive(row.arn)
        except ExecutionNotRedrivable as refused:
            raise ApplicationError(refused.message, type=refused.code, non_retryable=True) from None

    async def _keep_map_runs(self, engine: Engine, run_id: str, arn: str) -> None:
        """Store the Map Runs of the ended run ``run_id`` with the execution ``arn``, for
        the redrive's plan, and tell the Host's Map Runs of their children (see
        :mod:`runtime.temporal.earlier_children`)."""
        assert engine.store is not None and self._host is not None
        workflow_id = workflow.info().workflow_id

        async def read_runs() -> list[str]:
            runs: list[str] = await self._ask_ended_run(
                READ_MAP_RUNS_ACTIVITY, [workflow_id, run_id]
            )
            return runs

        async def read_children(map_run_arn: str, first: int) -> Page:
            page: Page = await self._ask_ended_run(
                READ_MAP_RUN_CHILDREN_ACTIVITY, [workflow_id, run_id, map_run_arn, first]
            )
            return page

        rows = await read_map_runs_of(arn, read_runs, read_children)
        journaled: dict[str, tuple[int, list[JournalRow]]] = {}
        if workflow.patched(_CHILDREN_RESUMED):
            rows, journaled = await self._journaled_children(rows)
        engine.store.write(commit_write(arn, (), (), map_runs=rows))
        remote = self._host.map_children
        assert isinstance(remote, TemporalMapChildren)
        remote.earlier = EarlierChildren(engine.store, arn, journaled)

    async def _journaled_children(
        self, rows: MapRunRows
    ) -> tuple[MapRunRows, dict[str, tuple[int, list[JournalRow]]]]:
        """The ended run's Map Runs with the stored events of their unsuccessful STANDARD
        children whose workflows journaled them, and, for each, how many times it had been
        redriven and the answers a redrive of it keeps. At most
        :data:`_MOST_CHILDREN_RESUMED` are read, :data:`_CHILDREN_READ_AT_ONCE` at a time:
        each read is an activity in this run's history, which Temporal ends past 50,000
        events (the others run again from their start)."""
        wanted = [
            (arn, run_arn, fields)
            for arn, run_arn, text in rows.children
            if (fields := parse_json(text))["status"] != "SUCCEEDED" and not is_express(arn)
        ][:_MOST_CHILDREN_RESUMED]
        read: list[ExecutionJournal | None] = []
        for first in range(0, len(wanted), _CHILDREN_READ_AT_ONCE):
            group = wanted[first : first + _CHILDREN_READ_AT_ONCE]
            read += await asyncio.gather(*(self._child_journal(*child) for child in group))
        histories = []
        journaled: dict[str, tuple[int, list[JournalRow]]] = {}
        for (arn, _, _), journal in zip(wanted, read, strict=True):
            if journal is not None:
                histories.append((arn, journal.events))
                redrives = redrive_count(journal.events)
                journaled[arn] = (redrives, kept_child_answers(journal.events, journal.answers))
        return MapRunRows(rows.runs, rows.children, histories), journaled

    async def _child_journal(
        self, child_arn: str, map_run_arn: str, fields: dict[str, Any]
    ) -> ExecutionJournal | None:
        """The journal of an unsuccessful STANDARD child of the ended run, read from its
        workflow's latest run (the one that ended: not run again yet); None when its
        workflow journaled nothing."""
        child_id = f"{map_run_prefix(map_run_arn)}/{fields['index']}"

        async def page(first_event: int, first_answer: int) -> Page:
            args = [child_id, "", first_event, first_answer]
            found: Page = await self._ask_ended_run(READ_JOURNAL_ACTIVITY, args)
            return found

        journal = await read_journal(page)
        return None if journal.execution is None else journal

    async def _ask_ended_run(self, activity: str, args: list[Any]) -> Any:
        """What the activity ``activity`` reads of an ended run of this workflow."""
        return await workflow.execute_activity(
            activity, args=args, task_queue=workflow.info().task_queue,
            start_to_close_timeout=_READ_JOURNAL_TIMEOUT,
        )  # fmt: skip

    async def _journal_page(self, run_id: str, first_event: int, first_answer: int) -> Page:
        """A page of the journal of the ended run ``run_id`` of this workflow."""
        args = [workflow.info().workflow_id, run_id, first_event, first_answer]
        page: Page = await self._ask_ended_run(READ_JOURNAL_ACTIVITY, args)
        return page

    def _new_engine(
        self, start: StartRequest, clock: Clock, seed: int, *, journaled: bool
    ) -> Engine:
        """The execution's engine on a Host of its own: durable in memory when
        ``journaled`` (see :mod:`runtime.temporal.redrive`)."""
        self._seed = seed
        info = workflow.info()
        host = self._host = WorkflowHost(
            clock, seed, info.task_queue, start.liveness_seconds, parse_json(start.definition),
            journaled=journaled,
        )  # fmt: skip
        self._engine = Engine(
            host, region=start.region, account=start.account,
            database=":memory:" if journaled else None, host_per_execution=True,
        )  # fmt: skip
        return self._engine

    def _events(self) -> Sequence[Event]:
        return [] if self._execution is None else self._execution.history

    def _map_runs(self) -> Sequence[MapRunRecord]:
        return [] if self._execution is None else self._execution.map_runs

    @workflow.query(name=JOURNAL_QUERY)
    def journal(self, first_event: int, first_answer: int, max_bytes: int) -> Page:
        """A page of what the execution journaled (see
        :func:`~runtime.temporal.redrive.journal_page`): none when it journals nothing."""
        store = None if self._engine is None else self._engine.store
        arn = "" if self._execution is None else self._execution.arn
        return journal_page(store, arn, self._seed, first_event, first_answer, max_bytes)

    @workflow.query(name=CHILD_JOURNAL_QUERY)
    def child_journal(
        self, child_arn: str, first_event: int, first_answer: int, max_bytes: int
    ) -> Page:
        """A page of what a Map Run child this run redrives goes on from (see
        :meth:`~runtime.temporal.earlier_children.EarlierChildren.resumed`)."""
        remote = None if self._host is None else self._host.map_children
        earlier = remote.earlier if isinstance(remote, TemporalMapChildren) else None
        resumed = None if earlier is None else earlier.resumed(child_arn)
        events, answers = ([], []) if resumed is None else resumed
        return rows_page(None, 0, events, answers, first_event, first_answer, max_bytes)

    @workflow.query
    def description(self) -> dict[str, Any] | None:
        """The execution as DescribeExecution shows it (None before it has started)."""
        return None if self._execution is None else describe(self._execution)

    @workflow.signal
    def stop(self, error: str | None, cause: str | None) -> None:
        """StopExecution with an error and a cause (either may be None)."""
        if self._execution is None:
            self._stop = (error, cause)
        else:
            self._execution.stop(error, cause)


def _machine(engine: Engine, start: StartRequest) -> Machine:
    """The start request's state machine on ``engine`` (``INVALID_START`` when refused)."""
    kind: MachineType = "EXPRESS" if start.machine_type == "EXPRESS" else "STANDARD"
    try:
        return engine.create_state_machine(
            start.definition, name=start.state_machine_name, type=kind, role_arn=start.role_arn
        )
    except (DefinitionError, ValueError) as refused:
        raise ApplicationError(str(refused), type=INVALID_START, non_retryable=True) from None


@contextmanager
def _api_errors() -> Iterator[None]:
    """An API error of a task call becomes the update's failure, with AWS's code as its
    type; anything else is a bug and fails the workflow task, as it should."""
    try:
        yield
    except ApiError as error:
        raise ApplicationError(error.message, type=error.code, non_retryable=True) from None
