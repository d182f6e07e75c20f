"""TestState served by ``asl serve``, driven by boto3 (``inject_host_prefix=False``: boto3
sends TestState to a ``sync-`` host prefix otherwise): the members as botocore's model
has them, JSON text in and out, AWS's errors as the client's exception classes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings, serve_in_thread
from tests.serving import sfn_client

# One server for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("serve_test_state")

ROLE = "arn:aws:iam::123456789012:role/service-role/tests"
IO_PASS = {
    "Type": "Pass",
    "InputPath": "$.initialData",
    "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
    "ResultPath": "$.modifiedData",
    "End": True,
}
RETRY = {
    "QueryLanguage": "JSONata",
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": {"FunctionName": "foo", "Payload": "bar"},
    "Retry": [
        {"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2}
    ],
    "End": True,
}


@pytest.fixture(scope="module")
def sfn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder: Path = tmp_path_factory.mktemp("serve-test-state")
    (folder / "handlers.py").write_text("def double(event, context):\n    return event * 2\n")
    (folder / "functions.json").write_text(json.dumps({"functions": {"double": "handlers:double"}}))
    settings = ServiceSettings(clock="virtual", functions=folder / "functions.json")
    with serve_in_thread(settings) as running:
        yield sfn_client(running.url)


def test_a_pass_state_at_debug(sfn: Any) -> None:
    given = {"initialData": {"fieldFromInput": "value from input"}, "unrelated": 1}
    answer = sfn.test_state(
        definition=json.dumps(IO_PASS), input=json.dumps(given), inspectionLevel="DEBUG"
    )
    assert answer["status"] == "SUCCEEDED"
    modified = {"staticValue": "some value", "inputValue": "value from input"}
    assert json.loads(answer["output"]) == {**given, "modifiedData": modified}
    inspection = answer["inspectionData"]
    assert json.loads(inspection["input"]) == given
    assert json.loads(inspection["afterInputPath"]) == given["initialData"]
    assert json.loads(inspection["afterParameters"]) == modified
    assert "nextState" not in answer


def test_a_task_calls_its_local_function_with_a_role(sfn: Any) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
        "Next": "After",
    }
    answer = sfn.test_state(definition=json.dumps(task), input="21", roleArn=ROLE)
    assert (answer["status"], json.loads(answer["output"]), answer["nextState"]) == (
        "SUCCEEDED",
        42,
        "After",
    )


def test_a_task_without_a_role_is_refused(sfn: Any) -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double",
        "End": True,
    }
    with pytest.raises(sfn.exceptions.ValidationException) as raised:
        sfn.test_state(definition=json.dumps(task), input="1")
    assert raised.value.response["Error"]["Message"] == (
        "RoleArn must be specified when testing a Task state"
    )


def test_a_mocked_error_under_retry_is_retriable(sfn: Any) -> None:
    answer = sfn.test_state(
        definition=json.dumps(RETRY),
        roleArn=ROLE,
        inspectionLevel="TRACE",
        mock={"errorOutput": {"error": "MockException", "cause": "Mock the cause of the error."}},
        stateConfiguration={"retrierRetryCount": 4},
    )
    assert (answer["status"], answer["error"]) == ("RETRIABLE", "MockException")
    details = answer["inspectionData"]["errorDetails"]
    assert details == {"retryIndex": 0, "retryBackoffIntervalSeconds": 16}
    assert json.loads(answer["inspectionData"]["afterArguments"]) == {
        "FunctionName": "foo",
        "Payload": "bar",
    }


def test_a_mock_result_is_json_text_checked_against_the_api_shape(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.ValidationException) as raised:
        sfn.test_state(
            definition=json.dumps(RETRY), roleArn=ROLE, mock={"result": '{"StatusCode": "200"}'}
        )
    assert raised.value.response["Error"]["Message"] == (
        "Mock result schema validation error: Field 'StatusCode' must be a number"
    )
    answer = sfn.test_state(
        definition=json.dumps(RETRY),
        roleArn=ROLE,
        mock={"result": '{"StatusCode": "200"}', "fieldValidationMode": "NONE"},
    )
    assert json.loads(answer["output"]) == {"StatusCode": "200"}


def test_refusals_come_as_the_clients_exception_classes(sfn: Any) -> None:
    with pytest.raises(sfn.exceptions.ValidationException):
        sfn.test_state(definition=json.dumps(IO_PASS), mock={"result": "{}"})
    map_state = {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition=json.dumps(map_state))
    with pytest.raises(sfn.exceptions.InvalidDefinition):
        sfn.test_state(definition="{not json")
