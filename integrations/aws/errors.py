"""AWS SDK failures as Step Functions reports them: ``<Service>.<Exception>`` and a cause.

Step Functions runs its optimized integrations (``sqs:sendMessage``, ``dynamodb:putItem``,
...) on the AWS SDK for Java 1.x and the ``aws-sdk:*`` integrations on the 2.x SDK. The
two name errors and word causes differently, recorded against AWS (localstack
``tests/aws/services/stepfunctions/v2/error_handling/*.snapshot.json``):

- optimized: ``DynamoDB.ResourceNotFoundException``, cause
  ``Requested resource not found (Service: AmazonDynamoDBv2; Status Code: 400; Error Code:
  ResourceNotFoundException; Request ID: <id>; Proxy: null)``; an error the API does not
  model is ``DynamoDB.AmazonDynamoDBException``;
- ``aws-sdk``: ``S3.NoSuchBucketException``, cause ``The specified bucket does not exist
  (Service: S3, Status Code: 404, Request ID: <id>, Extended Request ID: <id2>)``; an
  unmodelled error is ``DynamoDb.DynamoDbException``;
- a request that never got an answer: ``SQS.SdkClientException``, cause ``Unable to
  execute HTTP request: <reason>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from asl.errors import StatesError

__all__ = [
    "OPTIMIZED_STYLES",
    "ErrorStyle",
    "client_error",
    "sdk_service_name",
    "sdk_style",
    "service_error",
]


@dataclass(frozen=True, slots=True)
class ErrorStyle:
    """How one integration names and words its service's errors.

    ``prefix`` starts every error name, ``label`` is the ``Service:`` of a cause,
    ``fallback`` names an error the API does not model, and ``java_v1`` picks the
    1.x SDK's cause wording over the 2.x one.
    """

    prefix: str
    label: str
    fallback: str
    java_v1: bool


OPTIMIZED_STYLES: dict[str, ErrorStyle] = {
    "sqs": ErrorStyle("SQS", "AmazonSQS", "AmazonSQSException", True),
    "sns": ErrorStyle("SNS", "AmazonSNS", "AmazonSNSException", True),
    "dynamodb": ErrorStyle("DynamoDB", "AmazonDynamoDBv2", "AmazonDynamoDBException", True),
    "events": ErrorStyle("EventBridge", "AmazonEventBridge", "AmazonEventBridgeException", True),
}

_VERSION_LOWER = re.compile(r"([^a-z]{2,})v([0-9]+)")
_VERSION_UPPER = re.compile(r"([^A-Z]{2,})V([0-9]+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z][a-zA-Z0-9])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_DIGIT_LETTER = re.compile(r"([0-9])([a-zA-Z])")


def sdk_service_name(service_id: str) -> str:
    """The 2.x SDK's name of a service from its ``serviceId``: ``DynamoDB`` -> ``DynamoDb``,
    ``SFN`` -> ``Sfn``, ``Secrets Manager`` -> ``SecretsManager``, ``SESv2`` -> ``SesV2``."""
    text = re.sub(r"[^A-Za-z0-9]+", " ", service_id)
    text = _VERSION_LOWER.sub(r"\1 v\2 ", text)
    text = _VERSION_UPPER.sub(r"\1 V\2 ", text)
    text = _CAMEL.sub(" ", text)
    text = _ACRONYM.sub(r"\1 \2", text)
    text = _DIGIT_LETTER.sub(r"\1 \2", text)
    name = "".join(word[0].upper() + word[1:].lower() for word in text.split())
    for prefix in ("Amazon", "Aws"):
        if name.startswith(prefix) and len(name) > len(prefix):
            name = name[len(prefix) :]
    if name.endswith("Service") and len(name) > len("Service"):
        name = name[: -len("Service")]
    return name


def sdk_style(service_id: str) -> ErrorStyle:
    """The ``aws-sdk:*`` error style of a service."""
    name = sdk_service_name(service_id)
    return ErrorStyle(name, name, f"{name}Exception", False)


def service_error(exc: ClientError, style: ErrorStyle) -> StatesError:
    """A service's error answer as the Task's error."""
    response: dict[str, Any] = exc.response
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    code = str(error.get("Code", ""))
    message = str(error.get("Message") or error.get("message") or "")
    status = meta.get("HTTPStatusCode", "")
    request_id = meta.get("RequestId") or meta.get("HTTPHeaders", {}).get("x-amzn-requestid")
    if style.java_v1:
        detail = (
            f"Service: {style.label}; Status Code: {status}; Error Code: {code}; "
            f"Request ID: {request_id}; Proxy: null"
        )
    else:
        detail = f"Service: {style.label}, Status Code: {status}, Request ID: {request_id}"
        host_id = meta.get("HostId")
        if host_id:
            detail += f", Extended Request ID: {host_id}"
    return StatesError(f"{style.prefix}.{_exception_name(exc, style)}", f"{message} ({detail})")


def _exception_name(exc: ClientError, style: ErrorStyle) -> str:
    # botocore raises a subclass named after the error's shape when the API models it.
    name = type(exc).__name__
    if type(exc) is ClientError or not name.isidentifier():
        return style.fallback
    return name if name.endswith("Exception") else f"{name}Exception"


def client_error(exc: BotoCoreError, style: ErrorStyle) -> StatesError:
    """A call that got no answer from the service (connection refused, unknown host,
    timeout, no credentials)."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        reason = exc.kwargs.get("error") if hasattr(exc, "kwargs") else None
        cause = f"Unable to execute HTTP request: {reason or exc}"
    else:
        cause = str(exc)
    return StatesError(f"{style.prefix}.SdkClientException", cause)
