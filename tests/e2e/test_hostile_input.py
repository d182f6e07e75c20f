"""Hostile data through the public entry points: every execution ends with a terminal
event, nothing escapes to the caller, and the process keeps serving.

Lone surrogates are data (AWS's services accept them): sizes, histories, the task-token
store and the CLI's output must all cope. Nesting deeper than Python's stack is refused
where it comes in (a clear error) or fails the execution (``States.DataLimitExceeded``).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from typer.testing import CliRunner

from asl.diagnostics import DefinitionError
from asl.jsontext import json_size
from integrations.base import FunctionIntegration, Registry
from integrations.http import SOCKET_TIMEOUT, HttpInvoke
from runtime.api_limits import ValidationException
from runtime.cli.commands import app
from runtime.executions import Engine, InvalidExecutionInput
from runtime.host import LocalHost
from runtime.store import InvalidOutput, NewTask, TaskStore
from runtime.testing import local_engine, run
from tests.invariants import assert_ended
from visualizer import render
from visualizer.dot import to_dot
from visualizer.layout import RenderError, layout

CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/c/1"
TOKEN = "t" * 43  # the shape of a task token
LONE = "\ud83d"  # the high half of an emoji, alone
DEEP = 100_000  # levels: far past Python's recursion limit


def _pass(**fields: Any) -> dict[str, Any]:
    return {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True, **fields}}}


def _deep(levels: int) -> list[Any]:
    top: list[Any] = []
    inner = top
    for _ in range(levels):
        inner.append([])
        inner = inner[0]
    return top


@pytest.mark.parametrize(
    ("definition", "input_value"),
    [
        (
            _pass(Parameters={"v.$": "States.StringToJson($.s)"}),
            {"s": '{"name":"\\ud83d"}'},
        ),
        (
            {
                "QueryLanguage": "JSONata",
                "StartAt": "P",
                "States": {
                    "P": {"Type": "Pass", "Output": "{% $parse($states.input.s) %}", "End": True}
                },
            },
            {"s": '{"name":"\\ud83d"}'},
        ),
        (_pass(), {"name": LONE}),
    ],
    ids=["StringToJson", "$parse", "input"],
)
def test_a_lone_surrogate_is_data(definition: dict[str, Any], input_value: Any) -> None:
    execution = run(definition, input_value)
    assert_ended(execution)
    assert execution.status == "SUCCEEDED"
    output = execution.output.get("v", execution.output)
    assert output == {"name": LONE}
    assert json_size(output) == len('{"name":""}') + 3  # a code unit is three bytes


def test_a_lambda_result_with_a_lone_surrogate_is_data() -> None:
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}
    definition = {"StartAt": "T", "States": {"T": {**task, "End": True}}}
    execution = run(definition, {}, functions={"f": lambda event, context: {"x": LONE}})
    assert_ended(execution)
    assert execution.output == {"x": LONE}


@pytest.fixture
async def hostile_http() -> AsyncIterator[str]:
    """A server on 127.0.0.1 answering JSON a careful client must survive."""

    async def surrogate(request: web.Request) -> web.Response:
        return web.Response(text='{"name": "\\ud800"}', content_type="application/json")

    async def deep(request: web.Request) -> web.Response:
        return web.Response(text="[" * DEEP + "]" * DEEP, content_type="application/json")

    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(100):  # one byte at a time, each well within a socket read timeout
            await response.write(b" ")
            await asyncio.sleep(0.2)
        await response.write(b"{}")
        return response

    application = web.Application()
    application.router.add_get("/surrogate", surrogate)
    application.router.add_get("/deep", deep)
    application.router.add_get("/drip", drip)
    runner = web.AppRunner(application, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


async def _http(url: str, socket_timeout: float = SOCKET_TIMEOUT) -> Any:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {
            "ApiEndpoint": url,
            "Method": "GET",
            "Authentication": {"ConnectionArn": CONNECTION},
        },
        "ResultSelector": {"body.$": "$.ResponseBody"},
        "End": True,
    }
    registry = Registry()
    connections = {"c": {"type": "API_KEY", "key": "k", "value": "v"}}
    HttpInvoke(connections, socket_timeout=socket_timeout).install(registry)
    machine = Engine(LocalHost(invoker=registry)).create_state_machine(
        {"StartAt": "H", "States": {"H": task}}
    )
    return await (await machine.start({})).wait()


async def test_an_http_response_with_a_lone_surrogate_is_data(hostile_http: str) -> None:
    execution = await _http(hostile_http + "/surrogate")
    assert_ended(execution)
    assert execution.output == {"body": {"name": "\ud800"}}


async def test_an_http_response_nested_too_deeply_is_kept_as_text(hostile_http: str) -> None:
    execution = await _http(hostile_http + "/deep")
    assert_ended(execution)
    assert execution.status == "SUCCEEDED"
    assert execution.output["body"] == "[" * DEEP + "]" * DEEP


def test_an_input_nested_too_deeply_is_refused_at_the_door() -> None:
    with pytest.raises(InvalidExecutionInput, match="nested too deeply"):
        run(_pass(), {"v": _deep(DEEP)})


def test_an_input_over_the_api_limit_is_refused_at_the_door() -> None:
    with pytest.raises(ValidationException, match="less than or equal to 262144 bytes in UTF-8"):
        run(_pass(), {"v": "é" * 131_069})  # 131,076 characters, 262,146 bytes


def test_a_result_nested_too_deeply_fails_the_execution() -> None:
    # Lambda's runtime cannot write such a result as JSON: its own error, as on AWS.
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"}
    definition = {"StartAt": "T", "States": {"T": {**task, "End": True}}}
    execution = run(definition, {}, functions={"f": lambda event, context: _deep(DEEP)})
    assert_ended(execution)
    assert (execution.status, execution.error) == ("FAILED", "Runtime.MarshalError")


def test_asl_run_refuses_an_input_file_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "m.asl.json").write_text(json.dumps(_pass()))
    (tmp_path / "deep.json").write_text("[" * DEEP + "]" * DEEP)
    result = CliRunner().invoke(
        app, ["run", str(tmp_path / "m.asl.json"), "--input", f"@{tmp_path / 'deep.json'}"]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("asl run: InvalidExecutionInput: ")
    assert "nested too deeply" in result.stderr


def test_approving_with_a_lone_surrogate_in_the_output_answers_the_task(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "store")
    store.add(
        NewTask(
            token=TOKEN,
            kind="callback",
            execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
            state_name=f"Ask {LONE}",
            resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
            input=json.dumps({"q": LONE}, ensure_ascii=False),
            heartbeat_seconds=None,
            timeout_seconds=None,
        )
    )
    listed = CliRunner().invoke(app, ["tasks", "--store", str(tmp_path / "store"), "-f", "json"])
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout)[0]["input"] == {"q": LONE}
    answered = CliRunner().invoke(
        app,
        ["tasks", "approve", TOKEN, "--store", str(tmp_path / "store"), "--output",
         '{"ok": "\\ud800"}'],
    )  # fmt: skip
    assert answered.exit_code == 0, answered.output
    record = store.get(TOKEN)
    assert record is not None and record.status == "SUCCEEDED"
    assert json.loads(record.output or "") == {"ok": "\ud800"}


def _fake_dot(folder: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``dot`` on PATH that behaves as ``body`` (Python) says."""
    script = folder / "dot"
    script.write_text(f"#!{sys.executable}\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def test_dot_that_takes_too_long_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dot(tmp_path, "import time; time.sleep(30)", monkeypatch)
    started = time.monotonic()
    with pytest.raises(RenderError, match=r"within 0.5 s; draw it as .dot or .mmd"):
        layout("digraph { a -> b }", "svg", seconds=0.5)
    assert time.monotonic() - started < 10


def test_dot_that_needs_too_much_memory_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dot(tmp_path, "x = bytearray(400 * 1024 * 1024)", monkeypatch)
    with pytest.raises(RenderError, match=r"dot ran out of its 200 MB .*MemoryError"):
        layout("digraph { a -> b }", "svg", memory_bytes=200 * 1024 * 1024)


def test_states_whose_names_differ_only_in_control_characters_are_two_nodes(
    tmp_path: Path,
) -> None:
    definition = {
        "StartAt": "A\nB",
        "States": {
            "A\nB": {"Type": "Pass", "Next": "A B"},
            "A B": {"Type": "Pass", "Next": "N\u0000ul"},
            "N\u0000ul": {"Type": "Succeed"},
        },
    }
    render(definition, tmp_path / "names.svg")
    svg = ET.parse(tmp_path / "names.svg").getroot()
    titles = ["".join(g.itertext()) for g in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "A\\nB" in titles and "A B" in titles and "N\\u0000ul" in titles
    assert "digraph" in to_dot(definition) and '"/States/A\\u000aB"' in to_dot(definition)


def test_task_tokens_never_look_like_options() -> None:
    host = LocalHost()
    tokens = [host.new_task_token() for _ in range(2000)]  # about 31 would start with "-"
    assert not [t for t in tokens if t.startswith("-")]
    assert len(set(tokens)) == len(tokens)


LOOP = {
    "StartAt": "C",
    "States": {
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "NumericEquals": 1, "Next": "D"}],
            "Default": "P",
        },
        "P": {"Type": "Pass", "Next": "C"},
        "D": {"Type": "Succeed"},
    },
}


async def test_a_loop_that_never_waits_still_times_out_and_lets_others_run() -> None:
    engine = local_engine()
    # Express (no 25,000-event limit) and a state with some work, so the loop runs on
    # until the timeout, far from the Express history bound.
    busy = {
        "Type": "Pass",
        "Parameters": {"r.$": "States.ArrayRange(1, 300, 1)"},
        "ResultPath": "$.r",
        "Next": "C",
    }
    definition = {**LOOP, "TimeoutSeconds": 1, "States": {**LOOP["States"], "P": busy}}
    machine = engine.create_state_machine(definition, type="EXPRESS")
    looping = await machine.start({"x": 0})
    quick = await engine.create_state_machine(_pass(), name="quick").start({})
    await quick.wait()
    assert quick.status == "SUCCEEDED" and looping.status == "RUNNING"
    await looping.wait()
    assert (looping.status, looping.error) == ("TIMED_OUT", "States.Timeout")
    assert_ended(looping)


async def test_an_express_execution_ends_after_five_minutes() -> None:
    wait = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
    engine = local_engine()
    execution = await engine.create_state_machine(wait, type="EXPRESS").start({})
    await execution.wait()
    assert (execution.status, execution.error) == ("TIMED_OUT", "States.Timeout")
    assert execution.stop_time is not None
    assert execution.stop_time - execution.start_time == pytest.approx(300)


async def test_an_express_history_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("runtime.executions.EXPRESS_HISTORY_LIMIT_EVENTS", 2_000)
    engine = local_engine()
    execution = await engine.create_state_machine(LOOP, type="EXPRESS").start({"x": 0})
    await execution.wait()
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause == (
        "The execution reached this engine's limit of 2000 history events for an Express execution."
    )
    assert_ended(execution)


async def test_an_http_endpoint_that_drips_its_body_times_out(hostile_http: str) -> None:
    started = time.monotonic()
    execution = await _http(hostile_http + "/drip", socket_timeout=1)
    assert time.monotonic() - started < 5  # the body would take 20 s
    assert (execution.status, execution.error) == ("FAILED", "States.Http.Socket")
    assert_ended(execution)


# --- Limits AWS enforces on what comes in ------------------------------------------------

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"
CALLBACK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}
# AWS's message for a member over its length (SendTaskFailure's cause, recorded in
# irothschild/stefuna#8; the same constraint form for every member of the service model).
TOO_LONG = (
    "Value at '{}' failed to satisfy constraint: Member must have length less than or equal to {}"
)


async def _waiting_callback() -> tuple[Any, Any, str]:
    async def sent(request: Any) -> Any:
        return {}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(sent))
    host = LocalHost(invoker=registry)
    execution = await Engine(host).create_state_machine(CALLBACK).start({})
    for _ in range(100):
        if host.tokens.pending():
            return host, execution, host.tokens.pending()[0].token
        await asyncio.sleep(0)
    raise AssertionError("the execution never waited on its token")


async def test_send_task_success_over_256_kib_is_refused_and_the_task_still_waits() -> None:
    # SendTaskSuccess output: at most 262,144 bytes of UTF-8 (API reference, botocore).
    host, execution, token = await _waiting_callback()
    with pytest.raises(ValidationException) as refused:
        host.tokens.send_success(token, "é" * 131_072)  # 262,146 bytes as JSON text
    assert str(refused.value) == (
        "ValidationException: 1 validation error detected: Value at 'output' failed to satisfy "
        "constraint: Member must have size less than or equal to 262144 bytes in UTF-8 encoding"
    )
    with pytest.raises(InvalidOutput, match="NaN and Infinity are not JSON numbers"):
        host.tokens.send_success(token, {"x": float("nan")})
    assert execution.status == "RUNNING"
    host.tokens.send_success(token, "é" * 131_071)  # exactly 262,144: accepted
    await execution.wait()
    assert_ended(execution)
    assert execution.status == "SUCCEEDED"


async def test_send_task_failure_over_aws_lengths_is_refused() -> None:
    # SendTaskFailure: error at most 256, cause at most 32,768 characters (botocore model);
    # AWS refuses more with ValidationException (recorded: irothschild/stefuna#8).
    host, execution, token = await _waiting_callback()
    with pytest.raises(ValidationException) as refused:
        host.tokens.send_failure(token, "E", "c" * 32_769)
    assert str(refused.value).endswith(
        "1 validation error detected: " + TOO_LONG.format("cause", 32768)
    )
    with pytest.raises(ValidationException) as both:
        host.tokens.send_failure(token, "E" * 257, "😀" * 16_385)  # 32,770 UTF-16 units
    assert str(both.value).endswith(
        "2 validation errors detected: "
        + TOO_LONG.format("error", 256)
        + "; "
        + TOO_LONG.format("cause", 32768)
    )
    host.tokens.send_failure(token, "E" * 256, "😀" * 16_384)  # at the limits: accepted
    await execution.wait()
    assert_ended(execution)
    assert (execution.error, execution.cause) == ("E" * 256, "😀" * 16_384)


async def test_stop_execution_over_aws_lengths_is_refused() -> None:
    _, execution, _ = await _waiting_callback()
    with pytest.raises(ValidationException, match="Value at 'cause'"):
        execution.stop("E", "c" * 32_769)
    execution.stop("E", "c" * 32_768)
    await execution.wait()
    assert_ended(execution)
    assert (execution.status, execution.cause) == ("ABORTED", "c" * 32_768)


def test_asl_tasks_refuses_answers_over_aws_lengths(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text(json.dumps("x" * 262_143))  # 262,145 bytes with its quotes
    result = _asl("tasks", "approve", TOKEN, "--store", str(tmp_path / "s"), "-o", f"@{big}")
    assert result.returncode == 2
    assert result.stderr == (
        "asl tasks: ValidationException: 1 validation error detected: Value at 'output' failed "
        "to satisfy constraint: Member must have size less than or equal to 262144 bytes in "
        "UTF-8 encoding\n"
    )
    rejected = _asl(
        "tasks", "reject", TOKEN, "--store", str(tmp_path / "s"), "--cause", "c" * 32_769
    )
    assert rejected.returncode == 1
    assert rejected.stderr == (
        "asl tasks: ValidationException: 1 validation error detected: "
        + TOO_LONG.format("cause", 32768)
        + "\n"
    )


class _Huge(Exception):
    pass


def _raises_a_huge_error(event: Any, context: Any) -> Any:
    raise type("E" * 300, (Exception,), {})("m" * 1_000_000)


def _raises_a_long_cause(event: Any, context: Any) -> Any:
    raise _Huge("m" * 1_000_000)


@pytest.mark.parametrize("resource", [FUNCTION, "arn:aws:states:::lambda:invoke"])
def test_a_megabyte_error_message_becomes_a_cause_of_aws_length(resource: str) -> None:
    # TaskFailed / LambdaFunctionFailed / ExecutionFailed hold at most 256 characters of
    # error and 32,768 of cause (botocore's event detail shapes); how AWS shortens a longer
    # one is not recorded: cut at the limit.
    task = {"Type": "Task", "Resource": resource, "Parameters": {"FunctionName": "f"}}
    if resource == FUNCTION:
        del task["Parameters"]
    definition = {"StartAt": "T", "States": {"T": {**task, "End": True}}}
    for handler, error in ((_raises_a_long_cause, "_Huge"), (_raises_a_huge_error, "E" * 256)):
        execution = run(definition, {}, functions={"f": handler})
        assert_ended(execution)
        assert execution.error == error
        assert execution.cause is not None and len(execution.cause) == 32_768
        failed = [e for e in execution.history_json()["events"] if e["type"].endswith("Failed")]
        for event in failed:
            details = next(v for k, v in event.items() if k.endswith("EventDetails"))
            assert (details["error"], len(details["cause"])) == (error, 32_768)


def test_a_fail_state_cause_from_a_path_is_cut_to_aws_length() -> None:
    definition = {
        "StartAt": "F",
        "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}},
    }
    execution = run(definition, {"e": "x" * 300, "c": "a😀" * 20_000})
    assert_ended(execution)
    assert execution.error == "x" * 256
    # 32,768 UTF-16 units, the last pair not cut in half: "a😀" is three units
    assert execution.cause == "a😀" * 10_922 + "a"


def test_a_path_error_quoting_a_huge_input_ends_with_a_cause_of_aws_length() -> None:
    execution = run(_pass(Parameters={"v.$": "$.missing"}), {"x": "y" * 200_000})
    assert_ended(execution)
    assert execution.error == "States.Runtime"
    assert execution.cause is not None and len(execution.cause) == 32_768
    assert execution.cause.startswith("An error occurred while executing the state 'P'")
    failed = execution.history_json()["events"][-1]["executionFailedEventDetails"]
    assert failed["cause"] == execution.cause


# --- Numbers JSON cannot hold --------------------------------------------------------------


def test_a_yaml_definition_with_infinity_is_refused(tmp_path: Path) -> None:
    (tmp_path / "m.asl.yaml").write_text(
        "StartAt: P\nStates:\n  P:\n    Type: Pass\n    Result: {a: .inf, b: .nan}\n    End: true\n"
    )
    result = _asl("run", str(tmp_path / "m.asl.yaml"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        "INVALID_JSON_DESCRIPTION NaN and Infinity are not JSON numbers (/States/P/Result/a)"
        in (result.stderr)
    )


def test_nan_from_the_python_api_is_refused_at_the_door() -> None:
    with pytest.raises(InvalidExecutionInput, match="NaN and Infinity are not JSON numbers"):
        run(_pass(), {"x": float("inf")})
    with pytest.raises(DefinitionError, match="INVALID_JSON_DESCRIPTION"):
        run(_pass(Result=[1, float("nan")]), {})


def test_a_mocked_infinity_fails_the_execution_and_never_reaches_the_output(
    tmp_path: Path,
) -> None:
    mocks = {
        "StateMachines": {"m": {"TestCases": {"C": {"T": "R"}}}},
        "MockedResponses": {"R": {"0": {"Return": {"x": float("inf")}}}},
    }
    definition = {
        "StartAt": "T",
        "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": True}},
    }
    execution = run(definition, {}, state_machine_name="m", mock_config=mocks, test_case="C")
    assert_ended(execution)
    assert (execution.status, execution.error) == ("FAILED", "States.Runtime")
    assert execution.cause == (
        f"The state/task '{FUNCTION}' returned a result holding NaN or Infinity, which JSON "
        "cannot hold."
    )
    types = [e["type"] for e in execution.history_json()["events"]]
    assert "LambdaFunctionSucceeded" not in types and "TaskStateExited" not in types


def _asl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args], capture_output=True, text=True, timeout=120
    )
