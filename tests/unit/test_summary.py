"""Execution.states: what each state did, read from the history."""

from __future__ import annotations

from typing import Any

from runtime.testing import run

FLAKY = "arn:aws:lambda:us-east-1:123456789012:function:flaky"
RETRY = [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3}]


class Flaky(Exception):
    pass


def _flaky(fail_times: int) -> Any:
    calls = {"n": 0}

    def handler(event: Any, context: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= fail_times:
            raise Flaky("not yet")
        return event

    return handler


def _task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FLAKY, "Retry": RETRY, **fields}


def test_attempts_retries_and_errors_of_a_retried_task() -> None:
    definition = {"StartAt": "Call", "States": {"Call": _task(End=True)}}
    execution = run(definition, {}, functions={"flaky": _flaky(2)})
    call = execution.states["Call"]
    assert (call.entered, call.attempts, call.retries) == (1, 3, 2)
    assert (call.errors, call.outcome) == (["Flaky", "Flaky"], "SUCCEEDED")


def test_a_caught_failure_and_a_state_never_reached() -> None:
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]
    definition = {
        "StartAt": "Call",
        "States": {
            "Call": _task(Catch=catch, Next="Never"),
            "Never": {"Type": "Pass", "End": True},
            "Handled": {"Type": "Pass", "End": True},
        },
    }
    execution = run(definition, {}, functions={"flaky": _flaky(9)})
    assert list(execution.states) == ["Call", "Handled"]
    call = execution.states["Call"]
    assert (call.attempts, call.retries, call.outcome) == (4, 3, "CAUGHT")
    assert execution.states["Handled"].outcome == "SUCCEEDED"


def test_map_iterations_sum_and_the_map_itself_is_one_attempt() -> None:
    processor = {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}}
    definition = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemProcessor": processor, "End": True}},
    }
    execution = run(definition, [1, 2, 3])
    assert (execution.states["Each"].entered, execution.states["Each"].outcome) == (3, "SUCCEEDED")
    m = execution.states["M"]
    assert (m.entered, m.attempts, m.retries, m.outcome) == (1, 1, 0, "SUCCEEDED")


def test_a_failed_parallel_and_its_failing_branch() -> None:
    branch = {"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Bad"}}}
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Parallel", "Branches": [branch], "End": True}},
    }
    execution = run(definition, {})
    assert execution.status == "FAILED"
    assert execution.states["P"].outcome == "FAILED"
    assert execution.states["Boom"].outcome == "FAILED"


def test_a_task_that_failed_in_a_caught_branch_failed_though_aborted() -> None:
    call = {"Type": "Task", "Resource": FLAKY, "End": True}
    branch = {"StartAt": "Call", "States": {"Call": call}}
    definition = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Parallel", "Branches": [branch], "Next": "H",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}]},
            "H": {"Type": "Pass", "End": True},
        },
    }  # fmt: skip
    execution = run(definition, {}, functions={"flaky": _flaky(1)})
    assert "TaskStateAborted" in [e["type"] for e in execution.history_json()["events"]]
    call = execution.states["Call"]
    assert (call.errors, call.outcome) == (["Flaky"], "FAILED")
    assert execution.states["P"].outcome == "CAUGHT"


def test_an_evaluation_failure_is_the_error_of_its_state() -> None:
    processor = {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}}
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "M"},
            "M": {"Type": "Map", "Items": "{% 1 %}", "End": True, "ItemProcessor": processor},
        },
    }
    execution = run(definition, {})
    assert execution.states["First"].errors == []  # EvaluationFailed links to First's exit
    m = execution.states["M"]
    assert (m.errors, m.outcome) == (["States.QueryEvaluationError"], "FAILED")
