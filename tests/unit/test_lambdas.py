"""Local Lambda functions through LocalFunctions, with real handlers.

Recorded-against-AWS shapes come from localstack's snapshots
(tests/aws/services/stepfunctions/v2/services/test_lambda_task_service.snapshot.json and
v2/error_handling/test_task_service_lambda / test_task_lambda .snapshot.json).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import math
import re
import sys
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.errors import StatesError
from integrations.base import Registry, TaskRequest, parse_resource
from integrations.handler_logs import HandlerLog
from integrations.lambdas import (
    KEPT_INVOCATIONS,
    Billing,
    Invocation,
    LambdaContext,
    LocalFunctions,
)
from tests.services import FakeServices, uid

INVOKE = "arn:aws:states:::lambda:invoke"
REGION, ACCOUNT = "us-east-1", "123456789012"
# 2025-11-06 12:31:47 UTC, the date of the test_invoke recording.
NOW = 1762432307.0
# The Host's services of the requests made since the last make().
services = FakeServices(NOW)


def legacy(name: str, region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{name}"


def request(resource: str, parameters: Any, state: str = "S") -> TaskRequest:
    return TaskRequest(
        parse_resource(resource),
        parameters,
        state,
        "arn:exec",
        "arn:sm",
        REGION,
        ACCOUNT,
        services=services,
    )


def make(**register: Any) -> LocalFunctions:
    """Local functions, and fresh services (ids from uid(1)) for the requests to come."""
    global services
    services = FakeServices(NOW)
    functions = LocalFunctions()
    for name, handler in register.items():
        functions.register(name, handler)
    return functions


async def fail(functions: LocalFunctions, resource: str, parameters: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        await functions.invoke(request(resource, parameters))
    return caught.value


def echo(event: Any, context: LambdaContext) -> Any:
    return event


def raiser(event: Any, context: LambdaContext) -> Any:
    raise ValueError("Some exception was raised.")


class PaymentDeclined(Exception):
    pass


def declined(event: Any, context: LambdaContext) -> Any:
    raise PaymentDeclined


# --- lambda:invoke: the envelope --------------------------------------------------------


async def test_invoke_envelope_matches_the_recorded_shape() -> None:
    result = await make(echo=echo).invoke(request(INVOKE, {"FunctionName": "echo"}))
    assert result["ExecutedVersion"] == "$LATEST"
    assert result["Payload"] == {}  # absent Payload -> the event is {} (recorded)
    assert result["StatusCode"] == 200
    assert result["SdkResponseMetadata"] == {"RequestId": uid(1)}
    meta = result["SdkHttpMetadata"]
    assert meta["HttpStatusCode"] == 200
    trace = meta["HttpHeaders"]["X-Amzn-Trace-Id"]
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0", trace)
    assert list(meta["AllHttpHeaders"].items()) == [
        ("X-Amz-Executed-Version", ["$LATEST"]),
        ("x-amzn-Remapped-Content-Length", ["0"]),
        ("Connection", ["keep-alive"]),
        ("x-amzn-RequestId", [uid(1)]),
        ("Content-Length", ["2"]),
        ("Date", ["Thu, 06 Nov 2025 12:31:47 GMT"]),
        ("X-Amzn-Trace-Id", [trace]),
        ("Content-Type", ["application/json"]),
    ]
    assert list(meta["HttpHeaders"]) == [
        "Connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "X-Amz-Executed-Version",
        "x-amzn-Remapped-Content-Length",
        "x-amzn-RequestId",
        "X-Amzn-Trace-Id",
    ]
    assert list(result) == [
        "ExecutedVersion",
        "Payload",
        "SdkHttpMetadata",
        "SdkResponseMetadata",
        "StatusCode",
    ]


async def test_envelopes_repeat_with_the_hosts_clock_and_ids() -> None:
    async def envelope() -> str:
        functions = make(echo=echo)
        params = {"FunctionName": "echo", "Payload": {"a": 1}, "LogType": "Tail"}
        return json.dumps(await functions.invoke(request(INVOKE, params)))

    first = await envelope()
    assert first == await envelope()
    # The trace id's random part comes from the request id (the Host's first id), not
    # from the order in which concurrent calls answer.
    token = hashlib.sha1(b"00000000-0000-0000-0000-000000000001").hexdigest()
    assert f"Root=1-690c9533-{token[:24]};Parent={token[24:40]};Sampled=0" in first


@pytest.mark.parametrize(
    ("payload", "expected", "length"),
    [
        (None, {}, "2"),  # recorded: "Payload": null
        ('"HelloWorld"', "HelloWorld", "12"),  # recorded: JSON text is sent as it is
        ("null", None, "4"),  # recorded
        ("0", 0, "1"),
        ("hello", "hello", "7"),  # not JSON: sent as a JSON string
        ({"name": "é"}, {"name": "é"}, "14"),  # UTF-8 bytes, not characters
        ([1, 2.5, True], [1, 2.5, True], "14"),
    ],
)
async def test_invoke_payload(payload: Any, expected: Any, length: str) -> None:
    result = await make(echo=echo).invoke(
        request(INVOKE, {"FunctionName": "echo", "Payload": payload})
    )
    assert result["Payload"] == expected
    assert result["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == length


async def test_bytes_are_returned_raw_then_parsed_when_json() -> None:
    # Recorded (test_invoke_bytes_payload): b'"HelloWorld!"' -> "HelloWorld!", length 13.
    functions = make(raw=lambda e, c: b'"HelloWorld!"', text=lambda e, c: b"plain")
    result = await functions.invoke(request(INVOKE, {"FunctionName": "raw"}))
    assert result["Payload"] == "HelloWorld!"
    assert result["SdkHttpMetadata"]["HttpHeaders"]["Content-Length"] == "13"
    result = await functions.invoke(request(INVOKE, {"FunctionName": "text"}))
    assert result["Payload"] == "plain"


async def test_log_type_tail_adds_the_log_result() -> None:
    result = await make(echo=echo).invoke(
        request(INVOKE, {"FunctionName": "echo", "LogType": "Tail"})
    )
    log = result["LogResult"]
    assert list(result)[:3] == ["ExecutedVersion", "LogResult", "Payload"]
    assert next(iter(result["SdkHttpMetadata"]["AllHttpHeaders"])) == "X-Amz-Log-Result"
    assert result["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Log-Result"] == log
    text = base64.b64decode(log).decode()
    assert text.startswith(f"START RequestId: {uid(1)} Version: $LATEST\nEND RequestId: {uid(1)}\n")
    assert "\tMemory Size: 128 MB\t" in text


async def test_what_a_handler_prints_is_its_log_and_tail() -> None:
    def talks(event: Any, context: LambdaContext) -> Any:
        print("to stdout")
        print("to stderr", file=sys.stderr)
        return 1

    functions = make(talks=talks)
    seen: list[Invocation] = []
    functions.on_invocation = seen.append
    result = await functions.invoke(request(INVOKE, {"FunctionName": "talks", "LogType": "Tail"}))
    assert [call.output for call in seen] == ["to stdout\nto stderr\n"]
    text = base64.b64decode(result["LogResult"]).decode()
    assert text.startswith(
        f"START RequestId: {uid(1)} Version: $LATEST\nto stdout\nto stderr\nEND RequestId: "
    )
    assert seen[0].log() == text


def test_a_handler_log_keeps_its_last_characters() -> None:
    log = HandlerLog(limit=10)
    for part in ("0123", "4567", "89ab", "cdef"):
        log.write(part)
    assert log.text() == "[6 earlier characters of output dropped]\n6789abcdef"


async def test_event_invocation_answers_202_and_runs_in_the_background() -> None:
    seen: list[Any] = []
    functions = make(record=lambda event, context: seen.append(event))
    result = await functions.invoke(
        request(INVOKE, {"FunctionName": "record", "InvocationType": "Event", "Payload": [7]})
    )
    assert result["StatusCode"] == 202
    assert result["Payload"] == ""
    assert "ExecutedVersion" not in result
    assert "X-Amz-Executed-Version" not in result["SdkHttpMetadata"]["HttpHeaders"]
    await functions.drain()
    assert seen == [[7]]
    assert [i.request_id for i in functions.invocations] == [
        result["SdkResponseMetadata"]["RequestId"]
    ]


async def test_event_invocation_failure_never_reaches_the_caller() -> None:
    functions = make(raiser=raiser)
    params = {"FunctionName": "raiser", "InvocationType": "Event"}
    assert (await functions.invoke(request(INVOKE, params)))["StatusCode"] == 202
    await functions.drain()
    assert functions.invocations[0].error == "ValueError"


async def test_dry_run_does_not_call_the_handler() -> None:
    seen: list[Any] = []
    functions = make(record=lambda event, context: seen.append(event))
    params = {"FunctionName": "record", "InvocationType": "DryRun"}
    result = await functions.invoke(request(INVOKE, params))
    assert (result["StatusCode"], result["Payload"], seen) == (204, "", [])


# --- the legacy function ARN ------------------------------------------------------------


@pytest.mark.parametrize("value", [{"a": [1, None]}, [], "text", 3.5, None, False])
async def test_legacy_arn_passes_the_input_and_returns_the_raw_result(value: Any) -> None:
    assert await make(echo=echo).invoke(request(legacy("echo"), value)) == value


async def test_handler_gets_a_copy_it_may_mutate() -> None:
    def mutate(event: Any, context: LambdaContext) -> Any:
        event["added"] = True
        return event

    parameters = {"FunctionName": "mutate", "Payload": {"x": 1}}
    result = await make(mutate=mutate).invoke(request(INVOKE, parameters))
    assert result["Payload"] == {"x": 1, "added": True}
    assert parameters == {"FunctionName": "mutate", "Payload": {"x": 1}}


async def test_a_result_the_handler_keeps_changing_is_not_the_engines() -> None:
    kept: dict[str, Any] = {"n": [1]}

    def keeper(event: Any, context: LambdaContext) -> Any:
        return kept

    result = await make(keeper=keeper).invoke(request(legacy("keeper"), {}))
    kept["n"].append(2)
    assert result == {"n": [1]}


class _Name(str):
    pass


async def test_a_result_json_reads_back_differently_comes_back_as_its_text_carries_it() -> None:
    def odd(event: Any, context: LambdaContext) -> Any:
        return {1: (1, 2), "name": _Name("x"), "big": 10**20}

    result = await make(odd=odd).invoke(request(legacy("odd"), {}))
    assert result == {"1": [1, 2], "name": "x", "big": 10**20}
    assert type(result["1"]) is list and type(result["name"]) is str


# --- errors the handler raises ----------------------------------------------------------


def _raiser_trace() -> list[str]:
    line = raiser.__code__.co_firstlineno + 1
    code = 'raise ValueError("Some exception was raised.")'
    return [f'  File "{__file__}", line {line}, in raiser\n    {code}\n']


async def test_exception_through_lambda_invoke_has_a_compact_cause() -> None:
    error = await fail(make(raiser=raiser), INVOKE, {"FunctionName": "raiser"})
    assert error.error == "ValueError"
    expected = {
        "errorMessage": "Some exception was raised.",
        "errorType": "ValueError",
        "requestId": uid(1),
        "stackTrace": _raiser_trace(),
    }
    assert error.cause == json.dumps(expected, separators=(",", ":"))


async def test_exception_through_the_legacy_arn_has_a_spaced_cause() -> None:
    error = await fail(make(raiser=raiser), legacy("raiser"), {})
    expected = {
        "errorMessage": "Some exception was raised.",
        "errorType": "ValueError",
        "requestId": uid(1),
        "stackTrace": _raiser_trace(),
    }
    assert (error.error, error.cause) == ("ValueError", json.dumps(expected))


async def test_exception_without_a_message_and_of_a_user_class() -> None:
    error = await fail(make(declined=declined), INVOKE, {"FunctionName": "declined"})
    assert error.error == "PaymentDeclined"
    assert error.cause is not None
    assert json.loads(error.cause)["errorMessage"] == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "Object of type set is not JSON serializable"),
        (math.nan, "Out of range float values are not JSON compliant"),
    ],
)
async def test_non_json_result_is_a_marshal_error(value: Any, message: str) -> None:
    error = await fail(make(bad=lambda e, c: value), INVOKE, {"FunctionName": "bad"})
    assert error.error == "Runtime.MarshalError"
    expected = {
        "errorMessage": f"Unable to marshal response: {message}",
        "errorType": "Runtime.MarshalError",
        "requestId": uid(1),
        "stackTrace": [],
    }
    assert error.cause == json.dumps(expected, separators=(",", ":"))


def _exit(code: Any) -> Any:
    def handler(event: Any, context: LambdaContext) -> Any:
        sys.exit(code)

    return handler


def _interrupt(event: Any, context: LambdaContext) -> Any:
    raise KeyboardInterrupt


async def _async_exit(event: Any, context: LambdaContext) -> Any:
    raise SystemExit(4)


@pytest.mark.parametrize(
    ("handler", "message"),
    [
        (_exit(3), "Runtime exited with error: exit status 3"),
        (_exit("bye"), "Runtime exited with error: exit status 1"),
        (_exit(None), "Runtime exited without providing a reason"),
        (_interrupt, "Runtime exited with error: signal: interrupt"),
        (_async_exit, "Runtime exited with error: exit status 4"),
    ],
)
async def test_process_exits_become_runtime_exit_errors(handler: Any, message: str) -> None:
    functions = make(quit=handler, echo=echo)
    for resource in (INVOKE, legacy("quit")):
        error = await fail(functions, resource, {"FunctionName": "quit"})
        assert error.error == "Runtime.ExitError"
        assert error.cause is not None
        assert json.loads(error.cause) == {
            "errorMessage": f"RequestId: {functions.invocations[-1].request_id} Error: {message}",
            "errorType": "Runtime.ExitError",
        }
    assert await functions.invoke(request(legacy("echo"), 1)) == 1  # the engine lives on


async def test_timeouts_of_sync_and_async_handlers_run_on_the_hosts_clock() -> None:
    cancelled = asyncio.Event()
    release = threading.Event()

    def hang(event: Any, context: LambdaContext) -> Any:
        release.wait(30)

    async def ahang(event: Any, context: LambdaContext) -> Any:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    functions = make()
    functions.register("hang", hang, timeout=2, memory=1024)
    functions.register("ahang", ahang, timeout=2, memory=1024)
    calls = asyncio.gather(
        fail(functions, INVOKE, {"FunctionName": "hang"}),
        fail(functions, legacy("ahang"), {}),
    )
    while services.pending < 2:
        await asyncio.sleep(0.001)
    assert services.timers == [2, 2]
    services.advance(1.5)
    await asyncio.sleep(0.01)
    assert not calls.done()  # the Host's clock, not the wall's, decides
    services.advance(0.5)
    errors = await calls
    release.set()
    for error in errors:
        assert error.error == "Sandbox.Timedout"
        assert error.cause is not None
        body = json.loads(error.cause)
        assert body["errorType"] == "Sandbox.Timedout"
        assert body["errorMessage"].endswith(" Error: Task timed out after 2.00 seconds")
    assert cancelled.is_set()
    assert [(i.billed_ms, i.error) for i in functions.invocations] == [
        (2000, "Sandbox.Timedout"),
        (2000, "Sandbox.Timedout"),
    ]
    assert functions.gb_seconds() == 4.0
    assert services.pending == 0


async def test_an_async_handler_that_resists_cancellation_still_times_out() -> None:
    stop = asyncio.Event()

    async def stubborn(event: Any, context: LambdaContext) -> Any:
        while not stop.is_set():
            with contextlib.suppress(asyncio.CancelledError):
                await stop.wait()
        return "too late"

    functions = make()
    functions.register("stubborn", stubborn, timeout=5)
    call = asyncio.ensure_future(fail(functions, legacy("stubborn"), {}))
    await services.wait_for_timer()
    services.advance(5)
    error = await asyncio.wait_for(call, 5)
    assert error.error == "Sandbox.Timedout"
    stop.set()
    await asyncio.sleep(0.01)


async def test_timeout_is_measured_by_the_real_timer_by_default() -> None:
    release = threading.Event()
    functions = LocalFunctions()
    functions.register("hang", lambda event, context: release.wait(30), timeout=1)
    plain = TaskRequest(parse_resource(legacy("hang")), {}, "S", "e", "m", REGION, ACCOUNT)
    with pytest.raises(StatesError) as caught:
        await functions.invoke(plain)
    release.set()
    assert caught.value.error == "Sandbox.Timedout"


async def test_a_cancelled_invocation_returns_at_once() -> None:
    release = threading.Event()
    entered = threading.Event()

    def hang(event: Any, context: LambdaContext) -> Any:
        entered.set()
        release.wait(30)

    async def ahang(event: Any, context: LambdaContext) -> Any:
        entered.set()
        await asyncio.Event().wait()

    functions = make(echo=echo)
    functions.register("hang", hang, timeout=900)
    functions.register("ahang", ahang, timeout=900)
    for name in ("hang", "ahang"):
        entered.clear()
        call = asyncio.ensure_future(functions.invoke(request(legacy(name), {})))
        while not entered.is_set():
            await asyncio.sleep(0.001)
        call.cancel()
        done, _ = await asyncio.wait({call}, timeout=5)
        assert done and call.cancelled()
    assert services.pending == 0  # the timers left the clock
    assert await functions.invoke(request(legacy("echo"), 7)) == 7  # not starved
    release.set()
    await functions.aclose()


# --- service errors ---------------------------------------------------------------------


def _service_cause(message: str, status: int, code: str, request_id: str) -> str:
    return (
        f"{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)"
    )


@pytest.mark.parametrize(
    ("resource", "name", "arn"),
    [
        (INVOKE, "nope", legacy("nope") + ":$LATEST"),
        (INVOKE, "nope:prod", legacy("nope") + ":prod"),
        (INVOKE, legacy("nope", "eu-west-1"), legacy("nope", "eu-west-1") + ":$LATEST"),
        (legacy("nope"), None, legacy("nope")),
    ],
)
async def test_unknown_function(resource: str, name: str | None, arn: str) -> None:
    error = await fail(make(echo=echo), resource, {"FunctionName": name})
    assert error.error == "Lambda.ResourceNotFoundException"
    message = f"Function not found: {arn}"
    assert error.cause == _service_cause(message, 404, "ResourceNotFoundException", uid(1))


async def test_function_registered_by_arn_answers_only_in_its_region() -> None:
    functions = make()
    functions.register(legacy("echo", "eu-west-1"), echo)
    error = await fail(functions, INVOKE, {"FunctionName": "echo"})
    assert error.error == "Lambda.ResourceNotFoundException"
    params = {"FunctionName": legacy("echo", "eu-west-1"), "Payload": 5}
    assert (await functions.invoke(request(INVOKE, params)))["Payload"] == 5


@pytest.mark.parametrize(
    ("name", "invoked"),
    [
        ("who", legacy("who")),
        ("who:prod", legacy("who") + ":prod"),
        (f"{ACCOUNT}:function:who", legacy("who")),
        (legacy("who") + ":$LATEST", legacy("who") + ":$LATEST"),
        ("arn:aws-cn:lambda:cn-north-1:123456789012:function:who", None),
    ],
)
async def test_function_name_forms(name: str, invoked: str | None) -> None:
    def who(event: Any, context: LambdaContext) -> Any:
        return context.invoked_function_arn

    result = await make(who=who).invoke(request(INVOKE, {"FunctionName": name}))
    assert result["Payload"] == (invoked or name)


async def test_qualifier_parameter() -> None:
    def who(event: Any, context: LambdaContext) -> Any:
        return context.invoked_function_arn

    functions = make(who=who)
    params = {"FunctionName": "who", "Qualifier": "live"}
    assert (await functions.invoke(request(INVOKE, params)))["Payload"] == legacy("who") + ":live"
    error = await fail(functions, INVOKE, {"FunctionName": "who:prod", "Qualifier": "live"})
    assert error.error == "Lambda.InvalidParameterValueException"
    message = "The derived qualifier from the function name does not match the specified qualifier."
    assert error.cause == _service_cause(message, 400, "InvalidParameterValueException", uid(3))


async def test_invalid_parameters() -> None:
    functions = make(echo=echo)
    error = await fail(functions, INVOKE, {"FunctionName": "bad name!"})
    assert error.error == "Lambda.ValidationException"
    assert error.cause is not None
    assert error.cause.startswith(
        "1 validation error detected: Value 'bad name!' at 'functionName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?"
    )
    error = await fail(functions, INVOKE, {"FunctionName": "echo", "InvocationType": "Later"})
    assert (error.error, error.cause) == (
        "Lambda.ValidationException",
        _service_cause(
            "1 validation error detected: Value 'Later' at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            400,
            "ValidationException",
            uid(2),
        ),
    )
    error = await fail(functions, INVOKE, {"Payload": 1})
    assert error.error == "States.Runtime"
    assert error.cause == (
        'The Parameters of a lambda:invoke Task need a FunctionName text, got {"Payload": 1}'
    )


async def test_reserved_concurrency_throttles() -> None:
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow(event: Any, context: LambdaContext) -> Any:
        started.set()
        await release.wait()
        return "done"

    functions = make()
    functions.register("slow", slow, reserved_concurrency=1)
    functions.register("off", echo, reserved_concurrency=0)
    first = asyncio.ensure_future(functions.invoke(request(legacy("slow"), {})))
    await started.wait()
    error = await fail(functions, INVOKE, {"FunctionName": "slow"})
    assert error.error == "Lambda.TooManyRequestsException"
    assert error.cause == _service_cause("Rate Exceeded.", 429, "TooManyRequestsException", uid(3))
    release.set()
    assert await first == "done"
    assert await functions.invoke(request(legacy("slow"), {})) == "done"
    error = await fail(functions, legacy("off"), {})
    assert error.error == "Lambda.TooManyRequestsException"


# --- context, registration, billing -----------------------------------------------------


async def test_context_is_like_lambdas() -> None:
    seen: list[LambdaContext] = []

    def look(event: Any, context: LambdaContext) -> Any:
        seen.append(context)
        return context.get_remaining_time_in_millis()

    functions = make()
    functions.register("look", look, timeout=60, memory=256, environment={"STAGE": "test"})
    client = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    params = {"FunctionName": "look", "ClientContext": client}
    remaining = (await functions.invoke(request(INVOKE, params)))["Payload"]
    await functions.invoke(request(legacy("look"), {}))
    first, second = seen
    assert 0 < remaining <= 60_000
    assert (first.function_name, first.function_version) == ("look", "$LATEST")
    assert first.invoked_function_arn == legacy("look")
    assert first.memory_limit_in_mb == "256"
    assert first.aws_request_id != second.aws_request_id
    assert first.log_group_name == "/aws/lambda/look"
    assert re.fullmatch(r"2025/11/06/\[\$LATEST\][0-9a-f]{32}", first.log_stream_name)
    assert dict(first.environment) == {"STAGE": "test"}
    with pytest.raises(TypeError):
        first.environment["STAGE"] = "prod"  # type: ignore[index]
    assert first.client_context is not None
    assert first.client_context.custom == {"k": "v"}
    assert second.client_context is None


async def test_remaining_time_counts_down_in_real_time_while_the_host_clock_stands_still() -> None:
    def look(event: Any, context: LambdaContext) -> Any:
        first = context.get_remaining_time_in_millis()
        time.sleep(0.05)
        return [first, context.get_remaining_time_in_millis(), context.deadline_epoch]

    functions = make()
    functions.register("look", look, timeout=60)
    first, second, deadline = await functions.invoke(request(legacy("look"), {}))
    assert 60_000 >= first > second  # as the function's timer runs: in real time
    assert deadline == NOW + 60  # on the Host's clock
    (record,) = functions.invocations
    assert (record.duration_ms, record.billed_ms) == (0, 1)  # the Host's clock stood still


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"timeout": 0}, "timeout of function f must be a whole number of seconds from 1 to 900"),
        ({"timeout": 901}, "from 1 to 900"),
        ({"timeout": 1.5}, "from 1 to 900"),
        ({"timeout": True}, "from 1 to 900"),
        ({"memory": 127}, "memory of function f must be a whole number of MB from 128 to 10240"),
        ({"memory": 10241}, "from 128 to 10240"),
        ({"reserved_concurrency": -1}, "reserved_concurrency of function f"),
        ({"environment": {"AB": "x" * 4095}}, "take 4097 bytes; Lambda allows at most 4096"),
        ({"environment": {"1X": "v"}}, "name '1X' must match"),
        ({"environment": {"AWS_REGION": "v"}}, "AWS_REGION is reserved by Lambda"),
        ({"environment": {"N": 1}}, "must match"),
        ({"environment": {"NUM": 1}}, "NUM must be text"),
        ({"environment": ["A"]}, "must be a mapping"),
    ],
)
def test_registration_is_validated(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        LocalFunctions().register("f", echo, **settings)


@pytest.mark.parametrize(
    ("name", "handler", "message"),
    [
        ("bad name", echo, "is not a Lambda function name"),
        ("x" * 65, echo, "is not a Lambda function name"),
        ("f", "echo", "the handler of function f is not callable"),
    ],
)
def test_registration_names_and_handlers(name: str, handler: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LocalFunctions().register(name, handler)


def test_registration_extremes_and_duplicates() -> None:
    functions = LocalFunctions()
    env = {"KK": "v" * 4094}  # exactly 4096 bytes
    f = functions.register("f", echo, timeout=900, memory=10240, environment=env)
    assert (f.timeout, f.memory, f.reserved_concurrency) == (900, 10240, None)
    with pytest.raises(ValueError, match="function f is already registered"):
        functions.register(legacy("f"), echo)
    assert list(functions.functions) == ["f"]


async def test_billing_rounds_up_to_a_millisecond() -> None:
    functions = make()
    functions.register("echo", echo, memory=2048)
    await functions.invoke(request(legacy("echo"), {}))
    (record,) = functions.invocations
    assert record.billed_ms == max(1, math.ceil(record.duration_ms))
    assert (record.function, record.memory_mb, record.error) == ("echo", 2048, None)
    billing = Billing()
    billing.add(Invocation("a", "1", 0.2, 1, 1024, None))
    billing.add(Invocation("b", "2", 1499.1, 1500, 2048, "ValueError", "printed"))
    assert billing == Billing(2, 1501, pytest.approx(0.001 + 3.0), logged=True)  # type: ignore[arg-type]


async def test_only_the_latest_invocations_are_kept_but_every_one_is_billed() -> None:
    def say(event: Any, context: Any) -> Any:
        print(event)
        return event

    functions = LocalFunctions(keep=3)
    functions.register("say", say, memory=1024)
    for n in range(5):
        await functions.invoke(request(legacy("say"), n))
    # the latest, oldest first
    assert [record.output for record in functions.invocations] == ["2\n", "3\n", "4\n"]
    kept = list(functions.invocations)  # records made when read, alike each time
    assert (len(functions.invocations), functions.invocations[-1]) == (3, kept[2])
    assert functions.invocations[:2] == kept[:2]
    billing = functions.billing
    assert (billing.invocations, billing.logged) == (5, True)
    assert billing.billed_ms >= 5
    assert functions.gb_seconds() == pytest.approx(billing.billed_ms / 1000)


def test_an_engine_keeps_ten_thousand_invocations_by_default() -> None:
    assert KEPT_INVOCATIONS == 10_000
    assert LocalFunctions().invocations.maxlen == KEPT_INVOCATIONS


async def test_install_and_wrong_resources() -> None:
    functions = make(echo=echo)
    registry = Registry()
    functions.install(registry)
    assert registry.find(parse_resource(INVOKE)) is functions
    assert registry.find(parse_resource(legacy("echo"))) is functions
    assert await registry.invoke(request(legacy("echo"), 2)) == 2
    with pytest.raises(ValueError, match="cannot serve"):
        await functions.invoke(request("arn:aws:states:::sqs:sendMessage", {}))


# --- properties -------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)


def _expected_event(payload: Any) -> Any:
    if payload is None:
        return {}
    if isinstance(payload, str):
        try:
            return json.loads(payload)
        except ValueError:
            return payload
    return payload


@settings(max_examples=60)
@given(json_values)
def test_any_json_round_trips(payload: Any) -> None:
    functions = make(echo=echo)

    async def run() -> tuple[Any, Any]:
        envelope = await functions.invoke(
            request(INVOKE, {"FunctionName": "echo", "Payload": payload})
        )
        return envelope["Payload"], await functions.invoke(request(legacy("echo"), payload))

    via_invoke, via_arn = asyncio.run(run())
    assert via_invoke == _expected_event(payload)
    assert via_arn == payload


@settings(max_examples=40)
@given(st.text(), json_values)
def test_a_failing_handler_only_ever_raises_states_error(message: str, value: Any) -> None:
    def failing(event: Any, context: LambdaContext) -> Any:
        if event:
            raise RuntimeError(message)
        return {"value": value, "bad": object()}

    functions = make(failing=failing)

    async def run() -> None:
        for payload in (1, 0):
            with pytest.raises(StatesError) as caught:
                await functions.invoke(request(legacy("failing"), payload))
            assert caught.value.cause is not None
            json.loads(caught.value.cause)

    asyncio.run(run())


async def test_legacy_arn_of_any_region_and_a_qualifier() -> None:
    def who(event: Any, context: LambdaContext) -> Any:
        return context.invoked_function_arn

    arn = "arn:aws:lambda:local:000000000000:function:who:live"
    assert await make(who=who).invoke(request(arn, {})) == arn
