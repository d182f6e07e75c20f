"""integrations.aws.shapes, service names and HTTP metadata: no network involved."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from botocore.model import OperationModel
from botocore.session import get_session
from hypothesis import given, settings
from hypothesis import strategies as st

import integrations.aws as aws
from asl.errors import StatesError
from integrations.aws.client import RAW_HEADERS, AwsClients
from integrations.aws.config import ENDPOINT_ENV, OPTIMIZED_KEYS, AwsConfig
from integrations.aws.optimized import OptimizedAwsIntegration, http_metadata
from integrations.aws.sdk import botocore_service_name
from integrations.aws.shapes import from_response, instant_text, to_request
from integrations.base import Registry, parse_resource

_SESSION = get_session()


def _op(service: str, name: str) -> OperationModel:
    return _SESSION.get_service_model(service).operation_model(name)


def test_exports() -> None:
    assert sorted(aws.__all__) == [
        "AwsClients",
        "AwsConfig",
        "AwsIntegrations",
        "AwsSdkIntegration",
        "ENDPOINT_ENV",
        "OptimizedAwsIntegration",
        "install",
    ]
    for name in aws.__all__:
        assert hasattr(aws, name)


def test_optimized_keys_are_the_actions_served() -> None:
    assert OptimizedAwsIntegration.keys == OPTIMIZED_KEYS


def test_install_registers_every_key_on_one_lazy_integration() -> None:
    registry = Registry()
    integrations = aws.install(registry, AwsConfig(endpoint_url="http://127.0.0.1:1"))
    for arn in (
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:::dynamodb:deleteItem",
        "arn:aws:states:::aws-sdk:s3:getObject",
    ):
        assert registry.find(parse_resource(arn)) is integrations
    assert registry.find(parse_resource("arn:aws:states:::lambda:invoke")) is None


# --- requests -------------------------------------------------------------------------


def test_pascal_case_members_map_to_a_camel_case_api() -> None:
    # recorded against AWS: sfn startExecution takes StateMachineArn, Input, Name
    params = {"StateMachineArn": "arn:sm", "Input": {"key": "value"}, "Name": "n"}
    assert to_request(params, _op("stepfunctions", "StartExecution"), "aws-sdk:sfn") == {
        "stateMachineArn": "arn:sm",
        "input": '{"key":"value"}',
        "name": "n",
    }


def test_null_member_is_left_out() -> None:
    params = {"StateMachineArn": "arn:sm", "Input": None}
    op = _op("stepfunctions", "StartExecution")
    assert to_request(params, op, "aws-sdk:sfn") == {"stateMachineArn": "arn:sm"}


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        ("text data", b'"text data"'),
        ({"Dict": "Value"}, b'{"Dict":"Value"}'),
        (["List", "Data"], b'["List","Data"]'),
        (False, b"false"),
        (0, b"0"),
    ],
)
def test_payload_blob_is_the_json_text_of_the_value(body: Any, stored: bytes) -> None:
    # recorded against AWS: test_aws_sdk_task_service test_s3_put_object (ETag = MD5 of these)
    params = {"Bucket": "b", "Key": "k", "Body": body}
    assert to_request(params, _op("s3", "PutObject"), "aws-sdk:s3")["Body"] == stored


def test_nested_blob_is_base64_text() -> None:
    params = {"TableName": "t", "Item": {"id": {"B": base64.b64encode(b"\x00\x01").decode()}}}
    converted = to_request(params, _op("dynamodb", "PutItem"), "dynamodb")
    assert converted["Item"]["id"]["B"] == b"\x00\x01"


def test_numbers_booleans_and_timestamps() -> None:
    executions = _op("stepfunctions", "ListExecutions")
    assert to_request({"StateMachineArn": "a", "MaxResults": 5.0}, executions, "x") == {
        "stateMachineArn": "a",
        "maxResults": 5,
    }
    history = _op("stepfunctions", "GetExecutionHistory")
    assert to_request({"ExecutionArn": "a", "ReverseOrder": True}, history, "x") == {
        "executionArn": "a",
        "reverseOrder": True,
    }
    metrics = _op("cloudwatch", "GetMetricStatistics")
    params = {"Namespace": "n", "MetricName": "m", "StartTime": "2024-01-01T00:00:00Z"}
    converted = to_request({**params, "EndTime": 0, "Period": 60}, metrics, "x")
    assert (converted["StartTime"], converted["EndTime"]) == ("2024-01-01T00:00:00Z", 0)


@pytest.mark.parametrize(
    ("params", "cause"),
    [
        (
            {"TableName": "t", "Item": "x"},
            "Invalid parameters for dynamodb:PutItem: 'Item' must be an object. "
            'Parameters: {"TableName":"t","Item":"x"}',
        ),
        (
            {"TableName": "t", "Item": {"id": {"B": "not base64!"}}},
            "Invalid parameters for dynamodb:PutItem: 'Item.id.B' must be base64 text. "
            'Parameters: {"TableName":"t","Item":{"id":{"B":"not base64!"}}}',
        ),
        (
            ["not", "an", "object"],
            "Invalid parameters for dynamodb:PutItem: the parameters must be an object. "
            'Parameters: ["not","an","object"]',
        ),
    ],
)
def test_mismatch_is_states_runtime(params: Any, cause: str) -> None:
    with pytest.raises(StatesError) as info:
        to_request(params, _op("dynamodb", "PutItem"), "dynamodb")
    assert info.value.error == "States.Runtime"
    assert info.value.cause == cause


def test_unknown_member_is_states_runtime_naming_the_members() -> None:
    with pytest.raises(StatesError) as info:
        to_request({"TableName": "t", "Limit": 1}, _op("dynamodb", "PutItem"), "dynamodb")
    assert info.value.error == "States.Runtime"
    cause = info.value.cause or ""
    assert cause.startswith(
        "Invalid parameters for dynamodb:PutItem: 'Limit' must be a member of PutItemInput "
        "(one of TableName, Item, "
    )
    assert cause.endswith('. Parameters: {"TableName":"t","Limit":1}')


def test_integer_member_refuses_fraction_and_boolean() -> None:
    op = _op("stepfunctions", "ListExecutions")
    for bad in (1.5, True, "3"):
        with pytest.raises(StatesError) as info:
            to_request({"StateMachineArn": "a", "MaxResults": bad}, op, "aws-sdk:sfn")
        assert info.value.error == "States.Runtime"
        assert "'MaxResults' must be an integer" in (info.value.cause or "")


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)
_OPERATIONS = [
    ("dynamodb", "PutItem"),
    ("dynamodb", "UpdateItem"),
    ("s3", "PutObject"),
    ("sqs", "SendMessage"),
    ("events", "PutEvents"),
    ("stepfunctions", "StartExecution"),
]


@settings(max_examples=200)
@given(
    st.sampled_from(_OPERATIONS),
    st.one_of(
        _JSON,
        st.dictionaries(st.sampled_from(["TableName", "Item", "Key", "Entries", "Body"]), _JSON),
    ),
)
def test_to_request_raises_only_states_errors(op: tuple[str, str], params: Any) -> None:
    try:
        to_request(params, _op(*op), op[0])
    except StatesError as error:
        assert error.error == "States.Runtime"


# --- responses ------------------------------------------------------------------------


def test_response_members_pascal_case_sorted_without_metadata() -> None:
    response = {
        "stateMachines": [
            {
                "type": "STANDARD",
                "stateMachineArn": "arn",
                "name": "n",
                "creationDate": datetime(2024, 5, 23, 19, 11, 47, 123000, tzinfo=UTC),
            }
        ],
        "ResponseMetadata": {"RequestId": "r"},
    }
    result = from_response(response, _op("stepfunctions", "ListStateMachines").output_shape)
    assert result == {
        "StateMachines": [
            {
                "CreationDate": "2024-05-23T19:11:47.123Z",
                "Name": "n",
                "StateMachineArn": "arn",
                "Type": "STANDARD",
            }
        ]
    }
    assert list(result["StateMachines"][0]) == ["CreationDate", "Name", "StateMachineArn", "Type"]


def test_payload_body_is_text_and_comes_last() -> None:
    # recorded against AWS: test_aws_sdk_task_service test_s3_get_object[str]
    response = {
        "Body": b"text data",
        "ContentLength": 9,
        "AcceptRanges": "bytes",
        "Metadata": {},
        "ETag": '"332eec544317a6d340b8e77da7fe54ad"',
    }
    result = from_response(response, _op("s3", "GetObject").output_shape)
    assert list(result) == ["AcceptRanges", "ContentLength", "ETag", "Metadata", "Body"]
    assert result["Body"] == "text data"


def test_nested_blob_comes_back_as_base64() -> None:
    response = {"Item": {"id": {"B": b"\x00\x01"}}}
    result = from_response(response, _op("dynamodb", "GetItem").output_shape)
    assert result == {"Item": {"id": {"B": "AAE="}}}


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC), "2024-01-02T03:04:05.120Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2024-01-02T03:04:05.123456Z"),
        (
            datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05Z",
        ),
    ],
)
def test_instant_text(moment: datetime, text: str) -> None:
    assert instant_text(moment) == text


# --- service names, metadata, configuration -------------------------------------------


@pytest.mark.parametrize(
    ("arn_name", "botocore_name"),
    [
        ("dynamodb", "dynamodb"),
        ("s3", "s3"),
        ("sfn", "stepfunctions"),
        ("eventbridge", "events"),
        ("secretsmanager", "secretsmanager"),
        ("cloudwatchlogs", "logs"),
        ("ssoadmin", "sso-admin"),
        ("elasticloadbalancingv2", "elbv2"),
        ("nosuchservice", None),
    ],
)
def test_botocore_service_name(arn_name: str, botocore_name: str | None) -> None:
    available = frozenset(_SESSION.get_available_services())
    assert botocore_service_name(arn_name, available) == botocore_name


def test_http_metadata_from_raw_headers() -> None:
    # shape recorded against AWS: test_sqs_task_service.snapshot.json, send_message
    meta = {
        "HTTPStatusCode": 200,
        RAW_HEADERS: [
            ("x-amzn-RequestId", "r1"),
            ("connection", "keep-alive"),
            ("Content-Length", "106"),
            ("Date", "Thu, 18 Apr 2024 06:27:01 GMT"),
            ("Content-Type", "application/x-amz-json-1.0"),
        ],
    }
    metadata = http_metadata(meta)
    assert metadata == {
        "AllHttpHeaders": {
            "x-amzn-RequestId": ["r1"],
            "connection": ["keep-alive"],
            "Content-Length": ["106"],
            "Date": ["Thu, 18 Apr 2024 06:27:01 GMT"],
            "Content-Type": ["application/x-amz-json-1.0"],
        },
        "HttpHeaders": {
            "connection": "keep-alive",
            "Content-Length": "106",
            "Content-Type": "application/x-amz-json-1.0",
            "Date": "Thu, 18 Apr 2024 06:27:01 GMT",
            "x-amzn-RequestId": "r1",
        },
        "HttpStatusCode": 200,
    }
    assert list(metadata["HttpHeaders"]) == [
        "connection",
        "Content-Length",
        "Content-Type",
        "Date",
        "x-amzn-RequestId",
    ]


def test_http_metadata_repeated_header_keeps_all_values_and_last_wins() -> None:
    meta = {"HTTPStatusCode": 200, RAW_HEADERS: [("Server", "a"), ("server", "b")]}
    metadata = http_metadata(meta)
    assert metadata["AllHttpHeaders"] == {"Server": ["a", "b"]}
    assert metadata["HttpHeaders"] == {"Server": "b"}


async def test_endpoint_from_config_then_environment() -> None:
    env = {ENDPOINT_ENV: "http://env:1"}
    configured = AwsClients(AwsConfig(endpoint_url="http://conf:1"), environ=env)
    assert await configured.endpoint_url() == "http://conf:1"
    assert await AwsClients(AwsConfig(), environ=env).endpoint_url() == "http://env:1"


async def test_no_endpoint_and_not_embedded_means_real_aws() -> None:
    clients = AwsClients(AwsConfig(embedded=False), environ={})
    assert await clients.endpoint_url() is None
