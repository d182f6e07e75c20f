"""A running Map Run's children as the API reads them on Temporal, before their parent
hears of them (see :mod:`runtime.temporal.map_runs`).

The execution's workflow learns how its Map Run's children ended slice by slice, when a
slice ends. Until then a slice (:class:`MapRunSliceWorkflow`) knows best: it keeps each
child it has started (:class:`SliceProgress`: the start it was sent, when it started it,
how it ended once it has) and answers the ``started_children`` query with them, by pages,
each as a child's JSON text (:func:`~runtime.stored_map_runs.child_text`), RUNNING while
it runs. The execution's workflow names its running slices (``map_run_slices``), so the
server reads the Map Run's ended children from the execution and the others from those
slices.

A running child's start time is the slice's time when it started the child: on the
virtual clock the child's own (it starts at its slice's time); on the real clock a few
milliseconds before the child's first workflow task, whose time the child's history and
its end carry.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from asl.jsontext import parse_json
from runtime.map_children import ChildStart, MapRunWork, child_arn
from runtime.states.child_executions import record_of
from runtime.stored_map_runs import child_text
from runtime.temporal.payloads import child_end, fitting

__all__ = ["SliceProgress", "SliceQueries"]


class SliceProgress:
    """The children one slice has started, and how those that ended ended."""

    def __init__(self, work: MapRunWork) -> None:
        self._work = work
        #: Each child started, by index: its start payload and its start time.
        self._started: dict[int, tuple[dict[str, Any], float]] = {}
        #: Each child ended, by index: its end payload.
        self._ends: dict[int, dict[str, Any]] = {}

    def started(self, child: dict[str, Any], start: float | None) -> None:
        """The child (its start payload) has been started at ``start``, a virtual clock's
        time (None: the workflow's, now)."""
        when = workflow.now().timestamp() if start is None else start
        self._started[child["index"]] = (child, when)

    def ended(self, end: dict[str, Any]) -> None:
        """A child has ended (its end payload)."""
        self._ends[end["index"]] = end

    def __len__(self) -> int:
        return len(self._started)

    def text(self, index: int) -> str:
        """The child of ``index`` as JSON text: as it ended, or RUNNING."""
        payload, when = self._started[index]
        work = self._work
        name = payload["name"]
        start = ChildStart(
            index, name, child_arn(work, name), parse_json(payload["input"]), payload["items"]
        )
        end = self._ends.get(index)
        record = record_of(
            start, work.state_machine_arn, None if end is None else child_end(end), when
        )
        return child_text(record)

    def indexes(self) -> list[int]:
        """The indexes of the children started, in the order they started."""
        return list(self._started)


class SliceQueries:
    """The query of a slice's workflow that tells of its children so far."""

    _progress: SliceProgress | None = None

    @workflow.query
    def started_children(self, first: int, max_bytes: int) -> dict[str, Any]:
        """The children it has started, from position ``first`` in the order it started
        them, each as JSON text (:func:`~runtime.stored_map_runs.child_text`: RUNNING, or
        as it ended): as many as fit in ``max_bytes`` (one at least), and how many there
        are."""
        progress = self._progress
        if progress is None:
            return {"children": [], "total": 0}
        indexes = progress.indexes()[first:]
        children = fitting(map(progress.text, indexes), max_bytes)
        return {"children": children, "total": len(progress)}
