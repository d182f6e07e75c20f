"""Spec kind ``variables``: Assign, variable names and variable scopes.

Every case has an ``operation``:

- ``assign``: compile ``assign`` (an ``Assign`` object) for ``queryLanguage`` (default
  ``JSONata``) and ``field`` (default ``Assign``), evaluate it with the bindings of the
  ``jsonata`` kind (``input``, ``context``, ``variables``, ``stateResult``,
  ``errorOutput``, ``seed``; ``inputText: {"repeat": "a", "times": n}`` makes the input a
  string of n characters) and expect ``assigned`` (the new variables, compared strictly),
  ``assignedSizes`` (each new variable's size in bytes, for large values) or ``error``
  with ``cause`` or ``causeStartsWith``;
- ``name``: ``check_variable_name(name)`` is None exactly when ``valid`` is true;
- ``scope``: assign ``outer`` in a root scope, open a child scope (``distributed`` for a
  Distributed Map's child workflow), assign ``inner`` in it; expect ``innerSees`` (the
  variables the child reads) and ``outerSeesAfter`` (the root's variables afterwards);
  optionally evaluate the JSONata ``innerExpression`` in the child scope and expect
  ``innerResult``, or ``innerError`` with ``innerCause``.
"""

from __future__ import annotations

from typing import Any

import pytest

from asl.bindings import Bindings
from asl.errors import StatesError
from asl.jsonata import compile_expression
from asl.jsontext import json_size
from asl.variables import VariableScope, check_variable_name, compile_assign
from tests.spec.kinds.jsonata import assert_error, assert_strict_equal, bindings_of


def run(case: dict[str, Any]) -> None:
    """Run the case's operation and assert its expected outcome."""
    operation = case["operation"]
    if operation == "assign":
        _assign(case)
    elif operation == "name":
        assert (check_variable_name(case["name"]) is None) is case["valid"]
    elif operation == "scope":
        _scope(case)
    else:
        raise AssertionError(f"unknown operation {operation!r}")


def _assign(case: dict[str, Any]) -> None:
    expects = ("assigned", "assignedSizes", "error")
    assert any(key in case for key in expects), "a case must state what it expects"
    evaluate = compile_assign(
        case["assign"], case.get("queryLanguage", "JSONata"), case.get("field", "Assign")
    )
    if "inputText" in case:
        spec = case["inputText"]
        case = {**case, "input": spec["repeat"] * spec["times"]}
    bindings = bindings_of(case)
    if "error" not in case:
        assigned = evaluate(bindings)
        if "assigned" in case:
            assert_strict_equal(assigned, case["assigned"])
        if "assignedSizes" in case:
            assert {k: json_size(v) for k, v in assigned.items()} == case["assignedSizes"]
        return
    assert_error(evaluate, bindings, case)


def _scope(case: dict[str, Any]) -> None:
    root = VariableScope().assign(case.get("outer", {}))
    inner = root.child(distributed=case.get("distributed", False)).assign(case.get("inner", {}))
    assert_strict_equal(dict(inner.variables), case["innerSees"])
    assert_strict_equal(dict(root.variables), case["outerSeesAfter"])
    if "innerExpression" not in case:
        return
    evaluate = compile_expression(case["innerExpression"], case.get("field", "Output"))
    bindings = Bindings(input=case.get("input"), variables=inner.variables)
    if "innerResult" in case:
        assert_strict_equal(evaluate(bindings), case["innerResult"])
        return
    with pytest.raises(StatesError) as info:
        evaluate(bindings)
    assert info.value.error == case["innerError"]
    assert info.value.cause == case["innerCause"]
