"""A Distributed Map's child executions: each one's own :class:`~runtime.frame.Run` (ARN,
context, history), run to its end event; all of a Map Run's children run as strands of
their parent, or through the Host's ``map_children`` where the Host runs them elsewhere
(a Temporal workflow's child workflows).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from asl import model as m
from asl.errors import EXCEED_TOLERATED_FAILURE_THRESHOLD, StatesError
from asl.jsontext import json_size
from asl.variables import VariableScope
from runtime.child_history import child_history, latest_event, redrives
from runtime.context import execution_context, state_machine_context
from runtime.frame import HISTORY_LIMIT_EVENTS, Frame, Run, Step
from runtime.history import History
from runtime.host import Host
from runtime.interpreter import run_scope
from runtime.map_children import (
    ChildEnd,
    ChildStart,
    MapChildren,
    MapRunWork,
    child_arn,
    exceeded,
)
from runtime.pending_redrive import awaiting_redrive
from runtime.states.map_run import ChildExecution, ChildRecord, MapRun
from runtime.strands import in_strand, strand_key

__all__ = [
    "THRESHOLD_EXCEEDED",
    "child_run",
    "error_details",
    "record_of",
    "run_child",
    "run_children",
]

THRESHOLD_EXCEEDED = "The specified tolerated failure threshold was exceeded"


class _ThresholdExceeded(Exception):
    """More children failed than the Map Run tolerates."""


def error_details(failure: StatesError) -> dict[str, Any]:
    """The details of a failure's event: its error, and its cause when it has one."""
    details: dict[str, Any] = {"error": failure.error}
    if failure.cause is not None:
        details["cause"] = failure.cause
    return details


def child_run(
    host: Host, steps: Mapping[str, Step], machine: m.StateMachine, start: ChildStart,
    work: MapRunWork, history: History | None = None,
) -> Run:  # fmt: skip
    """A child execution's Run, its ``ExecutionStarted`` recorded (``history``: its history
    so far, when a redrive of its parent redrives it)."""
    history = History(host.clock) if history is None else history
    run = Run(
        host=host,
        machine=machine,
        execution_arn=start.arn,
        state_machine_arn=work.state_machine_arn,
        execution_context=execution_context(
            execution_arn=start.arn,
            name=start.name,
            input_value=start.input,
            role_arn=work.role_arn,
            start_time=host.now(),
            redrive_count=len(redrives(history)),
        ),
        state_machine_context=state_machine_context(
            work.state_machine_arn, work.state_machine_name
        ),
        region=work.region,
        account=work.account,
        history_limit=HISTORY_LIMIT_EVENTS if work.execution_type == "STANDARD" else None,
        steps=steps,
        history=history,
    )
    run.history.add_started(start.input, work.role_arn)
    return run


def _close(run: Run, event: str, details: dict[str, Any] | None) -> None:
    run.history.add(event, latest_event(run.history), details)


async def run_child(
    processor: m.Scope, run: Run, value: Any, scope: VariableScope
) -> tuple[str, Any, StatesError | None]:
    """Run a child execution to its end event: its status, output and failure (a failure
    is returned, not raised; cancelled, it ends with ``ExecutionAborted``)."""
    frame = Frame(run, 0, scope)
    frame.size_bound = json_size(value)
    try:
        output = await run_scope(processor, value, frame)
    except StatesError as failure:
        _close(run, "ExecutionFailed", error_details(failure))
        return "FAILED", None, failure
    except asyncio.CancelledError:
        _close(run, "ExecutionAborted", None)
        raise
    history = run.history
    history.add_output("ExecutionSucceeded", latest_event(history), output)
    return "SUCCEEDED", output, None


def _start(frame: Frame, work: MapRunWork, index: int, batch: tuple[Any, int]) -> ChildStart:
    """The child of a batch (or item), its name drawn from the Host."""
    name = frame.run.host.new_uuid()
    value, count = batch
    return ChildStart(index, name, child_arn(work, name), value, count)


async def run_children(
    state: m.Map, frame: Frame, map_run: MapRun, work: MapRunWork,
    batches: Sequence[tuple[Any, int]],
) -> list[ChildRecord]:  # fmt: skip
    """All children, up to MaxConcurrency at once (0: all), in item order; raises
    ``States.ExceedToleratedFailureThreshold`` once too many have failed."""
    remote = frame.run.host.map_children
    try:
        if remote is None:
            return await _run_here(state, frame, map_run, work, batches)
        return await _run_elsewhere(remote, frame, map_run, work, batches)
    except _ThresholdExceeded:
        raise StatesError(EXCEED_TOLERATED_FAILURE_THRESHOLD, THRESHOLD_EXCEEDED) from None


async def _run_here(
    state: m.Map, frame: Frame, map_run: MapRun, work: MapRunWork,
    batches: Sequence[tuple[Any, int]],
) -> list[ChildRecord]:  # fmt: skip
    """The children as strands of their parent, sharing its Host."""
    parent = frame.run
    machine = m.StateMachine(scope=state.item_processor, query_language=state.query_language)
    children: list[ChildRecord | None] = [None] * len(batches)
    failed = 0
    map_run.awaiting_redrive = awaiting_redrive(parent.history, map_run.arn)

    async def run_one(index: int) -> None:
        nonlocal failed
        map_run.awaiting_redrive.pop(index, None)
        start = _start(frame, work, index, batches[index])
        history = child_history(parent.history, parent.host.clock, start.arn)
        run = child_run(parent.host, parent.steps, machine, start, work, history)
        child = children[index] = ChildExecution(map_run, index, start.name, start.input, run)
        map_run.executions.append(child)
        child.item_count = start.item_count
        redriven = redrives(history)
        if redriven:
            child.redrive_count, child.redrive_date = len(redriven), redriven[-1]
        scope = frame.scope.child(distributed=True)
        try:
            status, child.output, failure = await run_child(
                state.item_processor, run, start.input, scope
            )
        except asyncio.CancelledError:
            child.end("ABORTED")
            raise
        if failure is not None:
            child.error, child.cause = failure.error, failure.cause
        child.end(status)
        if status != "SUCCEEDED":
            failed += start.item_count
            if exceeded(failed, work.total_items, work.tolerated):
                raise _ThresholdExceeded

    strands = strand_key(f"{frame.last_event}.d")  # + the child's index

    async def keyed(index: int) -> None:
        with in_strand(f"{strands}{index}"):
            await run_one(index)

    jobs = [lambda i=i: keyed(i) for i in range(len(batches))]
    await parent.host.clock.run_all(jobs, limit=work.max_concurrency)
    return [child for child in children if child is not None]


def record_of(
    start: ChildStart, state_machine_arn: str, end: ChildEnd | None, start_time: float = 0.0
) -> ChildRecord:
    """The record of a child run elsewhere: as it ended, or RUNNING since ``start_time``
    while ``end`` is None."""
    child = ChildRecord(
        start.arn, start.index, start.name, start.input, state_machine_arn,
        start_time if end is None else end.start_time,
    )  # fmt: skip
    child.item_count = start.item_count
    if end is not None:
        child.status, child.output, child.stop_time = end.status, end.output, end.stop_time
        child.error, child.cause = end.error, end.cause
        child.redrive_count, child.redrive_date = end.redrive_count, end.redrive_date
        # ChildEnd carries no history length, so a child run elsewhere (on Temporal) is
        # never marked past the redrive limit: it counts in no failuresNotRedrivable
        # (the README says so).
    return child


async def _run_elsewhere(
    remote: MapChildren, frame: Frame, map_run: MapRun, work: MapRunWork,
    batches: Sequence[tuple[Any, int]],
) -> list[ChildRecord]:  # fmt: skip
    """The children run by the Host's ``map_children``; their records kept here."""
    strands = strand_key(f"{frame.last_event}.d")  # + the child's index, as in _run_here

    def named(index: int, batch: tuple[Any, int]) -> ChildStart:
        # Each name drawn in its child's strand, so a redrive keeps the names (ARNs) of the
        # children it runs again, as it does for children run here (runtime.redrive).
        with in_strand(f"{strands}{index}"):
            return replace(_start(frame, work, index, batch), strand=f"{strands}{index}")

    starts = [named(index, batch) for index, batch in enumerate(batches)]
    children: list[ChildRecord | None] = [None] * len(starts)
    failed = 0

    def ended(end: ChildEnd) -> None:
        nonlocal failed
        start = starts[end.index]
        child = children[end.index] = record_of(start, map_run.state_machine_arn, end)
        map_run.executions.append(child)
        if end.status != "SUCCEEDED":
            failed += start.item_count
            if exceeded(failed, work.total_items, work.tolerated):
                raise _ThresholdExceeded

    await remote.run(work, starts, ended)
    return [child for child in children if child is not None]
