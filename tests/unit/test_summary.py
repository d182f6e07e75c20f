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
