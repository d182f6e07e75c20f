"""The validator never crashes: any JSON value, and any mutation of a valid definition, gives
diagnostics (``asl.validate``) or a model or a DefinitionError (``asl.load``), nothing else."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import asl
from asl.diagnostics import DefinitionError, Diagnostic

_KEYS = st.sampled_from(
    [
        "StartAt",
        "States",
        "Type",
        "Next",
        "End",
        "Choices",
        "Variable",
        "Branches",
        "ItemProcessor",
        "Iterator",
        "Resource",
        "Parameters",
        "Retry",
        "Catch",
        "ErrorEquals",
        "QueryLanguage",
        "Seconds",
        "Timestamp",
        "Not",
        "And",
        "x.$",
        "A",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(
        ["A", "B", "$", "$.a", "$$.x", "States.ALL", "Pass", "Task", "Map", "{% $x %}", "{% ( %}"]
    ),
    st.text(max_size=8),
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_KEYS, st.text(max_size=5)), inner, max_size=5),
    ),
    max_leaves=40,
)

_VALID: dict[str, Any] = {
    "Comment": "every state type",
    "StartAt": "Start",
    "States": {
        "Start": {"Type": "Pass", "Parameters": {"a.$": "$.a", "n": 1}, "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.e", "Next": "Failed"}],
            "Next": "Check",
        },
        "Check": {
            "Type": "Choice",
            "Choices": [
                {"Not": {"Variable": "$.x", "IsPresent": True}, "Next": "Wait"},
                {"And": [{"Variable": "$.n", "NumericGreaterThan": 1}], "Next": "Fan"},
            ],
            "Default": "Each",
        },
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Fan"},
        "Fan": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail", "Error": "E", "Cause": "C"},
    },
}


def _check(definition: Any) -> None:
    found = asl.validate(definition if isinstance(definition, dict) else json.dumps(definition))
    assert isinstance(found, list)
    assert all(isinstance(d, Diagnostic) for d in found)
    try:
        machine = asl.load(json.dumps(definition))
    except DefinitionError as exc:
        assert any(d.severity == "ERROR" for d in exc.diagnostics)
    else:
        assert isinstance(machine, asl.StateMachine)


@settings(max_examples=300)
@given(_JSON)
def test_any_json_value(value: Any) -> None:
    _check(value)


@settings(max_examples=200)
@given(st.dictionaries(_KEYS, _JSON, max_size=4), st.dictionaries(_KEYS, _JSON, max_size=4))
def test_any_states(state: dict[str, Any], top: dict[str, Any]) -> None:
    _check({**top, "StartAt": "A", "States": {"A": state}})


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(_paths(child, (*prefix, i)))
    return out


_ALL_PATHS = _paths(_VALID)[1:]


@st.composite
def _mutated(draw: st.DrawFn) -> Any:
    definition = copy.deepcopy(_VALID)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_ALL_PATHS))
        parent: Any = definition
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = draw(st.sampled_from(["delete", "replace", "retype"]))
            if action == "delete":
                del parent[path[-1]]
            elif action == "replace":
                parent[path[-1]] = draw(_JSON)
            else:
                old = parent[path[-1]]
                parent[path[-1]] = [old] if not isinstance(old, list) else {"x": old}
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or retyped this path
    return definition


@settings(max_examples=400)
@given(_mutated())
def test_mutations_of_a_valid_definition(definition: Any) -> None:
    _check(definition)


def test_the_unmutated_definition_is_valid() -> None:
    assert [d for d in asl.validate(_VALID) if d.severity == "ERROR"] == []
