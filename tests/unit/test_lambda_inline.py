"""Local functions with ``"isolation": "inline"``: a sync handler called in place on the
event loop's thread, through ``local_engine`` and ``LocalFunctions.register``.

What AWS records is asserted by the spec cases (``tests/spec/test_isolation.py`` runs
every one that calls local functions with inline isolation too); these tests hold what
only inline can get wrong: what the handler prints, billing, timeouts it runs past while
nothing else can run, and the virtual clock meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from datetime import datetime
from typing import Any

import pytest

from integrations.lambdas import Isolation, LambdaContext, LocalFunctions
from runtime.clock import VirtualClock
from runtime.testing import local_engine

REGION, ACCOUNT = "us-east-1", "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:F"
INVOKE = "arn:aws:states:::lambda:invoke"


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    return {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": resource, "End": True,
                                             **fields}}}  # fmt: skip


def _invoke_with_tail() -> dict[str, Any]:
    return _task(INVOKE, Parameters={"FunctionName": "F", "Payload.$": "$", "LogType": "Tail"})


def talks(event: Any, context: LambdaContext) -> Any:
    print("to stdout", event)
    print("to stderr", file=sys.stderr)
    if event.get("fail"):
        raise LookupError(f"no {event['fail']}")
    return event


def sleeps(event: Any, context: LambdaContext) -> Any:
    print("started")
    time.sleep(event["seconds"])
    print("returned")
    return event


def _seconds(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp()


async def _run(
    handler: Any, definition: dict[str, Any], value: Any, isolation: Isolation, **settings: Any
) -> tuple[Any, LocalFunctions]:
    functions = LocalFunctions()
    functions.register("F", handler, isolation=isolation, **settings)
    engine = local_engine(functions=functions, seed=3)
    machine = engine.create_state_machine(definition)
    execution = await (await machine.start(value, name="run")).wait()
    await engine.aclose()
    return execution, functions


def _recorded(execution: Any, functions: LocalFunctions) -> Any:
    return (
        execution.status, execution.output, execution.error, execution.cause,
        execution.history_json(), list(functions.invocations), functions.billing,
    )  # fmt: skip


@pytest.mark.parametrize("value", [{"a": 1}, {"fail": "luck"}])
async def test_envelope_errors_logs_and_billing_are_a_thread_runs(value: Any) -> None:
    ran = {i: await _run(talks, _invoke_with_tail(), value, i) for i in ("thread", "inline")}
    assert _recorded(*ran["inline"]) == _recorded(*ran["thread"])
    execution, functions = ran["inline"]
    (invocation,) = functions.invocations
    assert invocation.output == f"to stdout {value}\nto stderr\n"  # its log, not the engine's
    if "fail" in value:
        assert (execution.error, invocation.error) == ("LookupError", "LookupError")
        assert json.loads(execution.cause)["errorMessage"] == "no luck"
    else:
        assert execution.output["Payload"] == value


async def test_an_inline_handler_runs_on_the_event_loops_thread() -> None:
    def where(event: Any, context: LambdaContext) -> Any:
        return threading.current_thread().name

    ran = {i: await _run(where, _task(FUNCTION_ARN), {}, i) for i in ("thread", "inline")}
    assert ran["inline"][0].output == threading.current_thread().name
    assert ran["thread"][0].output.startswith("lambda-")


async def test_a_handler_running_past_its_function_timeout_gets_lambdas_error() -> None:
    started = time.monotonic()
    execution, functions = await _run(sleeps, _task(FUNCTION_ARN), {"seconds": 1.3}, "inline",
                                      timeout=1)  # fmt: skip
    assert time.monotonic() - started >= 1.3  # nothing could stop it before it returned
    assert (execution.status, execution.error) == ("FAILED", "Sandbox.Timedout")
    cause = json.loads(execution.cause)
    assert cause["errorType"] == "Sandbox.Timedout"
    assert cause["errorMessage"].endswith(" Error: Task timed out after 1.00 seconds")
    events = execution.history_json()["events"]
    assert events[-2]["type"] == "LambdaFunctionFailed"
    # Recorded at the function's timeout, as a thread run is, not when the handler returned.
    assert _seconds(events[-1]) - _seconds(events[0]) == pytest.approx(1.0)
    (invocation,) = functions.invocations
    assert (invocation.error, invocation.billed_ms) == ("Sandbox.Timedout", 1000)
    assert invocation.output == "started\nreturned\n"  # it ran to its end


async def test_a_handler_running_past_timeout_seconds_ends_in_states_timeout() -> None:
    definition = _task(FUNCTION_ARN, TimeoutSeconds=1)
    started = time.monotonic()
    execution, functions = await _run(sleeps, definition, {"seconds": 1.3}, "inline", timeout=30)
    assert time.monotonic() - started >= 1.3  # reported once the handler returned
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    events = execution.history_json()["events"]
    assert [e["type"] for e in events[-2:]] == ["LambdaFunctionTimedOut", "ExecutionFailed"]
    assert _seconds(events[-1]) - _seconds(events[0]) == pytest.approx(1.0)
    assert list(functions.invocations) == []  # the Task ended before the invocation did


async def test_a_quick_handler_within_timeout_seconds_succeeds() -> None:
    definition = _task(FUNCTION_ARN, TimeoutSeconds=1)
    execution, _ = await _run(sleeps, definition, {"seconds": 0.2}, "inline", timeout=1)
    assert (execution.status, execution.output) == ("SUCCEEDED", {"seconds": 0.2})


async def test_the_virtual_clock_does_not_jump_while_an_inline_handler_runs() -> None:
    seen: list[float] = []
    functions = LocalFunctions()
    engine = local_engine(functions=functions, seed=3)
    clock = engine.host.clock
    assert isinstance(clock, VirtualClock)

    def looks(event: Any, context: LambdaContext) -> Any:
        seen.append(clock.now())
        time.sleep(0.2)
        seen.append(clock.now())
        return event

    functions.register("F", looks, isolation="inline")
    waits = engine.create_state_machine(
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    )
    calls = engine.create_state_machine(_task(FUNCTION_ARN))
    waiting = await waits.start({})  # parked on its Wait: time would jump if nothing ran
    calling = await calls.start({})
    await calling.wait()
    await waiting.wait()
    await engine.aclose()
    start = seen[0]
    assert seen == [start, start]
    called = calling.history_json()["events"]
    assert [_seconds(e) for e in called] == [start] * len(called)
    waited = waiting.history_json()["events"]
    assert _seconds(waited[-1]) - _seconds(waited[0]) == 3600


async def test_an_async_handler_is_run_in_place_whatever_its_isolation() -> None:
    async def answers(event: Any, context: LambdaContext) -> Any:
        await asyncio.sleep(0.01)  # a sync executor could not await this
        return {"answered": event}

    ran = [await _run(answers, _task(FUNCTION_ARN), 5, i) for i in ("thread", "inline")]
    assert [e.output for e, _ in ran] == [{"answered": 5}, {"answered": 5}]


async def test_reserved_concurrency_counts_an_inline_run_until_its_answer_is_taken() -> None:
    items = {"Type": "Map", "ItemsPath": "$", "End": True,
             "ItemProcessor": {"StartAt": "T", "States": {
                 "T": {"Type": "Task", "Resource": FUNCTION_ARN, "End": True}}}}  # fmt: skip
    definition = {"StartAt": "M", "States": {"M": items}}
    items = [{"a": 1}, {"a": 2}]
    ran = {
        i: await _run(talks, definition, items, i, reserved_concurrency=1)
        for i in ("thread", "inline")
    }
    assert ran["inline"][0].error == ran["thread"][0].error == "Lambda.TooManyRequestsException"
    inline_events = [e["type"] for e in ran["inline"][0].history_json()["events"]]
    assert inline_events == [e["type"] for e in ran["thread"][0].history_json()["events"]]


def test_an_unknown_isolation_is_refused_with_the_three_choices() -> None:
    with pytest.raises(ValueError) as refused:
        LocalFunctions().register("f", talks, isolation="fork")  # type: ignore[arg-type]
    assert str(refused.value) == (
        "isolation of function f must be 'thread', 'process' or 'inline', not 'fork'"
    )
