"""Running child scopes side by side (Parallel branches, Map iterations), and where AWS
links the events of their start and end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from asl import model as m
from asl.jsontext import json_size
from runtime.frame import PAYLOAD_LIMIT_BYTES, Frame, bounded_size


class Children:
    """The child threads of one Parallel or Map attempt.

    AWS links a Parallel's or Map's closing events (``...StateSucceeded``,
    ``...StateFailed`` and its ``...StateExited``) to the last event of its children, and
    the ``...Aborted`` events of the siblings of a failed child to that child's last
    event (recorded: localstack test_timeouts / test_base_scenarios snapshots).
    """

    __slots__ = ("failed_at", "last", "live", "sizes")

    def __init__(self) -> None:
        self.live: set[Frame] = set()
        self.failed_at: int | None = None
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

    def failed(self, child: Frame) -> int:
        """A child failed: the event its siblings' aborts link to (the first failure's)."""
        self.live.discard(child)
        if self.failed_at is None:
            self.failed_at = child.last_event
        return self.failed_at

    def close(self, frame: Frame, started: int, event_type: str, count: int) -> None:
        """Record the parent's ``...StateSucceeded`` after ``count`` children ended well,
        linked to the last child event; the state's exit follows it."""
        end = self.last or started
        frame.record_at(end, event_type)
        frame.last_event = end
        frame.result_size = self.results_size(count)

    def close_failed(self, frame: Frame, event_type: str) -> None:
        """Record the parent's ``...StateFailed``, linked to the failed child's last event."""
        end = self.failed_at if self.failed_at is not None else frame.last_event
        frame.record_at(end, event_type)
        frame.last_event = end

    def link_aborts(self) -> None:
        """Before the siblings are cancelled: their abort events follow the failure."""
        if self.failed_at is not None:
            for frame in self.live:
                frame.last_event = self.failed_at


async def run_all(
    frame: Frame,
    jobs: Sequence[Callable[[], Awaitable[Any]]],
    *,
    sequential: bool = False,
    on_failure: Callable[[], None] | None = None,
) -> list[Any]:
    """Results of all jobs in order, side by side as strands of the Host's clock (or in
    turn when ``sequential``); the first failure cancels the rest (after
    ``on_failure()``) and is raised."""
    if sequential:
        return [await job() for job in jobs]
    return await frame.run.host.clock.run_all(jobs, on_failure=on_failure)


def child_size_bound(state: m.State, frame: Frame, child_input: Any) -> float:
    """A bound on the size of a child's input (measured when no good bound is known)."""
    bound = bounded_size(state.flow.child_growth, frame.size_bound, 0)
    return bound if bound <= PAYLOAD_LIMIT_BYTES else json_size(child_input)
