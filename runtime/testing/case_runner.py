"""Every test case of a Step Functions Local MockConfigFile run against its state machines
(``asl test``): per case the execution's status, path and output, checked against an
optional expectations file, and written as JUnit XML for CI.

The expectations file (JSON or YAML) maps a state machine's name to its test cases, each
with any of ``input`` (the execution's input, ``{}`` by default: a MockConfigFile holds
none), ``status``, ``output``, ``error``, ``cause`` and ``path`` (the states entered, in
order). A case without expectations only reports what happened.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from asl.loader import Source
from integrations.mocks import MockConfig
from runtime.executions import Execution
from runtime.testing.assertions import (
    ExecutionAssertionError,
    assert_failed,
    assert_path,
    assert_succeeded,
)
from runtime.testing.workflow_engine import WorkflowEngine

__all__ = ["CaseResult", "junit_xml", "run_cases"]

_CHECKED = frozenset({"input", "status", "output", "error", "cause", "path"})
_FAILURE = ("error", "cause")


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One test case run: the execution, and the first expectation it missed (the
    message ends with the execution's trace), if any."""

    machine: str
    test_case: str
    execution: Execution
    expected: bool
    problem: str | None = None

    @property
    def passed(self) -> bool:
        """Whether it met its expectations (a case without any passes)."""
        return self.problem is None


def run_cases(
    config: MockConfig,
    definitions: Mapping[str, Source],
    *,
    expectations: Mapping[str, Any] | None = None,
    functions: str | os.PathLike[str] | None = None,
    seed: int = 0,
    default_input: Any = None,
) -> list[CaseResult]:
    """Run each test case of each state machine of ``config`` that ``definitions`` (machine
    name -> definition) holds, in the config's order, each with its expectation's
    ``input``, else ``default_input`` (``{}`` when None); ``ValueError`` for an expectation
    of a machine or test case the config does not have, or a field it does not know."""
    expectations = expectations or {}
    fallback = {} if default_input is None else default_input
    _check_expectations(config, expectations)
    engine = WorkflowEngine(seed=seed)
    try:
        if functions is not None:
            engine.functions(functions)
        engine.mock_config(config)
        results = []
        for machine, cases in config.state_machines.items():
            if machine not in definitions:
                continue
            for case in cases:
                expected = expectations.get(machine, {}).get(case)
                execution = engine.run(
                    definitions[machine],
                    (expected or {}).get("input", fallback),
                    state_machine_name=machine,
                    test_case=case,
                )
                problem = _check(execution, expected) if expected else None
                results.append(CaseResult(machine, case, execution, bool(expected), problem))
        return results
    finally:
        engine.close()


def _check_expectations(config: MockConfig, expectations: Mapping[str, Any]) -> None:
    for machine, cases in expectations.items():
        if machine not in config.state_machines:
            raise ValueError(f"expectations: no state machine {machine!r} in the mock config")
        for case, expected in cases.items():
            if case not in config.state_machines[machine]:
                raise ValueError(f"expectations: {machine!r} has no test case {case!r}")
            unknown = set(expected) - _CHECKED
            if unknown:
                raise ValueError(
                    f"expectations: {machine}/{case}: unknown fields {sorted(unknown)}; "
                    f"known: {sorted(_CHECKED)}"
                )


def _check(execution: Execution, expected: Mapping[str, Any]) -> str | None:
    """The first expectation the execution misses, explained, or None."""
    status = expected.get("status")
    try:
        if status == "SUCCEEDED" or (status is None and "output" in expected):
            assert_succeeded(execution, **{k: v for k, v in expected.items() if k == "output"})
        elif status == "FAILED" or "error" in expected or "cause" in expected:
            assert_failed(execution, **{k: v for k, v in expected.items() if k in _FAILURE})
        elif status is not None and execution.status != status:
            raise ExecutionAssertionError(
                f"status {execution.status}, expected {status}", execution
            )
        if "path" in expected:
            assert_path(execution, expected["path"])
    except ExecutionAssertionError as failure:
        return str(failure)
    return None


def junit_xml(results: list[CaseResult]) -> str:
    """The results as a JUnit XML report: one ``testcase`` per test case (``classname``
    the state machine), a ``failure`` for a missed expectation."""
    suite = ElementTree.Element(
        "testsuite",
        name="asl test",
        tests=str(len(results)),
        failures=str(sum(not result.passed for result in results)),
    )
    for result in results:
        case = ElementTree.SubElement(
            suite, "testcase", classname=result.machine, name=result.test_case
        )
        if result.problem is not None:
            failure = ElementTree.SubElement(
                case, "failure", message=result.problem.splitlines()[0]
            )
            failure.text = result.problem
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
