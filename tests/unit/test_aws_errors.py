"""integrations.aws.errors: SDK failures named and worded as Step Functions reports them."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.errorfactory import ClientExceptionsFactory
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.session import get_session

from asl.errors import StatesError
from integrations.aws.client import AwsClients
from integrations.aws.config import AwsConfig
from integrations.aws.errors import (
    OPTIMIZED_STYLES,
    client_error,
    sdk_service_name,
    sdk_style,
    service_error,
)
from integrations.aws.optimized import OptimizedAwsIntegration
from integrations.base import TaskRequest, parse_resource
from tests.services import FakeServices, uid


def _exceptions(service: str) -> Any:
    model = get_session().get_service_model(service)
    return ClientExceptionsFactory().create_client_exceptions(model)


def _response(code: str, message: str, status: int, **meta: Any) -> dict[str, Any]:
    return {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": status, **meta},
    }


@pytest.mark.parametrize(
    ("service_id", "name"),
    [
        ("DynamoDB", "DynamoDb"),
        ("SFN", "Sfn"),
        ("Secrets Manager", "SecretsManager"),
        ("S3", "S3"),
        ("SQS", "Sqs"),
        ("EC2", "Ec2"),
        ("EventBridge", "EventBridge"),
        ("CloudWatch Logs", "CloudWatchLogs"),
        ("SESv2", "SesV2"),
        ("ApiGatewayV2", "ApiGatewayV2"),
        ("Elastic Load Balancing v2", "ElasticLoadBalancingV2"),
        ("IoT Data Plane", "IotDataPlane"),
        ("Database Migration Service", "DatabaseMigration"),
        ("ACM PCA", "AcmPca"),
    ],
)
def test_sdk_service_name(service_id: str, name: str) -> None:
    assert sdk_service_name(service_id) == name


def test_optimized_modelled_error_java_v1_wording() -> None:
    # recorded against AWS: test_task_service_dynamodb.snapshot.json, put_item_no_such_table
    cls = _exceptions("dynamodb").from_code("ResourceNotFoundException")
    exc = cls(
        _response("ResourceNotFoundException", "Requested resource not found", 400), "PutItem"
    )
    error = service_error(exc, OPTIMIZED_STYLES["dynamodb"])
    assert error.error == "DynamoDB.ResourceNotFoundException"
    assert error.cause == (
        "Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; "
        "Error Code: ResourceNotFoundException; Request ID: req-1; Proxy: null)"
    )


def test_optimized_unmodelled_error_is_the_service_base_exception() -> None:
    # recorded against AWS: test_task_service_sqs.snapshot.json, send_message_empty_body
    exc = ClientError(
        _response("MissingParameter", "The request must contain the parameter MessageBody.", 400),
        "SendMessage",
    )
    error = service_error(exc, OPTIMIZED_STYLES["sqs"])
    assert error.error == "SQS.AmazonSQSException"
    assert error.cause == (
        "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
        "Status Code: 400; Error Code: MissingParameter; Request ID: req-1; Proxy: null)"
    )


def test_optimized_error_shape_without_exception_suffix_gains_it() -> None:
    # recorded against AWS: test_sns_task_service.snapshot.json, publish_base_error_topic_arn
    cls = _exceptions("sns").from_code("NotFound")
    exc = cls(_response("NotFound", "Topic does not exist", 404), "Publish")
    error = service_error(exc, OPTIMIZED_STYLES["sns"])
    assert error.error == "SNS.NotFoundException"
    assert error.cause == (
        "Topic does not exist (Service: AmazonSNS; Status Code: 404; Error Code: NotFound; "
        "Request ID: req-1; Proxy: null)"
    )


def test_sdk_style_s3_error_with_extended_request_id() -> None:
    # recorded against AWS: error_handling/test_aws_sdk.snapshot.json, no_such_bucket
    cls = _exceptions("s3").from_code("NoSuchBucket")
    response = _response("NoSuchBucket", "The specified bucket does not exist", 404, HostId="h2")
    error = service_error(cls(response, "ListObjects"), sdk_style("S3"))
    assert error.error == "S3.NoSuchBucketException"
    assert error.cause == (
        "The specified bucket does not exist (Service: S3, Status Code: 404, "
        "Request ID: req-1, Extended Request ID: h2)"
    )


def test_sdk_style_unmodelled_error() -> None:
    # recorded against AWS: error_handling/test_aws_sdk.snapshot.json, dynamodb_invalid_param
    message = (
        "1 validation error detected: Value null at 'item' failed to satisfy constraint: "
        "Member must not be null"
    )
    exc = ClientError(_response("ValidationException", message, 400), "PutItem")
    error = service_error(exc, sdk_style("DynamoDB"))
    assert error.error == "DynamoDb.DynamoDbException"
    assert error.cause == f"{message} (Service: DynamoDb, Status Code: 400, Request ID: req-1)"


def test_sdk_style_sfn_modelled_error() -> None:
    # recorded against AWS: test_aws_sdk_task_service.snapshot.json, no_such_token
    cls = _exceptions("stepfunctions").from_code("InvalidToken")
    exc = cls(_response("InvalidToken", "Invalid Token: 'Invalid token'", 400), "SendTaskSuccess")
    error = service_error(exc, sdk_style("SFN"))
    assert error.error == "Sfn.InvalidTokenException"
    assert error.cause == (
        "Invalid Token: 'Invalid token' (Service: Sfn, Status Code: 400, Request ID: req-1)"
    )


def test_connection_failure_is_sdk_client_exception() -> None:
    exc = EndpointConnectionError(endpoint_url="http://x/", error=OSError("Connection refused"))
    error = client_error(exc, OPTIMIZED_STYLES["sqs"])
    assert error.error == "SQS.SdkClientException"
    assert error.cause == "Unable to execute HTTP request: Connection refused"


def test_timeout_is_sdk_client_exception_in_sdk_style() -> None:
    exc = ReadTimeoutError(endpoint_url="http://x/", error="Read timed out.")
    error = client_error(exc, sdk_style("S3"))
    assert error.error == "S3.SdkClientException"
    assert error.cause == "Unable to execute HTTP request: Read timed out."


def test_missing_credentials_is_sdk_client_exception() -> None:
    error = client_error(NoCredentialsError(), sdk_style("S3"))
    assert error.error == "S3.SdkClientException"
    assert error.cause == "Unable to locate credentials"


async def test_sqs_missing_body_takes_its_request_id_from_the_host() -> None:
    request = TaskRequest(
        parse_resource("arn:aws:states:::sqs:sendMessage"), {"QueueUrl": "q"}, "S", "e", "m",
        "us-east-1", "123456789012", services=FakeServices(),
    )  # fmt: skip
    integration = OptimizedAwsIntegration(AwsClients(AwsConfig(endpoint_url="http://127.0.0.1:1")))
    with pytest.raises(StatesError) as caught:
        await integration.invoke(request)
    assert caught.value.error == "SQS.AmazonSQSException"
    assert caught.value.cause == (
        "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
        f"Status Code: 400; Error Code: MissingParameter; Request ID: {uid(1)}; Proxy: null)"
    )
