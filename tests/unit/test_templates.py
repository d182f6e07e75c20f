"""Unit and property tests of asl.templates beyond the spec cases."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.bindings import Bindings
from asl.errors import StatesError
from asl.jsontext import json_text
from asl.templates import TemplateSyntaxError, compile_template, compile_value
from tests.strategies import json_values

JSON = json_values(st.sampled_from(["a", "b", "x", "a.$"]))


def test_constant_parts_are_shared_not_copied() -> None:
    shared = {"deep": [1, 2]}
    template = compile_template({"static": shared, "v.$": "$.v"}, "Parameters")
    first = template(Bindings({"v": 1}))
    assert first == {"static": {"deep": [1, 2]}, "v": 1}
    assert first["static"] is shared


def test_each_evaluation_builds_new_containers() -> None:
    template = compile_template({"v.$": "$.v", "list": [{"w.$": "$.v"}]}, "Parameters")
    first = template(Bindings({"v": 1}))
    first["v"] = "changed"
    first["list"][0]["w"] = "changed"
    assert template(Bindings({"v": 1})) == {"v": 1, "list": [{"w": 1}]}


def test_selected_values_are_not_copied() -> None:
    inner = {"k": [1]}
    assert compile_template({"v.$": "$.a"}, "Parameters")(Bindings({"a": inner}))["v"] is inner


def test_syntax_error_locates_the_key() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        compile_template({"a": [{"b": {"c.$": "nope"}}]}, "ItemSelector")
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.field, error.pointer) == ("c.$", "ItemSelector/a/0/b/c.$")
    assert str(error).startswith(
        "The value for the field 'c.$' must be a valid JSONPath or a valid intrinsic function call"
    )


def test_intrinsic_errors_pass_through() -> None:
    template = compile_template({"v.$": "States.ArrayGetItem($.a, 5)"}, "Parameters")
    with pytest.raises(StatesError):
        template(Bindings({"a": [1]}))


def test_non_string_keys_stay_literal() -> None:
    template = compile_template({1: "x", "v.$": "$"}, "Parameters")  # from YAML, say
    assert template(Bindings(2)) == {1: "x", "v": 2}


def test_single_value_fields_name_themselves_in_errors() -> None:
    error_path = compile_value("ErrorPath", "$.error")
    assert error_path(Bindings({"error": "Boom"})) == "Boom"
    with pytest.raises(StatesError) as info:
        error_path(Bindings({"other": 1}))
    assert info.value.cause == (
        "The JSONPath '$.error' specified for the field 'ErrorPath' could not be found "
        """in the input '{"other":1}'"""
    )
    cause = compile_value("CausePath", "States.Format('failed: {}', $.why)")
    assert cause(Bindings({"why": "x"})) == "failed: x"
    with pytest.raises(TemplateSyntaxError):
        compile_value("CausePath", "not a path")


def test_json_text_is_compact_and_keeps_order_and_unicode() -> None:
    assert json_text({"b": 1, "a": ["é", None, True, 1.5]}) == '{"b":1,"a":["é",null,true,1.5]}'


def _has_non_string_dollar_value(value: Any) -> bool:
    if isinstance(value, dict):
        return any(
            (key == "a.$" and not isinstance(item, str)) or _has_non_string_dollar_value(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_non_string_dollar_value(item) for item in value)
    return False


@settings(max_examples=200)
@given(JSON)
def test_compile_raises_only_syntax_errors(value: Any) -> None:
    try:
        compile_template(value, "Parameters")
    except TemplateSyntaxError:
        return
    assert not _has_non_string_dollar_value(value)


@settings(max_examples=200)
@given(JSON, JSON)
def test_literal_templates_are_constants(value: Any, data: Any) -> None:
    if "a.$" in repr(value):
        return
    assert compile_template(value, "Parameters")(Bindings(data)) is value


TEMPLATES = [
    {"a.$": "$.a", "b": {"c.$": "$.a.b[0]"}},
    {"all.$": "$", "ctx.$": "$$.a", "var.$": "$v.x"},
    {"list.$": "$.a[*].b", "f.$": "$.a[?(@.b > 1)]", "deep.$": "$..x"},
    {"n.$": "States.ArrayLength($.a)", "s.$": "States.Format('{}', $.a)"},
    {"j.$": "States.JsonToString($.a)", "m.$": "States.MathAdd($.a, 1)"},
]


@settings(max_examples=300)
@given(JSON)
def test_evaluation_raises_only_states_errors(data: Any) -> None:
    bindings = Bindings(data, data, {"v": data})
    for value in TEMPLATES:
        with contextlib.suppress(StatesError):
            compile_template(value, "Parameters")(bindings)
