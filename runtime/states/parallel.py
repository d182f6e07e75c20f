"""Parallel: runs every branch on the same input; the output is their outputs in order."""

from __future__ import annotations

from typing import Any

from asl import model as m
from asl.errors import QUERY_EVALUATION_ERROR, StatesError
from runtime.evaluation import evaluate, evaluation_error, settle
from runtime.frame import Frame
from runtime.interpreter import Outcome, run_scope, with_retry_and_catch
from runtime.states.concurrent import Children, FailedEvent, child_size_bound, run_all
from runtime.strands import in_strand, strand_key


async def run(state: m.State, raw_input: Any, frame: Frame, entered: int) -> Outcome:
    """Run the branches under the state's Retry and Catch."""
    assert isinstance(state, m.Parallel)
    failed = FailedEvent(frame, "ParallelStateFailed")

    async def attempt(retry_count: int) -> Outcome:
        failed.owed = False
        b = frame.bindings(state, retry_count)
        try:
            payload = await settle(frame, state.flow.prepare, raw_input, b)
        except StatesError as error:
            failed.owed = error.error == QUERY_EVALUATION_ERROR
            raise evaluation_error(error, state, frame, entered) from None
        try:
            results = await _branches(state, payload, frame)
        except StatesError:
            failed.owed = True
            raise
        output, assigned = await evaluate(
            state, frame, entered, state.flow.finish, raw_input, results, b
        )
        return output, state.next, assigned

    return await with_retry_and_catch(state, raw_input, frame, attempt, failed.record)


async def _branches(state: m.Parallel, payload: Any, frame: Frame) -> list[Any]:
    """ParallelStateStarted, the branches, then ParallelStateSucceeded (linked, like the
    state's exit, to the branches' last event); on a failure the thread goes on from the
    failed branch's last event."""
    started = frame.record("ParallelStateStarted")
    children = Children()
    bound = child_size_bound(state, frame, payload)
    jobs = [_branch_job(branch, payload, children, children.spawn(frame, started, bound),
                        strand_key(f"{started}.b{index}"))
            for index, branch in enumerate(state.branches)]  # fmt: skip
    # Scopes that only move data never wait: in turn is the same, and cheaper.
    sequential = all(branch.data_only for branch in state.branches)
    try:
        results = await run_all(frame, jobs, sequential=sequential, on_failure=children.link_aborts)
    except StatesError:
        children.close_failed(frame)
        raise
    children.close(frame, started, "ParallelStateSucceeded", len(results))
    return results


def _branch_job(
    branch: m.Scope, payload: Any, children: Children, child: Frame, strand: str
) -> Any:
    async def job() -> Any:
        with in_strand(strand):
            try:
                result = await run_scope(branch, payload, child)
            except StatesError:
                await children.settle()
                children.failed(child)
                raise
            children.ended(child, child.last_event)
            return result

    return job
