"""The pytest plugin, run in pytest's own test harness (``pytester``): a passing test, a
failing one and the trace its report prints."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "runtime.testing.pytest_plugin")


@pytest.fixture(autouse=True)
def _settings(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def _printed(result: pytest.RunResult, lines: Sequence[str]) -> None:
    """Each text appears in a line of the output, in this order."""
    result.stdout.re_match_lines([f".*{re.escape(line)}" for line in lines])


MACHINE = """
MACHINE = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["Declined"], "Next": "Declined"}],
            "Next": "Done",
        },
        "Declined": {"Type": "Fail", "Error": "PaymentDeclined", "Cause": "card declined"},
        "Done": {"Type": "Succeed"},
    },
}
"""


def test_a_passing_workflow_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        MACHINE
        + """
from runtime.testing import assert_path, assert_succeeded, state


def test_charge(asl_engine):
    asl_engine.function("charge", lambda event, context: {"paid": event["amount"]})
    execution = asl_engine.run(MACHINE, {"amount": 5})
    assert_succeeded(execution, {"paid": 5})
    assert_path(execution, ["Charge", "Done"])
    assert state(execution, "Charge").input == {"amount": 5}
"""
    )
    pytester.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_a_failing_workflow_test_prints_the_trace(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        MACHINE
        + """
from runtime.testing import assert_path


def test_declined(asl_engine):
    asl_engine.mock("Charge", error="Declined", cause="insufficient funds")
    execution = asl_engine.run(MACHINE, {"amount": 5})
    assert_path(execution, ["Charge", "Done"])
"""
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    _printed(
        result,
        [
            '>       assert_path(execution, ["Charge", "Done"])',
            "ExecutionAssertionError: path ['Charge', 'Declined']",
            "!= expected ['Charge', 'Done']",
            "of 'StateMachine': FAILED",
            "error: PaymentDeclined",
            "cause: card declined",
            "path: Charge -> Declined",
            "1. Charge    CAUGHT, errors: Declined  <- caught",
            "2. Declined  FAILED  <- failed here",
        ],
    )


def test_a_failed_plain_assert_gets_the_traces_in_its_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        MACHINE
        + """
def test_busy(asl_engine):
    asl_engine.mock("Charge", error="Busy")
    execution = asl_engine.run(MACHINE, {"amount": 5})
    assert execution.status == "SUCCEEDED"
"""
    )
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    _printed(
        result,
        [
            "assert 'FAILED' == 'SUCCEEDED'",
            "- asl executions -",
            "of 'StateMachine': FAILED",
            "error: Busy",
            "path: Charge",
            "1. Charge  FAILED, 2 retries, errors: Busy, Busy, Busy  <- failed here",
        ],
    )


def test_mock_config_test_cases_and_the_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        MACHINE
        + """
from runtime.testing import assert_caught, assert_failed, assert_retries

CONFIG = {
    "StateMachines": {"pay": {"TestCases": {"BusyThenDeclined": {"Charge": "BusyThenDeclined"}}}},
    "MockedResponses": {
        "BusyThenDeclined": {
            "0": {"Throw": {"Error": "Busy", "Cause": "try later"}},
            "1": {"Throw": {"Error": "Declined", "Cause": "no"}},
        }
    },
}


def test_case(asl_engine):
    assert asl_engine.seed == 7
    asl_engine.mock_config(CONFIG)
    execution = asl_engine.run(
        MACHINE, {}, state_machine_name="pay", test_case="BusyThenDeclined"
    )
    assert_failed(execution, "PaymentDeclined", "card declined")
    assert_retries(execution, "Charge", 1)
    assert_caught(execution, "Charge", "Declined")
"""
    )
    pytester.runpytest(*PLUGIN, "--asl-seed", "7").assert_outcomes(passed=1)
