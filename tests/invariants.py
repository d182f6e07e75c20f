"""The invariant the hostile-input tests hold every execution to."""

from __future__ import annotations

from typing import Any

TERMINAL = {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}


def assert_ended(execution: Any) -> list[str]:
    """Assert the execution ended with a terminal event and no engine fault; return its
    history's event types."""
    types = [event["type"] for event in execution.history_json()["events"]]
    assert execution.status != "RUNNING"
    assert types[-1] in TERMINAL, types
    assert execution.fault is None, execution.fault
    return types
