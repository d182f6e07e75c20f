"""asl.compile and asl.flow: the model carries what the flows need, flows are built from it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import asl
from asl import model as m
from asl.bindings import Bindings
from asl.flow import build_flow

_SUCCEED = {"Type": "Succeed"}


def _choice_machine() -> dict[str, Any]:
    rule = {"Variable": "$.v", "NumericEquals": 1, "Next": "One"}
    choice = {"Type": "Choice", "Choices": [rule], "Default": "Other"}
    return {"StartAt": "C", "States": {"C": choice, "One": _SUCCEED, "Other": _SUCCEED}}


def test_choice_rules_are_typed_in_the_model() -> None:
    state = asl.load(_choice_machine()).states["C"]
    assert isinstance(state, m.Choice)
    assert state.choices == (
        m.ChoiceRule(
            condition=m.DataTest(variable="$.v", operator="NumericEquals", value=1), next="One"
        ),
    )


def test_a_choice_flow_compiles_from_the_model_rules() -> None:
    state = asl.load(_choice_machine()).states["C"]
    assert isinstance(state, m.Choice)
    flipped = m.ChoiceRule(condition=m.Not(rule=state.choices[0].condition), next="Other")
    flow = build_flow(replace(state, choices=(flipped,), default="One"))
    assert flow.choose({"v": 1}, Bindings())[0] == "One"
    assert flow.choose({"v": 2}, Bindings())[0] == "Other"


def _scope_of(*types: str, prefix: str = "S") -> dict[str, Any]:
    """A scope of states of these types, in a row."""
    names = [f"{prefix}{i}" for i in range(len(types))]
    states: dict[str, Any] = {}
    for name, after, kind in zip(names, [*names[1:], None], types, strict=True):
        state: dict[str, Any] = {"Type": kind, **_REQUIRED.get(kind, {})}
        if kind == "Choice":
            state["Choices"] = [{"Variable": "$.v", "IsNull": True, "Next": after or name}]
        elif kind not in ("Succeed", "Fail"):
            state.update({"Next": after} if after else {"End": True})
        states[name] = state
    return {"StartAt": names[0], "States": states}


_REQUIRED: dict[str, dict[str, Any]] = {
    "Wait": {"Seconds": 1},
    "Task": {"Resource": "arn:aws:lambda:us-east-1:123456789012:function:f"},
}


def test_data_only_scopes() -> None:
    assert asl.load(_scope_of("Pass", "Choice", "Succeed")).scope.data_only
    assert asl.load(_scope_of("Pass", "Fail")).scope.data_only
    assert not asl.load(_scope_of("Pass", "Wait")).scope.data_only
    assert not asl.load(_scope_of("Task")).scope.data_only


def test_data_only_is_per_scope() -> None:
    inner = _scope_of("Pass", "Succeed", prefix="I")
    machine = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [inner, _scope_of("Wait", prefix="W")],
                "End": True,
            }
        },
    }
    parallel = asl.load(machine).states["P"]
    assert isinstance(parallel, m.Parallel)
    assert not asl.load(machine).scope.data_only
    assert [branch.data_only for branch in parallel.branches] == [True, False]
    mapped = {"Type": "Map", "ItemProcessor": inner, "End": True}
    map_state = asl.load({"StartAt": "M", "States": {"M": mapped}}).states["M"]
    assert isinstance(map_state, m.Map)
    assert map_state.item_processor.data_only
