"""The AWS execution-history format: event types, their details keys, and visits.

Shared by the runtime (which records events), the visualizer (which draws them) and the
tests (which assert on them). An event is the JSON object ``GetExecutionHistory``
returns: ``{"id", "previousEventId", "timestamp", "type", "<x>EventDetails": {...}}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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


@dataclass(slots=True)
class Visit:
    """One entry into a state, folded from its events: what happened there."""

    name: str
    state_type: str
    entered: Mapping[str, Any]
    exited: Mapping[str, Any] | None = None
    events: list[Mapping[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """True when the visit ended without a StateExited event (it failed or aborted)."""
        return self.exited is None


def visits(events: Iterable[Mapping[str, Any]]) -> list[Visit]:
    """Fold a history into per-state visits, in the order the states were entered.

    An event between a state's Entered and Exited events is attached to the most recent
    open visit of the same state scope; for concurrent branches this is approximate, as
    AWS's own console is.
    """
    out: list[Visit] = []
    open_visits: dict[str, Visit] = {}
    last_open: Visit | None = None
    for event in events:
        kind = event["type"]
        state_type = state_type_of(kind)
        if state_type is not None and kind.endswith("Entered"):
            name = details(event).get("name", "")
            visit = Visit(name, state_type, event, events=[event])
            out.append(visit)
            open_visits[name] = last_open = visit
        elif state_type is not None and kind.endswith(("Exited", "Aborted")):
            name = details(event).get("name", "")
            visit_or_none = open_visits.pop(name, None)
            if visit_or_none is not None:
                visit_or_none.events.append(event)
                if kind.endswith("Exited"):
                    visit_or_none.exited = event
        elif last_open is not None and last_open.exited is None:
            last_open.events.append(event)
    return out
