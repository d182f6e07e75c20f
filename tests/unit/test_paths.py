"""Unit and property tests of asl.paths beyond the spec cases."""

from __future__ import annotations

import contextlib
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonpath_ng.ext import parse as ng_parse

from asl.bindings import Bindings
from asl.paths import (
    CONTEXT,
    INPUT,
    VARIABLE,
    PathNotFound,
    PathSyntaxError,
    check_path,
    compile_path,
    compile_reference_path,
    path_shape,
)
from tests.strategies import json_values

JSON = json_values(st.sampled_from("abcxy"))

PATHS = [
    "$",
    "$.a",
    "$.a.b",
    "$.a[0]",
    "$.a[-1].b",
    "$['a','b']",
    "$['a', 'b'].c",
    "$.a[*]",
    "$..a",
    "$.a[1:]",
    "$.a[0,1]",
    "$.a[?(@.b > 1)]",
    "$.a[?(@.b == 'x' || @.c)]",
    "$.*",
    "$.a.*.b",
    "$[*][*]",
]


def test_compiled_path_describes_itself() -> None:
    path = compile_path("$.a['b c'][2]")
    assert (path.text, path.root, path.variable) == ("$.a['b c'][2]", INPUT, None)
    assert path.keys == ("a", "b c", 2)
    assert path.definite and path.reference
    assert compile_path("$$.Execution").root == CONTEXT
    variable = compile_path("$total.items[0]")
    assert (variable.root, variable.variable, variable.keys) == (VARIABLE, "total", ("items", 0))


def test_selected_values_are_not_copied() -> None:
    inner = {"b": [1, 2]}
    bindings = Bindings({"a": inner})
    assert compile_path("$.a").get(bindings) is inner
    assert compile_path("$").get(bindings) is bindings.input
    assert compile_path("$..b").get(bindings)[0] is inner["b"]


def test_a_string_is_not_indexed_like_an_array() -> None:
    with pytest.raises(PathNotFound) as info:
        compile_path("$.s[0]").get(Bindings({"s": "abc"}))
    assert info.value.detail == "Filter: [0] can only be applied to arrays. Current context is: abc"


def test_missing_variable() -> None:
    with pytest.raises(PathNotFound) as info:
        compile_path("$nothing.a").get(Bindings({}))
    assert (info.value.path, info.value.detail) == ("$nothing.a", "Variable not found: $nothing")


def test_unicode_variable_name() -> None:
    assert compile_path("$prénom").get(Bindings(variables={"prénom": "Zoé"})) == "Zoé"


@pytest.mark.parametrize(
    "text",
    ["$.a[*]", "$..a", "$.a[0:1]", "$.a[0,1]", "$.a[?(@.b)]", "$['a','b']", "$.a:b", "$.a@b"],
)
def test_not_reference_paths(text: str) -> None:
    assert check_path(text) is None
    message = check_path(text, reference=True)
    assert message == f"The value '{text}' is not a valid reference path"
    with pytest.raises(PathSyntaxError):
        compile_reference_path(text)


def test_check_path_explains_syntax_errors() -> None:
    assert check_path("$.a[") == "The value '$.a[' is not a valid JSONPath: unexpected text at '['"
    assert check_path("a") == "The value 'a' is not a valid JSONPath"
    assert check_path(3) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", PATHS + [p.replace("$", "$$", 1) for p in PATHS] + ["$v.a", "$v[?(@.b)]"]
)
def test_path_shape_is_what_compiling_finds(text: str) -> None:
    compiled = compile_path(text)
    assert path_shape(text) == (compiled.root, compiled.definite)


def test_path_shape_refuses_what_is_no_path() -> None:
    for text in ("a", "$.a.", "$.a b"):
        with pytest.raises(PathSyntaxError):
            path_shape(text)


def test_a_syntax_error_leaves_the_shared_parser_usable() -> None:
    # One jsonpath-ng parser serves every path: a parse that failed midway must not
    # leave state behind for the next.
    for bad in ("$.a[?(@.b >)]", "$.a[?(@.b == 'x' ||)]", "$.a[1:2:3:4]"):
        with pytest.raises(PathSyntaxError):
            compile_path(bad)
        path = compile_path("$.a[?(@.b > 1)].c")
        assert path.get(Bindings({"a": [{"b": 1, "c": "no"}, {"b": 2, "c": "yes"}]})) == ["yes"]


def test_paths_compiled_on_several_threads_at_once_select_what_they_say() -> None:
    data = {"a": [{"b": n, "c": n * 10} for n in range(40)]}

    def selected(n: int) -> list[Any]:
        return compile_path(f"$.a[?(@.b == {n % 40})].c").get(Bindings(data))  # type: ignore[no-any-return]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(selected, range(400)))
    assert results == [[n % 40 * 10] for n in range(400)]


def test_filter_reading_the_root() -> None:
    path = compile_path("$.a[?(@.x == $.y)]")
    assert path.get(Bindings({"a": [{"x": 1}, {"x": 2}], "y": 2})) == [{"x": 2}]


def test_dot_before_bracket_is_allowed() -> None:
    assert compile_path("$.[1]").get(Bindings([5, 6])) == 6


@settings(max_examples=300)
@given(st.text(max_size=20))
def test_compile_raises_only_syntax_errors(text: str) -> None:
    for candidate in (text, "$" + text, "$." + text, "$[" + text):
        with contextlib.suppress(PathSyntaxError):
            compile_path(candidate)


#: Compiled once: compiling is not what the test below explores, and is most of its cost.
EVALUATED = [
    compile_path(text)
    for text in PATHS + [p.replace("$", "$$", 1) for p in PATHS] + ["$v.a", "$v[0]"]
]


@settings(max_examples=300)
@given(JSON)
def test_evaluation_raises_only_path_not_found(data: Any) -> None:
    bindings = Bindings(data, data, {"v": data})
    for path in EVALUATED:
        with contextlib.suppress(PathNotFound):
            path.get(bindings)


NAMES = st.sampled_from(["a", "b", "x"])
STEPS = st.lists(
    NAMES.map(lambda n: f".{n}") | st.integers(-2, 2).map(lambda i: f"[{i}]"), max_size=4
)
PLAIN_DATA = st.recursive(
    st.integers() | st.booleans() | st.none(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(NAMES, children, max_size=3),
    max_leaves=15,
)


@settings(max_examples=400)
@given(STEPS, PLAIN_DATA)
def test_fast_path_agrees_with_jsonpath_ng(steps: list[str], data: Any) -> None:
    text = "$" + "".join(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [m.value for m in ng_parse(text).find(data)]
    try:
        actual = [compile_path(text).get(Bindings(data))]
    except PathNotFound:
        actual = []
    assert actual == expected
