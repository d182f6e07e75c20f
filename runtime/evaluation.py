"""A state's own expression work (its flow's calls: Arguments, Output, Assign, Items...),
run so that it cannot hold the event loop, and its errors given AWS's form.

A flow call is pure and synchronous, and runs on the event loop, where it is cheapest.
Its JSONata evaluations there share a short slice and stop with ``Overrun`` past it (see
:mod:`asl.limits`); :func:`settle` then runs the whole call again on a worker thread,
where each evaluation has its whole budget, while the loop serves the other executions.
Cancelling the strand that waits for it (StopExecution, an execution's timeout, a
failed sibling) stops it, and a single step still running a while past its evaluation's
time is interrupted (:class:`asl.limits.Watch`). It draws its random numbers from an
entropy seeded on the loop, so a seeded run gives the same values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asl import model as m
from asl.bindings import SystemEntropy
from asl.errors import QUERY_EVALUATION_ERROR, StatesError, capped
from asl.jsonata import JsonataEvaluationError
from asl.limits import Overrun, Watch, close_slice, open_slice, watching
from runtime.frame import Frame

__all__ = [
    "evaluate",
    "evaluate_jsonpath",
    "evaluate_on_a_thread",
    "evaluation_error",
    "settle",
]

_T = TypeVar("_T")

#: The threads that finish evaluations too long for the event loop: a few, as each keeps
#: a core busy; more wait their turn (their time limits start when they run).
_THREADS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evaluation")


async def settle(frame: Frame, call: Callable[..., _T], *args: Any) -> _T:
    """``call(*args)``, on the event loop, or on a worker thread if it runs too long (its
    evaluations share one slice of the loop: see :func:`asl.limits.open_slice`)."""
    slice_ = open_slice()
    try:
        return call(*args)
    except Overrun:
        pass
    finally:
        close_slice(slice_)
    return await _on_a_thread(frame, call, args)


async def evaluate(
    state: m.State, frame: Frame, entered: int, call: Callable[..., _T], *args: Any
) -> _T:
    """:func:`settle` a flow call of ``state``; its errors get AWS's prefix (see
    :func:`evaluation_error`)."""
    if state.query_language == "JSONPath":
        return evaluate_jsonpath(state, frame, entered, call, *args)
    try:
        return await settle(frame, call, *args)
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None


def evaluate_jsonpath(
    state: m.State, frame: Frame, entered: int, call: Callable[..., _T], *args: Any
) -> _T:
    """:func:`evaluate` for a JSONPath state, made at once (no coroutine: a hot caller, the
    Task, calls it itself). Paths, templates and intrinsics only: no JSONata evaluation
    to share a slice, nothing that overruns one, so no slice is opened."""
    try:
        return call(*args)
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None


#: How often the loop looks at an evaluation on a thread, and how long past its time
#: limit it lets one step run before interrupting it (see asl.limits.Watch).
_LOOK_EVERY = 0.25
_GRACE = 1.0


async def evaluate_on_a_thread(
    state: m.State, frame: Frame, entered: int, call: Callable[..., _T], *args: Any
) -> _T:
    """:func:`evaluate` for a call that overran on the loop: its hot callers (Pass, Choice)
    make the first call themselves, which costs nothing more than the call."""
    try:
        return await _on_a_thread(frame, call, args)
    except StatesError as error:
        raise evaluation_error(error, state, frame, entered) from None


async def _on_a_thread(frame: Frame, call: Callable[..., _T], args: tuple[Any, ...]) -> _T:
    watch = Watch(SystemEntropy(int(frame.run.host.entropy.random() * 2**53)))

    def work() -> _T:
        with watching(watch):
            return call(*args)

    if frame.run.host.evaluates_inline:
        # Watched, so its evaluations have their whole budget, whose own clock stops them.
        return work()
    done = asyncio.get_running_loop().run_in_executor(_THREADS, work)
    try:
        while not done.done():
            await asyncio.wait((done,), timeout=_LOOK_EVERY)
            if watch.overdue(_GRACE):  # one step running long past the evaluation's time
                watch.interrupt()
    except asyncio.CancelledError:
        watch.cancel()
        done.cancel()  # what the thread ends with is dropped
        raise
    return done.result()


def evaluation_error(error: StatesError, state: m.State, frame: Frame, entered: int) -> StatesError:
    """The error of a state's own expression or path, with AWS's prefix naming the state and
    its entry event, cut to AWS's lengths (:func:`asl.errors.capped`: an evaluation may quote
    a value of any size). A JSONata error (``States.QueryEvaluationError``) is also recorded
    as an ``EvaluationFailed`` event (the thread goes on from it); a JSONPath error records
    none (recorded: localstack test_assign_reference_variables test_undefined_reference,
    test_base_scenarios test_wait_timestamp_path)."""
    failure = capped(
        StatesError(
            error.error,
            f"An error occurred while executing the state '{state.name}' "
            f"(entered at the event id #{entered}). {error.cause}",
        )
    )
    if failure.error == QUERY_EVALUATION_ERROR:
        details = {"error": failure.error, "cause": failure.cause}
        if isinstance(error, JsonataEvaluationError):
            details["location"] = error.location
        details["state"] = state.name
        after = _evaluated_after(frame, entered)
        frame.last_event = frame.record_at(after, "EvaluationFailed", details)
    return failure


def _evaluated_after(frame: Frame, entered: int) -> int:
    """The event an EvaluationFailed follows: for an evaluation on entry, the event before
    the state's entry, as AWS links it; after the state's work (a Task's Output), AWS's
    link is not recorded and the work's last event is taken."""
    if frame.last_event != entered:
        return frame.last_event
    return frame.run.history.previous_id(entered)
