"""Payload sizes: exact measurement, and the static bounds that let the engine skip it."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import asl
from asl.flow.sizes import child_growth, path_growth, template_growth
from asl.jsontext import json_size
from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime import interpreter
from runtime.executions import Engine
from runtime.frame import bounded_size
from runtime.host import LocalHost
from runtime.testing import run

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
KEYS = st.text(max_size=5)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)
INPUTS = st.fixed_dictionaries({"a": JSON, "b": st.lists(JSON, min_size=1, max_size=3)})
PATHS = st.sampled_from(["$", "$.a", "$.b", "$.b[0]", "$.b[-1]", "$.b[*]", "$['a','b']"])
TEMPLATE_VALUES = st.one_of(
    JSON,
    PATHS.map(lambda p: {"v.$": p}),
    PATHS.map(lambda p: {"n.$": "States.ArrayLength($.b)", "p.$": p}),
    PATHS.map(lambda p: {"deep": [{"x.$": p}, 1, {"y.$": p}]}),
    st.tuples(PATHS, PATHS, PATHS).map(lambda p: {"x.$": p[0], "y": {"z.$": p[1], "w.$": p[2]}}),
)


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


@given(JSON)
def test_payload_size_is_the_compact_utf8_json_size(value: Any) -> None:
    assert json_size(value) == _size(value)


def test_payload_size_of_escapes_and_non_ascii() -> None:
    for value in ['a"b\\c\n\x01', "é✓𝄞", {"ü": ["\u2028"]}, -0.0, 10**30, 1.5e-7]:
        assert json_size(value) == _size(value)


@settings(max_examples=150)
@given(
    INPUTS,
    st.one_of(st.none(), PATHS),
    st.one_of(st.none(), TEMPLATE_VALUES),
    st.sampled_from(["$", None, "$.r", "$.r.s.t"]),
    st.one_of(st.none(), st.sampled_from(["$", "$.r", "$.a"])),
)
def test_a_pass_output_is_never_larger_than_its_bound(
    value: Any, input_path: str | None, parameters: Any, result_path: str | None, output_path: Any
) -> None:
    state: dict[str, Any] = {"Type": "Pass", "End": True, "ResultPath": result_path}
    if input_path is not None:
        state["InputPath"] = input_path
    if parameters is not None:
        state["Parameters" if isinstance(parameters, dict) else "Result"] = parameters
    if output_path is not None:
        state["OutputPath"] = output_path
    definition = {"StartAt": "P", "States": {"P": state}}
    execution = run(definition, value)
    if execution.status != "SUCCEEDED":
        return  # a path that selects nothing: no output to bound
    growth = asl.load(definition).scope.states["P"].flow.growth
    assert _size(execution.output) <= bounded_size(growth, _size(value), math.inf)


@settings(max_examples=60)
@given(INPUTS, JSON, st.sampled_from(["$", None, "$.r"]), st.booleans())
def test_a_task_output_is_never_larger_than_its_bound(
    value: Any, result: Any, result_path: str | None, select: bool
) -> None:
    async def answer(request: TaskRequest) -> Any:
        return result

    state: dict[str, Any] = {
        "Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True,
        "Parameters": {"QueueUrl": "q"}, "ResultPath": result_path,
    }  # fmt: skip
    if select:
        state["ResultSelector"] = {"all.$": "$", "fixed": [1, 2]}
    definition = {"StartAt": "T", "States": {"T": state}}
    registry = Registry()
    registry.register("sqs:", FunctionIntegration(answer))

    async def main() -> Any:
        engine = Engine(LocalHost(invoker=registry))
        return await (await engine.create_state_machine(definition).start(value)).wait()

    execution = asyncio.run(main())
    assert execution.status == "SUCCEEDED"
    growth = asl.load(definition).scope.states["T"].flow.growth
    assert _size(execution.output) <= bounded_size(growth, _size(value), _size(result))


def test_paths_that_may_repeat_parts_have_no_bound() -> None:
    assert path_growth("$..x") is None
    assert path_growth("$$.Execution.Input") is None
    assert path_growth("$var") is None
    assert path_growth(None) == (0, 0, 2)
    assert path_growth("$.a[*]") == (2, 0, 2)


def test_templates_with_unbounded_values_have_no_bound() -> None:
    assert template_growth({"x.$": "States.Format('{}', $.a)"}) is None
    assert template_growth({"x.$": "$$.Execution.Input"}) is None
    assert template_growth({"x.$": "$var"}) is None
    assert template_growth({"x.$": "States.MathAdd($v, 1)"}) is None
    assert template_growth({"x.$": "$.a", "y.$": "States.MathAdd($.i, 1)"}) is not None


def _reads(template: Any) -> int:
    growth = template_growth(template)
    assert growth is not None
    return int(growth[0])


def test_definite_paths_count_the_input_as_often_as_their_selections_may_overlap() -> None:
    assert _reads({"a.$": "$.a", "b.$": "$.b", "c": {"d.$": "$.c.d"}}) == 1
    assert _reads({"u.$": "$.u", "t.$": "$.u.tags[1]", "c.$": "$.u.address.city"}) == 2
    assert _reads({"x.$": "$.b[0]", "y.$": "$.b[-1]"}) == 2  # may be one element
    assert _reads({"x.$": "$.a", "y.$": "$.a"}) == 2
    assert _reads({"x.$": "$", "y.$": "$.a", "z.$": "$.a.b"}) == 3
    assert _reads({"x.$": "$.a[*]", "y.$": "$.b", "n.$": "States.ArrayLength($.c)"}) == 4


def test_an_output_path_that_selects_the_result_bounds_the_output_by_the_result() -> None:
    state = {"Type": "Pass", "Parameters": {"v.$": "$.a"}, "ResultPath": "$.r", "End": True}
    for output_path, reads in (("$.r", 1), ("$['r']", 1), ("$", 2)):
        definition = {"StartAt": "P", "States": {"P": {**state, "OutputPath": output_path}}}
        growth = asl.load(definition).scope.states["P"].flow.growth
        assert growth is not None and growth[0] == reads, output_path


def test_map_and_parallel_children_are_bounded_by_the_input() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map", "Next": "P", "ItemSelector": {"v.$": "$$.Map.Item.Value"},
                "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            },
            "P": {
                "Type": "Parallel", "End": True,
                "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
            },
        },
    }  # fmt: skip
    states = asl.load(definition).scope.states
    assert child_growth(states["M"]) is not None
    assert child_growth(states["P"]) == (1, 0, 0)
    # The results' bound comes from the children's: the Map's output is the results.
    assert states["M"].flow.growth == (0, 1, 0)


def test_an_execution_over_the_limit_fails_even_where_bounds_skip_measuring() -> None:
    big = "x" * 100_000
    definition = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Parameters": {"a.$": "$.s", "b.$": "$.s"}, "Next": "B"},
            "B": {
                "Type": "Pass",
                "Parameters": {"x.$": "$.a", "y.$": "$.b", "z.$": "$.a"},
                "End": True,
            },
        },
    }
    execution = run(definition, {"s": big})
    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")
    assert execution.cause is not None and "'B'" in execution.cause


def _checked_bounds(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, float, int]]:
    """Record (state, bound kept by the engine, actual size) for every state output."""
    seen: list[tuple[str, float, int]] = []
    original = interpreter._output_size_bound

    def checking(state: Any, value: Any, frame: Any) -> float:
        bound = original(state, value, frame)
        seen.append((state.name, bound, json_size(value)))
        return bound

    monkeypatch.setattr(interpreter, "_output_size_bound", checking)
    return seen


def _pass(template: Any, name: str, last: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Pass", "Parameters": {"t": template, "in.$": "$"}}
    return {**state, "End": True} if last else {**state, "Next": name}


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(JSON, min_size=0, max_size=4), TEMPLATE_VALUES, st.booleans())
def test_map_and_parallel_bounds_hold_through_nested_states(
    monkeypatch: pytest.MonkeyPatch, items: list[Any], template: Any, selector: bool
) -> None:
    seen = _checked_bounds(monkeypatch)
    inner = {"StartAt": "I1", "States": {"I1": _pass(template, "I2", False), "I2": _pass(1, "")}}
    map_state: dict[str, Any] = {
        "Type": "Map",
        "ItemsPath": "$.b",
        "ItemProcessor": inner,
        "Next": "Par",
    }
    if selector:
        map_state["ItemSelector"] = {"item.$": "$$.Map.Item.Value", "all.$": "$"}
    branch = {"StartAt": "B1", "States": {"B1": _pass(template, "")}}
    definition = {
        "StartAt": "M",
        "States": {
            "M": map_state,
            "Par": {"Type": "Parallel", "Branches": [branch], "ResultPath": "$.p", "End": True},
        },
    }
    execution = run(definition, {"a": template, "b": items})
    assert execution.status in ("SUCCEEDED", "FAILED")
    for name, bound, actual in seen:
        assert actual <= bound, (name, bound, actual)
