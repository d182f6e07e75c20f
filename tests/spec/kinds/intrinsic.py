"""Spec kind ``intrinsic``: compile one intrinsic call and evaluate it.

Case fields: ``expression``; ``input`` ($), optional ``context`` ($$), ``variables`` and
``seed`` (for the injected entropy). Expected outcome, one of:

- ``syntaxError: true``: the text must not compile;
- ``error`` with ``cause`` (exact) or ``causeContains`` (AWS's full text not recorded);
- ``result`` (compared strictly: ``1`` is not ``1.0`` nor ``true``), and/or ``resultPattern``
  (regular expression for a string), ``resultRange`` (``[low, high)`` for an integer),
  ``resultLength`` (for a string or array).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from asl.bindings import Bindings, SystemEntropy
from asl.errors import StatesError
from asl.intrinsics import IntrinsicSyntaxError, check_call, compile_call

_RESULT_KEYS = ("result", "resultPattern", "resultRange", "resultLength")


def run(case: dict[str, Any]) -> None:
    """Evaluate the case's expression and assert its expected outcome."""
    expression = case["expression"]
    if case.get("syntaxError"):
        with pytest.raises(IntrinsicSyntaxError):
            compile_call(expression)
        assert check_call(expression) is not None
        return
    assert check_call(expression) is None
    call = compile_call(expression)
    bindings = Bindings(
        input=case.get("input"),
        context=case.get("context"),
        variables=case.get("variables", {}),
        entropy=SystemEntropy(case.get("seed")),
    )
    if "error" in case:
        _assert_error(call, bindings, case)
    else:
        _assert_result(call(bindings), case)


def _assert_error(call: Any, bindings: Bindings, case: dict[str, Any]) -> None:
    with pytest.raises(StatesError) as info:
        call(bindings)
    assert info.value.error == case["error"]
    if "cause" in case:
        assert info.value.cause == case["cause"]
    else:
        assert case["causeContains"] in (info.value.cause or "")


def _assert_result(result: Any, case: dict[str, Any]) -> None:
    assert any(key in case for key in _RESULT_KEYS), "a case must state what it expects"
    if "result" in case:
        assert same_json(result, case["result"]), f"{result!r} != {case['result']!r}"
    if "resultPattern" in case:
        assert isinstance(result, str) and re.fullmatch(case["resultPattern"], result)
    if "resultRange" in case:
        low, high = case["resultRange"]
        assert type(result) is int and low <= result < high, result
    if "resultLength" in case:
        assert isinstance(result, str | list) and len(result) == case["resultLength"]


def same_json(left: Any, right: Any) -> bool:
    """Equality of JSON values that also compares types (``True != 1``, ``1 != 1.0``)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    return bool(left == right)
