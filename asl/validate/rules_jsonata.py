"""Rules about JSONata expressions: they parse, and they read only what AWS offers where
they stand (no ``$$``; ``$states.errorOutput`` only in a Catcher; ``$states.result`` only
in the Output and Assign of a Task, Map or Parallel)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from asl.diagnostics import INVALID_JSONATA_EXPRESSION, UNSUPPORTED_JSONATA_EXPRESSION
from asl.graph import Location
from asl.validate._base import JSONATA, Report, StateInfo, state_rule
from asl.validate.rules_fields import walk

# Fields whose strings are never expressions, and fields holding nested scopes.
_NOT_EXPRESSIONS = frozenset(
    {"Type", "Comment", "QueryLanguage", "Next", "End", "Default", "Resource", "Label"}
)
_SCOPES = frozenset({"Branches", "ItemProcessor", "Iterator"})


def expressions(state: StateInfo) -> Iterator[tuple[str, Location]]:
    """Every ``{% %}`` string of a JSONata state, with its location."""
    if state.language != JSONATA:
        return
    # Imported here: importing the JSONata library raises the interpreter's recursion limit
    # (jsonata-python sets 10000), which a JSONPath-only user need not pay for.
    from asl.jsonata import is_expression

    for key, value in state.doc.items():
        if key in _NOT_EXPRESSIONS or key in _SCOPES:
            continue
        where = state.at(key)
        found: list[tuple[str | int, Any, Location]] = [(key, value, where)]
        if isinstance(value, Mapping | list):
            found.extend(walk(value, where))
        for inner_key, inner, inner_loc in found:
            if inner_key not in ("Next", "Comment") and is_expression(inner):
                yield inner, inner_loc


@state_rule(INVALID_JSONATA_EXPRESSION)
def expressions_parse(state: StateInfo, report: Report) -> None:
    """Every ``{% %}`` string of a JSONata state parses."""
    if state.language != JSONATA:
        return
    from asl.jsonata import check_expression  # see expressions() for why it is imported here

    for text, loc in expressions(state):
        problem = check_expression(text)
        if problem is not None:
            report(problem, loc)


# String literals, quoted names and comments, where `$$` or `$states` are only text.
_NOT_CODE = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|`[^`]*`|/\*.*?\*/", re.DOTALL)
_CONTEXT_ROOT = re.compile(r"\$\$")
_STATES_FIELD = re.compile(r"\$states\s*\.\s*(errorOutput|result)\b")
_RESULT_HOLDERS = frozenset({"Task", "Map", "Parallel"})


@state_rule(UNSUPPORTED_JSONATA_EXPRESSION)
def expressions_read_what_exists(state: StateInfo, report: Report) -> None:
    """No ``$$``; ``$states.errorOutput`` and ``$states.result`` only where AWS sets them."""
    for text, loc in expressions(state):
        code = _NOT_CODE.sub(" ", text[2:-2])
        if _CONTEXT_ROOT.search(code):
            report("Reference to '$$' is not supported.", loc)
        field = (*loc[len(state.loc) :], "", "", "")
        in_catcher = field[0] == "Catch" and field[2] in ("Output", "Assign")
        result_here = field[0] in ("Output", "Assign") and state.type in _RESULT_HOLDERS
        for name in dict.fromkeys(m[1] for m in _STATES_FIELD.finditer(code)):
            allowed = in_catcher if name == "errorOutput" else result_here
            if not allowed:
                report(f"Field '$states.{name}' does not exist.", loc)
