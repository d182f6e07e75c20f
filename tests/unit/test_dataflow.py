"""Unit and property tests of asl.dataflow beyond the spec cases."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.bindings import Bindings
from asl.dataflow import (
    compile_input_path,
    compile_io,
    compile_output_path,
    compile_path_field,
    compile_result_path,
    compile_result_selector,
)
from asl.errors import RESULT_PATH_MATCH_FAILURE, RUNTIME, StatesError
from asl.paths import PathSyntaxError
from asl.templates import TemplateSyntaxError
from asl.variables import compile_assign
from tests.strategies import json_values

JSON = json_values(st.sampled_from("abxy"))


def test_result_path_copies_only_along_the_written_path() -> None:
    untouched, along = {"big": [1, 2, 3]}, {"keep": {"k": 1}}
    state_input = {"untouched": untouched, "a": along}
    snapshot = copy.deepcopy(state_input)
    output = compile_result_path("$.a.b")(state_input, "r")
    assert output == {"untouched": untouched, "a": {"keep": {"k": 1}, "b": "r"}}
    assert state_input == snapshot
    assert output["untouched"] is untouched
    assert output["a"] is not along and output["a"]["keep"] is along["keep"]


def test_result_path_into_null_fails() -> None:
    with pytest.raises(StatesError) as info:
        compile_result_path("$.a.b")({"a": None}, 1)
    assert (info.value.error, info.value.cause) == (
        RESULT_PATH_MATCH_FAILURE,
        'Unable to apply ReferencePath $.a.b to input {"a":null}',
    )


def test_result_path_dollar_and_null_return_the_same_objects() -> None:
    state_input, result = {"a": 1}, {"b": 2}
    assert compile_result_path("$")(state_input, result) is result
    assert compile_result_path(None)(state_input, result) is state_input


@pytest.mark.parametrize(
    "text", ["$$.Execution.Id", "$$", "$var", "$var.a", "$.a[*]", "$..a", "$['a','b']", "a"]
)
def test_result_path_must_be_a_reference_into_the_input(text: str) -> None:
    with pytest.raises(PathSyntaxError):
        compile_result_path(text)


def test_input_and_output_paths() -> None:
    bindings = Bindings({"a": {"b": 1}})
    assert compile_input_path("$.a")(bindings) == {"b": 1}
    assert compile_input_path(None)(bindings) == {}
    assert compile_output_path("$")(bindings) is bindings.input
    with pytest.raises(StatesError) as info:
        compile_output_path("$.a.c")(bindings)
    assert (info.value.error, info.value.cause) == (
        RUNTIME,
        "Invalid path '$.a.c' : No results for path: $['a']['c']",
    )


def test_null_path_gives_a_new_empty_object_each_time() -> None:
    select = compile_path_field(None, "ItemsPath")
    first = select(Bindings(1))
    assert first == {} and select(Bindings(1)) is not first


def test_items_path_reads_variables() -> None:
    select = compile_path_field("$items[1:]", "ItemsPath")
    assert select(Bindings({}, variables={"items": [1, 2, 3]})) == [2, 3]


def test_compile_result_selector() -> None:
    assert compile_result_selector({"v.$": "$.x"})(Bindings({"x": 3})) == {"v": 3}


def test_assign() -> None:
    assign = compile_assign({"total.$": "$.price", "n": 1}, "JSONPath")
    assert assign(Bindings({"price": 2})) == {"total": 2, "n": 1}
    with pytest.raises(TemplateSyntaxError, match=r"^The field 'Assign' must be an object$"):
        compile_assign(["not", "an", "object"], "JSONPath")


def test_io_keeps_the_callers_bindings() -> None:
    io = compile_io(parameters={"v.$": "$.v", "ctx.$": "$$.k", "var.$": "$x"})
    bindings = Bindings(None, {"k": "c"}, {"x": "X"})
    assert io.effective_input({"v": 1}, bindings) == {"v": 1, "ctx": "c", "var": "X"}


def test_io_parameters_field_names_item_selector_errors() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        compile_io(parameters={"a.$": 1}, parameters_field="ItemSelector")
    assert info.value.pointer == "ItemSelector/a.$"


def test_io_without_templates_passes_values_through() -> None:
    io = compile_io()
    raw, result = {"a": 1}, {"b": 2}
    assert io.effective_input(raw, Bindings()) is raw
    assert io.effective_output(raw, result, Bindings()) is result


IOS = [
    compile_io(),
    compile_io(input_path="$.a", result_path="$.b.c", output_path="$.b"),
    compile_io(input_path=None, result_path=None, output_path=None),
    compile_io(parameters={"x.$": "$.a", "all.$": "$"}, result_selector={"y.$": "$[0]"}),
    compile_io(input_path="$..a", result_path="$.a[0]", output_path="$.*"),
    compile_io(result_selector={"f.$": "$[?(@.a > 1)]"}, result_path="$['x y']"),
]


@settings(max_examples=300)
@given(JSON, JSON)
def test_processing_raises_only_states_errors_and_never_mutates(raw: Any, result: Any) -> None:
    snapshot = copy.deepcopy((raw, result))
    for io in IOS:
        try:
            io.effective_input(raw, Bindings(raw))
            io.effective_output(raw, result, Bindings(raw))
        except StatesError as exc:
            assert exc.error in (RUNTIME, RESULT_PATH_MATCH_FAILURE)
    assert (raw, result) == snapshot
