"""Unit tests of asl.variables for what the spec cases do not reach."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.bindings import Bindings
from asl.errors import StatesError
from asl.jsontext import json_size
from asl.variables import (
    MAX_ASSIGN_BYTES,
    MAX_VARIABLE_BYTES,
    SIZE_LIMIT_ERROR,
    VariableScope,
    check_assign_size,
    check_variable_name,
    compile_assign,
)


def test_json_size_counts_compact_utf8_json() -> None:
    assert json_size({"a": [1, 2]}) == len('{"a":[1,2]}')
    assert json_size("é") == 4
    assert json_size(None) == 4


def test_size_limits_are_inclusive() -> None:
    check_assign_size({"x": "a" * (MAX_VARIABLE_BYTES - 2)})
    with pytest.raises(StatesError) as info:
        check_assign_size({"x": "a" * (MAX_VARIABLE_BYTES - 1)})
    assert info.value.error == SIZE_LIMIT_ERROR
    assert info.value.cause == (
        "The variable 'x' has a size of 262145 bytes, more than the 262144 bytes allowed "
        "for a variable."
    )


def test_the_assign_limit_counts_every_variable() -> None:
    half = "a" * (MAX_ASSIGN_BYTES // 2 - 2)
    check_assign_size({"x": half, "y": half})
    with pytest.raises(StatesError) as info:
        check_assign_size({"x": half, "y": half, "z": 1})
    assert info.value.cause == (
        "The variables assigned together have a size of 262145 bytes, more than the 262144 "
        "bytes allowed for one Assign."
    )


def test_name_problems_say_why() -> None:
    assert check_variable_name("states") == "The variable name 'states' is reserved"
    assert check_variable_name("a" * 81) == (
        f"The variable name '{'a' * 81}' is longer than 80 characters"
    )
    assert check_variable_name("a-b") == "The variable name 'a-b' is not a valid identifier"
    assert check_variable_name("States") is None


def test_assign_returns_a_new_dict_each_time() -> None:
    evaluate = compile_assign({"a": 1}, "JSONata")
    first = evaluate(Bindings())
    first["a"] = 2
    assert evaluate(Bindings()) == {"a": 1}


def test_jsonpath_assign_reads_variables_at_entry() -> None:
    evaluate = compile_assign(
        {"total.$": "States.MathAdd($total, 1)", "was.$": "$total"}, "JSONPath"
    )
    assert evaluate(Bindings(input={}, variables={"total": 1})) == {"total": 2, "was": 1}


def test_a_catcher_assign_names_its_own_field() -> None:
    evaluate = compile_assign({"e": "{% $nothing %}"}, "JSONata", "Catch[0]/Assign")
    with pytest.raises(StatesError) as info:
        evaluate(Bindings())
    assert "for the field 'Catch[0]/Assign/e'" in (info.value.cause or "")


# --- scopes --------------------------------------------------------------------------------


def test_a_scope_is_immutable() -> None:
    root = VariableScope()
    after = root.assign({"a": 1})
    assert dict(root.variables) == {}
    assert dict(after.variables) == {"a": 1}
    assert after.assign({}) is after
    with pytest.raises(TypeError):
        after.own["b"] = 2  # type: ignore[index]


def test_later_assignments_replace_earlier_ones() -> None:
    scope = VariableScope().assign({"a": 1, "b": 2}).assign({"a": 3})
    assert dict(scope.variables) == {"a": 3, "b": 2}


def test_nested_scopes_read_every_outer_scope() -> None:
    root = VariableScope().assign({"a": 1})
    middle = root.child().assign({"b": 2})
    inner = middle.child().assign({"c": 3})
    variables = inner.variables
    assert dict(variables) == {"c": 3, "b": 2, "a": 1}
    assert list(variables) == ["c", "b", "a"]
    assert len(variables) == 3
    assert "a" in variables and "z" not in variables
    with pytest.raises(KeyError):
        variables["z"]


def test_an_inner_value_wins_over_an_outer_one() -> None:
    inner = VariableScope().assign({"a": 1}).child().assign({"a": 2})
    assert inner.variables["a"] == 2
    assert list(inner.variables) == ["a"]


def test_a_distributed_map_scope_is_isolated_at_any_depth() -> None:
    root = VariableScope().assign({"a": 1})
    isolated = root.child(distributed=True).assign({"b": 2})
    nested = isolated.child().assign({"c": 3})
    assert dict(nested.variables) == {"c": 3, "b": 2}


def test_sibling_scopes_do_not_see_each_other() -> None:
    root = VariableScope().assign({"shared": 0})
    left = root.child().assign({"left": 1})
    right = root.child().assign({"right": 2})
    assert "left" not in right.variables and "right" not in left.variables


def test_scope_variables_feed_bindings() -> None:
    scope = VariableScope().assign({"x": 2}).child().assign({"y": 3})
    evaluate = compile_assign({"z": "{% $x * $y %}"}, "JSONata")
    assert evaluate(Bindings(variables=scope.variables)) == {"z": 6}


# --- properties ----------------------------------------------------------------------------

_NAMES = st.text(alphabet=st.characters(categories=["L"]), min_size=1, max_size=8)
_VALUES = st.recursive(  # no "x.$" keys nor "{% %}" strings: the values are constants
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _NAMES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_NAMES, inner),
    max_leaves=6,
)


@settings(max_examples=100)
@given(assign=st.dictionaries(_NAMES, _VALUES, max_size=4))
def test_constant_assigns_assign_themselves(assign: dict[str, Any]) -> None:
    for language in ("JSONata", "JSONPath"):
        assert compile_assign(assign, language)(Bindings()) == assign


@settings(max_examples=200)
@given(name=st.text(max_size=90))
def test_valid_names_are_short_identifiers_other_than_states(name: str) -> None:
    valid = name.isidentifier() and len(name) <= 80 and name != "states"
    assert (check_variable_name(name) is None) is valid
