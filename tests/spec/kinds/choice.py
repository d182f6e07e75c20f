"""Spec kind ``choice``: compile a Choice rule (or a whole ``Choices`` list, through its
model) and evaluate it.

Case fields: either ``rule`` (one rule document) or ``choices`` with an optional
``default``; the bindings ``input`` ($), optional ``context`` ($$) and ``variables``.
Expected outcome, one of:

- ``result``: true or false (``rule`` cases);
- ``next`` (and optionally ``index``, null when Default was taken) (``choices`` cases);
- ``error`` with ``cause`` (AWS's exact text), ``causeContains``, or
  ``causeUnrecorded: true`` when only the error name is known from AWS.
"""

from __future__ import annotations

from typing import Any

import pytest

from asl.bindings import Bindings
from asl.choice import compile_choices, compile_rule, parse_choices
from asl.errors import StatesError


def run(case: dict[str, Any]) -> None:
    """Evaluate the case and assert its expected outcome."""
    bindings = Bindings(
        input=case.get("input"),
        context=case.get("context"),
        variables=case.get("variables", {}),
    )
    if "choices" in case:
        choose = compile_choices(parse_choices(case["choices"]), case.get("default"))
        evaluate: Any = lambda: choose(bindings)  # noqa: E731
    else:
        holds = compile_rule(case["rule"])
        evaluate = lambda: holds(bindings)  # noqa: E731
    if "error" in case:
        _assert_error(evaluate, case)
    elif "choices" in case:
        index, next_state = evaluate()
        assert next_state == case["next"]
        if "index" in case:
            assert index == case["index"]
    else:
        assert evaluate() is case["result"]


def _assert_error(evaluate: Any, case: dict[str, Any]) -> None:
    with pytest.raises(StatesError) as info:
        evaluate()
    assert info.value.error == case["error"]
    if "cause" in case:
        assert info.value.cause == case["cause"]
    elif "causeContains" in case:
        assert case["causeContains"] in (info.value.cause or "")
    else:
        assert case.get("causeUnrecorded") is True, (
            "say which cause AWS gives, or that none is known"
        )
