"""DescribeExecution and GetExecutionHistory of `asl serve` agree on an execution's error
and cause holding a lone surrogate (a Fail state's, a handler's message, StopExecution's):
both return the text as it was, while the execution runs on the server and once the
database holds it (a restarted server reads it back), in memory and durable alike. The
database once kept the execution's row with U+FFFD in its place while its history kept
the surrogate. AWS's behaviour for such text is not recorded; the history's choice (the
text kept as data, tests/e2e/test_serve_hostile.py) is the one both follow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings, serve_in_thread
from tests.e2e.test_serve_hostile import APPROVAL, LONE, _ended, _last_event, _machine, _settings
from tests.polling import until
from tests.serving import sfn_client

FAIL = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": f"E{LONE}", "Cause": LONE}}}
TASK = {
    "StartAt": "T",
    "States": {
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:explode",
            "End": True,
        }
    },
}
DETAILS = {
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
}


def _start_ending(sfn: Any) -> list[str]:
    """Executions that end with a lone surrogate in their error or cause."""
    failed = sfn.start_execution(stateMachineArn=_machine(sfn, "fail", FAIL))["executionArn"]
    raised = sfn.start_execution(stateMachineArn=_machine(sfn, "raise", TASK))["executionArn"]
    asked = sfn.start_execution(stateMachineArn=_machine(sfn, "ask", APPROVAL))["executionArn"]
    until(lambda: len(sfn.get_execution_history(executionArn=asked)["events"]) >= 4)
    sfn.stop_execution(executionArn=asked, error=f"S{LONE}", cause=f"no {LONE}")
    return [failed, raised, asked]


def _ends_agree(sfn: Any, arns: list[str]) -> list[tuple[str, str]]:
    """Each execution's error and cause, checked the same in both answers."""
    seen = []
    for arn in arns:
        described = _ended(sfn, arn)
        last = _last_event(sfn, arn)
        details = last[DETAILS[last["type"]]]
        assert (described["error"], described["cause"]) == (details["error"], details["cause"])
        assert LONE in described["cause"]
        seen.append((described["error"], described["cause"]))
    return seen


@pytest.mark.parametrize("durable", [True, False])
def test_describe_and_history_return_the_same_error_and_cause(
    tmp_path: Path, durable: bool
) -> None:
    settings = _settings(tmp_path)
    if not durable:
        settings = ServiceSettings(clock=settings.clock, functions=settings.functions)
    with serve_in_thread(settings) as first:
        sfn = sfn_client(first.url)
        arns = _start_ending(sfn)
        seen = _ends_agree(sfn, arns)
    assert seen[0] == (f"E{LONE}", LONE)
    assert seen[2] == (f"S{LONE}", f"no {LONE}")
    if durable:
        with serve_in_thread(settings) as second:  # read back from the database
            assert _ends_agree(sfn_client(second.url), arns) == seen
