"""Spec kind ``jsonata``: compile one JSONata expression or template and evaluate it.

Case fields:

- what to compile, one of: ``expression`` (the whole ``{% ... %}`` string, compiled with
  ``compile_expression``) or ``template`` (any JSON value, ``compile_jsonata_template``);
  ``field`` (default ``Output``) names it in causes; ``expectedType`` asks
  ``compile_expression`` to check the result's type;
- the bindings: ``input`` ($states.input), ``context``, ``variables``, ``stateResult``
  ($states.result) and ``errorOutput`` (each bound only when the case has the key),
  ``seed`` for the entropy;
- the outcome, one of:
  - ``syntaxError: true``: the text must not compile (``JsonataSyntaxError``), and
    ``check_expression`` must say why; ``syntaxContains`` checks the reason;
  - ``error`` with ``cause`` (exact) or ``causeStartsWith`` (where AWS's full wording is
    not recorded), and optionally ``location``;
  - ``result`` (compared strictly: ``1`` is not ``1.0`` nor ``true``), ``resultPattern``
    (a regular expression for a string result), ``resultRange`` (``[low, high)`` for a
    number); ``sameForAnySeed: true`` also evaluates with two other seeds and expects the
    same result (a deterministic function).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from asl.bindings import Bindings, SystemEntropy
from asl.errors import StatesError
from asl.jsonata import (
    JsonataSyntaxError,
    check_expression,
    compile_expression,
    compile_jsonata_template,
)

_OUTCOMES = ("syntaxError", "error", "result", "resultPattern", "resultRange")


def bindings_of(case: dict[str, Any], seed: int | None = None) -> Bindings:
    """The bindings a case describes."""
    return Bindings(
        input=case.get("input"),
        context=case.get("context"),
        variables=case.get("variables", {}),
        result=case.get("stateResult"),
        error_output=case.get("errorOutput"),
        has_result="stateResult" in case,
        has_error_output="errorOutput" in case,
        entropy=SystemEntropy(case.get("seed") if seed is None else seed),
    )


def run(case: dict[str, Any]) -> None:
    """Evaluate the case and assert its expected outcome."""
    assert any(key in case for key in _OUTCOMES), "a case must state what it expects"
    field = case.get("field", "Output")
    if case.get("syntaxError"):
        _assert_syntax_error(case, field)
        return
    if "expression" in case:
        assert check_expression(case["expression"]) is None
        evaluate = compile_expression(case["expression"], field, case.get("expectedType"))
    else:
        evaluate = compile_jsonata_template(case["template"], field)
    if "error" in case:
        assert_error(evaluate, bindings_of(case), case)
        return
    value = evaluate(bindings_of(case))
    _assert_result(value, case)
    if case.get("sameForAnySeed"):
        for seed in (7, 12345):
            assert_strict_equal(evaluate(bindings_of(case, seed)), value)


def _assert_syntax_error(case: dict[str, Any], field: str) -> None:
    text = case["expression"]
    with pytest.raises(JsonataSyntaxError):
        compile_expression(text, field)
    reason = check_expression(text)
    assert reason is not None
    assert case.get("syntaxContains", "") in reason


def assert_error(evaluate: Any, bindings: Bindings, case: dict[str, Any]) -> None:
    """``evaluate(bindings)`` raises the case's error with its cause (or cause prefix)."""
    with pytest.raises(StatesError) as info:
        evaluate(bindings)
    assert info.value.error == case["error"]
    cause = info.value.cause or ""
    if "cause" in case:
        assert cause == case["cause"]
    else:
        assert cause.startswith(case["causeStartsWith"]), cause
    if "location" in case:
        assert getattr(info.value, "location", None) == case["location"]


def _assert_result(value: Any, case: dict[str, Any]) -> None:
    if "result" in case:
        assert_strict_equal(value, case["result"])
    if "resultPattern" in case:
        assert isinstance(value, str) and re.fullmatch(case["resultPattern"], value), value
    if "resultRange" in case:
        low, high = case["resultRange"]
        assert isinstance(value, int | float) and not isinstance(value, bool)
        assert low <= value < high, value


def assert_strict_equal(actual: Any, expected: Any) -> None:
    """Equal as JSON values with equal types: ``1`` is not ``1.0`` nor ``True``."""
    assert _typed(actual) == _typed(expected), f"{actual!r} != {expected!r}"


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return ("object", {key: _typed(item) for key, item in value.items()})
    if isinstance(value, list):
        return ("array", [_typed(item) for item in value])
    return (type(value).__name__, value)
