"""Map: runs the item processor for every item; the output is their outputs in order."""

from __future__ import annotations

import asyncio
from typing import Any

from asl import model as m
from asl.errors import QUERY_EVALUATION_ERROR, StatesError
from runtime.evaluation import evaluate, evaluation_error, settle
from runtime.frame import Frame
from runtime.interpreter import Outcome, run_scope, with_retry_and_catch
from runtime.states import distributed_map
from runtime.states.concurrent import Children, FailedEvent, child_size_bound, run_all
from runtime.strands import in_strand, strand_key


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Run the iterations under the state's Retry and Catch."""
    assert isinstance(state, m.Map)
    if state.flow.map_fields is not None:

        async def distributed(retry_count: int) -> Outcome:
            return await distributed_map.attempt(state, raw_input, frame, entered, retry_count)

        return await with_retry_and_catch(state, raw_input, frame, distributed)
    failed = FailedEvent(frame, "MapStateFailed")

    async def attempt(retry_count: int) -> Outcome:
        failed.owed = False
        return await _attempt(state, raw_input, frame, entered, retry_count, failed)

    return await with_retry_and_catch(state, raw_input, frame, attempt, failed.record)


async def _attempt(
    state: m.Map, raw_input: Any, frame: Frame, entered: int, retry_count: int,
    failed: FailedEvent,
) -> Outcome:  # fmt: skip
    flow = state.flow
    b = frame.bindings(state, retry_count)

    def prepare() -> tuple[int, list[Any]]:
        effective, items = flow.items(raw_input, b)
        limit = flow.max_concurrency(effective, b)
        return limit, [
            flow.item_input(
                effective, item, index,
                frame.bindings(state, retry_count, {"Index": index, "Value": item}),
            )
            for index, item in enumerate(items)
        ]  # fmt: skip

    try:
        limit, inputs = await settle(frame, prepare)
    except StatesError as error:
        failed.owed = error.error == QUERY_EVALUATION_ERROR
        raise evaluation_error(error, state, frame, entered) from None
    started = frame.record("MapStateStarted", {"length": len(inputs)})
    children = Children()
    strands = strand_key(f"{started}.i")  # + the iteration's index
    try:
        if state.item_processor.data_only or limit == 1:
            results = await _in_turn(state, inputs, frame, children, strands)
        else:
            results = await _side_by_side(state, inputs, frame, children, limit, strands)
    except StatesError:
        children.close_failed(frame)
        failed.owed = True
        raise
    children.close(frame, started, "MapStateSucceeded", len(results))
    output, assigned = await evaluate(state, frame, entered, flow.finish, raw_input, results, b)
    return output, state.next, assigned


async def _in_turn(
    state: m.Map, inputs: list[Any], frame: Frame, children: Children, strands: str
) -> list[Any]:
    """One iteration after another; each starts after the last event of the one before."""
    results = []
    previous = frame.last_event
    details = {"name": state.name, "index": 0}
    for index, value in enumerate(inputs):
        details = {"name": state.name, "index": index}
        started = frame.record_at(previous, "MapIterationStarted", details)
        with in_strand(f"{strands}{index}"):
            result, previous = await _iteration(state, details, value, frame, children, started)
        results.append(result)
    return results


async def _side_by_side(
    state: m.Map, inputs: list[Any], frame: Frame, children: Children, limit: int, strands: str
) -> list[Any]:
    """Up to ``limit`` iterations at once (0: all): the first ones all start at once; a
    later one starts after the last event of the iteration whose place it takes."""
    count = len(inputs)
    width = count if limit <= 0 or limit >= count else limit
    results: list[Any] = [None] * count
    waiting = iter(range(width, count))
    starts = [
        frame.record_at(frame.last_event, "MapIterationStarted", {"name": state.name, "index": i})
        for i in range(width)
    ]

    async def lane(index: int, started: int) -> None:
        while True:
            details = {"name": state.name, "index": index}
            value = inputs[index]
            with in_strand(f"{strands}{index}"):
                results[index], last = await _iteration(
                    state, details, value, frame, children, started
                )
            following = next(waiting, None)
            if following is None:
                return
            index = following
            details = {"name": state.name, "index": index}
            with in_strand(f"{strands}{index}"):  # which lane takes it is a matter of timing
                started = frame.record_at(last, "MapIterationStarted", details)

    lanes = [lambda i=i: lane(i, starts[i]) for i in range(width)]
    # Iterations started together record their Tasks' TaskStarted after every one of
    # them has recorded its TaskScheduled (see task.py).
    await run_all(frame, lanes, on_failure=children.link_aborts, first_turn=True)
    return results


async def _iteration(
    state: m.Map,
    details: dict[str, Any],
    value: Any,
    frame: Frame,
    children: Children,
    started: int,
) -> tuple[Any, int]:
    """One iteration: its result and its last inner event."""
    child = children.spawn(frame, started, child_size_bound(state, frame, value))
    try:
        result = await run_scope(state.item_processor, value, child)
    except StatesError:
        await children.settle()
        aborted_after = children.failed(child)
        if aborted_after is None:
            frame.record_at(child.last_event, "MapIterationFailed", details)
        else:
            frame.record_at(aborted_after, "MapIterationAborted", details)
        raise
    except asyncio.CancelledError:
        aborted_after = children.failed_at if children.failed_at is not None else child.last_event
        frame.record_at(aborted_after, "MapIterationAborted", details)
        children.live.discard(child)
        raise
    last = child.last_event
    children.ended(child, frame.record_at(last, "MapIterationSucceeded", details))
    return result, last
