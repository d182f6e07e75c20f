"""Execution operations: StartExecution, StartSyncExecution, DescribeExecution,
DescribeStateMachineForExecution, StopExecution, ListExecutions and GetExecutionHistory.

Recorded against AWS (localstack snapshots test_sfn_api, test_sfn_api_express): an
execution's ``input`` and ``output`` are JSON text with ``{"included": true}`` details;
executions are listed newest first; an Express execution's ARN
(``...:express:...``) given to DescribeExecution, StopExecution or GetExecutionHistory is
``InvalidArn``, ListExecutions of an Express machine ``StateMachineTypeNotSupported``,
and so is StartSyncExecution of a Standard one; StartSyncExecution bills whole 100 ms and
64 MB. The StartExecution API reference: a call with the name and input of a RUNNING
Standard execution answers that execution; another input, or an execution that has
ended, is ``ExecutionAlreadyExists``.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from typing import Any

from asl.jsontext import json_text, parse_json, text_size
from integrations.mocks import MockConfigError
from runtime import executions as engine_executions
from runtime.api_limits import ValidationException, check_payload_size, valid_name
from runtime.executions import InvalidExecutionInput
from runtime.redrive import HISTORY_LIMIT_EXCEEDED, ExecutionNotRedrivable, not_redrivable_express
from runtime.service.arns import parse_arn
from runtime.service.backend import Backend, Operation
from runtime.service.catalog import ExecutionOrigin, RedriveToken, Target
from runtime.service.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidName,
    StateMachineTypeNotSupported,
)
from runtime.service.executions_backend import ExecutionView, HistoryEvent, Listed, Summarized
from runtime.service.listing import listed, summary
from runtime.service.lookup import execution, map_run
from runtime.service.paging import offset_token, page, page_at, page_size
from runtime.service.versions import target
from runtime.states.map_run import ChildRecord, MapRunRecord
from runtime.stored_map_runs import StoredMapRunRecord

__all__ = ["OPERATIONS", "describe_run", "execution_input"]

#: Our words: the docs say a Map Run's children are redriven by redriving their parent.
_MAP_RUN_CHILD = "Execution is a Map Run's child execution: redrive the parent execution"

#: ListExecutions' ``redriveFilter``: whether the executions listed were redriven (absent:
#: both kinds, the API reference says).
_REDRIVE_FILTERS = {"REDRIVEN": True, "NOT_REDRIVEN": False}

#: How long a RedriveExecution client token answers a repeated call (AWS's API reference:
#: "valid for up to 15 minutes after they are first used").
_REDRIVE_TOKEN_SECONDS = 15 * 60

#: How long StopExecution waits for the execution to record its end before answering.
_STOP_WAIT_SECONDS = 10.0


def execution_input(text: str | None) -> Any:
    """StartExecution's ``input`` text as a value, refused as AWS refuses it (the size in
    bytes first; an empty text has AWS's recorded words; other parse errors name
    Python's parser where AWS names Jackson's)."""
    if text is None:
        return {}
    check_payload_size("input", text_size(text))
    invalid = "Invalid State Machine Execution Input: "
    if not text.strip():
        raise InvalidExecutionInput(invalid + "'Invalid execution input.'")
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise InvalidExecutionInput(f"{invalid}'{exc.msg}'") from None
    except ValueError as exc:  # NaN, Infinity, numbers out of range, nesting too deep
        raise InvalidExecutionInput(f"{invalid}'{exc}'") from None


def _test_case(backend: Backend, arn: str) -> tuple[str, str | None]:
    """``<stateMachineArn>#<TestCase>`` (Step Functions Local's way of picking a
    MockConfigFile test case) split in two, when the server has a MockConfigFile."""
    if backend.mock_cases is None or "#" not in arn:
        return arn, None
    machine, case = arn.split("#", 1)
    return machine, case


async def _named(backend: Backend, aim: Target, name: str, value: Any) -> ExecutionView | None:
    """The Standard execution a repeated StartExecution of ``name`` answers: the running
    one with the same input (AWS's idempotent start); ``ExecutionAlreadyExists`` when the
    name is taken otherwise; None when it is free."""
    if aim.record.type != "STANDARD":
        return None
    arn = backend.arn("execution", f"{aim.record.name}:{name}")
    existing = await backend.executions.find(arn)
    if existing is None:
        return None
    if existing.status == "RUNNING" and existing.input == value:
        return existing
    raise ExecutionAlreadyExists(f"Execution Already Exists: '{existing.arn}'")


async def _start(backend: Backend, body: dict[str, Any]) -> tuple[ExecutionView, Target]:
    """Start the execution a StartExecution or StartSyncExecution call asks for; a
    repeated call for a running Standard execution answers it, as AWS does."""
    arn, test_case = _test_case(backend, body["stateMachineArn"])
    aim = target(backend, arn)
    value = execution_input(body.get("input"))
    name = body.get("name")
    if name is not None and not valid_name(name):
        raise InvalidName(name)
    # Where the start refuses a taken name, the name is looked up only once refused (a
    # lookup costs a read per start); a test case is checked after the lookup, as before.
    look_first = not backend.executions.refuses_taken_names or test_case is not None
    if name is not None and look_first:
        existing = await _named(backend, aim, name, value)
        if existing is not None:
            return existing, aim
    _check_test_case(backend, aim, test_case)
    try:
        started = await backend.executions.start(aim, value, name, test_case)
    except engine_executions.ExecutionAlreadyExists as exc:
        # The name is taken (or a start of it was being committed meanwhile): a running
        # execution with the same input answers, as above.
        if name is not None and (existing := await _named(backend, aim, name, value)) is not None:
            return existing, aim
        raise ExecutionAlreadyExists(str(exc)) from None
    return started, aim


def _check_test_case(backend: Backend, aim: Target, test_case: str | None) -> None:
    """A test case the MockConfigFile defines for the machine (our ValidationException:
    Step Functions Local's answer for an unknown one is not recorded)."""
    if test_case is not None and backend.mock_cases is not None:
        try:
            backend.mock_cases.config.test_case(aim.record.name, test_case)
        except MockConfigError as exc:
            raise ValidationException(str(exc)) from None


async def start_execution(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StartExecution."""
    execution, _ = await _start(backend, body)
    return {"executionArn": execution.arn, "startDate": execution.start_time}


async def start_sync_execution(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StartSyncExecution: run an Express execution to its end and answer its result."""
    arn, _ = _test_case(backend, body["stateMachineArn"])
    if target(backend, arn).record.type != "EXPRESS":
        raise StateMachineTypeNotSupported()
    started, aim = await _start(backend, body)
    execution = await backend.executions.wait(started.arn)
    origin = backend.catalog.origin(execution.arn)
    answer = describe_run(execution, aim.record.arn, origin, body.get("includedData"))
    stop = execution.stop_time or execution.start_time
    billed = max(100, math.ceil((stop - execution.start_time) * 10) * 100)
    answer["billingDetails"] = {"billedDurationInMilliseconds": billed, "billedMemoryUsedInMB": 64}
    return answer


def describe_run(
    run: ExecutionView,
    machine_arn: str,
    origin: ExecutionOrigin | None,
    included: str | None = None,
) -> dict[str, Any]:
    """An execution (or a Map Run's child) as DescribeExecution answers."""
    answer = summary(run, machine_arn, origin)
    with_data = included != "METADATA_ONLY"
    if with_data:
        answer["input"] = json_text(run.input)
    answer["inputDetails"] = {"included": with_data}
    if run.status == "SUCCEEDED":
        if with_data:
            answer["output"] = json_text(run.output)
        answer["outputDetails"] = {"included": with_data}
    if run.error is not None:
        answer["error"] = run.error
    if run.cause is not None:
        answer["cause"] = run.cause
    return answer


async def describe_execution(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeExecution; a Map Run's child names the Map Run that started it
    (``mapRunArn``, the API reference's DescribeExecutionOutput)."""
    run = await execution(backend, body["executionArn"])
    origin = backend.catalog.origin(run.arn)
    machine_arn = run.state_machine_arn if origin is None else origin.target.record.arn
    answer = describe_run(run, machine_arn, origin, body.get("includedData"))
    started_by = await backend.executions.map_run_of(run.arn)
    if started_by is not None:
        answer["mapRunArn"] = started_by.arn
    return {**answer, **await _redrive_state(backend, run, started_by)}


async def _redrive_state(
    backend: Backend, run: ExecutionView, started_by: MapRunRecord | None
) -> dict[str, Any]:
    """DescribeExecution's redriveCount, redriveDate, redriveStatus and
    redriveStatusReason (the API reference: the reason only when NOT_REDRIVABLE)."""
    if run.status in ("RUNNING", "SUCCEEDED"):
        return _redrive_fields(
            run.redrive_count, run.redrive_date, f"Execution is {run.status} and cannot be redriven"
        )
    if started_by is not None:
        # "Redriving Map Runs": a STANDARD child past the history limit is never redriven,
        # whatever its parent's state: its own reason first.
        if isinstance(run, ChildRecord) and run.past_redrive_limit:
            reason: str | None = HISTORY_LIMIT_EXCEEDED
        else:
            reason = await _not_redrivable_by(backend, started_by)
        return _redrive_fields(run.redrive_count, run.redrive_date, reason, "REDRIVABLE_BY_MAP_RUN")
    reason = await backend.executions.not_redrivable(run)
    return _redrive_fields(run.redrive_count, run.redrive_date, reason)


async def _not_redrivable_by(backend: Backend, started_by: MapRunRecord) -> str | None:
    """Why the Map Run ``started_by`` cannot redrive its unsuccessful child, or None. The
    "Redriving Map Runs" page: a Map Run's children are redriven by redriving its parent
    execution, and only when that one is redrivable; so the parent's reason (a child's own
    Map Runs are not redriven with it here: our words for that)."""
    parent = await execution(backend, started_by.execution_arn)
    if await backend.executions.map_run_of(parent.arn) is not None:
        return _MAP_RUN_CHILD
    if parent.status in ("RUNNING", "SUCCEEDED"):
        return f"Execution is {parent.status} and cannot be redriven"
    return await backend.executions.not_redrivable(parent)


def _redrive_fields(
    count: int, date: float | None, reason: str | None, redrivable: str = "REDRIVABLE"
) -> dict[str, Any]:
    fields: dict[str, Any] = {"redriveCount": count}
    if date is not None:
        fields["redriveDate"] = date
    fields["redriveStatus"] = redrivable if reason is None else "NOT_REDRIVABLE"
    if reason is not None:
        fields["redriveStatusReason"] = reason
    return fields


async def redrive_execution(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """RedriveExecution: the execution goes on from where it failed (see
    :mod:`runtime.redrive`); ``ExecutionNotRedrivable`` says why it cannot. A repeated
    call with a ``clientToken`` that redrove it answers as that call did (see
    :func:`_redrove`)."""
    if parse_arn(body["executionArn"], "execution", "express").kind == "express":
        raise ExecutionNotRedrivable(not_redrivable_express())
    run = await execution(backend, body["executionArn"])
    if await backend.executions.map_run_of(run.arn) is not None:
        raise ExecutionNotRedrivable(_MAP_RUN_CHILD)
    token = body.get("clientToken")
    done = None if token is None else _redrove(backend, run.arn, token)
    if done is not None:
        return {"redriveDate": done.redrive_date}
    redrive_date = await backend.executions.redrive(run.arn)
    if token is not None:
        used = RedriveToken(run.arn, token, redrive_date, backend.now())
        backend.catalog.put_redrive_token(used)
    return {"redriveDate": redrive_date}


def _redrove(backend: Backend, execution_arn: str, token: str) -> RedriveToken | None:
    """The redrive a client token made, when a call with it is to be answered as that one
    was. AWS's API reference (RedriveExecution, clientToken): "The API will return
    idempotent responses for the last 10 client tokens used to successfully redrive the
    execution. These client tokens are valid for up to 15 minutes after they are first
    used." It leaves undocumented what a token out of that reach does, and whether a token
    is the execution's or the account's; we choose: out of reach, the call is a new one
    (a redrive, or AWS's ExecutionNotRedrivable for a running execution), and tokens are
    per execution. A token given to a call that failed is not kept ("successfully");
    one given while another call with it is still redriving is that call's twin, not yet
    kept: it is answered as a second redrive would be."""
    used = backend.catalog.redrive_token(execution_arn, token)
    if used is None or backend.now() - used.used > _REDRIVE_TOKEN_SECONDS:
        return None
    return used


async def describe_state_machine_for_execution(
    backend: Backend, body: dict[str, Any]
) -> dict[str, Any]:
    """DescribeStateMachineForExecution: the definition the execution runs."""
    run = await execution(backend, body["executionArn"])
    origin = backend.catalog.origin(run.arn)
    if origin is None:
        # A Map Run's child. AWS answers with the state machine of its Map Run, with
        # ``mapRunArn`` and ``label`` (the API reference); we keep no definition per Map
        # Run to answer with, so this differs from AWS: ExecutionDoesNotExist.
        raise ExecutionDoesNotExist(run.arn)
    aim = origin.target
    record = aim.record
    answer: dict[str, Any] = {
        "stateMachineArn": aim.version_arn or record.arn,
        "name": record.name,
        "definition": aim.definition,
        "roleArn": aim.role_arn,
        "updateDate": record.updated if record.updated is not None else record.created,
        "loggingConfiguration": record.logging,
        "tracingConfiguration": record.tracing,
    }
    if record.updated is not None and aim.revision_id is not None:
        answer["revisionId"] = aim.revision_id
    return answer


async def stop_execution(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """StopExecution: the execution ends ABORTED with the error and cause given."""
    run = await execution(backend, body["executionArn"])
    if await backend.executions.map_run_of(run.arn) is not None:
        raise ExecutionDoesNotExist(run.arn)
    await backend.executions.stop(run.arn, body.get("error"), body.get("cause"))
    try:
        ended = await asyncio.wait_for(backend.executions.wait(run.arn), _STOP_WAIT_SECONDS)
    except TimeoutError:
        return {"stopDate": backend.now()}
    return {"stopDate": ended.stop_time}


async def list_executions(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions of a machine (or of one version or alias), or of a Map Run."""
    if (body.get("mapRunArn") is None) == (body.get("stateMachineArn") is None):
        # Our wording: AWS's text for neither or both is not recorded.
        raise ValidationException("Give exactly one of stateMachineArn and mapRunArn")
    if body.get("mapRunArn") is not None:
        return _list_children(await map_run(backend, body["mapRunArn"]), body)
    arn = parse_arn(body["stateMachineArn"], "stateMachine")
    record = backend.machine_record(arn.base)
    if record.type == "EXPRESS":
        raise StateMachineTypeNotSupported()

    def started_from(run: Summarized) -> Listed | None:
        """The execution as listed, if it was started from the ARN asked about."""
        origin = backend.catalog.origin(run.arn)
        aim = None if origin is None else origin.target
        if aim is None or aim.record.arn != record.arn:
            return None
        if arn.text not in (record.arn, aim.version_arn, aim.alias_arn):
            return None
        return run, record.arn, origin

    return await backend.executions.list_page(record.arn, body, started_from)


def _list_children(run: MapRunRecord, body: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions of a Map Run: its children, each with the Map Run's ARN and how many
    items it processed (the API reference's ExecutionListItem: both only when
    ``mapRunArn`` was asked about). A stored Map Run's page is read alone, from where the
    page before ended."""
    wanted = body.get("statusFilter")
    redriven = _REDRIVE_FILTERS.get(body.get("redriveFilter", ""))
    size = page_size(body)
    offset, after = page_at(body)
    found: Sequence[tuple[ChildRecord, int | None]]
    if isinstance(run, StoredMapRunRecord):
        found = run.children_page(after, offset, size + 1, wanted, redriven)
    else:
        found = [
            (child, None)
            for child in run.executions
            if (wanted is None or child.status == wanted)
            and (redriven is None or (child.redrive_count > 0) == redriven)
        ][offset : offset + size + 1]
    more = (
        {"nextToken": offset_token(offset + size, body, found[size - 1][1])}
        if len(found) > size
        else {}
    )
    children = [
        {**listed(child, child.state_machine_arn, None), "mapRunArn": run.arn,
         "itemCount": child.item_count}
        for child, _ in found[:size]
    ]  # fmt: skip
    return {"executions": children, **more}


async def get_execution_history(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """GetExecutionHistory: ``reverseOrder``, ``includeExecutionData`` (default true),
    ``maxResults`` and ``nextToken``."""
    run = await execution(backend, body["executionArn"])
    events = list(await backend.executions.history(run.arn))
    if body.get("reverseOrder"):
        events.reverse()
    shown, more = page(events, body)
    with_data = body.get("includeExecutionData", True)
    return {"events": [_event(event, with_data) for event in shown], **more}


_DATA_FIELDS = ("input", "inputDetails", "output", "outputDetails")


def _event(event: HistoryEvent, with_data: bool) -> dict[str, Any]:
    """An event as the API answers it: its timestamp in epoch seconds, its input and
    output left out when execution data is not asked for."""
    out = event.to_aws()
    out["timestamp"] = event.timestamp
    if not with_data:
        for key, details in out.items():
            if key.endswith("EventDetails") and isinstance(details, dict):
                out[key] = {k: v for k, v in details.items() if k not in _DATA_FIELDS}
    return out


OPERATIONS: dict[str, Operation] = {
    "StartExecution": start_execution,
    "StartSyncExecution": start_sync_execution,
    "DescribeExecution": describe_execution,
    "DescribeStateMachineForExecution": describe_state_machine_for_execution,
    "StopExecution": stop_execution,
    "ListExecutions": list_executions,
    "GetExecutionHistory": get_execution_history,
    "RedriveExecution": redrive_execution,
}
