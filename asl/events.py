"""The AWS execution-history format: event types and their details keys.

Shared by the runtime (which records events), the visualizer (which draws them) and the
tests (which assert on them). An event is the JSON object ``GetExecutionHistory``
returns: ``{"id", "previousEventId", "timestamp", "type", "<x>EventDetails": {...}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Every HistoryEventType of the Step Functions API (botocore 1.44.8).
EVENT_TYPES: tuple[str, ...] = (
    "ActivityFailed",
    "ActivityScheduled",
    "ActivityScheduleFailed",
    "ActivityStarted",
    "ActivitySucceeded",
    "ActivityTimedOut",
    "ChoiceStateEntered",
    "ChoiceStateExited",
    "ExecutionAborted",
    "ExecutionFailed",
    "ExecutionStarted",
    "ExecutionSucceeded",
    "ExecutionTimedOut",
    "FailStateEntered",
    "LambdaFunctionFailed",
    "LambdaFunctionScheduled",
    "LambdaFunctionScheduleFailed",
    "LambdaFunctionStarted",
    "LambdaFunctionStartFailed",
    "LambdaFunctionSucceeded",
    "LambdaFunctionTimedOut",
    "MapIterationAborted",
    "MapIterationFailed",
    "MapIterationStarted",
    "MapIterationSucceeded",
    "MapStateAborted",
    "MapStateEntered",
    "MapStateExited",
    "MapStateFailed",
    "MapStateStarted",
    "MapStateSucceeded",
    "ParallelStateAborted",
    "ParallelStateEntered",
    "ParallelStateExited",
    "ParallelStateFailed",
    "ParallelStateStarted",
    "ParallelStateSucceeded",
    "PassStateEntered",
    "PassStateExited",
    "SucceedStateEntered",
    "SucceedStateExited",
    "TaskFailed",
    "TaskScheduled",
    "TaskStarted",
    "TaskStartFailed",
    "TaskStateAborted",
    "TaskStateEntered",
    "TaskStateExited",
    "TaskSubmitFailed",
    "TaskSubmitted",
    "TaskSucceeded",
    "TaskTimedOut",
    "WaitStateAborted",
    "WaitStateEntered",
    "WaitStateExited",
    "MapRunAborted",
    "MapRunFailed",
    "MapRunStarted",
    "MapRunSucceeded",
    "ExecutionRedriven",
    "MapRunRedriven",
    "EvaluationFailed",
)

# Event types that carry no details at all.
_NO_DETAILS = frozenset(
    {
        "MapStateAborted",
        "MapStateFailed",
        "MapStateSucceeded",
        "ParallelStateAborted",
        "ParallelStateFailed",
        "ParallelStateStarted",
        "ParallelStateSucceeded",
        "TaskStateAborted",
        "WaitStateAborted",
        "MapRunAborted",
        "MapRunSucceeded",
        "LambdaFunctionStarted",
    }
)


def details_key(event_type: str) -> str | None:
    """The member of a history event that holds its details, or None when it has none."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    if event_type in _NO_DETAILS:
        return None
    return event_type[0].lower() + event_type[1:] + "EventDetails"


def state_type_of(event_type: str) -> str | None:
    """``TaskStateEntered`` -> ``Task``; None for events that are not state events."""
    for suffix in ("StateEntered", "StateExited", "StateAborted"):
        if event_type.endswith(suffix):
            return event_type[: -len(suffix)]
    return None


def details(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The details object of an event (empty when it has none)."""
    key = details_key(event["type"])
    found = event.get(key) if key else None
    return found if isinstance(found, Mapping) else {}
