"""The loop of one scope: enter a state, do its work, exit, go to the next.

Every state type has a handler in :mod:`runtime.states` (its table reaches the loop
through the execution's ``Run.steps``); Retry and Catch wrap the work of Task, Parallel
and Map here, in one place.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

from asl import model as m
from asl.errors import StatesError
from runtime.evaluation import settle
from runtime.frame import PAYLOAD_LIMIT_BYTES, Frame, Handler, Outcome, Step, check_payload
from runtime.retry import find_catcher, retry_delay

__all__ = [
    "ABORTABLE",
    "Handler",
    "Outcome",
    "Step",
    "run_scope",
    "step",
    "with_retry_and_catch",
]

#: State types AWS records an ``<Type>StateAborted`` event for when they are cut short.
ABORTABLE = frozenset({"Task", "Wait", "Map", "Parallel"})


def step(state_type: str, handler: Handler) -> Step:
    """A state type's entry in a steps table: its event types and its handler."""
    return f"{state_type}StateEntered", f"{state_type}StateExited", handler


#: States entered (by an execution, all its threads together) between two yields to the
#: event loop; counted, not timed, so seeded runs interleave the same way every time.
YIELD_EVERY = 256


async def run_scope(scope: m.Scope, value: Any, frame: Frame) -> Any:
    """Run a scope from its StartAt to an end; return its output."""
    states = scope.states
    path = frame.run.path
    steps = frame.run.steps
    name: str | None = scope.start_at
    while name is not None:
        if path and not len(path) % YIELD_EVERY:
            # A loop of states that never wait would hold the event loop: let timers
            # (a timeout), other executions and callers run now and then.
            await frame.run.host.pause()
        state = states[name]
        entered_type, exited_type, handler = steps[state.type]
        entered = frame.entered_event = frame.record_state(entered_type, name, value)
        path.append(name)
        state_input = value
        try:
            value, name, assigned = await handler(state, value, frame, entered)
        except StatesError:
            frame.failed_state = state  # left open: a Parallel or Map around it aborts it
            raise
        except asyncio.CancelledError:
            if state.type in ABORTABLE:
                frame.record(f"{state.type}StateAborted", {"name": state.name})
            raise
        if value is not state_input:
            frame.size_bound = _output_size_bound(state, value, frame)
        if assigned:
            frame.assign(assigned)
            details = {"name": state.name, "output": value, "assignedVariables": assigned}
            frame.record(exited_type, details)
        else:
            frame.record_state(exited_type, state.name, value)
    return value


def _output_size_bound(state: m.State, value: Any, frame: Frame) -> float:
    """A bound on the size of a state's output; the output is measured (and over the
    limit, fails the execution, beyond Retry and Catch) only when the bound is too big."""
    growth = state.flow.growth
    if growth is not None:
        of_input, of_result, constant = growth
        bound = constant  # (a zero times an infinite size would be NaN)
        if of_input:
            bound += of_input * frame.size_bound
        if of_result:
            bound += of_result * frame.result_size
        if bound <= PAYLOAD_LIMIT_BYTES:
            return bound
    return check_payload(value, state.name)


Work = Callable[[int], Awaitable[Outcome]]


async def with_retry_and_catch(
    state: m.Task | m.Parallel | m.Map,
    raw_input: Any,
    frame: Frame,
    work: Work,
    failed_for_good: Callable[[], None] | None = None,
) -> Outcome:
    """Run ``work(retry_count)`` under the state's Retry and Catch fields;
    ``failed_for_good()`` runs when a failure is not retried, before it is caught."""
    attempts = [0] * len(state.retry)
    retry_count = 0
    host = frame.run.host
    while True:
        try:
            return await work(retry_count)
        except StatesError as failure:
            error = failure.error
            delay = retry_delay(state.retry, attempts, error, host.entropy)
            if delay is not None:
                retry_count += 1
                await host.sleep(delay)
                continue
            if failed_for_good is not None:
                failed_for_good()
            index = find_catcher(state.catch, error)
            if index is None:
                raise
            error_output = {"Error": error, "Cause": failure.cause}
            frame.result_size = math.inf  # the output is the Error Output's placement
            b = frame.bindings(state, retry_count)
            output, assigned = await settle(
                frame, state.flow.catch, index, raw_input, error_output, b
            )
            return output, state.catch[index].next, assigned
