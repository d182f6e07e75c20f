"""Lambda's Invoke as Step Functions calls it: the request's payload and client context,
the response envelope with its headers (as recorded against AWS), and the errors Step
Functions reports for Lambda's answers."""

from __future__ import annotations

import base64
import email.utils
import functools
import hashlib
import json
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from asl.errors import StatesError
from asl.jsontext import json_text, parse_json
from integrations.base import TaskServices
from integrations.lambda_runtime import LATEST, Event, Outcome

__all__ = [
    "envelope",
    "event_of",
    "function_error",
    "parse_client_context",
    "service_error",
    "throttled",
    "validation_error",
]


def service_error(code: str, status: int, message: str, request_id: str) -> StatesError:
    """A Lambda API error as Step Functions reports it (the AWS SDK for Java's wording)."""
    return StatesError(
        f"Lambda.{code}",
        f"{message} (Service: AWSLambda; Status Code: {status}; Error Code: {code}; "
        f"Request ID: {request_id}; Proxy: null)",
    )


def throttled(request_id: str) -> StatesError:
    """Lambda's throttling error (``Lambda.TooManyRequestsException``)."""
    return service_error("TooManyRequestsException", 429, "Rate Exceeded.", request_id)


def validation_error(field_name: str, value: Any, constraint: str, request_id: str) -> StatesError:
    """Lambda's ``ValidationException`` for a request member that breaks ``constraint``."""
    return service_error(
        "ValidationException",
        400,
        f"1 validation error detected: Value '{value}' at '{field_name}' failed to satisfy "
        f"constraint: {constraint}",
        request_id,
    )


def function_error(payload: str, compact: bool) -> StatesError:
    """The Task error for a function error payload.

    ``lambda:invoke`` re-serialises the payload compactly; the legacy ARN passes it as is.
    """
    try:
        body = parse_json(payload)
    except ValueError:
        body = None
    error_type = body.get("errorType") if isinstance(body, dict) else None
    if not isinstance(error_type, str):
        return StatesError(
            "Lambda.Unknown",
            "The cause could not be determined because Lambda did not return an error type. "
            f"Returned payload: {payload}",
        )
    if compact:
        payload = json_text(body)
    return StatesError(error_type, payload)


def event_of(parameters: Mapping[str, Any]) -> Event:
    """The request body Step Functions sends for a ``Payload`` parameter.

    Absent or null is ``{}`` and text that is JSON is sent as it is (both recorded against
    AWS); other text is sent as a JSON string (as LocalStack does; not recorded).
    """
    payload = parameters.get("Payload")
    if payload is None:
        return Event("{}")
    if isinstance(payload, str):
        try:
            parse_json(payload)
            return Event(payload)
        except ValueError:
            pass
    return Event.of_value(payload)


def parse_client_context(value: Any) -> SimpleNamespace | None:
    """``ClientContext`` (base64 JSON) as the context's ``client_context``."""
    # Lenient: a ClientContext that is not base64 JSON is dropped rather than refused.
    if not isinstance(value, str):
        return None
    try:
        decoded = json.loads(base64.b64decode(value, validate=True))
    except ValueError:
        return None
    if not isinstance(decoded, dict):
        return None
    return SimpleNamespace(
        client=decoded.get("client"), custom=decoded.get("custom"), env=decoded.get("env")
    )


def envelope(
    outcome: Outcome | None,
    status: int,
    request_id: str,
    services: TaskServices,
    *,
    executed: bool = True,
    log_result: str | None = None,
) -> dict[str, Any]:
    """Lambda's Invoke response as Step Functions returns it (recorded against AWS);
    ``outcome`` None for a response with no payload."""
    payload = "" if outcome is None else outcome.payload
    headers = _response_headers(payload, request_id, services, executed, log_result)
    response: dict[str, Any] = {}
    if executed:
        response["ExecutedVersion"] = LATEST
    if log_result is not None:
        response["LogResult"] = log_result
    response["Payload"] = outcome.result() if outcome is not None and payload else ""
    response["SdkHttpMetadata"] = {
        "AllHttpHeaders": {name: [value] for name, value in headers.items()},
        "HttpHeaders": {name: headers[name] for name in _SORTED_HEADERS if name in headers},
        "HttpStatusCode": status,
    }
    response["SdkResponseMetadata"] = {"RequestId": request_id}
    response["StatusCode"] = status
    return response


def _response_headers(
    payload: str,
    request_id: str,
    services: TaskServices,
    executed: bool,
    log_result: str | None,
) -> dict[str, str]:
    """Response headers in the order AWS's recording lists them."""
    now = services.now()
    headers: dict[str, str] = {}
    if log_result is not None:
        headers["X-Amz-Log-Result"] = log_result
    if executed:
        headers["X-Amz-Executed-Version"] = LATEST
    headers["x-amzn-Remapped-Content-Length"] = "0"
    headers["Connection"] = "keep-alive"
    headers["x-amzn-RequestId"] = request_id
    headers["Content-Length"] = str(len(payload.encode()))
    headers["Date"] = _http_date(int(now))
    headers["X-Amzn-Trace-Id"] = _trace_id(now, request_id)
    headers["Content-Type"] = "application/json"
    return headers


#: Every response header, in the order of ``HttpHeaders`` (sorted ignoring case).
_SORTED_HEADERS = tuple(
    sorted(
        (
            "X-Amz-Log-Result", "X-Amz-Executed-Version", "x-amzn-Remapped-Content-Length",
            "Connection", "x-amzn-RequestId", "Content-Length", "Date", "X-Amzn-Trace-Id",
            "Content-Type",
        ),
        key=str.lower,
    )
)  # fmt: skip


@functools.lru_cache(maxsize=1)  # one entry: the second most calls of a moment share
def _http_date(second: int) -> str:
    return email.utils.formatdate(second, usegmt=True)


def _trace_id(now: float, request_id: str) -> str:
    # Derived from the request id, not drawn when the answer comes: concurrent calls
    # answer in any order, and a seeded run must repeat.
    token = hashlib.sha1(request_id.encode()).hexdigest()
    return f"Root=1-{int(now):08x}-{token[:24]};Parent={token[24:40]};Sampled=0"
