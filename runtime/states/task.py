"""Task: runs a resource through the Host, with timeouts, Retry and Catch.

History follows AWS: a service integration records TaskScheduled, TaskStarted and
TaskSucceeded / TaskFailed / TaskTimedOut; a Lambda function ARN used directly records
the LambdaFunction* events instead.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable
from functools import lru_cache
from typing import Any

from asl import model as m
from asl.bindings import Bindings
from asl.errors import TIMEOUT, StatesError, capped
from asl.flow.protocol import StateFlow
from integrations.base import CallbackResult, Resource, TaskRequest, parse_resource
from runtime.activities import run_activity
from runtime.clock import DeadlineExpired
from runtime.evaluation import evaluate, evaluate_jsonpath
from runtime.frame import Frame, check_payload
from runtime.interpreter import Outcome, with_retry_and_catch

resource_of = lru_cache(maxsize=4096)(parse_resource)


def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Awaitable[Outcome]:
    """Run the Task under its Retry and Catch (the coroutine that does: no frame of this
    one's in between)."""
    assert isinstance(state, m.Task)
    if not state.retry and not state.catch:  # nothing to retry or catch: one attempt
        return _attempt(state, raw_input, frame, entered, 0)

    def attempt(retry_count: int) -> Awaitable[Outcome]:
        return _attempt(state, raw_input, frame, entered, retry_count)

    return with_retry_and_catch(state, raw_input, frame, attempt)


async def _attempt(
    state: m.Task, raw_input: Any, frame: Frame, entered: int, retry_count: int
) -> Outcome:
    resource = resource_of(state.resource)
    run = frame.run
    token = run.host.new_task_token() if resource.pattern == "waitForTaskToken" else None
    b = frame.bindings(state, retry_count, None, token)
    flow = state.flow
    jsonpath = state.query_language == "JSONPath"  # its calls made at once, no coroutine
    try:
        if jsonpath:
            prepared = evaluate_jsonpath(state, frame, entered, _prepared, flow, raw_input, b)
        else:
            prepared = await evaluate(state, frame, entered, _prepared, flow, raw_input, b)
        payload, timeout, heartbeat = prepared
        if resource.kind != "activity":  # run_activity records its own events
            _record_scheduled(frame, resource, payload, timeout, heartbeat)
            clock = run.host.clock
            if clock.in_first_turn():  # a Map's iterations started together (see there)
                await clock.after_first_turn()
            _record_started(frame, resource)
        # Positional (resource, parameters, state_name, execution_arn, state_machine_arn,
        # region, account, task_token, timeout_seconds, heartbeat_seconds, credentials,
        # retry_count, services): one per attempt, and each keyword costs more than one.
        request = TaskRequest(
            resource, payload, state.name, run.execution_arn, run.state_machine_arn,
            run.region, run.account, token, timeout, heartbeat, None, retry_count, run.host,
        )  # fmt: skip
        result = await _invoke(frame, request, timeout, heartbeat)
    finally:
        # Done with the token however the attempt went: the TaskScheduled event and the
        # integration may have shown it, so an answer to it now is one to a task that is over.
        if token is not None:
            run.host.drop_task_token(token)
    finish = flow.finish
    if jsonpath:
        output, assigned = evaluate_jsonpath(state, frame, entered, finish, raw_input, result, b)
    else:
        output, assigned = await evaluate(state, frame, entered, finish, raw_input, result, b)
    return output, state.next, assigned


def _prepared(flow: StateFlow, raw_input: Any, b: Bindings) -> tuple[Any, int | None, int | None]:
    """The Task's payload (Parameters or Arguments), then its TimeoutSeconds and
    HeartbeatSeconds: one call, so one evaluation on the event loop."""
    payload = flow.prepare(raw_input, b)
    timeout, heartbeat = flow.timeouts(raw_input, b)
    return payload, timeout, heartbeat


def _record_scheduled(
    frame: Frame, resource: Resource, payload: Any, timeout: int | None, heartbeat: int | None
) -> None:
    """The Task's scheduled event. Between it and the started event the iterations of a
    Map started together take their first steps: AWS records the TaskStateEntered and
    TaskScheduled of each, then the TaskStarted of each (recorded: localstack
    test_timeouts test_service_lambda_map_timeout, four iterations)."""
    if resource.kind == "lambda":
        if timeout is None:  # details made when read: no mapping kept per event
            frame.record_lambda_scheduled(resource.arn, payload)
        else:
            details = {"resource": resource.arn, "input": payload, "timeoutInSeconds": timeout}
            frame.record("LambdaFunctionScheduled", details)
        return
    details = {
        "resourceType": resource.resource_type,
        "resource": resource.resource_name,
        "region": frame.run.region,
        "parameters": payload,
    }
    if timeout is not None:
        details["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        details["heartbeatInSeconds"] = heartbeat
    frame.record("TaskScheduled", details)


def _record_started(frame: Frame, resource: Resource) -> None:
    """The Task's started event."""
    if resource.kind == "lambda":
        frame.record("LambdaFunctionStarted")
        return
    frame.record(
        "TaskStarted", {"resourceType": resource.resource_type, "resource": resource.resource_name}
    )


async def _invoke(
    frame: Frame, request: TaskRequest, timeout: int | None, heartbeat: int | None
) -> Any:
    resource = request.resource
    host = frame.run.host
    frame.result_size = math.inf  # until the result is measured
    if resource.kind == "activity":
        return await run_activity(request, host.wait_for_activity, frame.record)
    try:
        if resource.pattern == "waitForTaskToken":
            result = await _submit_and_wait(frame, request, timeout, heartbeat)
        elif timeout is None:
            result = await host.invoke(request)
        else:
            result = await _within(frame, request, timeout)
        subject = resource.arn if resource.kind == "lambda" else resource.resource_type
        frame.result_size = check_payload(result, subject)
    except StatesError as raised:
        failure = capped(raised)  # a 1 MB error message must not become a 1 MB cause
        if failure.error == TIMEOUT:  # AWS records a timeout with no cause
            _record_outcome(frame, resource, "TimedOut", {"error": TIMEOUT})
        else:
            details = {"error": failure.error, "cause": failure.cause}
            _record_outcome(frame, resource, "Failed", _without_none(details))
        if failure is raised:
            raise
        raise failure from None
    if resource.kind == "lambda" and result is not None:
        frame.record_output("LambdaFunctionSucceeded", result)
    else:
        _record_outcome(frame, resource, "Succeeded", {} if result is None else {"output": result})
    return result


async def _submit_and_wait(
    frame: Frame, request: TaskRequest, timeout: int | None, heartbeat: int | None
) -> Any:
    """``.waitForTaskToken``: run the request, record TaskSubmitted, then wait for the
    token to be answered (HeartbeatSeconds and TimeoutSeconds apply)."""
    host = frame.run.host
    submitted = await host.invoke(request)
    if isinstance(submitted, CallbackResult):
        return submitted.output
    resource = request.resource
    check_payload(submitted, resource.resource_type)  # recorded: JSON of a bounded size
    frame.record(
        "TaskSubmitted",
        {"resourceType": resource.resource_type, "resource": resource.resource_name,
         "output": submitted},
    )  # fmt: skip
    return await host.wait_for_token(request, request.parameters, heartbeat, timeout)


def _record_outcome(
    frame: Frame, resource: Resource, outcome: str, details: dict[str, Any]
) -> None:
    """The Task's end event, with ``details`` (no member of them None)."""
    if resource.kind == "lambda":
        frame.record(f"LambdaFunction{outcome}", details)
        return
    typed = {"resourceType": resource.resource_type, "resource": resource.resource_name}
    frame.record(f"Task{outcome}", typed | details)


def _without_none(details: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if v is not None}


async def _within(frame: Frame, request: TaskRequest, timeout: int) -> Any:
    """The Task's result, or ``States.Timeout`` (with no cause, as AWS) once
    ``TimeoutSeconds`` have passed on the Host's clock."""
    host = frame.run.host
    try:
        async with host.deadline(timeout):
            return await host.invoke(request)
    except DeadlineExpired:
        raise StatesError(TIMEOUT, "") from None
