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
from dataclasses import dataclass
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
    node = _input_node(operation)
    if node is None:
        return
    breaches: list[str] = []
    _check(node, body, "", breaches)
    if breaches:
        count = len(breaches)
        plural = "s" if count > 1 else ""
        raise ValidationException(
            f"{count} validation error{plural} detected: " + "; ".join(breaches)
        )


@dataclass(frozen=True, slots=True, eq=False)
class _Node:
    """What is checked of a value of one shape, read from the model once: its JSON types,
    constraints and members (a structure's: name, node, required)."""

    shape: Shape
    types: tuple[type, ...]
    takes_bool: bool
    min: int | None
    max: int | None
    #: The maximum of a length (None where the engine measures it in bytes).
    max_length: int | None
    enum: frozenset[str]
    pattern: re.Pattern[str] | None
    sensitive: bool


@cache
def _input_node(operation: str) -> _Node | None:
    shape = service_model().operation_model(operation).input_shape
    return None if shape is None else _node(shape)


@cache
def _node(shape: Shape) -> _Node:
    meta = shape.metadata
    types = _JSON_TYPES.get(shape.type_name, (object,))
    high = meta.get("max")
    return _Node(
        shape, types, bool in types, meta.get("min"), high,
        None if shape.name in _MEASURED_IN_BYTES else high,
        frozenset(getattr(shape, "enum", None) or ()), _pattern(meta.get("pattern")),
        bool(meta.get("sensitive")),
    )  # fmt: skip


@cache
def _members(node: _Node) -> tuple[tuple[str, _Node, bool], ...]:
    """A structure's members in the model's order: name, node, whether required."""
    shape = node.shape
    assert isinstance(shape, StructureShape)
    required = set(shape.required_members)
    return tuple((n, _node(m), n in required) for n, m in shape.members.items())


@cache
def _item(node: _Node) -> _Node:
    """The node of a list's members or a map's values."""
    shape = node.shape
    assert isinstance(shape, ListShape | MapShape)
    return _node(shape.member if isinstance(shape, ListShape) else shape.value)


def _of_type(node: _Node, value: Any) -> bool:
    """Whether ``value`` is of the JSON type the shape takes (a boolean is no number)."""
    return isinstance(value, node.types) and not (isinstance(value, bool) and not node.takes_bool)


def _check(node: _Node, value: Any, path: str, breaches: list[str]) -> None:
    """Add to ``breaches`` what ``value`` (at ``path``) breaches of ``node``'s constraints,
    its members' too; ``SerializationException`` for a value of the wrong type. (Plain
    calls appending to one list: every request is checked, and nearly none breaches.)"""
    if not _of_type(node, value):
        where = path or "the request"
        raise SerializationException(
            f"Expected {node.shape.type_name} at '{where}' but found {_json_type(value)}"
        )
    _constraints(node, value, path, breaches)
    shape = node.shape
    if isinstance(shape, StructureShape):
        for name, member, required in _members(node):
            item = value.get(name)
            at = f"{path}.{name}" if path else name
            if item is None:
                if required:
                    breaches.append(
                        f"Value null at '{at}' failed to satisfy constraint: {_NOT_NULL}"
                    )
                continue
            _check(member, item, at, breaches)
    elif isinstance(shape, ListShape):
        for index, item in enumerate(value, start=1):
            if item is not None:
                _check(_item(node), item, f"{path}.{index}.member", breaches)
    elif isinstance(shape, MapShape):
        for key, item in value.items():
            _check(_item(node), item, f"{path}.{key}", breaches)


def _constraints(node: _Node, value: Any, path: str, breaches: list[str]) -> None:
    def failed(rule: str) -> None:
        # Quoted only for a breach: quoting a large input on every request costs.
        quoted = "Value" if node.sensitive else f"Value '{_java_text(value)}'"
        breaches.append(f"{quoted} at '{path}' failed to satisfy constraint: Member must {rule}")

    if isinstance(value, str | list | dict):
        size = java_length(value) if isinstance(value, str) else len(value)
        if node.min is not None and size < node.min:
            failed(f"have length greater than or equal to {node.min}")
        if node.max_length is not None and size > node.max_length:
            failed(f"have length less than or equal to {node.max_length}")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if node.min is not None and value < node.min:
            failed(f"have value greater than or equal to {node.min}")
        if node.max is not None and value > node.max:
            failed(f"have value less than or equal to {node.max}")
    if node.enum and value not in node.enum:
        enum = getattr(node.shape, "enum", None) or ()
        failed(f"satisfy enum value set: [{', '.join(enum)}]")
    pattern = node.pattern
    if isinstance(value, str) and pattern is not None and not pattern.fullmatch(value):
        failed(f"satisfy regular expression pattern: {pattern.pattern}")


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
