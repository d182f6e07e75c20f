"""A Distributed Map's child executions run elsewhere than in their parent's process: what
the engine hands a Host that runs them (``Host.map_children``, e.g. Temporal's child
workflows) and what it is told back. A Host without one runs them as strands of their
parent (:mod:`runtime.states.distributed_map`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["ChildEnd", "ChildStart", "MapChildren", "MapRunWork", "child_arn", "exceeded"]


@dataclass(frozen=True, slots=True)
class ChildStart:
    """One child execution to run: an item, or a batch of items."""

    index: int
    name: str
    arn: str
    input: Any
    item_count: int
    #: The strand it runs in (its parent's journal keys its events and answers by it): set
    #: where the Host runs it elsewhere, so its own journal keeps the parent's keys.
    strand: str = ""


@dataclass(frozen=True, slots=True)
class ChildEnd:
    """How one child execution ended (times in seconds since the epoch)."""

    index: int
    status: str
    output: Any
    error: str | None
    cause: str | None
    start_time: float
    stop_time: float
    #: How many times a redrive of its parent redrove it, and when last.
    redrive_count: int = 0
    redrive_date: float | None = None


@dataclass(frozen=True, slots=True)
class MapRunWork:
    """What every child of one Map Run shares."""

    #: The Distributed Map state: its ItemProcessor is what the children run.
    state_name: str
    map_run_arn: str
    #: The children's state machine: ``<machine>/<label>``, its ARN and name.
    state_machine_arn: str
    state_machine_name: str
    #: STANDARD or EXPRESS.
    execution_type: str
    role_arn: str
    region: str
    account: str
    #: MaxConcurrency (0: no bound set by the state).
    max_concurrency: int
    #: ToleratedFailureCount and ToleratedFailurePercentage (None: not set).
    tolerated: tuple[Any, Any]
    #: How many items the Map Run has in all (a batch counts its items).
    total_items: int


class MapChildren(Protocol):
    """Runs a Map Run's child executions outside the parent's process."""

    async def run(
        self,
        work: MapRunWork,
        children: Sequence[ChildStart],
        ended: Callable[[ChildEnd], None],
    ) -> None:
        """Run ``children``; ``ended`` is told of each as it ends and raises to stop the
        rest (the exception goes on up, the children still running cancelled)."""
        ...


def exceeded(failed: int, total: int, tolerated: tuple[Any, Any]) -> bool:
    """Whether ``failed`` of ``total`` items breach the thresholds: with neither set, any
    failure does; with one or both set, exceeding either does [aws:maprun-fail-threshold]."""
    count, percentage = tolerated
    if count is None and percentage is None:
        return failed > 0
    if count is not None and failed > count:
        return True
    return percentage is not None and total > 0 and failed * 100 / total > percentage


def child_arn(work: MapRunWork, name: str) -> str:
    """The ARN of the Map Run's child execution named ``name``:
    ``arn:aws:states:R:A:execution:<machine>/<label>:<name>`` (``express:`` for EXPRESS)."""
    kind = "express" if work.execution_type == "EXPRESS" else "execution"
    return f"arn:aws:states:{work.region}:{work.account}:{kind}:{work.state_machine_name}:{name}"
