"""Executions on Temporal (``asl serve --backend temporal``): an
:class:`~runtime.service.executions_backend.ExecutionsBackend` over
:class:`~runtime.temporal.client.TemporalExecutions`. Each execution is a workflow whose
id is its ARN, run by ``asl worker`` processes on the task queue; the server keeps only
the catalog (state machines, versions, aliases, activities, tags, each execution's origin
and the list of executions it started).

Imported only when that backend is chosen: a server on the local backend never loads the
Temporal SDK.

Map Runs: a Distributed Map's children run as child workflows under slices of their Map
Run (:mod:`runtime.temporal.map_runs`). The execution's workflow (or a child's, for a
nested Distributed Map) answers the ``map_runs`` query with its Map Runs and the
``map_run_children`` query, by pages, with the children it has heard of (a slice tells
of its children when it ends); while the Map Run runs, the children its running slices
have started (``map_run_slices``, then each slice's ``started_children``: RUNNING, or
ended since; :mod:`runtime.temporal.map_run_progress`), so they are listed, counted and
described from their start, as on the local backend. A child's history is its own
workflow's (``<parent's workflow>/<Map Run id>/<index>``), so a running one's is read as
far as it has come. A Map Run's ARN does not name its execution, nor a child's ARN its
Map Run: the machine's executions are asked, newest first (and for a nested Map Run the
children on its way), and what was found is kept (the most recently used, bounded).

RedriveExecution: a new run of the execution's workflow, which replays the ended run's
journal without its failed path (:mod:`runtime.temporal.redrive`); the redrive date is the
one the new run records, asked of it once it has caught up.

"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from asl.jsontext import parse_json
from runtime import executions as engine_executions
from runtime.activities import Pollers
from runtime.lifecycle import STANDARD_MAX_SECONDS, MachineType
from runtime.redrive import ExecutionNotRedrivable, not_redrivable
from runtime.service.catalog import Catalog, ExecutionOrigin, Target
from runtime.service.errors import ExecutionDoesNotExist, ResourceNotFound
from runtime.service.executions_backend import ExecutionView, StartedFrom
from runtime.service.listing import Place, stored_page
from runtime.service.recent import Recent
from runtime.service.settings import ServiceSettings, SettingsError
from runtime.service.temporal_listing import Started, adopt, newest_first
from runtime.states.map_run import MapRunRecord
from runtime.store import ApiError, TaskRecord
from runtime.stored_map_runs import child_record, map_run_record
from runtime.temporal.client import TemporalExecutions
from runtime.temporal.workers import (
    WorkerSettings,
    check_address,
    connect_client,
    ensure_search_attributes,
)

__all__ = [
    "WORKER_ANSWER_SECONDS",
    "NoWorkerAnswered",
    "TemporalExecutionsBackend",
    "connect_temporal",
]

T = TypeVar("T")

#: How many Map Runs' owners, and children's Map Runs, the server keeps in mind.
_KNOWN_MAP_RUNS = 10_000
_KNOWN_CHILDREN = 200_000
#: How often a redriven execution is asked whether its new run has recorded the redrive.
_REDRIVE_POLL_SECONDS = 0.05
#: How many executions' descriptions ListExecutions asks Temporal for at once.
_DESCRIBED_AT_ONCE = 16
#: How long a question only a worker can answer (a running execution's description, any
#: history) waits for one: a query waits for a worker to poll, without end when none runs.
WORKER_ANSWER_SECONDS = 10.0


class NoWorkerAnswered(ApiError):
    """No worker answered a question about an execution in time (none polls its task
    queue, or all are busy): the service's fault, not the request's, so a 5xx that clients
    may retry. Our own code and words: AWS has no workers to wait for."""

    code = "ServiceUnavailable"
    status = 503

    def __init__(self, task_queue: str) -> None:
        super().__init__(
            f"No asl worker answered within {WORKER_ANSWER_SECONDS:g} s: run `asl worker` on "
            f"task queue {task_queue!r} of this Temporal namespace"
        )


@dataclass(frozen=True, slots=True)
class TemporalRun:
    """An execution on Temporal as its workflow describes it."""

    arn: str
    state_machine_arn: str
    name: str
    status: str
    input: Any
    output: Any
    error: str | None
    cause: str | None
    start_time: float
    stop_time: float | None
    redrive_count: int = 0
    redrive_date: float | None = None


@dataclass(frozen=True, slots=True)
class RenderedEvent:
    """A history event as the workflow's ``history`` query gave it (AWS's form)."""

    event: dict[str, Any]

    @property
    def timestamp(self) -> float:
        """The event's time in epoch seconds."""
        return datetime.fromisoformat(self.event["timestamp"]).timestamp()

    def to_aws(self) -> dict[str, Any]:
        """The event as GetExecutionHistory returns it."""
        return self.event


async def connect_temporal(
    settings: ServiceSettings, catalog: Catalog
) -> TemporalExecutionsBackend:
    """Executions on the Temporal server of ``settings`` (``SettingsError`` for an address
    that is not HOST:PORT; ``TemporalUnreachable`` when it does not answer or has no such
    namespace)."""
    address = settings.temporal_address
    if address is None:
        raise SettingsError("--backend temporal needs --temporal-address HOST:PORT")
    wrong = check_address(address)
    if wrong is not None:
        raise SettingsError(f"--temporal-address {wrong}")
    client = await connect_client(WorkerSettings(address, settings.namespace, settings.task_queue))
    await ensure_search_attributes(client)  # the server's starts set them
    executions = TemporalExecutions(
        client, task_queue=settings.task_queue, region=settings.region, account=settings.account
    )
    return TemporalExecutionsBackend(executions, catalog, settings.clock)


class TemporalExecutionsBackend:
    """Executions as workflows on one Temporal namespace and task queue."""

    #: Temporal starts a new run of a closed workflow's id: an ended execution's name is
    #: looked up before a start.
    refuses_taken_names = False

    def __init__(
        self,
        executions: TemporalExecutions,
        catalog: Catalog,
        clock: Literal["real", "virtual"] = "real",
    ) -> None:
        self.executions = executions
        self.catalog = catalog
        #: ``virtual``: each execution's own virtual clock, in its workflow (tests).
        self.clock = clock
        # What was learnt of Map Runs (a few strings a Map Run and a child), the most
        # recently used kept: a Map Run's ARN does not name the execution that started it,
        # nor a child's ARN its Map Run, so each is found by asking workflows, once while
        # it stays here.
        #: The workflow of the execution that started each Map Run, by its ARN.
        self._owners: Recent[str, str] = Recent(_KNOWN_MAP_RUNS)
        #: Each child execution's Map Run ARN and index, by its ARN.
        self._children: Recent[str, tuple[str, int]] = Recent(_KNOWN_CHILDREN)
        #: GetActivityTask's calls in progress here: AWS's quota per activity, per server.
        self._pollers = Pollers()

    @property
    def _client(self) -> Client:
        return self.executions.client

    def forget_machine(self, key: str) -> None:
        """Nothing is compiled here: each workflow compiles its definition."""

    # --- starting ---------------------------------------------------------------------

    async def start(
        self, aim: Target, value: Any, name: str | None, test_case: str | None
    ) -> ExecutionView:
        """Start the execution's workflow, its id the execution's ARN (an Express one's
        ``...:express:<machine>:<name>:<id>``, as AWS makes them)."""
        name = str(uuid.uuid4()) if name is None else name
        record = aim.record
        kind: MachineType = "EXPRESS" if record.type == "EXPRESS" else "STANDARD"
        prefix = f"arn:aws:states:{self.executions.region}:{self.executions.account}"
        arn = (
            f"{prefix}:express:{record.name}:{name}:{uuid.uuid4()}"
            if kind == "EXPRESS"
            else f"{prefix}:execution:{record.name}:{name}"
        )
        try:
            await self.executions.start(
                aim.definition, value, name=name, state_machine_name=record.name, type=kind,
                role_arn=aim.role_arn, workflow_id=arn, clock=self.clock,
                started_from=[v for v in (aim.version_arn, aim.alias_arn) if v is not None],
            )  # fmt: skip
        except WorkflowAlreadyStartedError:
            raise engine_executions.ExecutionAlreadyExists(
                f"Execution Already Exists: '{arn}'"
            ) from None
        described = await self._client.get_workflow_handle(arn).describe()
        started = described.start_time.timestamp()
        self.catalog.put_origin(ExecutionOrigin(arn, aim))
        self.catalog.put_start(record.arn, arn, started)
        return TemporalRun(arn, record.arn, name, "RUNNING", value, None, None, None, started, None)

    # --- reading ----------------------------------------------------------------------

    async def find(self, arn: str) -> ExecutionView | None:
        """The execution whose workflow id is ``arn``: a running one as its workflow
        describes itself, an ended one from its result (no worker needed); a Map Run's
        ended child as its Map Run's record of it (the local backend's answer)."""
        started_by = await self.map_run_of(arn)
        if started_by is not None:
            return next(child for child in started_by.executions if child.arn == arn)
        handle = self._client.get_workflow_handle(arn)
        try:
            described = await handle.describe()
        except RPCError as missing:
            if missing.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        if described.status != WorkflowExecutionStatus.RUNNING:
            return await self.wait(arn)
        try:
            found = await self._asked(self.executions.describe(arn))
        except NoWorkerAnswered:
            found = None  # what its start request says is true until a worker runs it
        if found is not None:
            return _run(arn, found)
        return await self._not_yet_started(arn, described.start_time.timestamp())

    async def _asked(self, question: Awaitable[T]) -> T:
        """A worker's answer to a query, or ``NoWorkerAnswered``."""
        try:
            return await asyncio.wait_for(question, WORKER_ANSWER_SECONDS)
        except TimeoutError:
            raise NoWorkerAnswered(self.executions.task_queue) from None

    async def _not_yet_started(self, arn: str, start_time: float) -> TemporalRun:
        """A running workflow no worker answers for (none has run its first task yet, or
        none polls now): what its start request says."""
        request = await self.executions.start_request(arn)
        machine, name = _machine_and_name(arn)
        value = parse_json(request.input_text)
        return TemporalRun(
            arn, machine, request.name or name, "RUNNING", value, None, None, None, start_time,
            None,
        )  # fmt: skip

    async def wait(self, arn: str) -> ExecutionView:
        """Wait for the workflow's result: the execution's description."""
        try:
            return _run(arn, await self.executions.wait(arn))
        except WorkflowFailureError as failed:
            # Refused at its start, or terminated from outside the API: no ASL end event.
            described = await self._client.get_workflow_handle(arn).describe()
            start = described.start_time.timestamp()
            stop = None if described.close_time is None else described.close_time.timestamp()
            machine, name = _machine_and_name(arn)
            return TemporalRun(
                arn, machine, name, "FAILED", None, None, "States.Runtime",
                str(failed.cause or failed), start, stop,
            )  # fmt: skip

    async def stop(self, arn: str, error: str | None, cause: str | None) -> None:
        """The workflow's ``stop`` signal (one that has ended already: nothing to do)."""
        try:
            await self.executions.stop(arn, error, cause)
        except RPCError as ended:
            if ended.status != RPCStatusCode.NOT_FOUND:
                raise

    async def history(self, arn: str) -> Sequence[RenderedEvent]:
        """The history the workflow keeps, read by pages of its ``history`` query."""
        read = await self._asked(self.executions.history(await self._workflow_of(arn)))
        return [RenderedEvent(event) for event in read["events"]]

    async def progress(self, arn: str) -> tuple[int, str]:
        """How many events the workflow's history holds, and the execution's status."""
        found = await self.find(arn)
        status = "RUNNING" if found is None else found.status
        try:
            count = await self._asked(self.executions.history_length(await self._workflow_of(arn)))
        except NoWorkerAnswered:
            count = 0  # not known: the page updates once a worker answers again
        return count, status

    async def list_page(
        self, machine_arn: str, body: dict[str, Any], started_from: StartedFrom
    ) -> dict[str, Any]:
        """The machine's executions on the task queue, whichever server started them,
        newest first (:mod:`runtime.service.temporal_listing`), each described by its
        workflow. Every workflow completes whatever the execution's end, so Temporal's
        status cannot tell SUCCEEDED from FAILED: ``statusFilter`` is applied to the
        described executions while a page fills."""
        wanted = body.get("statusFilter")

        async def described(started: Started) -> ExecutionView | None:
            await adopt(self.executions, self.catalog, machine_arn, started)
            return await self.find(started.arn)

        async def rows(limit: int, after: Place | None) -> list[tuple[ExecutionView, Place]]:
            ordered = await newest_first(self.executions, self.catalog, machine_arn, after)
            found: list[tuple[ExecutionView, Place]] = []
            for first in range(0, len(ordered), _DESCRIBED_AT_ONCE):
                chunk = ordered[first : first + _DESCRIBED_AT_ONCE]
                runs = await asyncio.gather(*(described(started) for started in chunk))
                for run, started in zip(runs, chunk, strict=True):
                    if run is not None and wanted in (None, run.status):
                        found.append((run, started.place))
                        if len(found) == limit:
                            return found
            return found

        return await stored_page(rows, body, started_from)

    # --- Map Runs ---------------------------------------------------------------------

    async def map_run(self, arn: str) -> MapRunRecord:
        """A Map Run by ARN, with the children started so far (``ResourceNotFound``)."""
        owner = self._owners.get(arn) or await self._search_owner(arn)
        found = None if owner is None else await self._map_run_in(owner, arn)
        if found is None:
            raise ResourceNotFound(arn)
        return found

    async def map_runs(self, execution_arn: str) -> Sequence[MapRunRecord]:
        """The Map Runs of an execution (or of a Map Run's child), from its workflow's
        ``map_runs`` query."""
        return await self._map_runs_in(await self._workflow_of(execution_arn))

    async def map_run_of(self, arn: str) -> MapRunRecord | None:
        """The Map Run that started the child execution ``arn`` (None for an execution
        that is no Map Run's child, or one not started yet)."""
        machine = _machine_and_name(arn)[0]
        if "/" not in machine:  # a Map Run's children run ``<machine>/<label>``
            return None
        placed = self._children.get(arn)
        if placed is None:
            await self._search_child(arn, machine)
            placed = self._children.get(arn)
        return None if placed is None else await self.map_run(placed[0])

    async def _workflow_of(self, arn: str) -> str:
        """The workflow that runs the execution ``arn``: its own ARN for a top execution,
        ``<its parent's workflow>/<Map Run id>/<index>`` for a Map Run's child (see
        :mod:`runtime.temporal.map_runs`)."""
        if await self.map_run_of(arn) is None:
            return arn
        return self._child_workflow(arn)

    def _child_workflow(self, arn: str) -> str:
        """The workflow of the known child execution ``arn``."""
        run_arn, index = self._children[arn]
        return f"{self._owners[run_arn]}/{run_arn.rsplit(':', 1)[-1]}/{index}"

    async def _map_runs_in(self, workflow_id: str) -> list[MapRunRecord]:
        """The Map Runs the execution run by ``workflow_id`` started, without children."""
        runs = [map_run_record(text) for text in await self._asked(
            self.executions.map_runs(workflow_id)
        )]  # fmt: skip
        for run in runs:
            self._owners[run.arn] = workflow_id
        return runs

    async def _map_run_in(self, workflow_id: str, arn: str) -> MapRunRecord | None:
        """The Map Run ``arn`` of the execution run by ``workflow_id``, with its children
        by index: those its execution has heard of, and while it runs those its running
        slices have started (RUNNING, or ended since)."""
        run = next((run for run in await self._map_runs_in(workflow_id) if run.arn == arn), None)
        if run is None:
            return None
        executions = self.executions
        # The slices first: one that ends after this answer has told the execution of its
        # children before the execution answers next.
        slices = []
        if run.status == "RUNNING":
            slices = await self._asked(executions.map_run_slices(workflow_id, arn))
        told = await self._asked(executions.map_run_children(workflow_id, arn))
        children = {child.index: child for child in map(child_record, told)}
        started = await asyncio.gather(
            *(self._asked(executions.started_children(slice_id)) for slice_id in slices)
        )
        for texts in started:
            for child in map(child_record, texts):
                children.setdefault(child.index, child)
        run.executions.extend(children[index] for index in sorted(children))
        for child in run.executions:
            self._children[child.arn] = (arn, child.index)
        return run

    async def _search_owner(self, map_run_arn: str) -> str | None:
        """The workflow of the execution whose Distributed Map started the Map Run
        ``map_run_arn`` (see :meth:`_search`)."""
        machine = _machine_and_name(map_run_arn)[0]
        await self._search(machine, lambda: map_run_arn in self._owners, children=False)
        return self._owners.get(map_run_arn)

    async def _search_child(self, arn: str, machine: str) -> None:
        """Find the Map Run that started the child execution ``arn`` of ``machine``
        (``<machine>/<label>``; see :meth:`_search`)."""
        await self._search(machine, lambda: arn in self._children, children=True)

    async def _search(self, machine: str, found: Callable[[], bool], children: bool) -> None:
        """Read Map Runs until ``found()``: a Map Run's ARN names the machine its children
        run (``<machine>/<label>``, ``<machine>/<label>/<label>`` when nested), not the
        execution that started it, so the executions this server started of the top
        machine are asked, newest first, and for a nested one the children of their Map
        Runs on its way; with ``children``, those of the Map Runs whose children run
        ``machine`` are read too."""
        top = machine.split("/", 1)[0]
        after = None
        while not found():
            starts = self.catalog.starts(top, _DESCRIBED_AT_ONCE, after)
            for started, _ in starts:
                await self._search_in(started, machine, found, children)
                if found():
                    return
            if len(starts) < _DESCRIBED_AT_ONCE:
                return
            after = starts[-1][1]

    async def _search_in(
        self, workflow_id: str, machine: str, found: Callable[[], bool], children: bool
    ) -> None:
        for run in await self._map_runs_in(workflow_id):
            below = machine.startswith(f"{run.state_machine_arn}/")
            if found() or not (below or (children and run.state_machine_arn == machine)):
                continue
            loaded = await self._map_run_in(workflow_id, run.arn)
            for child in [] if loaded is None or not below else loaded.executions:
                await self._search_in(self._child_workflow(child.arn), machine, found, children)

    # --- redrive ----------------------------------------------------------------------

    async def not_redrivable(self, run: ExecutionView) -> str | None:
        """Why the ended execution cannot be redriven (``runtime.redrive``'s reasons), from
        the first event its workflow journaled and the length of its history."""
        first, length = await self._asked(self.executions.journal_head(run.arn))
        # Temporal's time, as the workflows' dates are (the server's engine may run on a
        # virtual clock of its own, which no execution here reads).
        now = time.time()
        return not_redrivable(
            run.status, "STANDARD", run.stop_time, now, first,
            now - run.start_time > STANDARD_MAX_SECONDS, length,
        )  # fmt: skip

    async def redrive(self, arn: str) -> float:
        """Redrive the ended execution: a new run of its workflow (see
        :meth:`TemporalExecutions.redrive`); its redrive date, once the new run has recorded
        it (the new run's start when no worker answers in time)."""
        run = await self.find(arn)
        if run is None:
            raise ExecutionDoesNotExist(arn)
        reason = await self.not_redrivable(run)
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        try:
            await self.executions.redrive(arn)
        except WorkflowAlreadyStartedError:  # another call redrove it meanwhile
            raise ExecutionNotRedrivable("Execution is RUNNING and cannot be redriven") from None
        try:
            return await self._asked(self._redrive_date(arn, run.redrive_count + 1))
        except NoWorkerAnswered:
            started = await self._client.get_workflow_handle(arn).describe()
            return started.start_time.timestamp()

    async def _redrive_date(self, arn: str, count: int) -> float:
        """The date the ``count``-th redrive of the execution recorded, once it has."""
        while True:
            found = await self.executions.describe(arn)
            if found is not None and found.get("redriveCount") == count:
                return float(found["redriveDate"])
            await asyncio.sleep(_REDRIVE_POLL_SECONDS)

    # --- tasks ------------------------------------------------------------------------

    async def pending_tasks(self) -> Sequence[TaskRecord]:
        """The tasks waiting in the running workflows, each asked (``NoWorkerAnswered``
        when the workers do not answer them all in time)."""
        return await self._asked(self.executions.waiting_tasks())

    async def get_activity_task(
        self, activity_arn: str, worker: str | None, timeout: float
    ) -> tuple[str, Any] | None:
        """GetActivityTask: a task an execution's workflow publishes for the activity,
        claimed for ``worker`` (see :mod:`runtime.temporal.activity_tasks`); at most
        AWS's number of pollers of one activity at once (``ActivityWorkerLimitExceeded``)."""
        with self._pollers.polling(activity_arn):
            task = await self.executions.get_activity_task(activity_arn, worker, timeout)
        return None if task is None else (task[0], parse_json(task[1]))

    async def send_task_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess: an update of the workflow the token names."""
        await self.executions.send_task_success(token, output)

    async def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None:
        """SendTaskFailure."""
        await self.executions.send_task_failure(token, error, cause)

    async def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat."""
        await self.executions.send_task_heartbeat(token)

    # --- life -------------------------------------------------------------------------

    async def recover(self) -> None:
        """Nothing: the executions go on on Temporal whether a server runs or not."""

    async def aclose(self) -> None:
        """Nothing: the SDK's client holds no resource to release by hand."""


def _machine_and_name(arn: str) -> tuple[str, str]:
    """The machine's ARN and the execution's name, from an execution's ARN
    (``arn:aws:states:<region>:<account>:execution|express:<machine>:<name>[:<id>]``)."""
    parts = arn.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]]), parts[7]


def _run(arn: str, described: dict[str, Any]) -> TemporalRun:
    """The workflow's description of its execution (JSON values as JSON text), under the
    workflow's id (an Express execution's own ARN is drawn in the workflow)."""
    output = described.get("output")
    return TemporalRun(
        arn=arn,
        state_machine_arn=described["stateMachineArn"],
        name=described["name"],
        status=described["status"],
        input=parse_json(described["input"]),
        output=None if output is None else parse_json(output),
        error=described.get("error"),
        cause=described.get("cause"),
        start_time=described["startDate"],
        stop_time=described.get("stopDate"),
        redrive_count=described.get("redriveCount", 0),
        redrive_date=described.get("redriveDate"),
    )
