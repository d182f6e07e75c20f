"""The optimized AWS integrations: ``sqs:sendMessage``, ``sns:publish``,
``dynamodb:getItem|putItem|updateItem|deleteItem`` and ``events:putEvents``.

Their Parameters are the API's request members. What differs from ``aws-sdk:*``
(recorded against AWS: localstack tests/aws/services/stepfunctions/v2/services/
test_{sqs,sns,dynamodb,events}_task_service.snapshot.json):

- SQS, SNS and DynamoDB results carry the response's HTTP metadata,
  ``{..., "SdkHttpMetadata": {"AllHttpHeaders", "HttpHeaders", "HttpStatusCode"},
  "SdkResponseMetadata": {"RequestId"}}``, keys in alphabetical order;
- a ``MessageBody`` (SQS) or ``Message`` (SNS) that is not text is sent as its JSON text;
- ``putEvents`` sends a non-text ``Detail`` as JSON text, appends the state machine's and
  the execution's ARNs to each entry's ``Resources``, returns ``{"Entries",
  "FailedEntryCount"}`` and fails with ``EventBridge.FailedEntry`` (cause: that result as
  JSON text) when an entry failed;
- errors are named in the AWS SDK for Java 1.x style (``DynamoDB.ResourceNotFoundException``,
  ``SQS.AmazonSQSException``; :mod:`integrations.aws.errors`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asl.errors import StatesError
from asl.jsontext import json_text
from integrations.aws.client import RAW_HEADERS, AwsClients
from integrations.aws.errors import OPTIMIZED_STYLES
from integrations.aws.shapes import from_response, to_request
from integrations.base import TaskRequest, not_served, object_parameters

__all__ = ["OptimizedAwsIntegration", "http_metadata"]

Prepare = Callable[[dict[str, Any], TaskRequest], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Action:
    service: str
    operation: str
    prepare: Prepare
    with_metadata: bool = True


def _unchanged(params: dict[str, Any], request: TaskRequest) -> dict[str, Any]:
    return params


def _sqs_send_message(params: dict[str, Any], request: TaskRequest) -> dict[str, Any]:
    body = params.get("MessageBody")
    if body is None:
        # SQS's own answer, recorded against AWS (test_task_service_sqs: empty body).
        raise StatesError(
            "SQS.AmazonSQSException",
            "The request must contain the parameter MessageBody. (Service: AmazonSQS; "
            "Status Code: 400; Error Code: MissingParameter; "
            f"Request ID: {request.services.new_uuid()}; Proxy: null)",
        )
    return params if isinstance(body, str) else {**params, "MessageBody": json_text(body)}


def _sns_publish(params: dict[str, Any], request: TaskRequest) -> dict[str, Any]:
    message = params.get("Message")
    if message is None or isinstance(message, str):
        return params
    return {**params, "Message": json_text(message)}


def _put_events(params: dict[str, Any], request: TaskRequest) -> dict[str, Any]:
    entries = params.get("Entries")
    if not isinstance(entries, list):
        return params
    return {**params, "Entries": [_event_entry(entry, request) for entry in entries]}


def _event_entry(entry: Any, request: TaskRequest) -> Any:
    if not isinstance(entry, dict):
        return entry
    entry = dict(entry)
    detail = entry.get("Detail")
    if detail is not None and not isinstance(detail, str):
        entry["Detail"] = json_text(detail)
    resources = entry.get("Resources")
    if resources is None:
        resources = []
    if isinstance(resources, list):
        entry["Resources"] = [*resources, request.state_machine_arn, request.execution_arn]
    return entry


_ACTIONS: dict[str, _Action] = {
    "sqs:sendMessage": _Action("sqs", "SendMessage", _sqs_send_message),
    "sns:publish": _Action("sns", "Publish", _sns_publish),
    "dynamodb:getItem": _Action("dynamodb", "GetItem", _unchanged),
    "dynamodb:putItem": _Action("dynamodb", "PutItem", _unchanged),
    "dynamodb:updateItem": _Action("dynamodb", "UpdateItem", _unchanged),
    "dynamodb:deleteItem": _Action("dynamodb", "DeleteItem", _unchanged),
    "events:putEvents": _Action("events", "PutEvents", _put_events, with_metadata=False),
}


class OptimizedAwsIntegration:
    """Serves the optimized SQS, SNS, DynamoDB and EventBridge Task resources."""

    #: The resource keys this integration serves.
    keys: tuple[str, ...] = tuple(_ACTIONS)

    def __init__(self, clients: AwsClients) -> None:
        self._clients = clients

    async def invoke(self, request: TaskRequest) -> Any:
        """Call the action; its response (with HTTP metadata where AWS adds it) is the result."""
        resource = request.resource
        action = _ACTIONS.get(resource.key)
        if action is None or resource.pattern not in ("request-response", "waitForTaskToken"):
            raise not_served(request)
        params = object_parameters(request)
        params = action.prepare(params, request)
        model = await self._clients.service_model(action.service)
        operation = model.operation_model(action.operation)
        style = OPTIMIZED_STYLES[action.service]
        kwargs = to_request(params, operation, resource.resource_type)
        response = await self._clients.call(action.service, operation, kwargs, style)
        result = from_response(response, operation.output_shape)
        if action.service == "events" and result.get("FailedEntryCount", 0) > 0:
            raise StatesError("EventBridge.FailedEntry", json_text(result))
        if not action.with_metadata:
            return result
        return _with_metadata(result, response.get("ResponseMetadata") or {})


def _with_metadata(result: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    full = {
        **result,
        "SdkHttpMetadata": http_metadata(meta),
        "SdkResponseMetadata": {"RequestId": meta.get("RequestId")},
    }
    return dict(sorted(full.items()))


def http_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """``SdkHttpMetadata`` from botocore's ``ResponseMetadata``: every header with all its
    values in wire order, each header's last value (names ordered case-insensitively, as
    Java's case-insensitive map lists them), and the status code."""
    raw = meta.get(RAW_HEADERS)
    if raw is None:
        raw = list((meta.get("HTTPHeaders") or {}).items())
    all_headers: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in raw:
        key = spelling.setdefault(name.lower(), name)
        all_headers.setdefault(key, []).append(value)
    last = {name: values[-1] for name, values in all_headers.items()}
    return {
        "AllHttpHeaders": all_headers,
        "HttpHeaders": dict(sorted(last.items(), key=lambda item: item[0].lower())),
        "HttpStatusCode": meta.get("HTTPStatusCode"),
    }
