"""Mocked Task results checked against botocore's API output shapes (TestState's
``fieldValidationMode``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.base import parse_resource
from integrations.shapes import NOT_AN_OBJECT, check_output, output_shape

# Recorded against AWS: localstack tests/aws/services/stepfunctions/v2/test_state/
# test_field_validation_mode.snapshot.json (STRICT), test_field_validation_mode_present
# .snapshot.json (PRESENT), test_field_validation_mode_none.snapshot.json (NONE) and
# test_test_state_mock_scenarios.snapshot.json (results that pass), all of 2025-11.
EVENTS = "arn:aws:states:::events:putEvents"
START = "arn:aws:states:::states:startExecution"
LAMBDA = "arn:aws:states:::lambda:invoke"
DYNAMODB = "arn:aws:states:::dynamodb:putItem"
SQS = "arn:aws:states:::sqs:sendMessage"
S3 = "arn:aws:states:::aws-sdk:s3:getObject"
KMS = "arn:aws:states:::aws-sdk:kms:encrypt"
GET_FUNCTION = "arn:aws:states:::aws-sdk:lambda:getFunction"
SDK = "arn:aws:states:::aws-sdk:"
EXECUTION = "arn:aws:states:us-east-1:111111111111:execution:TargetStateMachine:TestStartTarget"

WRONG_EVENTS = [
    ({"Entries": "Entries value should have been a list"}, "Field 'Entries' must be an array"),
    ({"Entries": [{"EventId": ["not a string"]}]}, "Field 'EventId' must be a string"),
    (
        {"Entries": [{"EventId": "a string"}, {"EventId": ["not a string"]}]},
        "Field 'EventId' must be a string",
    ),
]
MEMORY = "Field 'MemorySize'"
UNITS = "Field 'CapacityUnits'"
CONFIG = "Configuration"
WRONG_ANYWHERE = [
    (LAMBDA, {"StatusCode": "200"}, "Field 'StatusCode' must be a number"),
    (DYNAMODB, {"ConsumedCapacity": {"CapacityUnits": "1.5"}}, f"{UNITS} must be a number"),
    (S3, {"ContentLength": "9000"}, "Field 'ContentLength' must be a number"),
    (S3, {"StorageClass": "Papyrus"}, "Field 'StorageClass' is not an expected value"),
    (KMS, {"CiphertextBlob": 123}, "Field 'CiphertextBlob' must be a string"),
    (KMS, {"CiphertextBlob": ""}, "Field 'CiphertextBlob' is smaller than the minimum length"),
    (GET_FUNCTION, {CONFIG: {"MemorySize": 127}}, f"{MEMORY} is less than the minimum value"),
    # Recorded with 10241 when Lambda's maximum was 10240; botocore now says 32768.
    (GET_FUNCTION, {CONFIG: {"MemorySize": 40000}}, f"{MEMORY} exceeds the maximum value"),
]  # fmt: skip
PASSING = [
    (EVENTS, {"random": "json"}),  # fields the shape does not name are not checked
    (EVENTS, {}),
    (EVENTS, {"Entries": [{"EventId": "2b7b2d8c-0cba-4d7c-a9b1-7b0e6f3d3d6e"}]}),
    (LAMBDA, {"Payload": "function output", "SdkHttpMetadata": {"HttpStatusCode": 200}}),
    (DYNAMODB, {"SdkHttpMetadata": {"HttpStatusCode": 200}}),
    (SQS, {"MD5OfMessageBody": "0f6d9f1e2c4c0e5e4f4b2b3a6f0a1c2d", "MessageId": "id"}),
    (START, {"ExecutionArn": EXECUTION, "StartDate": "2025-11-25T00:48:49.123456"}),
]


def problems(resource: str, value: Any, mode: Any) -> list[str]:
    return check_output(parse_resource(resource), value, mode)


@pytest.mark.parametrize("mode", ["STRICT", "PRESENT"])
@pytest.mark.parametrize(("value", "message"), WRONG_EVENTS)
def test_recorded_wrong_types_in_a_list(value: Any, message: str, mode: str) -> None:
    assert problems(EVENTS, value, mode) == [message]


@pytest.mark.parametrize("mode", ["STRICT", "PRESENT"])
@pytest.mark.parametrize(("resource", "value", "message"), WRONG_ANYWHERE)
def test_recorded_wrong_values(resource: str, value: Any, message: str, mode: str) -> None:
    assert problems(resource, value, mode) == [message]


@pytest.mark.parametrize(("resource", "value"), PASSING)
def test_recorded_results_that_pass(resource: str, value: Any) -> None:
    assert problems(resource, value, "STRICT") == []


NO_ARN = "Required field 'ExecutionArn' is missing"
NO_DATE = "Required field 'StartDate' is missing"
DATE_TYPE = "Field 'StartDate' must be a string"
ARN_TYPE = "Field 'ExecutionArn' must be a string"


@pytest.mark.parametrize(
    ("value", "strict", "present"),
    [
        ({}, [NO_ARN, NO_DATE], []),
        # camelCase names are not the shape's fields as Step Functions writes them
        ({"executionArn": "arn", "startDate": "date"}, [NO_ARN, NO_DATE], []),
        ({"ExecutionArn": "arn", "StartDate": True}, [DATE_TYPE], [DATE_TYPE]),
        ({"ExecutionArn": "arn", "StartDate": 1764103483}, [DATE_TYPE], [DATE_TYPE]),
        ({"StartDate": True}, [NO_ARN, DATE_TYPE], [DATE_TYPE]),
        ({"ExecutionArn": 1764103483}, [NO_DATE, ARN_TYPE], [ARN_TYPE]),
    ],
)
def test_recorded_required_fields(value: Any, strict: list[str], present: list[str]) -> None:
    # AWS reports the first problem only: the first of each list is what it said.
    assert problems(START, value, "STRICT") == strict
    assert problems(START, value, "PRESENT") == present
    assert problems(START, value, "NONE") == []


# --- beyond the recordings --------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:lambda:us-east-1:123456789012:function:f",  # the function's own result
        "arn:aws:states:us-east-1:123456789012:activity:a",
        "arn:aws:states:::http:invoke",
        "arn:aws:states:::lambda:invoke.waitForTaskToken",  # whatever the callback sends
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:::nosuchservice:doIt",
        "arn:aws:states:::aws-sdk:s3:noSuchAction",
    ],
)
def test_resources_without_a_known_shape_are_not_checked(resource: str) -> None:
    assert output_shape(parse_resource(resource)) is None
    assert problems(resource, {"StatusCode": "wrong"}, "STRICT") == []
    assert problems(resource, "not even an object", "STRICT") == []


@pytest.mark.parametrize(
    ("resource", "value", "message"),
    [
        # SDK service names that are not botocore's
        (SDK + "sfn:startExecution", {}, NO_ARN),
        (SDK + "eventbridge:putEvents", {"Entries": 1}, "Field 'Entries' must be an array"),
        (SDK + "bedrockruntime:invokeModel", {}, "Required field 'Body' is missing"),
        ("arn:aws:states:::bedrock:invokeModel", {}, "Required field 'Body' is missing"),
        # an action named with any case
        (SDK + "s3:GetObject", {"ContentLength": "1"}, "Field 'ContentLength' must be a number"),
        # types the recordings do not show
        (GET_FUNCTION, {"Configuration": "text"}, "Field 'Configuration' must be an object"),
        (GET_FUNCTION, {"Tags": ["a"]}, "Field 'Tags' must be an object"),
        (GET_FUNCTION, {"Tags": {"k": 1}}, "Field 'Tags' must be a string"),
        (S3, {"DeleteMarker": "true"}, "Field 'DeleteMarker' must be a boolean"),
        (KMS, {"KeyId": "k" * 2049}, "Field 'KeyId' exceeds the maximum length"),
        (LAMBDA, {"Payload": {"an": "object"}}, "Field 'Payload' must be a string"),
        (LAMBDA, [1, 2], NOT_AN_OBJECT),
        (LAMBDA, "text", NOT_AN_OBJECT),
    ],
)  # fmt: skip
def test_unrecorded_checks(resource: str, value: Any, message: str) -> None:
    assert problems(resource, value, "STRICT")[:1] == [message]


def test_nulls_count_as_absent_and_the_mode_is_checked() -> None:
    assert problems(START, {"ExecutionArn": None, "StartDate": "d"}, "STRICT") == [
        "Required field 'ExecutionArn' is missing"
    ]
    assert problems(START, {"ExecutionArn": None, "StartDate": None}, "PRESENT") == []
    assert problems(EVENTS, {"Entries": [None, {"EventId": None}]}, "STRICT") == []
    with pytest.raises(ValueError, match="fieldValidationMode must be one of"):
        problems(START, {}, "LOOSE")


def test_numbers_and_enums() -> None:
    assert problems(LAMBDA, {"StatusCode": 200.0}, "STRICT") == []
    assert problems(LAMBDA, {"StatusCode": True}, "STRICT") == [
        "Field 'StatusCode' must be a number"
    ]
    assert problems(S3, {"StorageClass": "GLACIER", "ContentLength": 12}, "STRICT") == []


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["Entries", "EventId", "StatusCode", "Payload", "Configuration", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(
    resource=st.sampled_from([EVENTS, START, LAMBDA, DYNAMODB, S3, KMS, GET_FUNCTION]),
    value=JSON,
    mode=st.sampled_from(["STRICT", "PRESENT", "NONE"]),
)
def test_any_json_value_gives_a_list_of_problems(resource: str, value: Any, mode: str) -> None:
    found = problems(resource, value, mode)
    assert isinstance(found, list)
    assert all(isinstance(p, str) and p for p in found)
    if mode == "NONE":
        assert found == []
