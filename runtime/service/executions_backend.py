"""Where executions live, as the API operations and the console see it: one interface,
:class:`ExecutionsBackend`, and what it hands back (:class:`ExecutionView`,
:class:`HistoryEvent`).

Two implementations: ``runtime.service.local_executions.LocalExecutions`` runs them on
the server's own engine (in memory, or durable in its SQLite file);
``runtime.service.temporal_executions.TemporalExecutionsBackend`` starts them as
workflows on Temporal, run by ``asl worker`` processes. The operations never know which:
state machines, versions, aliases, activities, tags and each execution's origin stay in
the server's catalog either way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from runtime.service.catalog import ExecutionOrigin, Target
from runtime.states.map_run import MapRunRecord
from runtime.store import TaskRecord

__all__ = [
    "ExecutionView",
    "ExecutionsBackend",
    "HistoryEvent",
    "Listed",
    "StartedFrom",
    "Summarized",
]


class Summarized(Protocol):
    """What ListExecutions says of an execution: a running one, a Map Run's child, one a
    durable engine keeps only in its database (its row), one on Temporal."""

    @property
    def arn(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def start_time(self) -> float: ...
    @property
    def stop_time(self) -> float | None: ...
    @property
    def redrive_count(self) -> int: ...
    @property
    def redrive_date(self) -> float | None: ...


class ExecutionView(Summarized, Protocol):
    """What DescribeExecution says of an execution (its input and output JSON values)."""

    @property
    def state_machine_arn(self) -> str: ...
    @property
    def input(self) -> Any: ...
    @property
    def output(self) -> Any: ...
    @property
    def error(self) -> str | None: ...
    @property
    def cause(self) -> str | None: ...


class HistoryEvent(Protocol):
    """One event of a history: its time in epoch seconds and its AWS form."""

    @property
    def timestamp(self) -> float: ...

    def to_aws(self) -> dict[str, Any]:
        """The event as GetExecutionHistory returns it (its timestamp as ISO text)."""
        ...


#: An execution as ListExecutions lists it: the execution, its machine's ARN, its origin.
Listed = tuple[Summarized, str, ExecutionOrigin | None]
#: The execution as listed, if it was started from the ARN ListExecutions asks about.
StartedFrom = Callable[[Summarized], Listed | None]


class ExecutionsBackend(Protocol):
    """Everything the API's operations and the console ask of where executions live."""

    #: Whether :meth:`start` refuses every name taken, by a running execution or an ended
    #: one (``runtime.executions.ExecutionAlreadyExists``), so that StartExecution need not
    #: look a name up before starting: only when it was refused.
    refuses_taken_names: bool

    async def start(
        self, aim: Target, value: Any, name: str | None, test_case: str | None
    ) -> ExecutionView:
        """Start an execution of ``aim`` (its origin kept in the catalog); ``test_case``: the
        MockConfigFile test case it runs. ``runtime.executions.ExecutionAlreadyExists``
        when the name was taken meanwhile."""
        ...

    def forget_machine(self, key: str) -> None:
        """A machine or version (``Target.key``) was deleted: drop what was made of it."""
        ...

    async def find(self, arn: str) -> ExecutionView | None:
        """An execution of any kind (Standard, Express, a Map Run's child) by ARN."""
        ...

    async def wait(self, arn: str) -> ExecutionView:
        """Wait for the execution ``arn`` (one :meth:`find` found) to end."""
        ...

    async def stop(self, arn: str, error: str | None, cause: str | None) -> None:
        """StopExecution of a top execution: it is to end ABORTED (see :meth:`wait`)."""
        ...

    async def history(self, arn: str) -> Sequence[HistoryEvent]:
        """The execution's history events, in order."""
        ...

    async def progress(self, arn: str) -> tuple[int, str]:
        """How many events the execution has recorded, and its status (the console's
        live page asks a few times a second)."""
        ...

    async def list_page(
        self, machine_arn: str, body: dict[str, Any], started_from: StartedFrom
    ) -> dict[str, Any]:
        """ListExecutions' answer for a machine's executions (``statusFilter``,
        ``maxResults``, ``nextToken`` from ``body``), those ``started_from`` keeps."""
        ...

    async def not_redrivable(self, run: ExecutionView) -> str | None:
        """Why an ended top execution cannot be redriven, or None."""
        ...

    async def redrive(self, arn: str) -> float:
        """RedriveExecution of an ended top execution: its redrive date
        (``ExecutionNotRedrivable`` when it cannot be)."""
        ...

    async def map_run(self, arn: str) -> MapRunRecord:
        """A Map Run by ARN (``ResourceNotFound``)."""
        ...

    async def map_runs(self, execution_arn: str) -> Sequence[MapRunRecord]:
        """The Map Runs an execution started, in order."""
        ...

    async def map_run_of(self, arn: str) -> MapRunRecord | None:
        """The Map Run that started the child execution ``arn``; None for another."""
        ...

    async def send_task_success(self, token: str, output: Any) -> None:
        """SendTaskSuccess (``output`` a JSON value)."""
        ...

    async def send_task_failure(self, token: str, error: str | None, cause: str | None) -> None:
        """SendTaskFailure."""
        ...

    async def send_task_heartbeat(self, token: str) -> None:
        """SendTaskHeartbeat."""
        ...

    async def pending_tasks(self) -> Sequence[TaskRecord]:
        """The task tokens and activity tasks waiting for an answer, oldest first."""
        ...

    async def get_activity_task(
        self, activity_arn: str, worker: str | None, timeout: float
    ) -> tuple[str, Any] | None:
        """GetActivityTask: the token and input of the oldest task of the activity,
        waiting up to ``timeout`` seconds for one; None when none came."""
        ...

    async def recover(self) -> None:
        """Before the first request: what a dead server left running goes on."""
        ...

    async def aclose(self) -> None:
        """Release what the executions hold (the server is stopping)."""
        ...
