"""Workflow variables: ``Assign``, variable names, size limits and scopes.

``Assign`` maps variable names to values. Every right-hand side is evaluated with the
values of the state's entry, then all are assigned together, so the assignments of one
``Assign`` do not see each other (``{"x": "{% $y %}", "y": "{% $x %}"}`` swaps). JSONPath
``Assign`` values are payload templates (keys ending ``.$`` take a path or an intrinsic);
JSONata ones are JSONata templates. Names are Unicode identifiers of at most 80
characters, ``states`` reserved. Each variable, and each ``Assign`` as a whole, holds at
most 256 KiB of UTF-8 JSON.

A :class:`VariableScope` holds the variables of one scope: an inner Map iteration or
Parallel branch reads the outer variables, and its own assignments stay inside it; a
Distributed Map's child workflow reads none of the outer ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from asl.bindings import EMPTY, Bindings
from asl.errors import DATA_LIMIT_EXCEEDED, StatesError
from asl.jsonata import compile_jsonata_template
from asl.jsontext import json_size
from asl.templates import TemplateSyntaxError, compile_template

__all__ = [
    "MAX_ASSIGN_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_VARIABLE_BYTES",
    "RESERVED_NAME",
    "SIZE_LIMIT_ERROR",
    "VariableScope",
    "check_assign_size",
    "check_variable_name",
    "compile_assign",
]

MAX_NAME_LENGTH = 80
RESERVED_NAME = "states"
MAX_VARIABLE_BYTES = 256 * 1024
MAX_ASSIGN_BYTES = 256 * 1024
#: The error a too-large variable raises. AWS documents the limits, not the error: this
#: follows its other payload limits (an unverified choice).
SIZE_LIMIT_ERROR = DATA_LIMIT_EXCEEDED

AssignEvaluator = Callable[[Bindings], dict[str, Any]]


def check_variable_name(name: str) -> str | None:
    """None when ``name`` can be a variable name, else why not."""
    if name == RESERVED_NAME:
        return f"The variable name '{name}' is reserved"
    if len(name) > MAX_NAME_LENGTH:
        return f"The variable name '{name}' is longer than {MAX_NAME_LENGTH} characters"
    if not name.isidentifier():
        return f"The variable name '{name}' is not a valid identifier"
    return None


def check_assign_size(values: Mapping[str, Any]) -> None:
    """Raise the size-limit error when a variable, or all of them together, exceeds
    256 KiB."""
    total = 0
    for name, value in values.items():
        size = json_size(value)
        if size > MAX_VARIABLE_BYTES:
            raise StatesError(
                SIZE_LIMIT_ERROR,
                f"The variable '{name}' has a size of {size} bytes, more than the "
                f"{MAX_VARIABLE_BYTES} bytes allowed for a variable.",
            )
        total += size
    if total > MAX_ASSIGN_BYTES:
        raise StatesError(
            SIZE_LIMIT_ERROR,
            f"The variables assigned together have a size of {total} bytes, more than the "
            f"{MAX_ASSIGN_BYTES} bytes allowed for one Assign.",
        )


def compile_assign(
    assign: Mapping[str, Any], query_language: str, field: str = "Assign"
) -> AssignEvaluator:
    """Compile an ``Assign`` object once. The callable evaluates every value against the
    same bindings (the state-entry variables) and returns the new variables, checked
    against the size limits; the caller stores them after the state's other fields.
    ``field`` names the object in errors (``Assign``, or a Catcher's or Choice rule's)."""
    if not isinstance(assign, Mapping):
        raise TemplateSyntaxError(field, field, message=f"The field '{field}' must be an object")
    if query_language == "JSONata":
        evaluate = compile_jsonata_template(assign, field)
    else:
        evaluate = compile_template(assign, field)  # a payload template: "x.$" keys

    def run(bindings: Bindings) -> dict[str, Any]:
        values = evaluate(bindings)
        check_assign_size(values)
        return dict(values)

    return run


@dataclass(frozen=True, slots=True)
class VariableScope:
    """The variables of one scope, immutable: :meth:`assign` returns the next scope.

    ``variables`` is what expressions read: this scope's own values over the outer
    scope's (unless the scope is isolated, as a Distributed Map's child workflow is).
    """

    own: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    outer: VariableScope | None = None
    isolated: bool = False

    @property
    def variables(self) -> Mapping[str, Any]:
        """Every variable this scope reads, innermost first."""
        if self.outer is None or self.isolated:
            return self.own
        return _Layered(self.own, self.outer.variables)

    def assign(self, values: Mapping[str, Any]) -> VariableScope:
        """The scope after an ``Assign``: the values set in this scope (never the outer
        one, so they go out of scope with it)."""
        if not values:
            return self
        own = dict(self.own)
        own.update(values)
        return VariableScope(MappingProxyType(own), self.outer, self.isolated)

    def child(self, *, distributed: bool = False) -> VariableScope:
        """A new inner scope: a Map iteration or Parallel branch (``distributed`` for a
        Distributed Map's child workflow, which cannot read this scope's variables)."""
        return VariableScope(EMPTY, self, distributed)


class _Layered(Mapping[str, Any]):
    """An inner scope's variables over the outer ones', read in place."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, inner: Mapping[str, Any], outer: Mapping[str, Any]) -> None:
        self._inner = inner
        self._outer = outer

    def __getitem__(self, name: str) -> Any:
        if name in self._inner:
            return self._inner[name]
        return self._outer[name]

    def __contains__(self, name: object) -> bool:
        return name in self._inner or name in self._outer

    def __iter__(self) -> Iterator[str]:
        yield from self._inner
        yield from (name for name in self._outer if name not in self._inner)

    def __len__(self) -> int:
        return sum(1 for _ in self)
