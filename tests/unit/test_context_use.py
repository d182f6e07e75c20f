"""Which states read the context object: decided from parsed expressions (asl.flow.context_use
and asl.jsonata.reads_context), and what a user sees when it is decided right."""

from __future__ import annotations

from typing import Any

import pytest

import asl
from asl import model as m
from asl.jsonata import reads_context
from runtime.testing import run


@pytest.mark.parametrize(
    "body",
    [
        "$states",
        "$states.context.Execution.Name",
        "$lookup($states, 'context').Execution.Name",
        "$states[0]",
        "$states[0].input",
        "$each($states, function($v, $k) { $k })",
        "$states.(context)",
        "$states.input.%.context",
        "$states.input[$states.context.Execution.Name = 'x']",
        '{"a": [1, $states.context]}',
        "$now()",
        "$millis()",
    ],
)
def test_jsonata_expressions_that_read_the_context(body: str) -> None:
    assert reads_context("{% " + body + " %}")


@pytest.mark.parametrize(
    "body",
    [
        "$states.input",
        "$states.input.context",
        "$states.result.x",
        "$states.errorOutput.Error",
        "$sum($states.input.values)",
        "$x + 1",
        "'$states.context'",
    ],
)
def test_jsonata_expressions_that_do_not(body: str) -> None:
    assert not reads_context("{% " + body + " %}")


def _flow_reads_context(state: dict[str, Any], language: str = "JSONPath") -> bool:
    definition = {"QueryLanguage": language, "StartAt": "S", "States": {"S": state}}
    return asl.load(definition).states["S"].flow.uses_context


_PASS = {"Type": "Pass", "End": True}


@pytest.mark.parametrize(
    "fields",
    [
        {"InputPath": "$$"},
        {"OutputPath": "$$.Execution"},
        {"Parameters": {"name.$": "$$.Execution.Name"}},
        {"Parameters": {"deep": [{"name.$": "$$.Execution.Name"}]}},
        {"Parameters": {"text.$": "States.Format('{}', $$.Execution.Name)"}},
        {"Parameters": {"n.$": "States.ArrayLength(States.Array($$.State.Name))"}},
        {"Assign": {"name.$": "$$.Execution.Name"}},
    ],
)
def test_jsonpath_fields_that_read_the_context(fields: dict[str, Any]) -> None:
    assert _flow_reads_context({**_PASS, **fields})


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"Comment": "reads $$ nowhere"},
        {"Result": {"text": "$$.Execution.Name"}},
        {"Parameters": {"literal": "$$.Execution.Name"}},
        {"Parameters": {"text.$": "States.Format('$$ {}', $.a)"}},
        {"Parameters": {"input.$": "$.a"}, "Assign": {"v.$": "$myVariable"}},
    ],
)
def test_jsonpath_fields_that_do_not(fields: dict[str, Any]) -> None:
    assert not _flow_reads_context({**_PASS, **fields})


def test_jsonpath_choice_rules_and_fail_paths() -> None:
    rule = {"Variable": "$.v", "StringEqualsPath": "$$.Execution.Name", "Next": "Done"}
    choice = {"Type": "Choice", "Choices": [rule], "Default": "Done"}
    done = {"Type": "Succeed"}
    definition = {"StartAt": "C", "States": {"C": choice, "Done": done}}
    assert asl.load(definition).states["C"].flow.uses_context
    fail = {"Type": "Fail", "ErrorPath": "States.Format('{}', $$.State.Name)"}
    assert _flow_reads_context(fail)


def test_map_item_selector_reads_the_context() -> None:
    processor = {"StartAt": "P", "States": {"P": _PASS}}
    state = {
        "Type": "Map",
        "ItemProcessor": processor,
        "ItemSelector": {"value.$": "$$.Map.Item.Value"},
        "End": True,
    }
    assert _flow_reads_context(state)
    del state["ItemSelector"]
    assert not _flow_reads_context(state)


def test_jsonata_state_fields_and_comments() -> None:
    output = {"Output": "{% $states.context.Execution.Name %}"}
    assert _flow_reads_context({**_PASS, **output}, "JSONata")
    comment = {"Comment": "{% $states.context %}", "Output": "{% $states.input %}"}
    assert not _flow_reads_context({**_PASS, **comment}, "JSONata")


def test_nested_scopes_are_their_states_concern() -> None:
    reads = {"Type": "Pass", "Output": "{% $states.context.Execution.Name %}", "End": True}
    branch = {"StartAt": "B", "States": {"B": reads}}
    parallel = {"Type": "Parallel", "Branches": [branch], "End": True}
    definition = {"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": parallel}}
    state = asl.load(definition).states["P"]
    assert isinstance(state, m.Parallel)
    assert not state.flow.uses_context
    assert state.branches[0].states["B"].flow.uses_context
    jsonpath = {"Type": "Pass", "InputPath": "$$", "End": True}
    processor = {"StartAt": "B", "States": {"B": jsonpath}}
    mapped = {"Type": "Map", "ItemProcessor": processor, "End": True}
    assert not _flow_reads_context(mapped)


def _jsonata_pass(output: Any) -> dict[str, Any]:
    state = {"Type": "Pass", "Output": output, "End": True}
    return {"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": state}}


def test_lookup_of_the_context_reads_the_execution_name() -> None:
    execution = run(_jsonata_pass("{% $lookup($states, 'context').Execution.Name %}"), {})
    assert execution.status == "SUCCEEDED"
    assert execution.output == execution.name


def test_now_and_millis_are_the_state_entry_time() -> None:
    execution = run(_jsonata_pass({"millis": "{% $millis() %}", "now": "{% $now() %}"}), {})
    assert execution.status == "SUCCEEDED"
    assert execution.output["millis"] == pytest.approx(execution.start_time * 1000, abs=1000)
    assert not execution.output["now"].startswith("1970")
