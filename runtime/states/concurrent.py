"""Running child scopes side by side (Parallel branches, Map iterations), and where AWS
links the events of their start and end."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from asl import model as m
from asl.jsontext import json_size
from runtime.frame import PAYLOAD_LIMIT_BYTES, Frame, bounded_size
from runtime.interpreter import ABORTABLE


class Children:
    """The child threads of one Parallel or Map attempt.

    AWS links a Parallel's or Map's closing events (``...StateSucceeded``,
    ``...StateFailed`` and its ``...StateExited``) to the last event of its children, and
    the ``...Aborted`` events of the siblings of a failed child to that child's last
    event (recorded: localstack test_timeouts / test_base_scenarios snapshots).
    """

    __slots__ = ("failed_at", "failed_child", "last", "live", "sizes")

    def __init__(self) -> None:
        self.live: set[Frame] = set()
        self.failed_at: int | None = None
        self.failed_child: Frame | None = None
        self.last = 0
        #: The sum of the bounds on the children's outputs.
        self.sizes = 0.0

    def spawn(self, parent: Frame, last_event: int, size_bound: float) -> Frame:
        """A child thread starting after ``last_event``, its input at most ``size_bound``
        bytes."""
        child = parent.child(last_event, size_bound=size_bound)
        self.live.add(child)
        return child

    def ended(self, child: Frame, last_event: int) -> None:
        """A child ended well; ``last_event`` is its closing event."""
        self.live.discard(child)
        self.sizes += child.size_bound
        if last_event > self.last:
            self.last = last_event

    def results_size(self, count: int) -> float:
        """A bound on the size of the array of the ``count`` children's outputs."""
        return self.sizes + max(count + 1, 2)  # the brackets and the commas

    @staticmethod
    async def settle() -> None:
        """Before a child's failure is handled, one turn of the event loop: the children
        whose work ends at the same moment record their ends first, as AWS records them
        (test_timeouts test_service_lambda_map_timeout: four TaskTimedOut, then one
        MapIterationFailed)."""
        await asyncio.sleep(0)

    def failed(self, child: Frame) -> int | None:
        """A child failed. None for the first failure, the one that fails the parent; a
        child failing after it (at the same moment) counts as aborted: the state it failed
        in is aborted at once, and the event its abort links to is returned (recorded:
        localstack test_timeouts test_service_lambda_map_timeout, where four Tasks time
        out together, one iteration fails and three are aborted)."""
        self.live.discard(child)
        if self.failed_at is None:
            self.failed_at = child.last_event
            self.failed_child = child
            return None
        self._abort_open_state(child, self.failed_at)
        return self.failed_at

    def close(self, frame: Frame, started: int, event_type: str, count: int) -> None:
        """Record the parent's ``...StateSucceeded`` after ``count`` children ended well,
        linked to the last child event; the state's exit follows it."""
        end = self.last or started
        frame.record_at(end, event_type)
        frame.last_event = end
        frame.result_size = self.results_size(count)

    def close_failed(self, frame: Frame) -> None:
        """After a child failed and its siblings were aborted: the state the failed child
        was in, left open by its failure, is aborted too (a Task records
        ``TaskStateAborted`` after its ``TaskFailed``), linked like the siblings' aborts to
        the failure; the parent goes on from the failure.

        Recorded: localstack test_error_output (PARALLEL_CATCH_ERROR_OUTPUT: a branch's
        TaskFailed, TaskStateAborted, then the Parallel's failure) and test_timeouts
        (test_service_lambda_map_timeout: one TaskStateAborted per iteration, the failed
        one's included, each linked to the failure). Where the failed iteration's comes
        among its siblings' events the recording leaves open: here, after them."""
        if self.failed_child is not None and self.failed_at is not None:
            self._abort_open_state(self.failed_child, self.failed_at)
            frame.last_event = self.failed_at

    @staticmethod
    def _abort_open_state(child: Frame, after: int) -> None:
        state = child.failed_state
        if state is not None and state.type in ABORTABLE:
            child.record_at(after, f"{state.type}StateAborted", {"name": state.name})

    def link_aborts(self) -> None:
        """Before the siblings are cancelled: their abort events follow the failure."""
        if self.failed_at is not None:
            for frame in self.live:
                frame.last_event = self.failed_at


class FailedEvent:
    """The ``ParallelStateFailed`` / ``MapStateFailed`` event a state owes its history when
    an attempt fails for good: after its children failed, or after its own JSONata
    evaluation failed before they started (an ``EvaluationFailed`` event, then
    ``MapStateFailed``: recorded, localstack test_base_scenarios
    test_map_state_items_input_types). None is recorded before a retry (recorded:
    test_error_output PARALLEL_CATCH_ERROR_OUTPUT_WITH_RETRY, where the next
    ParallelStateStarted follows the failed Task), nor for a JSONPath error in the
    state's own fields, which fails the execution at once."""

    __slots__ = ("event_type", "frame", "owed")

    def __init__(self, frame: Frame, event_type: str) -> None:
        self.frame = frame
        self.event_type = event_type
        self.owed = False

    def record(self) -> None:
        """The attempt failed for good: record the event if it is owed."""
        if self.owed:
            self.owed = False
            self.frame.record(self.event_type)


async def run_all(
    frame: Frame,
    jobs: Sequence[Callable[[], Awaitable[Any]]],
    *,
    sequential: bool = False,
    on_failure: Callable[[], None] | None = None,
    first_turn: bool = False,
) -> list[Any]:
    """Results of all jobs in order, side by side as strands of the Host's clock (or in
    turn when ``sequential``); the first failure cancels the rest (after
    ``on_failure()``) and is raised. ``first_turn``: see :meth:`Clock.after_first_turn`."""
    if sequential:
        return [await job() for job in jobs]
    clock = frame.run.host.clock
    return await clock.run_all(jobs, on_failure=on_failure, first_turn=first_turn)


def child_size_bound(state: m.State, frame: Frame, child_input: Any) -> float:
    """A bound on the size of a child's input (measured when no good bound is known)."""
    bound = bounded_size(state.flow.child_growth, frame.size_bound, 0)
    return bound if bound <= PAYLOAD_LIMIT_BYTES else json_size(child_input)
