"""The assertion helpers of runtime.testing: what they accept, and the message of what
they refuse (the problem, then the execution's trace)."""

from __future__ import annotations

import pytest

from runtime.testing import (
    ExecutionAssertionError,
    WorkflowEngine,
    assert_caught,
    assert_failed,
    assert_path,
    assert_retries,
    assert_succeeded,
    state,
    trace,
)

MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Double",
                "States": {
                    "Double": {
                        "Type": "Pass",
                        "Parameters": {"v.$": "States.MathAdd($, $)"},
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    },
}
FAIL = {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "E", "Cause": "c"}}}


def test_state_keeps_every_entry_and_exit(asl_engine: WorkflowEngine) -> None:
    execution = asl_engine.run(MAP, [1, 2])
    assert_succeeded(execution, [{"v": 2}, {"v": 4}])
    assert_path(execution, ["Each", "Double", "Double"])
    double = state(execution, "Double")
    assert (double.inputs, double.outputs) == ([1, 2], [{"v": 2}, {"v": 4}])
    assert (double.input, double.output, double.summary.entered) == (2, {"v": 4}, 2)


def test_refusals_name_the_problem_then_trace(asl_engine: WorkflowEngine) -> None:
    execution = asl_engine.run(FAIL)
    assert_failed(execution, "E", "c")
    with pytest.raises(ExecutionAssertionError) as raised:
        assert_succeeded(execution)
    assert str(raised.value) == "status FAILED, expected SUCCEEDED\n\n" + trace(execution)
    assert raised.value.execution is execution
    with pytest.raises(ExecutionAssertionError, match=r"^cause 'c'\n  != expected 'd'"):
        assert_failed(execution, "E", "d")
    with pytest.raises(ExecutionAssertionError, match=r"^state 'Stop' ended FAILED, expected"):
        assert_caught(execution, "Stop")
    with pytest.raises(ExecutionAssertionError, match=r"^state 'Nope' was never entered"):
        state(execution, "Nope")
    with pytest.raises(ExecutionAssertionError, match="retried 0 times, expected 1"):
        assert_retries(execution, "Stop", 1)
    with pytest.raises(LookupError, match="never exited"):
        _ = state(execution, "Stop").output


def test_trace_lists_states_with_outcome_and_marks(asl_engine: WorkflowEngine) -> None:
    execution = asl_engine.run(FAIL)
    assert trace(execution).splitlines() == [
        f"Execution '{execution.name}' of 'StateMachine': FAILED",
        "  error: E",
        "  cause: c",
        "  path: Stop",
        "   1. Stop  FAILED  <- failed here",
    ]


def test_a_mock_result_answers_every_invocation(asl_engine: WorkflowEngine) -> None:
    task = {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
        },
    }
    asl_engine.mock("Call", result={"Payload": 1})
    assert_succeeded(asl_engine.run(task, {}), {"Payload": 1})
    assert len(asl_engine.executions) == 1


def test_a_test_case_needs_a_mock_config(asl_engine: WorkflowEngine) -> None:
    with pytest.raises(ValueError, match="needs a mock config"):
        asl_engine.run(FAIL, test_case="Any")
