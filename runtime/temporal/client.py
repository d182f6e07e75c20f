"""Executions on Temporal, from the outside: start, describe, stop, redrive, read
histories, answer task tokens and hand out activity tasks (what ``asl serve --backend temporal``
will call).

An execution is the workflow :data:`~runtime.temporal.workflow.WORKFLOW_NAME`, whose id
is the execution's ARN unless the caller names another. What the engine would refuse
at StartExecution (an invalid definition, name or input) is refused here, before any
workflow starts.
"""

from __future__ import annotations

import asyncio
import atexit
import gc
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

import asl
from asl.jsontext import json_text
from asl.loader import Source, read_document
from runtime.activities import activity_arn as activity_arn_of
from runtime.api_limits import ValidationException, check_error_and_cause
from runtime.defaults import (
    DEFAULT_ACCOUNT,
    DEFAULT_NAMESPACE,
    DEFAULT_REGION,
    DEFAULT_TASK_QUEUE,
)
from runtime.executions import (
    InvalidExecutionInput,
    check_name,
    input_size,
)
from runtime.lifecycle import MachineType
from runtime.store import (
    ApiError,
    InvalidOutput,
    InvalidToken,
    TaskDoesNotExist,
    TaskRecord,
    TaskTimedOut,
)
from runtime.store.executions import EventRow
from runtime.temporal.activity_tasks import poll_activity_task
from runtime.temporal.host import workflow_of_token
from runtime.temporal.payloads import CHILD_WORKFLOW, StartRequest, task_record
from runtime.temporal.redrive import JOURNAL_QUERY
from runtime.temporal.search_attributes import STARTED_FROM, STATE_MACHINE, quoted
from runtime.temporal.versioning import redrive_override
from runtime.temporal.workflow import WORKFLOW_NAME
from runtime.tokens import output_text

__all__ = ["TemporalExecutions"]

#: The JSON read per ``history`` (or children's) query: within Temporal's 2 MB blob limit
#: on a query's answer, with room for one event over it (an event holds at most a 256 KiB
#: payload). Rendering the page is the query's work in the worker's activation: 1 MiB of
#: events took 50 ms of CPU, stretched to 1.9 s on a loaded machine, near the SDK's two
#: seconds (bench/activation_probe). A closed workflow is replayed for each page it is
#: asked, so pages are not made smaller still.
_HISTORY_PAGE_BYTES = 512 * 1024
#: How often a query is asked when the server gives up on it, and the pause between.
_QUERY_ATTEMPTS = 3
_QUERY_PAUSE_SECONDS = 0.5
#: How many workflows are asked for their waiting tasks at once.
_ASKED_AT_ONCE = 16
_TRANSIENT = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE)
_API_ERRORS: dict[str, type[ApiError]] = {
    error.code: error
    for error in (
        InvalidToken, TaskDoesNotExist, TaskTimedOut, InvalidOutput, ValidationException,
        InvalidExecutionInput,
    )
}  # fmt: skip


class TemporalExecutions:
    """Executions of state machines as workflows on one Temporal namespace and task queue."""

    def __init__(
        self,
        client: Client,
        *,
        task_queue: str = DEFAULT_TASK_QUEUE,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.client = client
        self.task_queue = task_queue
        self.region = region
        self.account = account
        # The SDK's client, when the interpreter's teardown frees it, may call into Python
        # from a Rust thread and abort the process ("PyGILState_Release",
        # temporalio/sdk-python#300); freed by a collection before the teardown, it did
        # not in our runs. Registered once however many instances there are.
        atexit.unregister(gc.collect)
        atexit.register(gc.collect)

    @classmethod
    async def connect(
        cls,
        address: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        task_queue: str = DEFAULT_TASK_QUEUE,
    ) -> TemporalExecutions:
        """Executions on the Temporal server at ``address`` (``HOST:PORT``)."""
        return cls(await Client.connect(address, namespace=namespace), task_queue=task_queue)

    async def start(
        self,
        definition: Source,
        input: Any = None,
        *,
        name: str | None = None,
        state_machine_name: str = "StateMachine",
        type: MachineType = "STANDARD",
        role_arn: str | None = None,
        workflow_id: str | None = None,
        seed: int | None = None,
        clock: Literal["real", "virtual"] = "real",
        start: float | None = None,
        liveness_seconds: float = 10.0,
        started_from: Sequence[str] = (),
    ) -> str:
        """Start an execution and return its workflow's id (by default its ARN). With
        ``workflow_id`` and no ``name``, the execution draws its name as a local engine
        does. ``seed``, ``clock`` and ``start``: as for a local engine (tests);
        ``liveness_seconds``: how soon a dead worker's Task goes to another worker;
        ``started_from``: the version and alias ARNs it was started from (listed by
        :meth:`started`)."""
        asl.load(definition, machine_type=type)  # DefinitionError, as CreateStateMachine
        check_name(state_machine_name, "state machine")
        if name is None and workflow_id is None:
            name = str(uuid.uuid4())
        if name is not None:
            check_name(name, "execution")
        value = {} if input is None else input
        input_size(value)
        prefix = f"arn:aws:states:{self.region}:{self.account}"
        if workflow_id is None:
            workflow_id = f"{prefix}:execution:{state_machine_name}:{name}"
        request = StartRequest(
            definition=json_text(read_document(definition).value),
            state_machine_name=state_machine_name, machine_type=type, role_arn=role_arn,
            region=self.region, account=self.account, input_text=json_text(value), name=name,
            seed=seed, clock=clock, start=start, liveness_seconds=liveness_seconds,
        )  # fmt: skip
        listed_by: list[SearchAttributePair[Any]] = [
            SearchAttributePair(STATE_MACHINE, f"{prefix}:stateMachine:{state_machine_name}")
        ]
        if started_from:
            listed_by.append(SearchAttributePair(STARTED_FROM, list(started_from)))
        await self.client.start_workflow(
            WORKFLOW_NAME, request, id=workflow_id, task_queue=self.task_queue,
            search_attributes=TypedSearchAttributes(listed_by),
        )  # fmt: skip
        return workflow_id

    async def started(
        self, state_machine_arn: str, before: float | None = None
    ) -> dict[str, tuple[float, list[str]]]:
        """The executions of a machine on this task queue, whoever started them, as
        Temporal's visibility lists them (eventually consistent: one started a moment ago
        may be missing), those started at or before ``before`` (epoch seconds) when given:
        each workflow id with its start time (its first run's: a redrive is a new run) and
        the version and alias ARNs it was started from."""
        query = (
            f"WorkflowType = {quoted(WORKFLOW_NAME)} AND TaskQueue = {quoted(self.task_queue)} "
            f"AND {STATE_MACHINE.name} = {quoted(state_machine_arn)}"
        )
        if before is not None:  # a millisecond more: the caller compares exact times
            latest = datetime.fromtimestamp(before + 1e-3, UTC).isoformat()
            query += f" AND StartTime <= {quoted(latest)}"
        found: dict[str, tuple[float, list[str]]] = {}
        async for run in self.client.list_workflows(query):
            start = run.start_time.timestamp()
            if run.id not in found or start < found[run.id][0]:
                found[run.id] = (start, list(run.typed_search_attributes.get(STARTED_FROM) or []))
        return found

    def _handle(self, workflow_id: str) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(workflow_id)

    async def start_request(self, workflow_id: str, run_id: str | None = None) -> StartRequest:
        """The request a run of the workflow (by default its latest) was started with."""
        handle = self.client.get_workflow_handle(workflow_id, run_id=run_id)
        async for event in handle.fetch_history_events(page_size=1):
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [request] = await self.client.data_converter.decode(payloads, [StartRequest])
            return request  # type: ignore[no-any-return]
        raise RuntimeError(f"workflow {workflow_id} has no history")

    async def redrive(self, workflow_id: str) -> None:
        """RedriveExecution of the execution whose latest run has ended: a new run of the
        workflow, started with the same request and the ended run's id (see
        :mod:`runtime.temporal.redrive`); ``WorkflowAlreadyStartedError`` when a run is
        running. Whether the execution can be redriven is the caller's to check first."""
        described = await self._handle(workflow_id).describe()
        ended = described.run_id
        request = replace(await self.start_request(workflow_id, ended), redrive_of=ended)
        versioning = described.raw_description.workflow_execution_info.versioning_info
        listed_by = [
            pair
            for pair in described.typed_search_attributes
            if pair.key.name in (STATE_MACHINE.name, STARTED_FROM.name)
        ]
        await self.client.start_workflow(
            WORKFLOW_NAME, request, id=workflow_id, task_queue=self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            search_attributes=TypedSearchAttributes(listed_by),
            versioning_override=await redrive_override(self.client, self.task_queue, versioning),
        )  # fmt: skip

    async def journal_head(self, workflow_id: str) -> tuple[list[EventRow], int]:
        """The first event the execution journaled (none: it journals nothing, having run
        before executions were journaled), and how many events its history holds."""
        page = await self._query(workflow_id, JOURNAL_QUERY, [0, 0, 0])
        return [EventRow(*fields) for fields in page["events"][:1]], int(page["eventCount"])

    async def wait(self, workflow_id: str) -> dict[str, Any]:
        """Wait for the execution to end; its description (see :meth:`describe`)."""
        result: dict[str, Any] = await self._handle(workflow_id).result()
        return result

    async def describe(self, workflow_id: str) -> dict[str, Any] | None:
        """The execution's ARN, name, status, input and output (JSON text), error,
        cause, start and stop dates (seconds), and path; None before it has started."""
        found: dict[str, Any] | None = await self._query(workflow_id, "description", [])
        return found

    async def _query(self, workflow_id: str, query: str, args: list[Any]) -> Any:
        """A query, asked again when the server gave up waiting for a busy worker (a
        query changes nothing, so asking twice is harmless)."""
        handle = self._handle(workflow_id)
        for _ in range(_QUERY_ATTEMPTS - 1):
            try:
                return await handle.query(query, args=args)
            except WorkflowQueryFailedError as failed:
                if "context canceled" not in str(failed) and "deadline" not in str(failed):
                    raise
            except RPCError as failed:
                if failed.status not in _TRANSIENT:
                    raise
            await asyncio.sleep(_QUERY_PAUSE_SECONDS)
        return await handle.query(query, args=args)

    async def history(self, workflow_id: str) -> dict[str, Any]:
        """Its history as GetExecutionHistory returns it: ``{"events": [...]}``."""
        events: list[dict[str, Any]] = []
        while True:
            page = await self._query(workflow_id, "history", [len(events), _HISTORY_PAGE_BYTES])
            events.extend(page["events"])
            if not page["events"] or len(events) >= page["total"]:
                return {"events": events}

    async def map_runs(self, workflow_id: str) -> list[str]:
        """The Map Runs its execution started, each as JSON text without its children
        (:func:`~runtime.stored_map_runs.map_run_text`)."""
        found: list[str] = await self._query(workflow_id, "map_runs", [])
        return found

    async def map_run_children(self, workflow_id: str, map_run_arn: str) -> list[str]:
        """The ended children of one of its Map Runs by index, each as JSON text
        (:func:`~runtime.stored_map_runs.child_text`), read by pages."""
        return await self._children(workflow_id, "map_run_children", [map_run_arn])

    async def map_run_slices(self, workflow_id: str, map_run_arn: str) -> list[str]:
        """The workflow ids of the running slices of one of its Map Runs."""
        found: list[str] = await self._query(workflow_id, "map_run_slices", [map_run_arn])
        return found

    async def started_children(self, slice_id: str) -> list[str]:
        """The children a Map Run's slice has started, each as JSON text (RUNNING, or as
        it ended), read by pages (:mod:`~runtime.temporal.map_run_progress`)."""
        return await self._children(slice_id, "started_children", [])

    async def _children(self, workflow_id: str, query: str, args: list[Any]) -> list[str]:
        """All the children a query answers by pages (``first``, ``max_bytes`` after
        ``args``)."""
        children: list[str] = []
        while True:
            page = await self._query(
                workflow_id, query, [*args, len(children), _HISTORY_PAGE_BYTES]
            )
            children.extend(page["children"])
            if not page["children"] or len(children) >= page["total"]:
                return children

    async def history_length(self, workflow_id: str) -> int:
        """How many events its history holds (none of them read)."""
        page = await self._query(workflow_id, "history", [2**31, 0])
        return int(page["total"])

    async def stop(
        self, workflow_id: str, error: str | None = None, cause: str | None = None
    ) -> None:
        """StopExecution: the execution ends ABORTED with this error and cause."""
        check_error_and_cause(error, cause)
        await self._handle(workflow_id).signal("stop", args=[error, cause])

    async def send_task_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess: ``output`` (a JSON value) is the waiting Task's result."""
        await self._update(token, "SendTaskSuccess", [token, output_text(output)])

    async def send_task_failure(
        self, token: str, error: str | None = None, cause: str | None = None
    ) -> None:
        """SendTaskFailure."""
        check_error_and_cause(error, cause)
        await self._update(token, "SendTaskFailure", [token, error, cause])

    async def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat."""
        await self._update(token, "SendTaskHeartbeat", [token])

    async def get_activity_task(
        self, activity_arn: str, worker_name: str | None, wait_seconds: float
    ) -> tuple[str, str] | None:
        """GetActivityTask: the task token and input (JSON text) of a task of the activity
        (an ARN, or a name in this region and account; ``InvalidArn`` for neither) that an
        execution waits on, now taken by ``worker_name``; None when none came within
        ``wait_seconds`` (see :mod:`runtime.temporal.activity_tasks`)."""
        arn = activity_arn_of(activity_arn, self.region, self.account)
        return await poll_activity_task(self.client, arn, worker_name, wait_seconds)

    async def waiting_tasks(self) -> list[TaskRecord]:
        """The task tokens and activity tasks that running executions and Map Run children
        on this task queue wait on, oldest first: each running workflow is asked (its
        ``waiting_tasks`` query), a few at once, so this costs a query per workflow."""
        query = (
            f"TaskQueue = {quoted(self.task_queue)} AND ExecutionStatus = 'Running' AND "
            f"WorkflowType IN ({quoted(WORKFLOW_NAME)}, {quoted(CHILD_WORKFLOW)})"
        )
        running = [execution.id async for execution in self.client.list_workflows(query)]
        at_once = asyncio.Semaphore(_ASKED_AT_ONCE)

        async def ask(workflow_id: str) -> list[dict[str, Any]]:
            async with at_once:
                try:
                    told: list[dict[str, Any]] = await self._query(workflow_id, "waiting_tasks", [])
                    return told
                except WorkflowQueryFailedError as failed:
                    # A build of the engine older than the query: it can show no task.
                    if "expected but not found" not in str(failed):
                        raise
                except RPCError as gone:  # deleted since it was listed
                    if gone.status != RPCStatusCode.NOT_FOUND:
                        raise
                return []

        told = await asyncio.gather(*(ask(workflow_id) for workflow_id in running))
        tasks = [task_record(payload) for payloads in told for payload in payloads]
        return sorted(tasks, key=lambda task: task.created)

    async def _update(self, token: str, update: str, args: list[Any]) -> None:
        handle = self._handle(workflow_of_token(token))
        refused: Exception | None = None
        try:
            await handle.execute_update(update, args=args)
            return
        except WorkflowUpdateFailedError as failed:
            cause = failed.cause
            if isinstance(cause, ApplicationError) and cause.type in _API_ERRORS:
                raise _API_ERRORS[cause.type](cause.message) from None
            # Not the execution's answer: the workflow may have completed while the update
            # was on its way (its execution had ended), which is told below.
            refused = failed
        except RPCError as rpc:
            if rpc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                raise
        # No running workflow took it: its execution has ended (AWS: the task does not
        # exist anymore), or there never was one.
        try:
            described = await handle.describe()
        except RPCError as missing:
            if missing.status == RPCStatusCode.NOT_FOUND:
                raise TaskDoesNotExist() from None
            raise
        if refused is not None and described.status == WorkflowExecutionStatus.RUNNING:
            raise refused
        raise TaskTimedOut()
