"""What each state of an execution did, read from its history: how often it was entered,
how many attempts its work took, the retries and errors, and how its last entry ended.

Events are tied to their state by the name they carry (entries, exits, aborts,
``EvaluationFailed``) or through ``previousEventId`` (a Task's scheduling links to the
entry, a retry to the failure before it). A Parallel's or Map's own closing events link
to their children's last events, so they go to the innermost open state of their type
instead. Names sum over Parallel branches and Map iterations.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Outcome", "StateSummary", "summarize"]

Outcome = Literal["SUCCEEDED", "CAUGHT", "FAILED", "TIMED_OUT", "ABORTED", "RUNNING"]

# One attempt of a state's work begins with one of these.
_ATTEMPTS = frozenset(
    {"TaskScheduled", "LambdaFunctionScheduled", "ActivityScheduled",
     "ParallelStateStarted", "MapStateStarted"}
)  # fmt: skip
# An attempt that failed (its error in the details).
_FAILURES = frozenset(
    {"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
     "LambdaFunctionScheduleFailed", "LambdaFunctionStartFailed", "TaskSubmitFailed",
     "TaskStartFailed", "ActivityFailed", "ActivityTimedOut", "ActivityScheduleFailed",
     "ParallelStateFailed", "MapStateFailed", "EvaluationFailed"}
)  # fmt: skip


# A Parallel's or Map's own events that link to a child's last event, by state type.
_CLOSING = {
    "ParallelStateSucceeded": "Parallel", "ParallelStateFailed": "Parallel",
    "MapStateSucceeded": "Map", "MapStateFailed": "Map",
}  # fmt: skip


@dataclass(slots=True)
class StateSummary:
    """One state's record in an execution (summed over every entry of it)."""

    name: str
    #: How many times the state was entered.
    entered: int = 0
    #: Attempts of its work (Task, Parallel, Map; 0 for the other types).
    attempts: int = 0
    #: Attempts beyond the first of each entry.
    retries: int = 0
    #: The errors of its failed attempts, in order.
    errors: list[str | None] = field(default_factory=list)
    #: How its last entry ended.
    outcome: Outcome = "RUNNING"
    # Whether the current attempt failed (an exit then means a Catcher took it).
    _failed_last: bool = field(default=False, repr=False, compare=False)


def summarize(events: Iterable[Any], execution_status: str) -> dict[str, StateSummary]:
    """Per state name, in the order states were first entered, from history events
    (objects with ``id``, ``previous_event_id``, ``type`` and ``details``)."""
    states: dict[str, StateSummary] = {}
    state_of: dict[int, str] = {}
    open_by_type: dict[str, list[str]] = {"Parallel": [], "Map": []}
    for event in events:
        kind: str = event.type
        if kind.endswith("StateEntered"):
            name = event.details["name"]
            state_of[event.id] = name
            summary = states.setdefault(name, StateSummary(name))
            summary.entered += 1
            summary.outcome, summary._failed_last = "RUNNING", False
            if kind[: -len("StateEntered")] in open_by_type:
                open_by_type[kind[: -len("StateEntered")]].append(name)
            continue
        name = _state_of(event, kind, state_of, open_by_type)
        if name is None or name not in states:
            continue
        state_of[event.id] = name
        _apply(states[name], kind, event)
        if kind.endswith(("StateExited", "StateAborted")):
            _close(open_by_type.get(kind.split("State")[0]), name)
    ended = {"FAILED": "FAILED", "TIMED_OUT": "TIMED_OUT", "ABORTED": "ABORTED"}
    for summary in states.values():
        if summary.outcome == "RUNNING" and execution_status in ended:
            summary.outcome = ended[execution_status]  # type: ignore[assignment]
        summary.retries = max(0, summary.attempts - summary.entered) if summary.attempts else 0
    return states


def _close(stack: list[str] | None, name: str) -> None:
    """The innermost open state of that name has ended."""
    if stack is None:
        return
    for index in range(len(stack) - 1, -1, -1):
        if stack[index] == name:
            del stack[index]
            return


def _state_of(
    event: Any, kind: str, state_of: dict[int, str], open_by_type: dict[str, list[str]]
) -> str | None:
    if kind.endswith(("StateExited", "StateAborted")):
        return event.details["name"]  # type: ignore[no-any-return]
    if kind == "EvaluationFailed":  # linked to the event before the state's entry
        return event.details["state"]  # type: ignore[no-any-return]
    if kind in _CLOSING:
        stack = open_by_type[_CLOSING[kind]]
        return stack[-1] if stack else None
    return state_of.get(event.previous_event_id)


def _apply(summary: StateSummary, kind: str, event: Any) -> None:
    if kind in _ATTEMPTS:
        summary.attempts += 1
        summary._failed_last = False
    elif kind in _FAILURES:
        if kind in _CLOSING and summary._failed_last:
            return  # the Map's failure after its EvaluationFailed: one error, not two
        details = event.details or {}
        summary.errors.append(details.get("error"))
        summary._failed_last = True
    elif kind.endswith("StateExited"):
        summary.outcome = "CAUGHT" if summary._failed_last else "SUCCEEDED"
    elif kind.endswith("StateAborted"):  # a Task that failed in a branch is aborted too
        summary.outcome = "FAILED" if summary._failed_last else "ABORTED"
