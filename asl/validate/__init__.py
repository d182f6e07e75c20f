"""Validation of a definition: every problem in one pass, shaped like AWS's diagnostics.

Order of work: the definition must be an object, not nested absurdly deep and free of NaN
and infinities (checked without recursion, before anything recursive runs); then every
scope object and every state is checked against the JSON Schema of its kind
(``asl/schema``), each state against its own Type and query language; then the semantic
rules registered in the ``rules_*`` modules run on each state; last come the rules over
the state graph (transitions, reachability, terminal states, loops, duplicate names).
Deploy-time placeholders (``${Name}``) left in the definition are checked as any valid
value of their fields (``placeholders``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from asl.diagnostics import (
    INVALID_JSON_DESCRIPTION,
    SCHEMA_VALIDATION_FAILED,
    TOO_DEEPLY_NESTED,
    Diagnostic,
    error,
)
from asl.graph import GraphScope, Location, build_graph
from asl.jsontext import NotJson, non_finite_at
from asl.loader import Document, pointer
from asl.validate import rules_choice as rules_choice
from asl.validate import rules_fields as rules_fields
from asl.validate import rules_graph as rules_graph
from asl.validate import rules_jsonata as rules_jsonata
from asl.validate import rules_states as rules_states
from asl.validate import rules_task as rules_task
from asl.validate._base import (
    JSONATA,
    JSONPATH,
    Collector,
    QueryLanguage,
    StateInfo,
    absent,
    aws_location,
    effective_language,
    get,
    run_state_rules,
)
from asl.validate._schema import STATE_TYPES, check_scope, check_state
from asl.validate.placeholders import lenient

__all__ = ["MAX_DEPTH", "problems_at", "validate_document"]

#: Deepest nesting of objects and arrays accepted (the root object is level 1).
MAX_DEPTH = 100

# The rule modules register themselves on import.
_RULE_MODULES = (rules_choice, rules_fields, rules_jsonata, rules_states, rules_task)

_BAD_TYPE = (
    "The field 'Type' should have one of these values: "
    "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]"
)
_DOWNGRADE = "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"


def validate_document(document: Document, *, machine_type: str = "STANDARD") -> list[Diagnostic]:
    """Every problem of a parsed definition, placed at its line and column."""
    placed = list(document.repeated_states)
    for diagnostic, loc in problems_at(document.value, machine_type=machine_type):
        position = None if loc is None else document.position(pointer(*loc) or "/")
        placed.append(diagnostic.at(*position) if position else diagnostic)
    return placed


def problems_at(
    value: Any, *, machine_type: str = "STANDARD", placeholders: bool = True
) -> list[tuple[Diagnostic, Location | None]]:
    """Every problem of a parsed definition with where it is as a path of keys and
    indexes (None: the definition as a whole), not yet placed in any text.

    With ``placeholders`` false a ``${Name}`` is checked as the text it is, as AWS would
    check a definition deployed without its substitutions."""
    if not isinstance(value, Mapping):
        return [(error(SCHEMA_VALIDATION_FAILED, "Definition must be a valid JSON object"), None)]
    deep = too_deep(value)
    if deep is not None:
        message = f"The definition is nested deeper than {MAX_DEPTH} levels."
        return [(error(TOO_DEEPLY_NESTED, message, aws_location(deep)), deep)]
    # A YAML .inf/.nan or a Python float: a definition AWS could never receive as JSON.
    not_json = non_finite_at(value)
    if not_json is not None:
        message = str(NotJson())
        return [(error(INVALID_JSON_DESCRIPTION, message, aws_location(not_json)), not_json)]
    collector = Collector(machine_type)
    graph = build_graph(value)
    language = effective_language(get(value, "QueryLanguage"), JSONPATH)
    for scope in graph.graph["scopes"].values():
        _check_scope(graph, scope, language, collector)
    rules_graph.check_graph(graph, collector)
    return lenient(value, collector.found) if placeholders else collector.found


def too_deep(value: Any) -> Location | None:
    """Where the definition first nests deeper than :data:`MAX_DEPTH`, or None."""
    # (value, depth, parent entry, key in parent); locations are built only when needed.
    stack: list[tuple[Any, int, Any, str | int | None]] = [(value, 1, None, None)]
    while stack:
        entry = stack.pop()
        node, depth = entry[0], entry[1]
        if depth > MAX_DEPTH:
            return _location_of(entry)
        if isinstance(node, Mapping):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, child in items:
            if isinstance(child, Mapping | list):
                stack.append((child, depth + 1, entry, key))
    return None


def _location_of(entry: tuple[Any, int, Any, str | int | None]) -> Location:
    parts: list[str | int] = []
    while entry[2] is not None:
        key = entry[3]
        assert key is not None
        parts.append(key)
        entry = entry[2]
    return tuple(reversed(parts))


def _check_scope(
    graph: Any, scope: GraphScope, machine_language: QueryLanguage, collector: Collector
) -> None:
    for message, loc in check_scope(scope.kind, scope.document, scope.location):
        collector.add("ERROR", SCHEMA_VALIDATION_FAILED, message, loc)
    for node in scope.states:
        attrs = graph.nodes[node]
        _check_state(attrs["name"], attrs["state"], attrs["location"], machine_language, collector)


def _check_state(
    name: str,
    doc: Mapping[str, Any],
    loc: Location,
    machine_language: QueryLanguage,
    collector: Collector,
) -> None:
    rules_states.check_name(name, loc, collector)
    type_ = get(doc, "Type")
    if absent(type_):
        collector.add("ERROR", SCHEMA_VALIDATION_FAILED, "These fields are required: [Type]", loc)
        return
    if type_ not in STATE_TYPES:
        collector.add("ERROR", SCHEMA_VALIDATION_FAILED, _BAD_TYPE, (*loc, "Type"))
        return
    own = get(doc, "QueryLanguage")
    downgraded = machine_language == JSONATA and own == JSONPATH
    if downgraded:
        collector.add("ERROR", SCHEMA_VALIDATION_FAILED, _DOWNGRADE, loc)
    language = effective_language(own, machine_language)
    for message, where in check_state(language, type_, doc, loc):
        collector.add("ERROR", SCHEMA_VALIDATION_FAILED, message, where)
    info = StateInfo(name, doc, loc, type_, language, downgraded, collector.machine_type)
    run_state_rules(info, collector)
