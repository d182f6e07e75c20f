"""Rules about the values inside fields: JSONPath syntax, payload templates, intrinsic calls,
JSONata expressions, variable names, and the warnings AWS gives for likely slips."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from asl.diagnostics import NO_DOLLAR, NO_PATH, PASS_RESULT_IS_STATIC, SCHEMA_VALIDATION_FAILED
from asl.graph import Location
from asl.intrinsics import check_call, is_intrinsic_call
from asl.paths import check_path
from asl.validate._base import (
    JSONPATH,
    Report,
    StateInfo,
    state_rule,
)

_SCHEMA = SCHEMA_VALIDATION_FAILED

# --- path syntax -------------------------------------------------------------------------

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STEPS = rf"(?:\.{_NAME}|\[\d+\])*"
# Plain paths every JSONPath parser reads the same way: checked without parsing.
_PLAIN_PATH = re.compile(rf"\$(?:\$|{_NAME})?{_STEPS}")
_PLAIN_REFERENCE = re.compile(rf"\${_STEPS}")
_checked: dict[tuple[str, bool], bool] = {}


def valid_path(text: str, *, reference: bool = False, input_only: bool = False) -> bool:
    """Whether ``text`` is a JSONPath.

    ``reference`` asks for a reference path (one that selects a single node);
    ``input_only`` also forbids the context (``$$``) and variables (for ResultPath).
    """
    plain = _PLAIN_REFERENCE if input_only else _PLAIN_PATH
    if plain.fullmatch(text):
        return True
    if input_only and not (text == "$" or text.startswith(("$.", "$["))):
        return False
    key = (text, reference)
    if key not in _checked:
        if len(_checked) > 10_000:
            _checked.clear()
        _checked[key] = check_path(text, reference=reference) is None
    return _checked[key]


def valid_call(text: str) -> bool:
    """Whether ``text`` is a well-formed call of a real intrinsic function."""
    return is_intrinsic_call(text) and check_call(text) is None


_PATHS = ("InputPath", "OutputPath")
_REFERENCES = (
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
)
_NESTED_REFERENCES = (
    (("ItemBatcher",), ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath")),
    (("ItemReader", "ReaderConfig"), ("MaxItemsPath",)),
)


def _valid_result_path(text: str) -> bool:
    return valid_path(text, reference=True, input_only=True)


def _path_message(name: str) -> str:
    return f"The value for the field '{name}' must be a valid JSONPath"


def _reference_message(name: str) -> str:
    return f"The value for the field '{name}' must be a valid ReferencePath"


@state_rule(_SCHEMA)
def path_fields(state: StateInfo, report: Report) -> None:
    """Every ``...Path`` field of a JSONPath state holds a path of the right kind."""
    if state.language != JSONPATH:
        return
    doc = state.doc
    for name in _PATHS:
        value = doc.get(name)
        if isinstance(value, str) and not valid_path(value):
            report(_path_message(name), state.at(name))
    result_path = doc.get("ResultPath")
    if isinstance(result_path, str) and not _valid_result_path(result_path):
        report(_reference_message("ResultPath"), state.at("ResultPath"))
    for name in _REFERENCES:
        value = doc.get(name)
        if isinstance(value, str) and not valid_path(value, reference=True):
            report(_reference_message(name), state.at(name))
    for holder, names in _NESTED_REFERENCES:
        inner: Any = doc
        for key in holder:
            inner = inner.get(key) if isinstance(inner, Mapping) else None
        for name in names if isinstance(inner, Mapping) else ():
            value = inner.get(name)
            if isinstance(value, str) and not valid_path(value, reference=True):
                report(_reference_message(name), state.at(*holder, name))
    for name in ("ErrorPath", "CausePath"):
        value = doc.get(name)
        if isinstance(value, str) and not (valid_path(value) or valid_call(value)):
            report(_template_message(name), state.at(name))
    catchers = doc.get("Catch")
    for i, catcher in enumerate(catchers if isinstance(catchers, list) else ()):
        value = catcher.get("ResultPath") if isinstance(catcher, Mapping) else None
        if isinstance(value, str) and not _valid_result_path(value):
            report(_reference_message("ResultPath"), state.at("Catch", i, "ResultPath"))


# --- payload templates ---------------------------------------------------------------------


def _template_message(name: str) -> str:
    return (
        f"The value for the field '{name}' must be a valid JSONPath "
        "or a valid intrinsic function call"
    )


def templates(state: StateInfo) -> Iterator[tuple[Any, Location]]:
    """The payload templates of a JSONPath state (values whose ``.$`` keys are evaluated)."""
    doc = state.doc
    for name in ("Parameters", "ResultSelector", "ItemSelector", "Credentials", "Assign"):
        if name in doc:
            yield doc[name], state.at(name)
    for holder, name in (
        ("ItemReader", "Parameters"),
        ("ResultWriter", "Parameters"),
        ("ItemBatcher", "BatchInput"),
    ):
        inner = doc.get(holder)
        if isinstance(inner, Mapping) and name in inner:
            yield inner[name], state.at(holder, name)
    for key in ("Catch", "Choices"):
        entries = doc.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else ()):
            if isinstance(entry, Mapping) and "Assign" in entry:
                yield entry["Assign"], state.at(key, i, "Assign")


def walk(value: Any, loc: Location) -> Iterator[tuple[str | int, Any, Location]]:
    """Every (key, value, location) inside a JSON value, without recursion."""
    stack = [(value, loc)]
    while stack:
        node, where = stack.pop()
        items: Any = node.items() if isinstance(node, Mapping) else enumerate(node)
        for key, child in items:
            child_loc = (*where, key)
            yield key, child, child_loc
            if isinstance(child, Mapping | list):
                stack.append((child, child_loc))


def looks_dynamic(text: str) -> bool:
    """A literal that reads like a path or an intrinsic call."""
    return text == "$" or text.startswith(("$.", "$$.", "$[")) or bool(_CALL.match(text))


_CALL = re.compile(r"States\.[A-Za-z0-9]+\(")


def _template_entries(state: StateInfo) -> Iterator[tuple[str | int, Any, Location]]:
    """Every (key, value, location) inside a JSONPath state's payload templates."""
    if state.language != JSONPATH:
        return
    for template, loc in templates(state):
        if isinstance(template, Mapping | list):
            yield from walk(template, loc)


@state_rule(_SCHEMA)
def template_values(state: StateInfo, report: Report) -> None:
    """A ``.$`` key holds a path or an intrinsic call."""
    for key, value, where in _template_entries(state):
        if not (isinstance(key, str) and key.endswith(".$")):
            continue
        if not (isinstance(value, str) and (valid_path(value) or valid_call(value))):
            report(_template_message(key), where)


@state_rule(NO_DOLLAR, severity="WARNING")
def template_literals(state: StateInfo, report: Report) -> None:
    """A literal that looks like a path, under a key without ``.$``, is probably a slip."""
    for key, value, where in _template_entries(state):
        literal = isinstance(key, str) and not key.endswith(".$")
        if literal and isinstance(value, str) and looks_dynamic(value):
            report(
                f"The value of the field '{key}' looks like a JSONPath or an intrinsic "
                "function call, but the field name does not end with '.$'",
                where,
            )


@state_rule(NO_PATH, "Fail", severity="WARNING")
def fail_literals(state: StateInfo, report: Report) -> None:
    """``Error: "$.x"`` is a literal; ``ErrorPath`` was probably meant."""
    if state.language != JSONPATH:
        return
    for name in ("Error", "Cause"):
        value = state.doc.get(name)
        if isinstance(value, str) and looks_dynamic(value):
            report(no_path_message(name), state.at(name))


def no_path_message(name: str) -> str:
    """AWS's NO_PATH warning, for a field whose literal value looks like a path."""
    return (
        f"The value of the field '{name}' looks like a JSONPath, "
        "but the field name does not end with 'Path'"
    )


@state_rule(PASS_RESULT_IS_STATIC, "Pass", severity="WARNING")
def pass_result_is_static(state: StateInfo, report: Report) -> None:
    """A Pass ``Result`` is never evaluated: paths in it stay text."""
    result = state.doc.get("Result")
    if state.language != JSONPATH or not isinstance(result, Mapping | list):
        return
    for key, value, _ in walk(result, state.at("Result")):
        dynamic_key = isinstance(key, str) and key.endswith(".$")
        if dynamic_key or (isinstance(value, str) and looks_dynamic(value)):
            report(
                "The Result of a Pass state is static: paths and intrinsic functions in it "
                "are not evaluated (use Parameters)",
                state.at("Result"),
            )
            return


# --- variables -----------------------------------------------------------------------------

MAX_VARIABLE_LENGTH = 80


def variable_problem(name: str) -> str | None:
    """Why ``name`` cannot be a variable name, or None."""
    if name == "states":
        return "The variable name 'states' is reserved"
    if len(name) > MAX_VARIABLE_LENGTH:
        return f"The variable name '{name}' exceeds the 80-character limit"
    if not name.isidentifier():
        return f"The variable name '{name}' is not a valid identifier"
    return None


@state_rule(_SCHEMA)
def assigned_names(state: StateInfo, report: Report) -> None:
    """Assign keys name variables: identifiers of at most 80 characters, not ``states``."""
    places: list[tuple[Any, Location]] = [(state.doc.get("Assign"), state.at("Assign"))]
    for key in ("Catch", "Choices"):
        entries = state.doc.get(key)
        for i, entry in enumerate(entries if isinstance(entries, list) else ()):
            if isinstance(entry, Mapping):
                places.append((entry.get("Assign"), state.at(key, i, "Assign")))
    for assign, loc in places:
        if not isinstance(assign, Mapping):
            continue
        for key in assign:
            name = key[:-2] if state.language == JSONPATH and key.endswith(".$") else key
            problem = variable_problem(name)
            if problem is not None:
                report(problem, (*loc, key))
