"""What every rule shares: locations, the diagnostics collector, and the rule registry.

A location is a tuple of keys and indexes into the definition. AWS prints it as a path with
array indexes in brackets and names unescaped (``/States/C/Choices[0]/Next``, ``/`` for the
root); we place it at a line and column through the equivalent JSON pointer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from asl.diagnostics import Diagnostic, Severity, aws_location
from asl.graph import Location

QueryLanguage = Literal["JSONPath", "JSONata"]
JSONPATH: QueryLanguage = "JSONPath"
JSONATA: QueryLanguage = "JSONata"


def field_list(names: Iterable[str]) -> str:
    """``[A, B]``, the way AWS lists field names and values."""
    return "[" + ", ".join(names) + "]"


@dataclass(slots=True)
class Collector:
    """Diagnostics found so far, each with the location it is about."""

    machine_type: str = "STANDARD"
    found: list[tuple[Diagnostic, Location | None]] = field(default_factory=list)
    _seen: set[tuple[str, str, str, str | None]] = field(default_factory=set)

    def add(self, severity: Severity, code: str, message: str, loc: Location | None) -> None:
        """Record one diagnostic (an identical one twice is recorded once)."""
        where = None if loc is None else aws_location(loc)
        key = (severity, code, message, where)
        if key in self._seen:
            return
        self._seen.add(key)
        self.found.append((Diagnostic(severity, code, message, where), loc))


#: ``report(message, location)``: records a diagnostic with the rule's code and severity.
Report = Callable[[str, Location | None], None]


@dataclass(frozen=True, slots=True)
class StateInfo:
    """A state as the rules see it: its object, where it is, and how to read it."""

    name: str
    doc: Mapping[str, Any]
    loc: Location
    type: str
    #: The effective query language: the state's own, else the machine's.
    language: QueryLanguage
    #: True when the state sets JSONPath under a JSONata machine (already reported).
    downgraded: bool
    machine_type: str

    def at(self, *parts: str | int) -> Location:
        """A location inside this state."""
        return (*self.loc, *parts)


StateRuleFn = Callable[[StateInfo, Report], None]


@dataclass(frozen=True, slots=True)
class StateRule:
    """A semantic check of one state, registered with the code it reports."""

    code: str
    severity: Severity
    types: frozenset[str] | None
    check: StateRuleFn


#: Every registered state rule, in registration order.
STATE_RULES: list[StateRule] = []


def state_rule(
    code: str, *types: str, severity: Severity = "ERROR"
) -> Callable[[StateRuleFn], StateRuleFn]:
    """Register a check of states (of the given types, or of every type) under its code."""

    def register(fn: StateRuleFn) -> StateRuleFn:
        STATE_RULES.append(StateRule(code, severity, frozenset(types) or None, fn))
        return fn

    return register


def run_state_rules(state: StateInfo, collector: Collector) -> None:
    """Apply every registered rule that concerns the state's type."""
    for rule in STATE_RULES:
        if rule.types is None or state.type in rule.types:
            rule.check(state, _reporter(collector, rule.severity, rule.code))


def _reporter(collector: Collector, severity: Severity, code: str) -> Report:
    def report(message: str, loc: Location | None) -> None:
        collector.add(severity, code, message, loc)

    return report


def effective_language(value: Any, inherited: QueryLanguage) -> QueryLanguage:
    """The query language a ``QueryLanguage`` field selects.

    AWS reads exactly ``"JSONPath"`` as JSONPath and any other value that is present (wrong
    case, unknown, not a string) as JSONata, reporting the bad value separately.
    """
    if value is _ABSENT:
        return inherited
    return JSONPATH if value == JSONPATH else JSONATA


_ABSENT: Any = object()


def get(doc: Mapping[str, Any], key: str) -> Any:
    """The field's value, or a marker distinct from every JSON value when it is absent."""
    return doc.get(key, _ABSENT)


def absent(value: Any) -> bool:
    """True for the marker :func:`get` returns for a missing field."""
    return value is _ABSENT
