"""JSON values to an API's request members and back, guided by botocore's service model.

A Task's Parameters are the API's members in PascalCase, even where the API itself is
camelCase (``sfn:startExecution`` takes ``StateMachineArn`` and returns ``ExecutionArn``,
``StartDate``; recorded against AWS: localstack test_aws_sdk_task_service), in the API's
JSON forms. Step Functions maps them onto the SDK's request; a result is the API's
response with its member names in PascalCase too. The rules here (recorded where noted):

- a ``null`` member is left out, as if not given (``"MessageBody": null`` reaches SQS as a
  missing parameter, recorded in test_task_service_sqs);
- a text member given another JSON value receives its JSON text
  (``sfn:startExecution`` ``Input``, recorded in test_aws_sdk_task_service);
- the payload of a request that is a blob (S3 ``PutObject`` ``Body``) receives the JSON
  text of the value, even of a string: ``"text data"`` is stored as ``"text data"`` with
  its quotes (recorded in test_aws_sdk_task_service, test_s3_put_object); other blobs
  are base64 text, as in the API's JSON form;
- in a result, a payload blob (S3 ``GetObject`` ``Body``) is UTF-8 text and comes last,
  other blobs are base64 text, timestamps are ISO 8601 UTC text as Java's ``Instant``
  prints them, and structure members are in alphabetical order.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.model import OperationModel, Shape

from asl.errors import RUNTIME, StatesError
from asl.jsontext import json_text

__all__ = [
    "from_response",
    "instant_text",
    "json_text",
    "pascal",
    "payload_member",
    "to_request",
]


def payload_member(shape: Shape | None) -> str | None:
    """The member of a request or response structure that is the HTTP body, if a blob."""
    if shape is None:
        return None
    name = shape.serialization.get("payload")
    members = getattr(shape, "members", {})
    if name is None or name not in members or members[name].type_name != "blob":
        return None
    return str(name)


class _Mismatch(Exception):
    def __init__(self, path: str, expected: str) -> None:
        super().__init__(path, expected)
        self.path = path
        self.expected = expected


def to_request(value: Any, operation: OperationModel, service: str) -> dict[str, Any]:
    """Parameters -> the keyword arguments of the operation's botocore call.

    Raises ``States.Runtime`` when a value does not fit the API's member.
    """
    shape = operation.input_shape
    if shape is None:
        if value is None or value == {}:
            return {}
        raise StatesError(RUNTIME, _message(service, operation, "", "empty", value))
    payload = payload_member(shape)
    try:
        converted = _structure(value, shape, "", payload)
    except _Mismatch as mismatch:
        raise StatesError(
            RUNTIME, _message(service, operation, mismatch.path, mismatch.expected, value)
        ) from None
    return converted


def _message(service: str, operation: OperationModel, path: str, expected: str, value: Any) -> str:
    where = f"'{path}'" if path else "the parameters"
    return (
        f"Invalid parameters for {service}:{operation.name}: {where} must be {expected}. "
        f"Parameters: {json_text(value)}"
    )


def _convert(value: Any, shape: Shape, path: str) -> Any:
    return _REQUEST[shape.type_name](value, shape, path)


def _structure(value: Any, shape: Shape, path: str, payload: str | None = None) -> Any:
    if shape.metadata.get("document"):
        return value
    if not isinstance(value, dict):
        raise _Mismatch(path, "an object")
    members = {pascal(name): (name, member) for name, member in shape.members.items()}
    converted: dict[str, Any] = {}
    for name, item in value.items():
        here = f"{path}.{name}" if path else name
        if name not in members:
            raise _Mismatch(here, f"a member of {shape.name} (one of {', '.join(members)})")
        if item is None:
            continue
        api_name, member = members[name]
        if api_name == payload:
            converted[api_name] = json_text(item).encode()
        else:
            converted[api_name] = _convert(item, member, here)
    return converted


def _list(value: Any, shape: Shape, path: str) -> Any:
    if not isinstance(value, list):
        raise _Mismatch(path, "an array")
    member = shape.member  # type: ignore[attr-defined]
    return [_convert(item, member, f"{path}[{i}]") for i, item in enumerate(value)]


def _map(value: Any, shape: Shape, path: str) -> Any:
    if not isinstance(value, dict):
        raise _Mismatch(path, "an object")
    shape_value = shape.value  # type: ignore[attr-defined]
    return {key: _convert(item, shape_value, f"{path}.{key}") for key, item in value.items()}


def _string(value: Any, shape: Shape, path: str) -> Any:
    return value if isinstance(value, str) else json_text(value)


def _integer(value: Any, shape: Shape, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Mismatch(path, "an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Mismatch(path, "an integer")
        return int(value)
    return value


def _number(value: Any, shape: Shape, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Mismatch(path, "a number")
    return value


def _boolean(value: Any, shape: Shape, path: str) -> Any:
    if not isinstance(value, bool):
        raise _Mismatch(path, "a boolean")
    return value


def _timestamp(value: Any, shape: Shape, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _Mismatch(path, "a timestamp (ISO 8601 text or epoch seconds)")
    return value


def _blob(value: Any, shape: Shape, path: str) -> Any:
    if not isinstance(value, str):
        return json_text(value).encode()
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _Mismatch(path, "base64 text") from None


_REQUEST: dict[str, Callable[[Any, Shape, str], Any]] = {
    "structure": _structure,
    "list": _list,
    "map": _map,
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": _number,
    "double": _number,
    "bigInteger": _integer,
    "bigDecimal": _number,
    "boolean": _boolean,
    "timestamp": _timestamp,
    "blob": _blob,
}


def from_response(response: dict[str, Any], shape: Shape | None) -> dict[str, Any]:
    """A botocore response (``ResponseMetadata`` left out) -> the Task's result.

    A payload blob must already be read into ``bytes``.
    """
    if shape is None:
        return {}
    payload = payload_member(shape)
    result: dict[str, Any] = _out_structure(response, shape, skip=payload)
    if payload is not None and response.get(payload) is not None:
        body = response[payload]
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        result[pascal(payload)] = text
    return result


def pascal(name: str) -> str:
    """A member's name as Step Functions writes it: first letter upper case, even where
    the API's own is camelCase (``stateMachineArn`` -> ``StateMachineArn``)."""
    return name[:1].upper() + name[1:]


def _out(value: Any, shape: Shape) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _out_structure(value, shape)
    if kind == "list" and isinstance(value, list):
        member = shape.member  # type: ignore[attr-defined]
        return [_out(item, member) for item in value]
    if kind == "map" and isinstance(value, dict):
        shape_value = shape.value  # type: ignore[attr-defined]
        return {key: _out(item, shape_value) for key, item in value.items()}
    return _out_scalar(value)


def _out_structure(value: Any, shape: Shape, skip: str | None = None) -> Any:
    if shape.metadata.get("document") or not isinstance(value, dict):
        return _out_scalar(value)
    members = shape.members
    result: dict[str, Any] = {}
    for name, item in value.items():
        if name == skip or name not in members or item is None:
            continue
        result[pascal(name)] = _out(item, members[name])
    return dict(sorted(result.items()))


def _out_scalar(value: Any) -> Any:
    if isinstance(value, datetime):
        return instant_text(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {key: _out_scalar(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_out_scalar(item) for item in value]
    return value


def instant_text(moment: datetime) -> str:
    """ISO 8601 UTC text as Java's ``Instant.toString()`` writes it: seconds always,
    milliseconds or microseconds only when not zero (``2024-05-23T19:11:47.123Z``)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micro = moment.microsecond
    if micro and micro % 1000 == 0:
        text += f".{micro // 1000:03d}"
    elif micro:
        text += f".{micro:06d}"
    return text + "Z"
