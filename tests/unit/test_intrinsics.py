"""Unit tests of asl.intrinsics for what the spec cases do not reach."""

from __future__ import annotations

from typing import Any

import pytest

import asl.intrinsics as intrinsics
from asl.bindings import Bindings
from asl.errors import RUNTIME, StatesError
from asl.intrinsics import IntrinsicSyntaxError, check_call, compile_call, is_intrinsic_call
from asl.intrinsics import parser as parser_module
from asl.intrinsics.numeric import JavaRandom
from asl.intrinsics.registry import REGISTRY
from asl.intrinsics.render import java_double, java_text, json_text
from asl.intrinsics.template import template_of_text


class FixedEntropy:
    """Entropy that always draws the same values."""

    def __init__(self, value: float, uuid: str = "00000000-0000-4000-8000-000000000000") -> None:
        self.value = value
        self.uuid = uuid
        self.draws = 0

    def random(self) -> float:
        self.draws += 1
        return self.value

    def uuid4(self) -> str:
        self.draws += 1
        return self.uuid


def evaluate(text: str, value: Any = None, **bindings: Any) -> Any:
    return compile_call(text)(Bindings(input=value, **bindings))


def runtime_error(text: str, value: Any = None, **bindings: Any) -> StatesError:
    with pytest.raises(StatesError) as info:
        evaluate(text, value, **bindings)
    assert info.value.error == RUNTIME
    return info.value


def test_export_list_is_pinned() -> None:
    assert sorted(intrinsics.__all__) == [
        "IntrinsicSyntaxError",
        "check_call",
        "compile_call",
        "is_intrinsic_call",
    ]
    assert issubclass(IntrinsicSyntaxError, ValueError)


def test_registry_holds_the_eighteen_functions() -> None:
    assert len(REGISTRY) == 18
    assert all(name.startswith("States.") for name in REGISTRY)


def test_is_intrinsic_call() -> None:
    assert is_intrinsic_call("States.UUID()")
    assert not is_intrinsic_call("$.States")


def test_parsing_happens_once(monkeypatch: pytest.MonkeyPatch) -> None:
    call = compile_call("States.Format('{}-{}', $.a, States.MathAdd($.n, 1))")
    tree = call.tree  # type: ignore[attr-defined]

    def no_parsing(text: str) -> None:
        raise AssertionError("parsed again at evaluation time")

    monkeypatch.setattr(parser_module, "parse", no_parsing)
    first = call(Bindings(input={"a": "x", "n": 1}))
    second = call(Bindings(input={"a": "y", "n": 2}))
    assert (first, second) == ("x-2", "y-3")
    assert call.tree is tree  # type: ignore[attr-defined]


def test_check_call_explains_what_is_wrong() -> None:
    assert check_call("States.Array(1)") is None
    message = check_call("States.Array(1,)")
    assert message is not None and "States.Array(1,)" in message and "position" in message
    assert "not an intrinsic" in (check_call("States.Nope()") or "")


@pytest.mark.parametrize(
    "text",
    [
        "States.Array(1.)",
        "States.Array(.5)",
        "States.Array(01)",
        "States.Array(+1)",
        "States.Array(1e999)",
        "States.Array(-)",
        "States.Array (1)",
        " States.Array(1)",
        "States.Array(1) ",
        "States.Array(1 2)",
        "States.Array(truex)",
        "States.Array(TRUE)",
        "States.Array('\\')",
        "States.Array('a\\b')",
        'States.Array("a")',
        "States.Array($.a b)",
        "States.Array($.a[)",
        "States.",
        "",
        "$.a",
    ],
)
def test_malformed_text_does_not_compile(text: str) -> None:
    with pytest.raises(IntrinsicSyntaxError):
        compile_call(text)


def test_wrong_argument_counts_compile_and_fail_when_evaluated() -> None:
    # AWS accepts these definitions and fails the execution (recorded against AWS).
    call = compile_call("States.ArrayLength()")
    with pytest.raises(StatesError) as info:
        call(Bindings())
    assert info.value.cause == (
        "There was an error while evaluating the intrinsic function: States.ArrayLength(). "
        "Invalid arguments in States.ArrayLength"
    )


def test_missing_context_path_quotes_the_context() -> None:
    error = runtime_error("States.Format('{}', $$.Nope)", {"a": 1}, context={"Execution": {}})
    assert error.cause == (
        "The function 'States.Format('{}', $$.Nope)' had the following error: The JsonPath "
        "argument for the field '$$.Nope' could not be found in the input '{\"Execution\":{}}'"
    )


def test_missing_variable_field_quotes_the_variable() -> None:
    error = runtime_error("States.Format('{}', $v.x)", {}, variables={"v": {"y": 1}})
    assert error.cause is not None and error.cause.endswith("in the input '{\"y\":1}'")


def test_unseeded_random_draws_from_the_injected_entropy() -> None:
    low, high = FixedEntropy(0.0), FixedEntropy(0.9999999999)
    assert evaluate("States.MathRandom(5, 10)", entropy=low) == 5
    assert evaluate("States.MathRandom(5, 10)", entropy=high) == 9
    assert low.draws == high.draws == 1


def test_seeded_random_ignores_the_entropy() -> None:
    entropy = FixedEntropy(0.5)
    assert evaluate("States.MathRandom(1, 100, 42)", entropy=entropy) == 63
    assert entropy.draws == 0


def test_uuid_comes_from_the_entropy_and_ignores_its_arguments() -> None:
    entropy = FixedEntropy(0.0, uuid="0f0f0f0f-0000-4000-8000-000000000001")
    assert evaluate("States.UUID($.nope)", {}, entropy=entropy) == entropy.uuid


def test_java_random_matches_java() -> None:
    assert JavaRandom(42).next_int(10) == 0
    assert JavaRandom(42).next_int(99) == 62
    assert JavaRandom(42).next_int(4) == 2  # power-of-two bound takes the other branch


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1.0"),
        (1.1, "1.1"),
        (1e7, "1.0E7"),
        (1234567.0, "1234567.0"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1.5e-5, "1.5E-5"),
        (-1e20, "-1.0E20"),
        (-0.0, "-0.0"),
        (12345678.9, "1.23456789E7"),
    ],
)
def test_doubles_print_like_java(value: float, text: str) -> None:
    assert java_double(value) == text


def test_json_text_is_jackson_compact() -> None:
    value = {"a": [1, 2.5, None, True], "s": 'é\u001f\n"\\/'}
    assert json_text(value) == '{"a":[1,2.5,null,true],"s":"é\\u001F\\n\\"\\\\/"}'
    with pytest.raises(TypeError):
        json_text(object())


def test_java_text_of_nested_values() -> None:
    value = {"a": "x", "b": [None, 1.0, {"c": False}]}
    assert java_text(value) == "{a=x, b=[null, 1.0, {c=false}]}"


def test_templates() -> None:
    assert template_of_text("a{}b{}").segments == ("a", "b", "")
    assert template_of_text("{x}").error is not None
    assert template_of_text("a{").error is not None


@pytest.mark.parametrize(
    ("text", "decoded"),
    [("abc", "i\ufffd"), ("ab==cd", "i"), ("YWJjZA", "abcd"), ("QQ", "A")],
)
def test_base64_decoding_is_lenient_like_aws(text: str, decoded: str) -> None:
    assert evaluate("States.Base64Decode($)", text) == decoded


def test_hash_of_non_strings_hashes_their_json_text() -> None:
    by_text = evaluate("States.Hash('{\"a\":1}', 'MD5')")
    assert evaluate("States.Hash($, 'MD5')", {"a": 1}) == by_text
    assert evaluate("States.Hash(12, 'MD5')") == evaluate("States.Hash('12', 'MD5')")


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "1e400", "[" * 5000 + "]" * 5000])
def test_string_to_json_refuses_what_jackson_refuses(text: str) -> None:
    error = runtime_error("States.StringToJson($)", text)
    assert "Cannot convert String to Json in States.StringToJson" in (error.cause or "")


def test_deeply_nested_input_is_an_invalid_argument_not_a_crash() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    error = runtime_error("States.JsonToString($)", deep)
    assert error.cause is not None and error.cause.endswith(
        "Invalid arguments in States.JsonToString"
    )


def test_json_merge_does_not_touch_its_inputs() -> None:
    left, right = {"a": 1, "b": {"c": 1}}, {"b": 2}
    merged = evaluate("States.JsonMerge($.l, $.r, false)", {"l": left, "r": right})
    assert merged == {"a": 1, "b": 2}
    assert left == {"a": 1, "b": {"c": 1}} and right == {"b": 2}


def test_array_range_descending_and_limits() -> None:
    assert evaluate("States.ArrayRange(1000, 1, -1)")[::999] == [1000, 1]
    assert runtime_error("States.ArrayRange(1001, 1, -1)").cause is not None


def test_math_random_range_must_fit_an_int() -> None:
    runtime_error("States.MathRandom(-2147483648, 2147483647)")
    runtime_error("States.MathRandom(0, 3000000000)")


def test_string_to_json_nesting_limit_is_jacksons() -> None:
    assert evaluate("States.StringToJson($)", "[" * 1000 + "]" * 1000) is not None
    error = runtime_error("States.StringToJson($)", "[" * 1001 + "]" * 1001)
    assert "Document nesting depth (1001) exceeds the maximum allowed (1000" in (error.cause or "")
