"""Spec kind ``dataflow``: a JSONPath state's input and output processing, through
:func:`asl.dataflow.compile_io`.

Case fields:

- ``state``: the state's data-flow fields as written in ASL, any of ``InputPath``,
  ``Parameters``, ``ResultSelector``, ``ResultPath``, ``OutputPath`` (absent: the
  default; ``null`` is JSON null, which means something for the three paths);
- ``input``: the raw state input; ``result``: the state's raw result (when absent, only
  the effective input is computed); ``context`` (``$$``), ``variables`` (``$name``);
- expected outcome:

  - ``effectiveInput`` (after InputPath and Parameters) and/or ``output`` (after
    ResultSelector, ResultPath and OutputPath), compared strictly;
  - or ``error`` and ``cause``: the :class:`StatesError` raised on the way, exact cause;
  - or ``syntaxError: true``: a field does not compile (``PathSyntaxError`` or
    ``TemplateSyntaxError``).

Every case also checks that the raw input and result are left unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from asl.dataflow import JsonPathIO, compile_io
from asl.errors import StatesError
from asl.model import MISSING
from asl.paths import PathSyntaxError
from asl.templates import TemplateSyntaxError
from tests.spec.kinds.path import assert_strictly_equal, bindings_of


def run(case: dict[str, Any]) -> None:
    """Run the case's state fields over its input (and result) and assert the outcome."""
    if case.get("syntaxError"):
        with pytest.raises((PathSyntaxError, TemplateSyntaxError)):
            _compile(case["state"])
        return
    io = _compile(case["state"])
    raw_input, result = case.get("input"), case.get("result", MISSING)
    snapshot = copy.deepcopy((raw_input, result))
    if "error" in case:
        with pytest.raises(StatesError) as info:
            _process(io, case, raw_input, result)
        assert (info.value.error, info.value.cause) == (case["error"], case["cause"])
    else:
        effective, output = _process(io, case, raw_input, result)
        if "effectiveInput" in case:
            assert_strictly_equal(effective, case["effectiveInput"])
        if "output" in case:
            assert_strictly_equal(output, case["output"])
    assert (raw_input, result) == snapshot, "the raw input and result must not change"


def _compile(state: dict[str, Any]) -> JsonPathIO:
    return compile_io(
        input_path=state.get("InputPath", "$"),
        parameters=state.get("Parameters", MISSING),
        result_selector=state.get("ResultSelector", MISSING),
        result_path=state.get("ResultPath", "$"),
        output_path=state.get("OutputPath", "$"),
    )


def _process(io: JsonPathIO, case: dict[str, Any], raw_input: Any, result: Any) -> Any:
    bindings = bindings_of(case)
    effective = io.effective_input(raw_input, bindings)
    if result is MISSING:
        return effective, MISSING
    return effective, io.effective_output(raw_input, result, bindings)
