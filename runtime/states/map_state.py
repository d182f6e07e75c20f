"""Map: runs the item processor for every item; the output is their outputs in order."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError
from runtime.frame import Frame
from runtime.interpreter import Outcome, prefixed, run_scope, with_retry_and_catch
from runtime.states.common import bindings_for
from runtime.states.concurrent import is_instant, run_all


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Run the iterations under the state's Retry and Catch."""
    assert isinstance(state, m.Map)

    async def attempt(retry_count: int) -> Outcome:
        return await _attempt(state, raw_input, frame, entered, retry_count)

    return await with_retry_and_catch(state, raw_input, frame, attempt)


async def _attempt(
    state: m.Map, raw_input: Any, frame: Frame, entered: int, retry_count: int
) -> Outcome:
    flow = state.flow
    b = bindings_for(state, frame, retry_count)
    try:
        effective, items = flow.items(raw_input, b)
        limit = flow.max_concurrency(effective, b)
        inputs = [
            flow.item_input(
                effective, item, index,
                bindings_for(state, frame, retry_count, {"Index": index, "Value": item}),
            )
            for index, item in enumerate(items)
        ]  # fmt: skip
    except StatesError as error:
        raise prefixed(error, state, entered) from None
    frame.record("MapStateStarted", {"length": len(inputs)})
    processor = state.item_processor
    jobs = [_iteration(state, processor, i, value, frame) for i, value in enumerate(inputs)]
    try:
        results = await run_all(jobs, limit=limit, sequential=is_instant(processor))
    except StatesError:
        frame.record("MapStateFailed")
        raise
    frame.record("MapStateSucceeded")
    try:
        output, assigned = flow.finish(raw_input, results, b)
    except StatesError as error:
        raise prefixed(error, state, entered) from None
    return output, state.next, assigned


def _iteration(state: m.Map, processor: m.Scope, index: int, value: Any, frame: Frame) -> Any:
    async def job() -> Any:
        details = {"name": state.name, "index": index}
        started = frame.record("MapIterationStarted", details)
        child = frame.child(started)
        try:
            result = await run_scope(processor, value, child)
        except StatesError:
            frame.record("MapIterationFailed", details)
            raise
        except BaseException:
            frame.record("MapIterationAborted", details)
            raise
        # AWS links the iteration's end, and the next iteration's start, to the last
        # event inside the iteration.
        frame.last_event = child.last_event
        frame.record("MapIterationSucceeded", details)
        frame.last_event = child.last_event
        return result

    return job
