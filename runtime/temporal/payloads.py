"""What crosses Temporal's wire between an execution's workflow and the workers' Task
activities, and the start request of an execution: plain JSON-able values, JSON values
carried as JSON text (so key order, big integers and lone surrogates arrive as sent).

A Task's failure crosses as an ``ApplicationError`` of type :data:`STATES_ERROR` whose
details are the error and the cause; it is not retried by Temporal (the state's own
Retry decides). A fault of the worker's integration code crosses as
:data:`INTEGRATION_FAULT`, and the execution fails with it as with any engine bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ApplicationErrorCategory,
    ChildWorkflowError,
)

from asl.errors import StatesError
from asl.jsontext import json_size, json_text, parse_json
from integrations.base import CallbackResult, TaskRequest, TaskServices, parse_resource
from runtime.map_children import ChildEnd, ChildStart, MapRunWork, child_arn
from runtime.store import TaskRecord

#: The activity that runs one Task invocation on a worker.
INVOKE_ACTIVITY = "asl.invoke_task"
#: The ``ApplicationError`` type of a Task's ``StatesError``.
STATES_ERROR = "StatesError"
#: The ``ApplicationError`` type of an integration's own bug on a worker.
INTEGRATION_FAULT = "IntegrationFault"


def fitting(answers: Iterable[Any], max_bytes: int) -> list[Any]:
    """The first of ``answers`` (JSON values) that fit in ``max_bytes`` of JSON, one at
    least: a page of a query's answer, within Temporal's 2 MB (``answers`` may be lazy,
    so nothing past the page is made)."""
    page: list[Any] = []
    size = 0
    for answer in answers:
        size += json_size(answer)
        if page and size > max_bytes:
            break
        page.append(answer)
    return page


@dataclass(frozen=True, slots=True)
class StartRequest:
    """An execution as its workflow is started: the machine, the input and how it runs."""

    definition: str
    state_machine_name: str
    machine_type: str
    role_arn: str | None
    region: str
    account: str
    input_text: str
    #: None: drawn from the execution's entropy, as a local engine draws it.
    name: str | None = None
    #: The execution's entropy; None: drawn from Temporal's deterministic randomness.
    seed: int | None = None
    #: "real": Temporal's workflow time; "virtual": a per-execution virtual clock.
    clock: str = "real"
    #: Where a virtual clock starts (None: the workflow's start time).
    start: float | None = None
    #: How long a worker running a Task may go without a Temporal heartbeat before the
    #: Task's activity is retried on another worker (it heartbeats every third of it).
    liveness_seconds: float = 10.0
    #: The id of the ended run of this workflow whose execution this run redrives
    #: (RedriveExecution; see :mod:`runtime.temporal.redrive`); None: a new execution.
    redrive_of: str | None = None


def request_payload(request: TaskRequest, seed: int, now: float) -> dict[str, Any]:
    """A Task invocation as its activity's argument: ``seed`` seeds the ids the
    integration makes up and ``now`` is the execution's time when it was scheduled."""
    return {
        "resource": request.resource.arn,
        "parameters": json_text(request.parameters),
        "stateName": request.state_name,
        "executionArn": request.execution_arn,
        "stateMachineArn": request.state_machine_arn,
        "region": request.region,
        "account": request.account,
        "taskToken": request.task_token,
        "timeoutSeconds": request.timeout_seconds,
        "heartbeatSeconds": request.heartbeat_seconds,
        "credentials": json_text(request.credentials),
        "retryCount": request.retry_count,
        "seed": seed,
        "now": now,
    }


def task_request(payload: dict[str, Any], services: TaskServices) -> TaskRequest:
    """The Task invocation an activity's argument describes, run with ``services``."""
    return TaskRequest(
        resource=parse_resource(payload["resource"]),
        parameters=parse_json(payload["parameters"]),
        state_name=payload["stateName"],
        execution_arn=payload["executionArn"],
        state_machine_arn=payload["stateMachineArn"],
        region=payload["region"],
        account=payload["account"],
        task_token=payload["taskToken"],
        timeout_seconds=payload["timeoutSeconds"],
        heartbeat_seconds=payload["heartbeatSeconds"],
        credentials=parse_json(payload["credentials"]),
        retry_count=payload["retryCount"],
        services=services,
    )


def result_payload(result: Any) -> dict[str, Any]:
    """A Task's result as its activity returns it."""
    if isinstance(result, CallbackResult):
        return {"callback": json_text(result.output)}
    return {"value": json_text(result)}


def task_result(payload: dict[str, Any]) -> Any:
    """The Task's result an activity returned."""
    if "callback" in payload:
        return CallbackResult(parse_json(payload["callback"]))
    return parse_json(payload["value"])


def failure_of(error: StatesError) -> ApplicationError:
    """A Task's failure as its activity raises it."""
    return ApplicationError(
        error.cause or "", error.error, error.cause, type=STATES_ERROR, non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,  # the Task's outcome: nothing to log
    )  # fmt: skip


class IntegrationFault(Exception):
    """A worker's integration code raised something else than a ``StatesError``: a bug,
    raised in the workflow as it would be in a local engine (the execution fails)."""


def raised_by(failure: ActivityError | ChildWorkflowError) -> Exception:
    """What the workflow raises for a failed Task activity (or slice of a Map Run's
    children): the ``StatesError`` it failed with, an :class:`IntegrationFault`, or the
    failure itself (timed out, cancelled, a bug)."""
    cause = failure.cause
    if isinstance(cause, ApplicationError):
        if cause.type == STATES_ERROR and len(cause.details) == 2:
            error, text = cause.details
            return StatesError(error, text)
        if cause.type == INTEGRATION_FAULT:
            return IntegrationFault(cause.message)
    return failure


#: The workflow that runs a slice of a Map Run's children (see ``temporal/map_runs``).
SLICE_WORKFLOW = "AslMapRunSlice"
#: The workflow that runs one child execution of a Map Run (see ``temporal/map_child``).
CHILD_WORKFLOW = "AslMapChild"


@dataclass(frozen=True, slots=True)
class ChildRun:
    """How a Map Run's children run: what a slice of them and each of them is told."""

    #: The children's state machine (the ItemProcessor) as a definition, JSON text.
    processor: str
    #: The :class:`~runtime.map_children.MapRunWork`, as :func:`work_payload` gives it.
    work: dict[str, Any]
    #: "real" or "virtual", as the parent's clock; where a virtual one starts.
    clock: str
    start: float | None
    liveness_seconds: float


@dataclass(frozen=True, slots=True)
class SliceRequest:
    """A slice of a Map Run's children: run ``limit`` at once."""

    run: ChildRun
    #: Each child as :func:`start_payload` gives it.
    children: list[dict[str, Any]]
    limit: int
    #: The children's workflow ids are this, ``/`` and their index.
    id_prefix: str
    #: What the slice may return of its children's results (JSON text), in bytes.
    max_result_bytes: int


@dataclass(frozen=True, slots=True)
class ChildRequest:
    """One child execution: its start and its entropy's seed."""

    run: ChildRun
    child: dict[str, Any]
    seed: int


def work_payload(work: MapRunWork) -> dict[str, Any]:
    """A Map Run's shared settings as they cross the wire."""
    return {
        "stateName": work.state_name, "mapRunArn": work.map_run_arn,
        "stateMachineArn": work.state_machine_arn, "stateMachineName": work.state_machine_name,
        "executionType": work.execution_type, "roleArn": work.role_arn,
        "region": work.region, "account": work.account,
        "maxConcurrency": work.max_concurrency, "tolerated": list(work.tolerated),
        "totalItems": work.total_items,
    }  # fmt: skip


def map_run_work(payload: dict[str, Any]) -> MapRunWork:
    """The settings :func:`work_payload` sent."""
    count, percentage = payload["tolerated"]
    return MapRunWork(
        state_name=payload["stateName"], map_run_arn=payload["mapRunArn"],
        state_machine_arn=payload["stateMachineArn"],
        state_machine_name=payload["stateMachineName"],
        execution_type=payload["executionType"], role_arn=payload["roleArn"],
        region=payload["region"], account=payload["account"],
        max_concurrency=payload["maxConcurrency"], tolerated=(count, percentage),
        total_items=payload["totalItems"],
    )  # fmt: skip


#: The key of a child's start naming the workflow that redrives it from where it failed
#: (it reads its stored events and kept answers there: ``child_journal``).
RESUME_FROM = "resumeFrom"


def start_payload(start: ChildStart) -> dict[str, Any]:
    """A child's start as it crosses the wire (its input as JSON text; its ARN is made
    again from its name: the bytes of every child count in the histories it crosses)."""
    return {
        "index": start.index, "name": start.name, "input": json_text(start.input),
        "items": start.item_count, "strand": start.strand,
    }  # fmt: skip


def child_start(payload: dict[str, Any], work: MapRunWork) -> ChildStart:
    """The start :func:`start_payload` sent, of a child of ``work``."""
    name = payload["name"]
    return ChildStart(
        payload["index"], name, child_arn(work, name), parse_json(payload["input"]),
        payload["items"], payload.get("strand", ""),
    )  # fmt: skip


def end_payload(end: ChildEnd) -> dict[str, Any]:
    """How a child ended, as it crosses the wire (its output as JSON text)."""
    return {
        "index": end.index, "status": end.status,
        "output": None if end.output is None else json_text(end.output),
        "error": end.error, "cause": end.cause, "start": end.start_time, "stop": end.stop_time,
        "redrives": end.redrive_count, "redriveDate": end.redrive_date,
    }  # fmt: skip


def child_end(payload: dict[str, Any]) -> ChildEnd:
    """The end :func:`end_payload` sent."""
    output = payload["output"]
    return ChildEnd(
        payload["index"], payload["status"], None if output is None else parse_json(output),
        payload["error"], payload["cause"], payload["start"], payload["stop"],
        payload.get("redrives", 0), payload.get("redriveDate"),
    )  # fmt: skip


def task_payload(record: TaskRecord) -> dict[str, Any]:
    """A waiting task of an execution's task store, as its workflow tells it."""
    return asdict(record)


def task_record(payload: dict[str, Any]) -> TaskRecord:
    """A waiting task, as :func:`task_payload` told it."""
    return TaskRecord(**payload)
