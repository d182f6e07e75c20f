"""asl.choice: compile errors, model conditions, the glob matcher and robustness."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.bindings import Bindings
from asl.choice import (
    COMPARATORS,
    NO_CHOICE_MATCHED_CAUSE,
    OPERATORS,
    TYPE_TESTS,
    ChoiceRuleError,
    compile_choices,
    compile_rule,
    parse_choices,
)
from asl.errors import StatesError
from tests.strategies import SCALARS, json_values


def _holds(rule: dict[str, Any], value: Any) -> bool:
    return compile_rule(rule)(Bindings(input={"v": value}))


# --- the operator table ------------------------------------------------------------------


def test_every_operator_is_known() -> None:
    families = ("String", "Numeric", "Timestamp")
    comparisons = ("Equals", "GreaterThan", "GreaterThanEquals", "LessThan", "LessThanEquals")
    expected = {f + c for f in families for c in comparisons} | {"BooleanEquals"}
    assert set(COMPARATORS) == expected
    assert set(TYPE_TESTS) == {"IsNull", "IsBoolean", "IsNumeric", "IsString", "IsTimestamp"}
    assert len(OPERATORS) == 39
    assert {name + "Path" for name in COMPARATORS} <= OPERATORS


# --- compile errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        [],
        {},
        {"And": []},
        {"Or": {"Variable": "$.v", "IsNull": True}},
        {"Not": "rule"},
        {"Variable": "$.v"},
        {"StringEquals": "x"},
        {"Variable": 1, "StringEquals": "x"},
        {"Variable": "$.v", "StringEquals": "x", "NumericEquals": 1},
        {"Variable": "$.v", "Unknown": 1},
        {"Variable": "v", "StringEquals": "x"},
        {"Variable": "$.v", "StringEqualsPath": 3},
        {"Variable": "$.v", "StringEqualsPath": "not a path"},
        {"Variable": "$.v", "NumericEquals": "1"},
        {"Variable": "$.v", "NumericEquals": True},
        {"Variable": "$.v", "BooleanEquals": 1},
        {"Variable": "$.v", "TimestampEquals": "2012-10-09"},
        {"Variable": "$.v", "IsNull": "true"},
        {"Variable": "$.v", "IsPresent": 1},
        {"Variable": "$.v", "StringMatches": 5},
        {"Condition": "true"},
        {"Condition": 1},
        {"Condition": "{% 1 + %}"},
        {"Condition": " {% true %}"},
    ],
)
def test_malformed_rules_do_not_compile(rule: Any) -> None:
    with pytest.raises(ChoiceRuleError):
        compile_rule(rule)


def test_top_level_rule_needs_next() -> None:
    with pytest.raises(ChoiceRuleError):
        parse_choices([{"Variable": "$.v", "IsNull": True}])


# --- evaluation details --------------------------------------------------------------------


def test_no_choice_matched_cause() -> None:
    choose = compile_choices(
        parse_choices([{"Variable": "$.v", "IsNull": True, "Next": "A"}]), None
    )
    with pytest.raises(StatesError) as info:
        choose(Bindings(input={"v": 1}))
    assert (info.value.error, info.value.cause) == (
        "States.NoChoiceMatched",
        NO_CHOICE_MATCHED_CAUSE,
    )


def test_dangling_backslash_cause() -> None:
    with pytest.raises(StatesError) as info:
        _holds({"Variable": "$.v", "StringMatches": "a\\"}, "a")
    assert info.value.error == "States.Runtime"
    assert info.value.cause == "The StringMatches pattern 'a\\' ends with an unescaped backslash."


def test_backslash_before_an_ordinary_character_stands_for_it() -> None:
    assert _holds({"Variable": "$.v", "StringMatches": "a\\bc"}, "abc")


def test_pathological_pattern_on_a_very_long_text() -> None:
    rule = {"Variable": "$.v", "StringMatches": "a*a*a*a*a*a*a*a*a*a*a*a*b"}
    assert not _holds(rule, "a" * 200_000)
    assert _holds(rule, "a" * 200_000 + "b")


def test_evaluation_does_not_change_the_input() -> None:
    value = {"v": {"nested": [1, 2]}, "w": "2012-10-09T19:00:55Z"}
    before = copy.deepcopy(value)
    rule = {
        "Or": [
            {"Variable": "$.v.nested[0]", "NumericEqualsPath": "$.v.nested[1]"},
            {"Variable": "$.w", "TimestampLessThan": "2000-01-01T00:00:00Z"},
        ]
    }
    assert compile_rule(rule)(Bindings(input=value)) is False
    assert value == before


def test_booleans_are_not_numbers_in_either_position() -> None:
    choose = compile_rule({"Variable": "$.a", "NumericEqualsPath": "$.b"})
    assert not choose(Bindings(input={"a": 1, "b": True}))
    assert not choose(Bindings(input={"a": True, "b": 1}))


def test_compile_a_rule_mixing_every_combinator() -> None:
    holds = compile_rule(
        {
            "And": [
                {"Variable": "$.a", "IsPresent": True},
                {"Not": {"Variable": "$.a", "StringEquals": "x"}},
                {"Or": [{"Condition": True}]},
            ]
        }
    )
    assert holds(Bindings(input={"a": "y"}))
    assert not holds(Bindings(input={"a": "x"}))
    assert not holds(Bindings(input={}))


def test_jsonata_condition_must_be_boolean() -> None:
    holds = compile_rule({"Condition": "{% $states.input.s %}"})
    with pytest.raises(StatesError) as info:
        holds(Bindings(input={"s": "yes"}))
    assert info.value.error == "States.QueryEvaluationError"
    assert info.value.cause == (
        "The JSONata expression '$states.input.s' specified for the field 'Condition' returned "
        "an unexpected result type. Expected 'boolean', but was 'string' for value: \"yes\""
    )


def test_jsonata_condition_reads_variables() -> None:
    holds = compile_rule({"Condition": "{% $limit > $states.input.n %}"})
    assert holds(Bindings(input={"n": 1}, variables={"limit": 2}))
    assert not holds(Bindings(input={"n": 3}, variables={"limit": 2}))


# --- the glob matcher against a regular-expression reference -------------------------------


def _reference(pattern: str, text: str) -> bool:
    pieces, current, i = [], "", 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            current += re.escape(pattern[i + 1])
            i += 2
            continue
        if pattern[i] == "*":
            pieces.append(current)
            current = ""
        else:
            current += re.escape(pattern[i])
        i += 1
    pieces.append(current)
    return re.fullmatch(".*".join(pieces), text, re.DOTALL) is not None


@given(st.text(alphabet="ab*\\", max_size=8), st.text(alphabet="ab*\\", max_size=10))
def test_string_matches_agrees_with_a_regex(pattern: str, text: str) -> None:
    if pattern.endswith("\\") and (len(pattern) - len(pattern.rstrip("\\"))) % 2 == 1:
        return  # a dangling escape: an error, covered above
    assert _holds({"Variable": "$.v", "StringMatches": pattern}, text) == _reference(pattern, text)


# --- robustness ----------------------------------------------------------------------------

_JSON = json_values(
    st.text(max_size=3),
    scalars=SCALARS
    | st.sampled_from(["2012-10-09T19:00:55Z", "2012-10-09T19:00:55+01:00", "2012-10-09"]),
    max_size=3,
    max_leaves=8,
)
_PATHS = st.sampled_from(["$", "$.a", "$.b", "$.a.b", "$.a[0]", "$$.x", "$v", "$.a[*]", "$..b"])


def _data_tests() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda variable, name, operand, path: {
            "Variable": variable,
            name: path if name.endswith("Path") else operand,
        },
        _PATHS,
        st.sampled_from(sorted(OPERATORS)),
        _JSON,
        _PATHS,
    )


_RULES = st.recursive(
    _data_tests(),
    lambda inner: (
        st.builds(lambda rs: {"And": rs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda rs: {"Or": rs}, st.lists(inner, min_size=1, max_size=3))
        | st.builds(lambda r: {"Not": r}, inner)
    ),
    max_leaves=4,
)


@settings(max_examples=300)
@given(_RULES, _JSON, _JSON, st.dictionaries(st.sampled_from(["v", "w"]), _JSON))
def test_random_rules_raise_only_states_errors(
    rule: dict[str, Any], value: Any, context: Any, variables: dict[str, Any]
) -> None:
    try:
        holds = compile_rule(rule)
    except ChoiceRuleError:
        return
    try:
        result = holds(Bindings(input=value, context=context, variables=variables))
    except StatesError as error:
        assert error.error == "States.Runtime"
        return
    assert isinstance(result, bool)


@given(
    st.recursive(_JSON, lambda inner: st.dictionaries(st.sampled_from(sorted(OPERATORS)), inner))
)
def test_random_documents_compile_or_raise_choice_rule_error(document: Any) -> None:
    try:
        holds = compile_rule(document)
    except ChoiceRuleError:
        return
    assert callable(holds)


@settings(max_examples=150)
@given(st.text(alphabet="$states.inputab =<>!()'\"1 andor", max_size=20), _JSON)
def test_random_jsonata_conditions_raise_only_states_errors(body: str, value: Any) -> None:
    try:
        holds = compile_rule({"Condition": "{% " + body + " %}"})
    except ChoiceRuleError:
        return
    try:
        result = holds(Bindings(input=value))
    except StatesError as error:
        assert error.error == "States.QueryEvaluationError"
        return
    assert isinstance(result, bool)
