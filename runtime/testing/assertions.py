"""Assertions on a finished execution that explain themselves: on failure they raise
:class:`ExecutionAssertionError`, whose message holds the execution's trace (the states
taken, where it failed, the error and cause), read from its history.

>>> from runtime.testing import run
>>> execution = run({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
>>> assert_path(execution, ["A"])
>>> state(execution, "A").output
{}
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.executions import Execution
from runtime.summary import StateSummary

__all__ = [
    "ExecutionAssertionError",
    "StateRecord",
    "assert_caught",
    "assert_failed",
    "assert_path",
    "assert_retries",
    "assert_succeeded",
    "state",
    "trace",
]

_ANY: Any = object()
_MARK = {"FAILED": "<- failed here", "TIMED_OUT": "<- timed out here", "CAUGHT": "<- caught"}


class ExecutionAssertionError(AssertionError):
    """An assertion on an execution that did not hold; its text ends with the trace."""

    def __init__(self, problem: str, execution: Execution) -> None:
        super().__init__(f"{problem}\n\n{trace(execution)}")
        self.execution = execution


@dataclass(slots=True)
class StateRecord:
    """What one state did in an execution: its summary (entries, retries, errors,
    outcome) and the data of each entry and exit, summed over Map iterations and
    Parallel branches in the order the history recorded them."""

    summary: StateSummary
    inputs: list[Any] = field(default_factory=list)
    outputs: list[Any] = field(default_factory=list)

    @property
    def input(self) -> Any:
        """The input of its last entry."""
        return self.inputs[-1]

    @property
    def output(self) -> Any:
        """The output of its last exit (``LookupError`` if it never left)."""
        if not self.outputs:
            raise LookupError(f"state {self.summary.name!r} never exited")
        return self.outputs[-1]


def state(execution: Execution, name: str) -> StateRecord:
    """What the state ``name`` did; :class:`ExecutionAssertionError` if it was never entered."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    summary = execution.states.get(name)
    if summary is None:
        raise ExecutionAssertionError(f"state {name!r} was never entered", execution)
    record = StateRecord(summary)
    for event in execution.history:
        details = event.details
        if details is None or details.get("name") != name:
            continue
        if event.type.endswith("StateEntered"):
            record.inputs.append(details["input"])
        elif event.type.endswith("StateExited"):
            record.outputs.append(details["output"])
    return record


def trace(execution: Execution) -> str:
    """The execution in a few lines: its status, error and cause, then each state it
    entered with how it ended, its retries and errors, the failing one marked."""
    head = f"Execution {execution.name!r} of {execution.machine.name!r}: {execution.status}"
    for what, value in (("error", execution.error), ("cause", execution.cause)):
        if value is not None:
            head += f"\n  {what}: {value}"
    summaries = execution.states
    width = max((len(name) for name in summaries), default=0)
    lines = [head, f"  path: {' -> '.join(execution.path) or '(no state entered)'}"]
    for number, summary in enumerate(summaries.values(), 1):
        line = f"  {number:>2}. {summary.name:<{width}}  {summary.outcome}"
        if summary.entered > 1:
            line += f", entered {summary.entered}x"
        if summary.retries:
            line += f", {summary.retries} retries"
        if summary.errors:
            line += f", errors: {', '.join(str(error) for error in summary.errors)}"
        if summary.outcome in _MARK:
            line += f"  {_MARK[summary.outcome]}"
        lines.append(line)
    return "\n".join(lines)


def assert_path(execution: Execution, expected: Sequence[str]) -> None:
    """The states entered, in order, are ``expected`` (nested states included)."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    if execution.path != list(expected):
        raise ExecutionAssertionError(
            f"path {execution.path!r}\n  != expected {list(expected)!r}", execution
        )


def assert_succeeded(execution: Execution, output: Any = _ANY) -> None:
    """The execution SUCCEEDED, with ``output`` when one is given."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    if execution.status != "SUCCEEDED":
        raise ExecutionAssertionError(f"status {execution.status}, expected SUCCEEDED", execution)
    if output is not _ANY and execution.output != output:
        raise ExecutionAssertionError(
            f"output {execution.output!r}\n  != expected {output!r}", execution
        )


def assert_failed(execution: Execution, error: Any = _ANY, cause: Any = _ANY) -> None:
    """The execution FAILED, with ``error`` and ``cause`` when they are given."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    if execution.status != "FAILED":
        raise ExecutionAssertionError(f"status {execution.status}, expected FAILED", execution)
    checks = (("error", execution.error, error), ("cause", execution.cause, cause))
    for what, actual, expected in checks:
        if expected is not _ANY and actual != expected:
            raise ExecutionAssertionError(
                f"{what} {actual!r}\n  != expected {expected!r}", execution
            )


def assert_caught(execution: Execution, state_name: str, error: str | None = None) -> None:
    """A Catcher of ``state_name`` took its last failure (of ``error``, when given)."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    summary = state(execution, state_name).summary
    if summary.outcome != "CAUGHT":
        raise ExecutionAssertionError(
            f"state {state_name!r} ended {summary.outcome}, expected CAUGHT", execution
        )
    if error is not None and summary.errors[-1] != error:
        raise ExecutionAssertionError(
            f"state {state_name!r} caught {summary.errors[-1]!r}, expected {error!r}", execution
        )


def assert_retries(execution: Execution, state_name: str, retries: int) -> None:
    """``state_name``'s work was retried ``retries`` times (summed over its entries)."""
    __tracebackhide__ = True  # pytest shows the test's line, not this helper's
    summary = state(execution, state_name).summary
    if summary.retries != retries:
        raise ExecutionAssertionError(
            f"state {state_name!r} was retried {summary.retries} times, expected {retries}",
            execution,
        )
