"""Deploy-time placeholders the definition still holds (``${Name}`` with no value given).

A definition with placeholders is a template: what AWS validates is the definition after
deployment fills them (``asl.loader`` says how). So a string holding a placeholder is
checked as any valid value of its field: every problem found at or inside it is dropped,
and so is what a transition to an unknown state makes of the rest of the graph (states it
may reach, the terminal state or loop exit it may lead to). Each name left is reported
once, where it first appears, as a warning of our own (AWS never sees one).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from asl.diagnostics import (
    MISSING_END_STATE,
    MISSING_TRANSITION_TARGET,
    NO_EXIT_LOOP,
    UNRESOLVED_PLACEHOLDER,
    Diagnostic,
)
from asl.graph import Location
from asl.loader import PLACEHOLDER
from asl.validate._base import aws_location

__all__ = ["lenient", "strings", "unresolved"]

# Fields that name a state: a placeholder there may lead anywhere.
_TRANSITIONS = frozenset({"StartAt", "Next", "Default"})

Found = list[tuple[Diagnostic, Location | None]]


def unresolved(value: Any) -> dict[str, Location]:
    """Each placeholder name in the strings of a definition, with where it first appears."""
    names: dict[str, Location] = {}
    for loc, text in strings(value):
        for match in PLACEHOLDER.finditer(text):
            names.setdefault(match[1], loc)
    return names


def lenient(value: Any, found: Found) -> Found:
    """The problems of a definition that are not its placeholders', and one warning for
    each placeholder name."""
    if "${" not in json.dumps(value, default=str):  # the common case, at C speed
        return found
    marked = [loc for loc, text in strings(value) if PLACEHOLDER.search(text)]
    if not marked:
        return found
    open_graph = any(loc[-1] in _TRANSITIONS for loc in marked)
    kept = [
        (diagnostic, loc)
        for diagnostic, loc in found
        if not _inside(loc, marked) and not (open_graph and _graph_consequence(diagnostic))
    ]
    for name, loc in unresolved(value).items():
        message = (
            f"The placeholder ${{{name}}} has no value: it is checked as any valid value "
            "of its field"
        )
        kept.append(
            (Diagnostic("WARNING", UNRESOLVED_PLACEHOLDER, message, aws_location(loc)), loc)
        )
    return kept


def strings(value: Any) -> list[tuple[Location, str]]:
    """(location, text) of every string value of a JSON value, in document order (without
    recursion: the value may be deeper than the validator accepts)."""
    out: list[tuple[Location, str]] = []
    stack: list[tuple[Location, Any]] = [((), value)]
    while stack:
        loc, node = stack.pop()
        if isinstance(node, str):
            out.append((loc, node))
        elif isinstance(node, Mapping):
            stack.extend(((*loc, key), child) for key, child in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend(((*loc, i), child) for i, child in reversed(list(enumerate(node))))
    return out


def _inside(loc: Location | None, marked: list[Location]) -> bool:
    return loc is not None and any(loc[: len(mark)] == mark for mark in marked)


def _graph_consequence(diagnostic: Diagnostic) -> bool:
    if diagnostic.code in (MISSING_END_STATE, NO_EXIT_LOOP):
        return True
    return diagnostic.code == MISSING_TRANSITION_TARGET and diagnostic.message.endswith(
        "is not reachable."
    )
