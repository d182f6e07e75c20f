"""Parallel: runs every branch on the same input; the output is their outputs in order."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import StatesError
from runtime.frame import Frame
from runtime.interpreter import Outcome, prefixed, run_scope, with_retry_and_catch
from runtime.states.common import bindings_for
from runtime.states.concurrent import is_instant, run_all


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Run the branches under the state's Retry and Catch."""
    assert isinstance(state, m.Parallel)

    async def attempt(retry_count: int) -> Outcome:
        b = bindings_for(state, frame, retry_count)
        try:
            payload = state.flow.prepare(raw_input, b)
        except StatesError as error:
            raise prefixed(error, state, entered) from None
        started = frame.record("ParallelStateStarted")
        jobs = [_branch_job(branch, payload, frame.child(started)) for branch in state.branches]
        try:
            results = await run_all(jobs, sequential=all(is_instant(b) for b in state.branches))
        except StatesError:
            frame.record("ParallelStateFailed")
            raise
        frame.record("ParallelStateSucceeded")
        try:
            output, assigned = state.flow.finish(raw_input, results, b)
        except StatesError as error:
            raise prefixed(error, state, entered) from None
        return output, state.next, assigned

    return await with_retry_and_catch(state, raw_input, frame, attempt)


def _branch_job(branch: m.Scope, payload: Any, frame: Frame) -> Any:
    async def job() -> Any:
        return await run_scope(branch, payload, frame)

    return job
