"""Rules about Choice rules: one operator per rule, operands of the right kind, ``Next`` only
on top-level rules, ``And``/``Or`` non-empty arrays, ``Not`` one rule; JSONata rules are a
``Condition`` and a ``Next``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from asl.diagnostics import NO_PATH, SCHEMA_VALIDATION_FAILED
from asl.graph import Location
from asl.validate._base import JSONATA, Report, StateInfo, field_list, state_rule
from asl.validate.rules_fields import looks_dynamic, no_path_message, valid_path
from asl.validate.rules_states import is_timestamp, wrong_language_message

_COMPARISONS = ("Equals", "GreaterThan", "GreaterThanEquals", "LessThan", "LessThanEquals")


def _operators() -> dict[str, str]:
    """Every data-test operator and the kind of operand it takes."""
    kinds: dict[str, str] = {}
    for family, kind in (("String", "string"), ("Numeric", "number"), ("Timestamp", "timestamp")):
        for comparison in _COMPARISONS:
            kinds[family + comparison] = kind
            kinds[family + comparison + "Path"] = "path"
    kinds["StringMatches"] = "string"
    kinds["BooleanEquals"] = "boolean"
    kinds["BooleanEqualsPath"] = "path"
    for name in ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"):
        kinds[name] = "boolean"
    return kinds


#: Data-test operator -> kind of operand (string, number, timestamp, boolean or path).
OPERATORS = _operators()
COMBINATORS = ("And", "Or", "Not")
_ALL_OPERATORS = field_list((*COMBINATORS, *sorted(OPERATORS)))
_JSONPATH_RULE_FIELDS = frozenset({"Variable", "Comment", "Next", "Assign"})
_JSONATA_RULE_FIELDS = ("Condition", "Next", "Comment", "Assign", "Output")
_TYPE_NAMES = {"string": "STRING", "number": "NUMBER", "timestamp": "STRING", "boolean": "BOOLEAN"}


def iter_rules(state: StateInfo) -> Iterator[tuple[Any, Location, bool]]:
    """Every rule of a Choice state with its location and whether it is top-level."""
    choices = state.doc.get("Choices")
    if not isinstance(choices, list):
        return
    stack = [(rule, state.at("Choices", i), True) for i, rule in reversed(list(enumerate(choices)))]
    while stack:
        rule, loc, top = stack.pop()
        yield rule, loc, top
        if state.language == JSONATA or not isinstance(rule, Mapping):
            continue
        children: list[tuple[Any, Location, bool]] = []
        for key in ("And", "Or"):
            if isinstance(rule.get(key), list):
                children.extend((r, (*loc, key, i), False) for i, r in enumerate(rule[key]))
        if "Not" in rule:
            children.append((rule["Not"], (*loc, "Not"), False))
        stack.extend(reversed(children))


@state_rule(SCHEMA_VALIDATION_FAILED, "Choice")
def choice_rules(state: StateInfo, report: Report) -> None:
    """Each rule, top-level or nested, is well formed for the state's query language."""
    for rule, loc, top in iter_rules(state):
        if not isinstance(rule, Mapping):
            if not top:  # top-level rules are typed by the schema
                report("Expected value of type [OBJECT]", loc)
        elif state.language == JSONATA:
            _jsonata_rule(rule, loc, report)
        else:
            _jsonpath_rule(rule, loc, top, report)


def _jsonata_rule(rule: Mapping[str, Any], loc: Location, report: Report) -> None:
    missing = [name for name in ("Condition", "Next") if name not in rule]
    if missing:
        report(f"These fields are required: {field_list(missing)}", loc)
    for key in rule:
        if key in _JSONATA_RULE_FIELDS:
            continue
        if key in OPERATORS or key in COMBINATORS or key == "Variable":
            report(wrong_language_message(JSONATA, key), loc)
        else:
            report(f"Field '{key}' is not supported", loc)
    condition = rule.get("Condition")
    if "Condition" in rule and not isinstance(condition, str | bool):
        report("Expected value of type [STRING, BOOLEAN]", (*loc, "Condition"))
    _typed(rule, "Next", str, "STRING", loc, report)


def _jsonpath_rule(rule: Mapping[str, Any], loc: Location, top: bool, report: Report) -> None:
    if top and "Next" not in rule:
        report("These fields are required: [Next]", loc)
    for key in rule:
        if key in OPERATORS or key in COMBINATORS:
            continue
        if key in ("Condition", "Output"):
            report(wrong_language_message("JSONPath", key), loc)
        elif key not in _JSONPATH_RULE_FIELDS or (not top and key in ("Next", "Assign")):
            report(f"Field '{key}' is not supported", loc)
    _typed(rule, "Next", str, "STRING", loc, report)
    present = [key for key in rule if key in OPERATORS or key in COMBINATORS]
    if len(present) > 1:
        report(f"There should only be one of the following fields: {field_list(present)}", loc)
    elif not present:
        report(f"This object should have only one of the following fields: {_ALL_OPERATORS}", loc)
    elif present[0] in COMBINATORS:
        _combinator(rule, present[0], loc, report)
    else:
        _data_test(rule, present[0], loc, report)


def _typed(
    rule: Mapping[str, Any], key: str, type_: type, name: str, loc: Location, report: Report
) -> None:
    if key in rule and not isinstance(rule[key], type_):
        report(f"Expected value of type [{name}]", (*loc, key))


def _combinator(rule: Mapping[str, Any], key: str, loc: Location, report: Report) -> None:
    if "Variable" in rule:
        report("Field 'Variable' is not supported", loc)
    value = rule[key]
    if key == "Not":
        if not isinstance(value, Mapping):
            report("Expected value of type [OBJECT]", (*loc, key))
    elif not isinstance(value, list):
        report("Expected value of type [ARRAY]", (*loc, key))
    elif not value:
        report("Value cannot be empty", (*loc, key))


def _data_test(rule: Mapping[str, Any], operator: str, loc: Location, report: Report) -> None:
    variable = rule.get("Variable")
    if "Variable" not in rule:
        report("These fields are required: [Variable]", loc)
    elif not isinstance(variable, str):
        report("Expected value of type [STRING]", (*loc, "Variable"))
    elif not valid_path(variable):
        report("The value for the field 'Variable' must be a valid JSONPath", (*loc, "Variable"))
    kind, value, where = OPERATORS[operator], rule[operator], (*loc, operator)
    if kind == "path":
        if not isinstance(value, str):
            report("Expected value of type [STRING]", where)
        elif not valid_path(value):
            report(f"The value for the field '{operator}' must be a valid JSONPath", where)
    elif not _operand_fits(kind, value):
        report(f"Expected value of type [{_TYPE_NAMES[kind]}]", where)
    elif kind == "timestamp" and not is_timestamp(value):
        report("String does not match RFC3339 timestamp", where)


def _operand_fits(kind: str, value: Any) -> bool:
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


@state_rule(NO_PATH, "Choice", severity="WARNING")
def literal_operands(state: StateInfo, report: Report) -> None:
    """``StringEquals: "$.x"`` compares with the text; ``StringEqualsPath`` was probably meant."""
    if state.language == JSONATA:
        return
    for rule, loc, _ in iter_rules(state):
        if not isinstance(rule, Mapping):
            continue
        for key, value in rule.items():
            if OPERATORS.get(key) == "string" and isinstance(value, str) and looks_dynamic(value):
                report(no_path_message(key), (*loc, key))
