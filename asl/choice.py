"""Choice rules, compiled once into predicates over :class:`~asl.bindings.Bindings`.

A JSONPath rule is a combinator (``And``, ``Or``, ``Not``) or a data test: a ``Variable``
path and one operator. Operators come in families that share a *key* function mapping
a JSON value to something comparable, or to None when the value is not of the family's
type (then the test is false: AWS never coerces types, and booleans are not numbers):

- ``Numeric*``: ints and floats by value (``1`` equals ``1.0``);
- ``String*``: UTF-16 code units, like Java's ``String.compareTo`` on AWS;
- ``Timestamp*``: instants, offsets normalised (:mod:`asl.timestamps`);
- ``BooleanEquals``: booleans only.

Each ``<Family><Comparison>`` has a ``...Path`` twin whose operand is a path read from
the same bindings. ``Is*`` operators test a type; ``IsPresent`` alone tolerates a
missing ``Variable``: everywhere else a path that selects nothing is ``States.Runtime``.
A JSONata rule is ``{"Condition": "{% ... %}"}`` (or a literal boolean).

Rules go from the document to the model (:func:`parse_choices`, used by
:mod:`asl.compile`) and from the model to predicates (:func:`compile_choices`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from asl import jsonata
from asl import model as m
from asl.bindings import Bindings
from asl.errors import NO_CHOICE_MATCHED, RUNTIME, StatesError
from asl.paths import CompiledPath, PathNotFound, PathSyntaxError, compile_path
from asl.timestamps import epoch_nanos, is_timestamp

__all__ = [
    "COMPARATORS",
    "NO_CHOICE_MATCHED_CAUSE",
    "OPERATORS",
    "TYPE_TESTS",
    "ChoiceRuleError",
    "Choose",
    "Predicate",
    "compile_choices",
    "compile_condition",
    "compile_rule",
    "invalid_path_cause",
    "parse_choices",
    "parse_condition",
]

Predicate = Callable[[Bindings], bool]
#: Picks a rule: ``(index of the matched rule, or None for Default; next state name)``.
Choose = Callable[[Bindings], tuple[int | None, str]]
Key = Callable[[Any], Any]

# AWS's cause for no match is not recorded in any source we have; this wording is ours.
NO_CHOICE_MATCHED_CAUSE = "No Choice Rule matched the input and the Choice state has no Default."


class ChoiceRuleError(ValueError):
    """A rule that cannot be compiled (the validator reports these before compiling)."""


def invalid_path_cause(path: str) -> str:
    """AWS's cause when a rule's path (``Variable`` or a ``...Path`` operand) selects nothing."""
    return f"Invalid path '{path}': The choice state's condition path references an invalid value."


# --- Operator tables ---------------------------------------------------------------------


def _number_key(value: Any) -> int | float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _string_key(value: Any) -> bytes | None:
    # Big-endian UTF-16 bytes order exactly like the sequence of UTF-16 code units.
    if isinstance(value, str):
        return value.encode("utf-16-be", "surrogatepass")
    return None


def _boolean_key(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


_FAMILIES: dict[str, Key] = {
    "Numeric": _number_key,
    "String": _string_key,
    "Timestamp": epoch_nanos,
}
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": operator.eq,
    "GreaterThan": operator.gt,
    "GreaterThanEquals": operator.ge,
    "LessThan": operator.lt,
    "LessThanEquals": operator.le,
}

#: Comparison operator (without the ``Path`` suffix) -> (key function, comparison).
COMPARATORS: dict[str, tuple[Key, Callable[[Any, Any], bool]]] = {
    family + name: (key, compare)
    for family, key in _FAMILIES.items()
    for name, compare in _COMPARISONS.items()
}
COMPARATORS["BooleanEquals"] = (_boolean_key, operator.eq)

#: ``Is*`` operator (except IsPresent) -> its type test.
TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "IsNull": lambda value: value is None,
    "IsBoolean": lambda value: isinstance(value, bool),
    "IsNumeric": lambda value: _number_key(value) is not None,
    "IsString": lambda value: isinstance(value, str),
    "IsTimestamp": is_timestamp,
}

#: Every data-test operator name.
OPERATORS: frozenset[str] = frozenset(
    {*COMPARATORS, *(name + "Path" for name in COMPARATORS), *TYPE_TESTS}
    | {"IsPresent", "StringMatches"}
)


# --- Compiling rules ---------------------------------------------------------------------


def parse_condition(rule: Mapping[str, Any]) -> m.Condition:
    """The model of one Choice rule document (top-level or nested); ``Next``, ``Comment``,
    ``Assign`` and ``Output`` are not part of it. Raises :class:`ChoiceRuleError` for a
    rule of the wrong shape."""
    if not isinstance(rule, Mapping):
        raise ChoiceRuleError(f"A Choice rule must be an object, not {rule!r}")
    for key, combinator in (("And", m.And), ("Or", m.Or)):
        if key in rule:
            rules = rule[key]
            if not isinstance(rules, list) or not rules:
                raise ChoiceRuleError(f"'{key}' must be a non-empty array of rules")
            return combinator(rules=tuple(parse_condition(r) for r in rules))
    if "Not" in rule:
        return m.Not(rule=parse_condition(rule["Not"]))
    if "Condition" in rule:
        return m.JsonataCondition(condition=rule["Condition"])
    operators = [key for key in rule if key in OPERATORS]
    if len(operators) != 1 or not isinstance(rule.get("Variable"), str):
        raise ChoiceRuleError("A data-test rule needs a 'Variable' and exactly one operator")
    return m.DataTest(variable=rule["Variable"], operator=operators[0], value=rule[operators[0]])


def parse_choices(choices: Sequence[Mapping[str, Any]]) -> tuple[m.ChoiceRule, ...]:
    """The model of a Choice state's ``Choices``; raises :class:`ChoiceRuleError`."""
    return tuple(
        m.ChoiceRule(
            condition=parse_condition(rule),
            next=_next_of(rule),
            assign=rule.get("Assign", m.MISSING),
            output=rule.get("Output", m.MISSING),
            comment=rule.get("Comment"),
        )
        for rule in choices
    )


def compile_condition(condition: m.Condition) -> Predicate:
    """Compile a rule of the model into a predicate. Raises :class:`ChoiceRuleError` for
    an operand the operator cannot take; the predicate raises only
    :class:`~asl.errors.StatesError`."""
    if isinstance(condition, m.And | m.Or):
        predicates = tuple(compile_condition(rule) for rule in condition.rules)
        return _combine("And" if isinstance(condition, m.And) else "Or", predicates)
    if isinstance(condition, m.Not):
        return _negate(compile_condition(condition.rule))
    if isinstance(condition, m.JsonataCondition):
        return _jsonata_condition(condition.condition)
    return _data_test(condition.variable, condition.operator, condition.value)


def compile_rule(rule: Mapping[str, Any]) -> Predicate:
    """Compile one Choice rule document: :func:`parse_condition`, then
    :func:`compile_condition`."""
    return compile_condition(parse_condition(rule))


def compile_choices(choices: Sequence[m.ChoiceRule], default: str | None) -> Choose:
    """Compile a Choice state's rules and ``Default``.

    The result returns the index of the first rule that holds and its ``Next``, or
    ``(None, default)``; with no match and no Default it raises
    ``States.NoChoiceMatched``.
    """
    rules = tuple((compile_condition(rule.condition), rule.next) for rule in choices)

    def choose(bindings: Bindings) -> tuple[int | None, str]:
        for index, (holds, next_state) in enumerate(rules):
            if holds(bindings):
                return index, next_state
        if default is None:
            raise StatesError(NO_CHOICE_MATCHED, NO_CHOICE_MATCHED_CAUSE)
        return None, default

    return choose


def _next_of(rule: Mapping[str, Any]) -> str:
    next_state = rule.get("Next")
    if not isinstance(next_state, str):
        raise ChoiceRuleError("A top-level Choice rule needs a 'Next' state name")
    return next_state


def _combine(key: str, predicates: tuple[Predicate, ...]) -> Predicate:
    # all()/any() stop at the first decisive rule: AWS documents guarding a comparison
    # with a preceding IsPresent inside an And.
    if key == "And":
        return lambda bindings: all(p(bindings) for p in predicates)
    return lambda bindings: any(p(bindings) for p in predicates)


def _negate(predicate: Predicate) -> Predicate:
    return lambda bindings: not predicate(bindings)


# --- Data tests --------------------------------------------------------------------------


def _data_test(variable: str, name: str, operand: Any) -> Predicate:
    path = _path(variable)
    if name == "IsPresent":
        return _is_present(path, _boolean_operand(name, operand))
    read = _reader(path)
    if name in TYPE_TESTS:
        return _type_test(read, TYPE_TESTS[name], _boolean_operand(name, operand))
    if name == "StringMatches":
        if not isinstance(operand, str):
            raise ChoiceRuleError("'StringMatches' takes a string pattern")
        return _string_matches(read, operand)
    if name in COMPARATORS:
        return _compare_literal(read, name, operand)
    if name.endswith("Path") and name[:-4] in COMPARATORS:
        if not isinstance(operand, str):
            raise ChoiceRuleError(f"'{name}' takes a path")
        return _compare_paths(read, name[:-4], _reader(_path(operand)))
    raise ChoiceRuleError(f"Unknown Choice operator '{name}'")


def _path(text: Any) -> CompiledPath:
    if not isinstance(text, str):
        raise ChoiceRuleError(f"A Choice rule path must be a string, not {text!r}")
    try:
        return compile_path(text)
    except PathSyntaxError as exc:
        raise ChoiceRuleError(str(exc)) from None


def _reader(path: CompiledPath) -> Callable[[Bindings], Any]:
    """Read a path; a path that selects nothing fails the state with ``States.Runtime``."""

    def read(bindings: Bindings) -> Any:
        try:
            return path.get(bindings)
        except PathNotFound:
            raise StatesError(RUNTIME, invalid_path_cause(path.text)) from None

    return read


def _boolean_operand(name: str, operand: Any) -> bool:
    if not isinstance(operand, bool):
        raise ChoiceRuleError(f"'{name}' takes a boolean")
    return operand


def _is_present(path: CompiledPath, expected: bool) -> Predicate:
    def is_present(bindings: Bindings) -> bool:
        try:
            path.get(bindings)
        except PathNotFound:
            return not expected
        return expected

    return is_present


def _type_test(
    read: Callable[[Bindings], Any], test: Callable[[Any], bool], expected: bool
) -> Predicate:
    return lambda bindings: test(read(bindings)) is expected


def _compare_literal(read: Callable[[Bindings], Any], name: str, operand: Any) -> Predicate:
    key, compare = COMPARATORS[name]
    literal = key(operand)
    if literal is None:
        raise ChoiceRuleError(f"'{name}' cannot compare with {operand!r}")

    def test(bindings: Bindings) -> bool:
        value = key(read(bindings))
        return value is not None and compare(value, literal)

    return test


def _compare_paths(
    read: Callable[[Bindings], Any], name: str, read_other: Callable[[Bindings], Any]
) -> Predicate:
    key, compare = COMPARATORS[name]

    def test(bindings: Bindings) -> bool:
        value = key(read(bindings))
        other = key(read_other(bindings))
        return value is not None and other is not None and compare(value, other)

    return test


# --- StringMatches -----------------------------------------------------------------------


def _string_matches(read: Callable[[Bindings], Any], pattern: str) -> Predicate:
    segments = _split_pattern(pattern)

    def test(bindings: Bindings) -> bool:
        value = read(bindings)
        if segments is None:
            raise StatesError(RUNTIME, _dangling_escape_cause(pattern))
        return isinstance(value, str) and _glob_match(segments, value)

    return test


def _dangling_escape_cause(pattern: str) -> str:
    # AWS's wording for this is not recorded.
    return f"The StringMatches pattern '{pattern}' ends with an unescaped backslash."


def _split_pattern(pattern: str) -> list[str] | None:
    """The literal pieces between unescaped ``*``s; None for a trailing lone backslash.

    ``\\*`` is a literal star and ``\\\\`` a literal backslash; a backslash before any
    other character just stands for that character.
    """
    segments: list[str] = []
    current: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                return None
            current.append(escaped)
        elif char == "*":
            segments.append("".join(current))
            current = []
        else:
            current.append(char)
    segments.append("".join(current))
    return segments


def _glob_match(segments: list[str], text: str) -> bool:
    """Whether ``text`` matches pieces joined by ``*`` wildcards, without backtracking.

    With ``*`` the only wildcard, placing each middle piece at its leftmost occurrence
    is optimal, so one left-to-right scan decides the match.
    """
    if len(segments) == 1:
        return text == segments[0]
    head, *middle, tail = segments
    if len(head) + len(tail) > len(text) or not text.startswith(head):
        return False
    if not text.endswith(tail):
        return False
    position, end = len(head), len(text) - len(tail)
    for piece in middle:
        found = text.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


# --- JSONata conditions ------------------------------------------------------------------


def _jsonata_condition(condition: Any) -> Predicate:
    """A literal boolean, or a ``{% ... %}`` expression that must yield a boolean."""
    if isinstance(condition, bool):
        return lambda bindings: condition
    if not jsonata.is_expression(condition):
        raise ChoiceRuleError("'Condition' must be a boolean or a JSONata expression")
    try:
        # The evaluator raises AWS's States.QueryEvaluationError for a non-boolean result.
        evaluate = jsonata.compile_expression(condition, "Condition", "boolean")
    except jsonata.JsonataSyntaxError as exc:
        raise ChoiceRuleError(str(exc)) from None
    return lambda bindings: evaluate(bindings) is True
