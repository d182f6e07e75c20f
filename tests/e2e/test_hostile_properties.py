"""The invariant, by property: whatever the definition, input and handler results, the
call returns, the execution ends with a terminal event, its output and history are valid
JSON, and memory stays bounded.

Definitions are drawn from every state type (jumps only go forward, so each example is
short), with paths that miss, intrinsics that fail, hostile text (lone surrogates,
control characters), handlers that return anything or raise, and an HTTP endpoint that
answers any status, content type and body (binary, hostile JSON, deep nesting).
"""

from __future__ import annotations

import json
import resource
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn, SearchStrategy

import asl
from asl.diagnostics import has_errors
from runtime.testing import run
from tests.invariants import assert_ended
from tests.strategies import json_values

# One HTTP server for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("hostile_properties")

#: Peak resident memory the whole test process may reach (the suite runs in it too).
MEMORY_BOUND_BYTES = 2 * 1024**3
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"
CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/c/1"
CONNECTIONS = {"c": {"type": "API_KEY", "key": "k", "value": "v"}}
#: What the HTTP server answers next: status, content type, body (set per example).
ANSWER: dict[str, Any] = {"status": 200, "type": "application/json", "body": b"{}"}

# Any code point, lone surrogates and control characters included.
HOSTILE_TEXT = st.text(st.characters(exclude_categories=()), max_size=8)
HOSTILE_SCALARS: SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | HOSTILE_TEXT
)
HOSTILE_JSON = json_values(HOSTILE_TEXT, scalars=HOSTILE_SCALARS, max_leaves=12)
INPUTS = st.fixed_dictionaries(
    {"a": json_values(max_leaves=8), "s": HOSTILE_TEXT, "x": json_values(HOSTILE_TEXT)}
)
ANSWERS = st.fixed_dictionaries(
    {
        "status": st.sampled_from([200, 201, 204, 301, 404, 500, 503]),
        "type": st.sampled_from(
            ["application/json", "text/plain", "application/x-www-form-urlencoded", "image/png"]
        ),
        "body": st.binary(max_size=64)
        | HOSTILE_JSON.map(lambda v: json.dumps(v).encode())
        | st.integers(0, 20_000).map(lambda n: b"[" * n + b"]" * n),
    }
)
PATHS = st.sampled_from(
    [
        "$",
        "$.a",
        "$.a[*]",
        "$.a[1:]",
        "$..b",
        "$.a.b.c",
        "$.s",
        "States.JsonToString($)",
        "States.StringToJson($.s)",
        "States.ArrayLength($.a)",
        "States.Format('{} and {}', $.a, $.s)",
        "States.Base64Decode($.s)",
        "States.Hash($.s, 'SHA-256')",
    ]
)


@st.composite
def _state(draw: DrawFn, later: list[str]) -> dict[str, Any]:
    """One state whose transitions go only to ``later`` states (or end)."""
    kinds = ["Pass", "Task", "Http", "Choice", "Wait", "Fail", "Map", "Parallel"]
    kind = draw(st.sampled_from(kinds))
    if kind == "Http":
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::http:invoke",
            "Parameters": {
                "ApiEndpoint.$": "$$.Execution.Input.url",
                "Method": "POST",
                "Authentication": {"ConnectionArn": CONNECTION},
                "RequestBody.$": draw(PATHS),
            },
            "Next": draw(st.sampled_from(later)) if later else "Done",
        }
    state: dict[str, Any] = {"Type": kind}
    if kind == "Fail":
        state.update(Error=draw(HOSTILE_TEXT), Cause=draw(HOSTILE_TEXT))
        return state
    if kind == "Choice":
        rule = {"Variable": draw(PATHS.filter(lambda p: p.startswith("$."))), "Next": "End"}
        operator = draw(st.sampled_from(["StringEquals", "NumericGreaterThan", "IsPresent"]))
        rule[operator] = {"StringEquals": "x", "NumericGreaterThan": 1, "IsPresent": True}[operator]
        if later:
            rule["Next"] = draw(st.sampled_from(later))
            state.update(Choices=[rule], Default=draw(st.sampled_from(later)))
        else:
            state.update(Choices=[{**rule, "Next": "Done"}], Default="Done")
        return state
    if kind == "Pass" and draw(st.booleans()):
        state["Parameters"] = {"v.$": draw(PATHS)}
    elif kind == "Pass":
        state["Result"] = draw(json_values(max_leaves=6))
    elif kind == "Task":
        state.update(Resource=FUNCTION, Parameters={"in.$": draw(PATHS)})
        if draw(st.booleans()):
            state["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]
        if draw(st.booleans()):
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]
    elif kind == "Wait":
        state["Seconds"] = draw(st.integers(0, 3600))
    elif kind == "Map":
        inner = {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}}
        state.update(ItemsPath=draw(st.sampled_from(["$.a", "$.a[*]", "$"])), ItemProcessor=inner)
    else:
        branch = {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}
        state["Branches"] = [branch, branch]
    if later and draw(st.booleans()):
        state["Next"] = draw(st.sampled_from(later))
    else:
        state["Next"] = "Done"
    return state


@st.composite
def definitions(draw: DrawFn) -> dict[str, Any]:
    """A machine of 1-6 states with forward jumps, ending at a Succeed state ``Done``."""
    count = draw(st.integers(1, 6))
    names = [f"S{i}" for i in range(count)]
    states = {name: draw(_state(names[i + 1 :])) for i, name in enumerate(names)}
    states["Done"] = {"Type": "Succeed"}
    return {"StartAt": names[0], "States": states}


@st.composite
def handlers(draw: DrawFn) -> Any:
    """A Lambda handler that returns a hostile value, or raises with a hostile message."""
    result = draw(HOSTILE_JSON)
    message = draw(HOSTILE_TEXT)
    if draw(st.booleans()):
        return lambda event, context: result

    def raises(event: Any, context: Any) -> Any:
        raise ValueError(message)

    return raises


class _Answer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(ANSWER["status"])
        self.send_header("Content-Type", ANSWER["type"])
        self.send_header("Content-Length", str(len(ANSWER["body"])))
        self.end_headers()
        self.wfile.write(ANSWER["body"])

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 answering whatever the example drew."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@settings(
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(definitions(), INPUTS, handlers(), ANSWERS)
def test_every_execution_ends_with_valid_json(
    url: str, definition: dict[str, Any], input_value: Any, handler: Any, answer: Any
) -> None:
    # Forward jumps may leave a state unreachable, which AWS refuses at creation.
    assume(not has_errors(asl.validate(definition)))
    ANSWER.update(answer)
    execution = run(
        definition, {**input_value, "url": url}, functions={"f": handler}, connections=CONNECTIONS
    )
    assert_ended(execution)
    json.dumps(execution.output, allow_nan=False)  # valid JSON: no NaN or Infinity
    json.dumps(execution.history_json(), allow_nan=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert peak < MEMORY_BOUND_BYTES
