"""Unit tests of asl.jsonata for what the spec cases do not reach."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonata import Jsonata

from asl import jsonata_functions
from asl.bindings import Bindings, SystemEntropy
from asl.errors import QUERY_EVALUATION_ERROR, StatesError
from asl.jsonata import (
    JsonataEvaluationError,
    JsonataSyntaxError,
    check_expression,
    check_result_type,
    compile_expression,
    compile_jsonata_template,
    expression_body,
    is_expression,
    json_type,
    reads_context,
)
from tests.strategies import json_values


class FixedEntropy:
    """Entropy that always draws the same values."""

    def __init__(self, number: float = 0.25, uuid: str = "uuid-1") -> None:
        self.number = number
        self.uuid = uuid

    def random(self) -> float:
        return self.number

    def uuid4(self) -> str:
        return self.uuid


def evaluate(text: str, **bindings: Any) -> Any:
    return compile_expression("{% " + text + " %}", "Output")(Bindings(**bindings))


def failure(text: str, **bindings: Any) -> StatesError:
    with pytest.raises(StatesError) as info:
        evaluate(text, **bindings)
    assert info.value.error == QUERY_EVALUATION_ERROR
    return info.value


# --- what an expression is -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% 1 %}", True),
        ("{%1%}", True),
        ("{%%}", True),
        ("{%}", False),
        ("{% 1 %} ", False),
        (" {% 1 %}", False),
        ("{{% 1 %}", False),
        ("1", False),
        (1, False),
        (None, False),
        (["{% 1 %}"], False),
    ],
)
def test_is_expression(value: Any, expected: bool) -> None:
    assert is_expression(value) is expected


def test_expression_body_is_trimmed() -> None:
    assert expression_body("{%  $a + 1 \n%}") == "$a + 1"


def test_check_expression_explains_a_string_that_is_not_an_expression() -> None:
    reason = "The value '$.a' is not a JSONata expression enclosed in {% %}"
    assert check_expression("$.a") == reason


def test_check_expression_quotes_the_expression_and_the_jsonata_error() -> None:
    assert check_expression("{% (1 %}") == (
        "The JSONata expression '(1' is invalid: S0203: Expected \")\" before end of expression"
    )


def test_compile_rejects_text_without_delimiters() -> None:
    with pytest.raises(JsonataSyntaxError) as info:
        compile_expression("1 + 1", "Output")
    assert info.value.text == "1 + 1"


def test_compile_rejects_an_unknown_result_type() -> None:
    with pytest.raises(ValueError, match="unknown result type"):
        compile_expression("{% 1 %}", "Items", "list")


def test_syntax_error_is_a_value_error_with_the_detail() -> None:
    with pytest.raises(ValueError) as info:
        compile_expression("{% a ?? b %}", "Output")
    assert isinstance(info.value, JsonataSyntaxError)
    assert info.value.detail == 'S0211: The symbol "?" cannot be used as a unary operator'


# --- templates -----------------------------------------------------------------------------


def test_a_constant_template_returns_the_value_itself() -> None:
    value = {"a": [1, {"b": "text"}]}
    assert compile_jsonata_template(value, "Output")(Bindings()) is value


def test_a_template_reuses_its_constant_parts_and_leaves_the_template_alone() -> None:
    constant = {"deep": [1, 2]}
    template = {"fixed": constant, "dynamic": "{% 1 + 1 %}"}
    result = compile_jsonata_template(template, "Output")(Bindings())
    assert result == {"fixed": {"deep": [1, 2]}, "dynamic": 2}
    assert result["fixed"] is constant
    assert template["dynamic"] == "{% 1 + 1 %}"


def test_array_items_are_named_by_index_in_causes() -> None:
    template = {"list": [1, "{% $missing %}"]}
    with pytest.raises(JsonataEvaluationError) as info:
        compile_jsonata_template(template, "Output")(Bindings())
    assert info.value.location == "Output/list/1"


# --- values in and out ---------------------------------------------------------------------


def test_the_input_is_not_copied_when_returned_whole() -> None:
    data = {"a": [1, 2], "b": {"c": None}}
    assert evaluate("$states.input", input=data) is data


def test_evaluation_does_not_change_the_input() -> None:
    data = {"items": [3, 1, 2], "o": {"k": 1.0}}
    evaluate("$sort($states.input.items)", input=data)
    evaluate("$states.input ~> |o|{'k': 2}|", input=data)
    assert data == {"items": [3, 1, 2], "o": {"k": 1.0}}


def test_results_are_plain_lists_and_dicts() -> None:
    result = evaluate("[1, 2].{'v': $}")
    assert type(result) is list
    assert all(type(item) is dict for item in result)


def test_a_function_result_is_an_unsupported_result_type() -> None:
    # recorded against AWS: localstack test_base_scenarios snapshot,
    # test_map_state_items_eval_jsonata_fail[function]
    cause = failure("function($x){$x}").cause
    assert cause is not None and cause.endswith("returned an unsupported result type.")


def test_a_function_inside_a_result_is_left_out() -> None:
    assert evaluate("{'f': function($x){$x}, 'n': 1}") == {"n": 1}


def test_null_in_input_arrays_is_null() -> None:
    assert evaluate("$states.input[1]", input=[1, None, 2]) is None


# --- functions that read the bindings -------------------------------------------------------


def test_random_and_uuid_come_from_the_entropy() -> None:
    entropy = FixedEntropy(0.5, "11111111-1111-4111-8111-111111111111")
    assert evaluate("$random()", entropy=entropy) == 0.5
    assert evaluate("$uuid()", entropy=entropy) == entropy.uuid


def test_random_with_a_seed_ignores_the_entropy() -> None:
    first = evaluate("$random(7)", entropy=FixedEntropy(0.1))
    assert first == evaluate("$random(7)", entropy=FixedEntropy(0.9))
    assert first != evaluate("$random(8)")
    assert 0 <= first < 1


def test_shuffle_draws_from_the_entropy() -> None:
    one = evaluate("$shuffle([1, 2, 3, 4, 5])", entropy=SystemEntropy(3))
    assert sorted(one) == [1, 2, 3, 4, 5]
    assert one == evaluate("$shuffle([1, 2, 3, 4, 5])", entropy=SystemEntropy(3))


def test_now_and_millis_are_the_state_entry_time() -> None:
    context = {"State": {"EnteredTime": "2024-11-22T10:00:00.250Z"}}
    assert evaluate("$now()", context=context) == "2024-11-22T10:00:00.250Z"
    assert evaluate("$millis()", context=context) == 1732269600250
    assert evaluate("$now('[Y0001]-[M01]')", context=context) == "2024-11"


def test_now_falls_back_to_the_execution_start_then_to_the_epoch() -> None:
    context = {"Execution": {"StartTime": "2024-01-01T00:00:00Z"}}
    assert evaluate("$millis()", context=context) == 1704067200000
    assert evaluate("$millis()", context={"State": {"EnteredTime": "not a time"}}) == 0
    assert evaluate("$millis()") == 0
    assert evaluate("$millis()", context={"State": {"EnteredTime": "2024-01-01T00:00:00"}}) == (
        1704067200000
    )


def test_a_variable_shadows_a_function_of_the_same_name() -> None:
    cause = failure("$partition([1], 1)", variables={"partition": 1}).cause
    assert cause is not None and cause.endswith("T1006: Attempted to invoke a non-function")


def test_variables_are_not_the_engines_hooks() -> None:
    assert evaluate("1 + 1", variables={"__evaluate_entry": 5, "__evaluate_exit": 6}) == 2


# --- errors --------------------------------------------------------------------------------


def test_evaluation_errors_carry_their_location() -> None:
    with pytest.raises(JsonataEvaluationError) as info:
        compile_expression("{% $x %}", "Arguments/FunctionName")(Bindings())
    assert info.value.location == "Arguments/FunctionName"
    assert isinstance(info.value, StatesError)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("-'a'", 'D1002: Cannot negate a non-numeric value: "a"'),
        ("$sum('a')", 'T0412: Argument 1 of function "sum" must be an array of "numbers"'),
        ("1 + 'a'", 'T2002: The right side of the "+" operator must evaluate to a number'),
        ("{'a': 1, 'a': 2}", 'D1009: Multiple key definitions evaluate to same key: "a"'),
        ("$sqrt(-1)", "D3060: The sqrt function cannot be applied to a negative number: -1"),
        ("$single([])", "D3139: The $single() function expected exactly 1 matching result."),
        ("5()", "T1006: Attempted to invoke a non-function"),
        ("$power(10, 400)", "D1001: Number out of range: null"),
        # jsonata-python raises a Python TypeError here: still the expression's error
        ("$sort([1, 'a'])", "D3070: The single argument form of the sort function can only"),
    ],
)
def test_jsonata_errors_use_jsonata_wording(text: str, detail: str) -> None:
    cause = failure(text).cause
    assert cause is not None
    assert cause.startswith(f"The JSONata expression '{text}' specified for the field 'Output' ")
    assert f"threw an error during evaluation. {detail}" in cause


def test_calling_a_non_function_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    failure("[1, 2](0)")
    assert capsys.readouterr().out == ""


def test_deep_recursion_is_a_stack_overflow() -> None:
    cause = failure("($f := function($n){$n = 0 ? 0 : 1 + $f($n - 1)}; $f(100000))").cause
    assert cause is not None and "D1011: Stack overflow" in cause


def test_a_gap_in_jsonata_python_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="asl.jsonata"):
        cause = failure("$number('x')").cause
    assert cause is not None and "ValueError" in cause
    assert "jsonata-python failed" in caplog.text


def test_an_extra_function_rejection_keeps_its_wording_under_and() -> None:
    # jsonata-python turns other exceptions raised under `and` into a bare "Unexpected"
    cause = failure("true and $partition([], 1)").cause
    assert cause is not None
    assert cause.endswith(
        "threw an error during evaluation. $partition: the array to partition is empty"
    )


def _broken_millis(context: Any) -> int:
    raise TypeError("a bug in the engine")


def test_a_bug_in_an_extra_function_is_raised_as_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata_functions, "_context_millis", _broken_millis)
    for text in ("$millis()", "true and $millis() > 0", "$map([1], function($v) { $now() })"):
        with pytest.raises(TypeError, match="a bug in the engine") as info:
            evaluate(text)
        assert info.traceback[-1].name == "_broken_millis"


class _BrokenEntropy(FixedEntropy):
    def uuid4(self) -> str:
        return str(1 / 0)


def test_a_bug_in_the_bindings_is_raised_as_itself() -> None:
    with pytest.raises(ZeroDivisionError):
        evaluate("$uuid()", entropy=_BrokenEntropy())


class _BrokenVariables(dict[str, Any]):
    def __contains__(self, name: object) -> bool:
        raise KeyError("a bug in the variable scope")


def test_a_bug_in_a_variable_lookup_is_raised_as_itself() -> None:
    with pytest.raises(KeyError, match="a bug in the variable scope"):
        evaluate("$x", variables=_BrokenVariables())


def test_the_previous_current_instance_is_restored() -> None:
    marker = object()
    Jsonata.CURRENT.jsonata = marker
    evaluate("1")
    failure("$x")
    assert Jsonata.CURRENT.jsonata is marker


def test_one_expression_evaluates_in_many_threads() -> None:
    expression = compile_expression("{% $map([1, 2, 3], function($v){$v * $k}) %}", "Output")
    results: dict[int, Any] = {}

    def work(k: int) -> None:
        for _ in range(50):
            results[k] = expression(Bindings(variables={"k": k}))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {k: [k, 2 * k, 3 * k] for k in range(8)}


# --- result types --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (None, "null"),
        (True, "boolean"),
        (1, "number"),
        (1.5, "number"),
        ("s", "string"),
        ([], "array"),
        ({}, "object"),
    ],
)
def test_json_type(value: Any, name: str) -> None:
    assert json_type(value) == name


def test_check_result_type_quotes_the_value_as_json() -> None:
    with pytest.raises(JsonataEvaluationError) as info:
        check_result_type({"a": "é"}, "array", "{% $states.input %}", "Items")
    assert info.value.cause == (
        "The JSONata expression '$states.input' specified for the field 'Items' returned an "
        "unexpected result type. Expected 'array', but was 'object' for value: {\"a\":\"é\"}"
    )


def test_check_result_type_accepts_matching_values() -> None:
    check_result_type(3, "integer", "{% 3 %}", "MaxConcurrency")
    check_result_type(3.0, "integer", "{% 3 %}", "MaxConcurrency")
    check_result_type(3.5, "number", "{% 3.5 %}", "ToleratedFailurePercentage")
    check_result_type(False, "boolean", "{% false %}", "Condition")


# --- properties ----------------------------------------------------------------------------

_JSON = json_values(st.text(max_size=3), max_size=3, max_leaves=8)
_ATOMS = st.sampled_from(
    [
        *("$states.input", "$states.input.a", "$v", "$states.context", "1", "'s'", "null"),
        *("true", "[1, 2]", "{'k': $states.input}", "$states.input[0]", "$missing", "2.5"),
    ]
)
_FUNCTIONS = st.sampled_from(
    [
        "$string",
        "$number",
        "$sum",
        "$count",
        "$keys",
        "$partition",
        "$range",
        "$hash",
        "$parse",
        "$uppercase",
        "$length",
        "$sort",
        "$reverse",
        "$exists",
        "$type",
        "$boolean",
        "$random",
        "$abs",
        "$floor",
        "$join",
        "$merge",
        "$append",
        "$distinct",
        "$toMillis",
        "$uuid",
        "$now",
        "$shuffle",
    ]
)
_CHARACTERS = "$ab.()[]{}:;?'\"=<>!&|*+-/%~^,#@0123 \n"
_OPERATORS = st.sampled_from(["+", "-", "*", "/", "%", "&", "=", "!=", "<", ">", "and", "in"])


def _expressions() -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        call = st.tuples(_FUNCTIONS, st.lists(inner, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        )
        binary = st.tuples(inner, _OPERATORS, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
        other = st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})")
        return call | binary | other | inner.map(lambda e: f"{e}[0]")

    return st.recursive(_ATOMS, extend, max_leaves=6)


@settings(max_examples=300)
@given(text=st.text(alphabet=st.sampled_from(list(_CHARACTERS))))
def test_random_text_fails_to_compile_only_with_a_syntax_error(text: str) -> None:
    try:
        compile_expression("{%" + text + "%}", "Output")
    except JsonataSyntaxError:
        assert check_expression("{%" + text + "%}") is not None


@settings(max_examples=300)
@given(text=_expressions(), data=_JSON, variable=_JSON)
def test_compiled_expressions_raise_only_states_errors(text: str, data: Any, variable: Any) -> None:
    expression = compile_expression("{% " + text + " %}", "Output")
    try:
        expression(Bindings(input=data, variables={"v": variable}, entropy=SystemEntropy(1)))
    except StatesError as exc:
        assert exc.error == QUERY_EVALUATION_ERROR


_CONTEXT = {"Execution": {"Name": "e"}, "State": {"EnteredTime": "2024-05-01T00:00:00Z"}}


@settings(max_examples=300)
@given(text=_expressions(), data=_JSON)
def test_an_expression_said_not_to_read_the_context_does_not(text: str, data: Any) -> None:
    assume(not reads_context("{% " + text + " %}"))
    expression = compile_expression("{% " + text + " %}", "Output")

    def outcome(context: Any) -> Any:
        bindings = Bindings(input=data, context=context, entropy=SystemEntropy(1))
        try:
            return expression(bindings)
        except StatesError as exc:
            return exc.cause

    assert outcome(None) == outcome(_CONTEXT)


@settings(max_examples=100)
@given(value=_JSON.filter(lambda v: "{%" not in repr(v)))
def test_constant_templates_evaluate_to_themselves(value: Any) -> None:
    assert compile_jsonata_template(value, "Output")(Bindings()) == value


def test_unbound_result_and_bare_names_are_undefined() -> None:
    # AWS's validator rejects both; should one reach evaluation, it is undefined here.
    assert failure("$states.result", input={}).cause == (
        "The JSONata expression '$states.result' specified for the field 'Output' returned "
        "nothing (undefined)."
    )
    assert failure("title", input={"title": "Doctor"}).cause == (
        "The JSONata expression 'title' specified for the field 'Output' returned nothing "
        "(undefined)."
    )


@pytest.mark.parametrize("name", ["now", "random", "parse", "hash", "range"])
def test_null_arguments_to_awss_functions_fail_their_signature(name: str) -> None:
    # jsonata-python lets null through a signature's types; JSONata refuses it (T0410).
    extra = {"hash": ', "MD5"', "range": ", 1, 1"}.get(name, "")
    error = failure(f"${name}($states.input{extra})", input=None)
    assert error.cause is not None
    assert error.cause.endswith(
        f'T0410: Argument 1 of function "{name}" does not match function signature'
    )


def test_a_bad_timezone_for_now_is_an_evaluation_error() -> None:
    # jsonata-python raises ValueError for a zone it cannot read: the expression's error.
    error = failure('$now("[Y]", "s")', context={"State": {"EnteredTime": "2024-05-01T00:00:00Z"}})
    assert error.cause is not None and "$now:" in error.cause
