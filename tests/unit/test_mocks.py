"""MockConfigFile mocks (Step Functions Local's format) and TestState's single mock.

Format: https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-test-sm-exec.html
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from asl.errors import StatesError
from integrations.base import CallbackResult, FunctionIntegration, TaskRequest, parse_resource
from integrations.mocks import (
    MockConfig,
    MockConfigError,
    MockInvoker,
    MockValidationError,
    SingleMock,
)

LAMBDA = "arn:aws:states:::lambda:invoke"
ACTIVITY = "arn:aws:states:us-east-1:123456789012:activity:review"

CONFIG: dict[str, Any] = {
    "StateMachines": {
        "Order": {
            "TestCases": {
                "HappyPath": {"Charge": "ChargeOk", "Ship": "ShipRetried"},
                "Declined": {"Charge": "ChargeDeclined"},
                "Empty": {},
            }
        },
        "Other": {"TestCases": {"Only": {"Review": "ChargeOk"}}},
    },
    "MockedResponses": {
        "ChargeOk": {"0": {"Return": {"StatusCode": 200, "Payload": {"charged": True}}}},
        "ChargeDeclined": {"0": {"Throw": {"Error": "PaymentDeclined", "Cause": "card expired"}}},
        "ShipRetried": {
            "0-1": {"Throw": {"Error": "Lambda.ServiceException"}},
            "2": {"Return": 0},
            "3": {"Return": None},
        },
    },
}


def request(state: str, execution: str = "arn:exec:1", resource: str = LAMBDA) -> TaskRequest:
    return TaskRequest(
        parse_resource(resource), {"in": state}, state, execution, "arn:sm", "us-east-1", "1"
    )


class Recorder:
    """A real fallback Invoker that records what reached it."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def invoke(self, req: TaskRequest) -> Any:
        self.seen.append(req.state_name)
        return {"real": req.state_name}


def invoker(case: str = "HappyPath", machine: str = "Order") -> tuple[MockInvoker, Recorder]:
    fallback = Recorder()
    return MockInvoker(MockConfig.load(CONFIG), machine, case, fallback), fallback


async def outcome(mock: MockInvoker, req: TaskRequest) -> Any:
    try:
        return await mock.invoke(req)
    except StatesError as exc:
        return (exc.error, exc.cause)


async def test_counter_ranges_and_repeat_last() -> None:
    mock, _ = invoker()
    results = [await outcome(mock, request("Ship")) for _ in range(6)]
    assert results == [
        ("Lambda.ServiceException", None),
        ("Lambda.ServiceException", None),
        0,
        None,
        None,  # past the last key the last entry repeats
        None,
    ]


async def test_counter_is_per_state_per_execution() -> None:
    mock, _ = invoker()
    assert await outcome(mock, request("Ship", "arn:exec:1")) == ("Lambda.ServiceException", None)
    assert await outcome(mock, request("Ship", "arn:exec:2")) == ("Lambda.ServiceException", None)
    assert await outcome(mock, request("Charge", "arn:exec:1")) == {
        "StatusCode": 200,
        "Payload": {"charged": True},
    }
    assert await outcome(mock, request("Ship", "arn:exec:1")) == ("Lambda.ServiceException", None)
    assert await outcome(mock, request("Ship", "arn:exec:1")) == 0
    mock.forget("arn:exec:1")
    assert await outcome(mock, request("Ship", "arn:exec:1")) == ("Lambda.ServiceException", None)
    assert await outcome(mock, request("Ship", "arn:exec:2")) == ("Lambda.ServiceException", None)


async def test_throw_with_cause() -> None:
    mock, fallback = invoker("Declined")
    assert await outcome(mock, request("Charge")) == ("PaymentDeclined", "card expired")
    assert fallback.seen == []


async def test_unmocked_states_go_to_the_fallback() -> None:
    mock, fallback = invoker()
    assert await mock.invoke(request("Notify")) == {"real": "Notify"}
    assert await mock.invoke(request("Charge")) == {"StatusCode": 200, "Payload": {"charged": True}}
    assert await mock.invoke(request("Notify")) == {"real": "Notify"}
    assert fallback.seen == ["Notify", "Notify"]
    empty, fallback = invoker("Empty")
    assert await empty.invoke(request("Charge")) == {"real": "Charge"}


async def test_a_mocked_wait_for_task_token_task_returns_its_result() -> None:
    mock, _ = invoker()
    req = request("Charge", resource=LAMBDA + ".waitForTaskToken")
    # The mock answers the callback itself: the engine does not wait for the token.
    expected = CallbackResult({"StatusCode": 200, "Payload": {"charged": True}})
    assert await mock.invoke(req) == expected


async def test_activities_cannot_be_mocked() -> None:
    mock, _ = invoker("Only", "Other")
    assert await outcome(mock, request("Review", resource=ACTIVITY)) == (
        "States.Runtime",
        "Activity state cannot be mocked. Please remove mocks mapped for all activity state in "
        "the mock config file.",
    )


async def test_fallback_may_be_any_invoker() -> None:
    async def real(req: TaskRequest) -> Any:
        return "real"

    mock = MockInvoker(MockConfig.load(CONFIG), "Order", "Declined", FunctionIntegration(real))
    assert await mock.invoke(request("Other")) == "real"


@pytest.mark.parametrize(
    ("machine", "case", "message"),
    [
        ("Nope", "HappyPath", "no state machine 'Nope' (known: Order, Other)"),
        (
            "Order",
            "Nope",
            "no test case 'Nope' for state machine 'Order' (known: Declined, Empty, HappyPath)",
        ),
    ],
)
def test_unknown_machine_or_case_lists_the_known_names(
    machine: str, case: str, message: str
) -> None:
    with pytest.raises(MockConfigError, match=re.escape(message)):
        MockInvoker(MockConfig.load(CONFIG), machine, case, Recorder())


def test_load_from_json_and_yaml_files(tmp_path: Path) -> None:
    json_file = tmp_path / "MockConfigFile.json"
    json_file.write_text(json.dumps(CONFIG))
    yaml_file = tmp_path / "mocks.yaml"
    yaml_file.write_text(
        "StateMachines: {M: {TestCases: {C: {A: R}}}}\nMockedResponses: {R: {'0': {Return: 1}}}\n"
    )
    assert MockConfig.load(json_file).test_case("Order", "Declined") == {"Charge": "ChargeDeclined"}
    config = MockConfig.load(str(yaml_file))
    assert config.entry("R", 0).value == 1
    assert config.entry("R", 5).apply() == 1


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(MockConfigError, match="cannot be read"):
        MockConfig.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(MockConfigError, match=r"bad\.json: cannot be read"):
        MockConfig.load(bad)


def _doc(responses: Any, machines: Any = None) -> dict[str, Any]:
    return {
        "StateMachines": machines if machines is not None else {"M": {"TestCases": {}}},
        "MockedResponses": responses,
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "the document: must be an object, not []"),
        ({"StateMachines": {}}, "needs both StateMachines and MockedResponses"),
        ({"StateMachines": {}, "MockedResponses": {}, "X": 1}, "unknown field(s) ['X']"),
        (_doc({"R": {"first": {"Return": 1}}}), "key 'first' is not an invocation number"),
        (_doc({"R": {"-1": {"Return": 1}}}), "key '-1' is not an invocation number"),
        (_doc({"R": {"2-1": {"Return": 1}}}), "range '2-1' ends before it starts"),
        (_doc({"R": {}}), "MockedResponses.R: has no invocations"),
        (_doc({"R": {"1": {"Return": 1}}}), "MockedResponses.R: invocation 0 is not covered"),
        (
            _doc({"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}),
            "invocation 2 is covered twice",
        ),
        (
            _doc({"R": {"0": {"Return": 1}, "2": {"Return": 2}}}),
            "invocation 1 is not covered",
        ),
        (_doc({"R": {"0": {}}}), "MockedResponses.R.0: needs exactly one of Return and Throw"),
        (
            _doc({"R": {"0": {"Return": 1, "Throw": {"Error": "E"}}}}),
            "needs exactly one of Return and Throw",
        ),
        (_doc({"R": {"0": {"Return": 1, "Extra": 2}}}), "unknown field(s) ['Extra']"),
        (_doc({"R": {"0": {"Throw": "E"}}}), "MockedResponses.R.0.Throw: must be an object"),
        (_doc({"R": {"0": {"Throw": {"Cause": "c"}}}}), "Throw: Error must be text"),
        (_doc({"R": {"0": {"Throw": {"Error": "E", "Cause": 1}}}}), "Cause must be text"),
        (_doc({"R": 3}), "MockedResponses.R: must be an object, not 3"),
        (_doc({}, {"M": {"Cases": {}}}), "StateMachines.M: unknown field(s) ['Cases']"),
        (
            _doc({}, {"M": {"TestCases": {"C": {"S": "Missing"}}}}),
            "StateMachines.M.TestCases.C.S: names the response 'Missing', which "
            "MockedResponses does not define",
        ),
        (
            _doc({}, {"M": {"TestCases": {"C": {"S": 1}}}}),
            "StateMachines.M.TestCases.C.S: must name a mocked response",
        ),
    ],
)
def test_shape_errors(document: Any, message: str) -> None:
    with pytest.raises(MockConfigError, match=re.escape(message)):
        MockConfig.load(document)


async def test_single_mock() -> None:
    req = request("Any")
    assert await SingleMock(result={"a": 1}).invoke(req) == {"a": 1}
    assert await SingleMock(result=None, field_validation_mode="NONE").invoke(req) is None
    # A Lambda Invoke response is an object: STRICT and PRESENT refuse anything else.
    with pytest.raises(MockValidationError) as refused:
        await SingleMock(result=None, field_validation_mode="PRESENT").invoke(req)
    assert str(refused.value).endswith(": Mocked result must be a JSON object.")
    with pytest.raises(StatesError) as caught:
        await SingleMock(error_output={"error": "E", "cause": "why"}).invoke(req)
    assert (caught.value.error, caught.value.cause) == ("E", "why")
    with pytest.raises(StatesError) as caught:
        await SingleMock(error_output={"error": "E"}).invoke(req)
    assert (caught.value.error, caught.value.cause) == ("E", None)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of result and error_output"),
        ({"result": 1, "error_output": {"error": "E"}}, "exactly one of result and error_output"),
        ({"error_output": {"cause": "c"}}, "error_output must be"),
        ({"error_output": {"error": "E", "cause": 2}}, "error_output must be"),
        ({"error_output": {"error": "E", "other": 2}}, "error_output must be"),
    ],
)
def test_single_mock_validation(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SingleMock(**kwargs)


# --- TestState's fieldValidationMode (recorded against AWS: localstack tests/aws/services/
# stepfunctions/v2/test_state/test_field_validation_mode*.snapshot.json) ----------------


async def test_single_mock_checks_its_result_against_the_api_shape() -> None:
    req = request("Invoke")
    mock = SingleMock(result={"StatusCode": "200"})
    assert mock.field_validation_mode == "STRICT"
    with pytest.raises(MockValidationError) as caught:
        mock.validate(req.resource)
    message = "Mock result schema validation error: Field 'StatusCode' must be a number"
    assert (str(caught.value), caught.value.code) == (message, "ValidationException")
    with pytest.raises(MockValidationError, match=re.escape(message)):
        await mock.invoke(req)
    ok = {"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}}
    assert await SingleMock(result=ok).invoke(req) == ok


@pytest.mark.parametrize(
    ("mode", "result", "message"),
    [
        ("STRICT", {}, "Required field 'ExecutionArn' is missing"),
        ("PRESENT", {}, None),
        ("PRESENT", {"ExecutionArn": 1764103483}, "Field 'ExecutionArn' must be a string"),
        ("NONE", {"ExecutionArn": "arn", "StartDate": True}, None),
    ],
)
async def test_single_mock_validation_modes(mode: Any, result: Any, message: str | None) -> None:
    req = request("Start", resource="arn:aws:states:::states:startExecution")
    mock = SingleMock(result=result, field_validation_mode=mode)
    if message is None:
        assert await mock.invoke(req) == result
    else:
        with pytest.raises(MockValidationError) as caught:
            await mock.invoke(req)
        assert str(caught.value) == f"Mock result schema validation error: {message}"


async def test_single_mock_errors_and_callbacks_are_not_shape_checked() -> None:
    mock = SingleMock(error_output={"error": "States.Timeout"})
    with pytest.raises(StatesError):
        await mock.invoke(request("Invoke"))
    callback = request("Wait", resource=LAMBDA + ".waitForTaskToken")
    # The callback's output has no API shape; the mock answers the callback itself.
    assert await SingleMock(result={"StatusCode": "x"}).invoke(callback) == CallbackResult(
        {"StatusCode": "x"}
    )


def test_single_mock_validation_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="field_validation_mode must be one of"):
        SingleMock(result={}, field_validation_mode="LOOSE")  # type: ignore[arg-type]
