"""Requests checked against botocore's service model of Step Functions, as AWS checks them.

AWS validates a request's members against the constraints of its model before anything
else and answers every breach at once: ``ValidationException`` with "2 validation errors
detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have
value less than or equal to 1000; ..." (wording recorded against AWS in localstack's
test_sfn_api snapshots: maxResults, nextToken, statusFilter). A sensitive member's value
is left out ("Value at 'cause' ..."), as :mod:`runtime.api_limits` does. A member of the
wrong JSON type is ``SerializationException``, as AWS's JSON protocol answers it.

The model is the one installed with botocore (``stepfunctions/2016-11-23/service-2``),
read with botocore's loader. Its patterns are Java regular expressions: those Python's
``re`` reads alike are checked (alias names, client tokens); ``\\p{ASCII}`` is not. The
payload members (``input``, ``output``) are measured by the engine in bytes of UTF-8, as
AWS measures them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from botocore.loaders import Loader
from botocore.model import ListShape, MapShape, ServiceModel, Shape, StructureShape

from asl.errors import java_length
from runtime.api_limits import ValidationException
from runtime.service.errors import SerializationException

__all__ = ["check_request", "operation_names", "service_model"]

#: Shapes whose maximum is the payload limit the engine checks in bytes, with AWS's words.
_MEASURED_IN_BYTES = frozenset({"SensitiveData"})
_NOT_NULL = "Member must not be null"
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "float": (int, float),
    "double": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
    "list": (list,),
    "map": (dict,),
    "structure": (dict,),
}


@cache
def service_model() -> ServiceModel:
    """Step Functions' service model as installed with botocore."""
    return ServiceModel(Loader().load_service_model("stepfunctions", "service-2"))


def operation_names() -> frozenset[str]:
    """Every operation the model defines."""
    return frozenset(service_model().operation_names)


def check_request(operation: str, body: dict[str, Any]) -> None:
    """Raise AWS's error for the first kind of problem ``body`` has as ``operation``'s
    input: ``SerializationException`` for a member of the wrong type, else
    ``ValidationException`` naming every breached constraint."""
    shape = service_model().operation_model(operation).input_shape
    if shape is None:
        return
    breaches = list(_breaches(shape, body, ""))
    if breaches:
        count = len(breaches)
        plural = "s" if count > 1 else ""
        raise ValidationException(
            f"{count} validation error{plural} detected: " + "; ".join(breaches)
        )


def _breaches(shape: Shape, value: Any, path: str) -> Iterator[str]:
    if not _of_type(shape, value):
        where = path or "the request"
        raise SerializationException(
            f"Expected {shape.type_name} at '{where}' but found {_json_type(value)}"
        )
    yield from _constraints(shape, value, path)
    if isinstance(shape, StructureShape):
        for name, member in shape.members.items():
            at = f"{path}.{name}" if path else name
            if name not in value or value[name] is None:
                if name in shape.required_members:
                    yield f"Value null at '{at}' failed to satisfy constraint: {_NOT_NULL}"
                continue
            yield from _breaches(member, value[name], at)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value, start=1):
            if item is not None:
                yield from _breaches(shape.member, item, f"{path}.{index}.member")
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            yield from _breaches(shape.value, item, f"{path}.{key}")


def _of_type(shape: Shape, value: Any) -> bool:
    """Whether ``value`` is of the JSON type the shape takes (a boolean is no number)."""
    types = _JSON_TYPES.get(shape.type_name, (object,))
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def _constraints(shape: Shape, value: Any, path: str) -> Iterator[str]:
    meta = shape.metadata

    def failed(rule: str) -> str:
        # Quoted only for a breach: quoting a large input on every request costs.
        quoted = "Value" if meta.get("sensitive") else f"Value '{_java_text(value)}'"
        return f"{quoted} at '{path}' failed to satisfy constraint: Member must {rule}"

    if isinstance(value, (str, list, dict)):
        size = java_length(value) if isinstance(value, str) else len(value)
        if "min" in meta and size < meta["min"]:
            yield failed(f"have length greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"] and shape.name not in _MEASURED_IN_BYTES:
            yield failed(f"have length less than or equal to {meta['max']}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if "min" in meta and value < meta["min"]:
            yield failed(f"have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            yield failed(f"have value less than or equal to {meta['max']}")
    enum = getattr(shape, "enum", None)
    if enum and value not in enum:
        yield failed(f"satisfy enum value set: [{', '.join(enum)}]")
    pattern = _pattern(meta.get("pattern"))
    if isinstance(value, str) and pattern is not None and not pattern.fullmatch(value):
        yield failed(f"satisfy regular expression pattern: {pattern.pattern}")


@cache
def _pattern(text: str | None) -> re.Pattern[str] | None:
    """A model pattern as Python reads it; None for none, or for Java-only syntax."""
    if text is None:
        return None
    try:
        return re.compile(text)
    except re.error:
        return None


def _java_text(value: Any) -> str:
    """A value as AWS's Java service quotes it in a message."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
