"""A Distributed Map's child executions on Temporal: child workflows, spread over the
workers by the task queue, reached through a tree of two levels so that no workflow's
history outgrows Temporal's limits (50,000 events, 50 MB).

The execution's workflow cuts the Map Run's children into **slices** (at most
:data:`SLICE_CHILDREN` children and :data:`SLICE_INPUT_BYTES` of their inputs each) and
runs each slice as a child workflow (:class:`MapRunSliceWorkflow`), a few at once; a
slice runs its children as child workflows of its own (``temporal/map_child``), at most
its share of MaxConcurrency at once, and returns how each ended. A slice costs its
parent about six events, a child its slice about six too: 100,000 items are 1,000 slices,
some 6,400 events in the execution's history and 650 in each slice's. A slice whose
children's results pass :data:`SLICE_RESULT_BYTES` fails the Map Run with
``States.DataLimitExceeded``: the results of a Map Run all reach the execution (its
output, or the ResultWriter's files it writes), which holds at most 256 KiB of output.

Children at once: MaxConcurrency, or :data:`DEFAULT_AT_ONCE` when the state sets none
(AWS then runs up to 10,000 at once: docs.aws.amazon.com/step-functions/latest/dg/
state-map-distributed.html; a dev server only queues that many), shared by the slices
that run side by side. The parent hears of its children slice by slice (until then the
API reads them from their slice: :mod:`runtime.temporal.map_run_progress`): a tolerated
failure threshold exceeded within one slice stops that slice at once (its other
children cancelled), one exceeded only by the sum of several slices when the last of
them ends.

On the virtual clock each child starts at its slice's time, which moves on to each
child's end as it ends; the parent's moves on to its slices' ends: the times a local
engine gives, where children share their parent's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError

from asl.errors import DATA_LIMIT_EXCEEDED
from asl.graph import build_graph
from asl.jsontext import json_size, json_text
from runtime.clock import Clock, VirtualClock
from runtime.map_children import ChildEnd, ChildStart, MapRunWork, exceeded
from runtime.temporal.earlier_children import EarlierChildren
from runtime.temporal.map_run_progress import SliceProgress, SliceQueries
from runtime.temporal.payloads import (
    CHILD_WORKFLOW,
    RESUME_FROM,
    SLICE_WORKFLOW,
    STATES_ERROR,
    ChildRequest,
    ChildRun,
    SliceRequest,
    child_end,
    map_run_work,
    raised_by,
    start_payload,
    work_payload,
)

__all__ = ["MapRunSliceWorkflow", "TemporalMapChildren", "map_run_prefix"]

#: The most children one slice runs.
SLICE_CHILDREN = 100
#: The most bytes of children's inputs (JSON) one slice carries (a bigger input goes
#: alone), well within Temporal's 2 MB payload limit.
SLICE_INPUT_BYTES = 1024 * 1024
#: The most bytes of children's results (JSON) one slice returns.
SLICE_RESULT_BYTES = 1024 * 1024
#: The most bytes of child start requests a slice's history holds (each carries the
#: ItemProcessor's definition): fewer children per slice for a big ItemProcessor.
_SLICE_REQUEST_BYTES = 16 * 1024 * 1024
#: Children at once when the Distributed Map sets no MaxConcurrency.
DEFAULT_AT_ONCE = 1000
#: Each slice running side by side takes at least this share of the children at once.
_SLICE_SHARE = 25


def map_run_prefix(map_run_arn: str) -> str:
    """What the workflow ids of a Map Run's slices and children start with, in the running
    workflow: ``<workflow id>/<Map Run id>`` (a child's is ``<prefix>/<index>``, a slice's
    ``<prefix>/slice-<n>``)."""
    return f"{workflow.info().workflow_id}/{map_run_arn.rsplit(':', 1)[-1]}"


def processor_definition(definition: Any, state_name: str) -> dict[str, Any]:
    """The ItemProcessor of the Map state ``state_name`` (names are unique in a machine),
    as a definition of its own; its states keep the machine's QueryLanguage."""
    graph = build_graph(definition)
    for scope in graph.graph["scopes"].values():
        if scope.kind == "processor" and graph.nodes[scope.parent]["name"] == state_name:
            processor = scope.document
            break
    else:
        raise LookupError(f"no Map state {state_name!r} in the definition")
    own: dict[str, Any] = {}
    if "QueryLanguage" in definition:
        own["QueryLanguage"] = definition["QueryLanguage"]
    own.update(StartAt=processor["StartAt"], States=processor["States"])
    return own


def _slices(children: Sequence[ChildStart], processor_bytes: int) -> Iterator[list[ChildStart]]:
    most = max(1, min(SLICE_CHILDREN, _SLICE_REQUEST_BYTES // max(1, processor_bytes)))
    group: list[ChildStart] = []
    size = 0
    for child in children:
        child_size = json_size(child.input)
        if group and (len(group) >= most or size + child_size > SLICE_INPUT_BYTES):
            yield group
            group, size = [], 0
        group.append(child)
        size += child_size
    if group:
        yield group


def _shares(max_concurrency: int) -> tuple[int, int]:
    """How many slices run side by side, and how many children each runs at once."""
    at_once = max_concurrency or DEFAULT_AT_ONCE
    slices = max(1, at_once // _SLICE_SHARE)
    return slices, at_once // slices


class TemporalMapChildren:
    """The :class:`~runtime.map_children.MapChildren` of an execution's workflow (or a
    child execution's, for a nested Distributed Map)."""

    def __init__(
        self, clock: Clock, definition: Any, task_queue: str, liveness_seconds: float
    ) -> None:
        self._clock = clock
        self._definition = definition
        self._task_queue = task_queue
        self._liveness = liveness_seconds
        #: The workflow ids of the slices running now (of every Map Run of the workflow).
        self._running: set[str] = set()
        #: In a run that redrives its execution: the ended run's children (those not run
        #: again are told as they ended, see :mod:`runtime.temporal.earlier_children`).
        self.earlier: EarlierChildren | None = None

    def running_slices(self, map_run_arn: str) -> list[str]:
        """The workflow ids of the running slices of the Map Run ``map_run_arn``, in order."""
        prefix = f"{map_run_prefix(map_run_arn)}/slice-"
        found = [slice_id for slice_id in self._running if slice_id.startswith(prefix)]
        return sorted(found, key=lambda slice_id: int(slice_id[len(prefix) :]))

    async def run(
        self, work: MapRunWork, children: Sequence[ChildStart], ended: Callable[[ChildEnd], None]
    ) -> None:
        """Run the children in slices (see the module's docstring); in a run that
        redrives its execution, only those not told as they ended before."""
        if self.earlier is not None:
            kept = self.earlier.kept(work.map_run_arn)
            for end in kept:
                ended(end)
            told = {end.index for end in kept}
            children = [child for child in children if child.index not in told]
        processor = json_text(processor_definition(self._definition, work.state_name))
        side_by_side, limit = _shares(work.max_concurrency)
        prefix = map_run_prefix(work.map_run_arn)
        slices = enumerate(_slices(children, len(processor)))
        running: dict[asyncio.Task[dict[str, Any]], int] = {}
        try:
            while True:
                for number, group in slices:
                    request = self._request(processor, work, group, limit, prefix)
                    running[asyncio.create_task(self._slice(request, number))] = number
                    if len(running) >= side_by_side:
                        break
                if not running:
                    return
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=running.__getitem__):  # in a replayable order
                    del running[task]
                    self._ended(task.result(), ended)
        finally:
            await _cancelled(running)

    def _ended(self, result: dict[str, Any], ended: Callable[[ChildEnd], None]) -> None:
        for payload in result["ends"]:
            end = child_end(payload)
            if isinstance(self._clock, VirtualClock):
                self._clock.move_to(end.stop_time)
            ended(end)

    def _request(
        self, processor: str, work: MapRunWork, group: list[ChildStart], limit: int, prefix: str
    ) -> SliceRequest:
        virtual = isinstance(self._clock, VirtualClock)
        run = ChildRun(
            processor=processor, work=work_payload(work), clock="virtual" if virtual else "real",
            start=self._clock.now() if virtual else None, liveness_seconds=self._liveness,
        )  # fmt: skip
        return SliceRequest(
            run=run, children=[self._start(child) for child in group], limit=limit,
            id_prefix=prefix, max_result_bytes=SLICE_RESULT_BYTES,
        )  # fmt: skip

    def _start(self, child: ChildStart) -> dict[str, Any]:
        """A child's start as its slice is given it: one the redrive redrove reads what it
        goes on from of this workflow (see :mod:`runtime.temporal.earlier_children`)."""
        payload = start_payload(child)
        if self.earlier is not None and self.earlier.resumed(child.arn) is not None:
            payload[RESUME_FROM] = workflow.info().workflow_id
        return payload

    async def _slice(self, request: SliceRequest, number: int) -> dict[str, Any]:
        slice_id = f"{request.id_prefix}/slice-{number}"
        # Running until the activation in which the parent is told of its children (the
        # server reads a slice's children from it until then: map_run_progress).
        self._running.add(slice_id)
        try:
            result: dict[str, Any] = await workflow.execute_child_workflow(
                SLICE_WORKFLOW, request, id=slice_id, task_queue=self._task_queue
            )
        except ChildWorkflowError as failure:
            raise raised_by(failure) from None
        finally:
            self._running.discard(slice_id)
        return result


async def _cancelled(running: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel the tasks still running and wait until they have ended."""
    tasks = list(running)
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)


@workflow.defn(name=SLICE_WORKFLOW)
class MapRunSliceWorkflow(SliceQueries):
    """A slice of a Map Run's children, each a child workflow (see the module's
    docstring); returns how each ended, in the order they ended. The children it has
    started are read with its ``started_children`` query (``SliceQueries``)."""

    @workflow.run
    async def run(self, request: SliceRequest) -> dict[str, Any]:
        """Run the children, ``request.limit`` at once."""
        work = map_run_work(request.run.work)
        progress = self._progress = SliceProgress(work)
        now = request.run.start  # a virtual clock's: the latest end so far
        ends: list[dict[str, Any]] = []
        size = failed = 0
        children = iter(request.children)
        running: dict[asyncio.Task[dict[str, Any]], dict[str, Any]] = {}
        try:
            while True:
                for child in children:
                    run = request.run if now is None else replace(request.run, start=now)
                    seed = workflow.random().getrandbits(53)
                    running[asyncio.create_task(workflow.execute_child_workflow(
                        CHILD_WORKFLOW, ChildRequest(run, child, seed),
                        id=f"{request.id_prefix}/{child['index']}",
                        task_queue=workflow.info().task_queue,
                    ))] = child  # fmt: skip
                    progress.started(child, run.start)
                    if len(running) >= request.limit:
                        break
                if not running:
                    return {"ends": ends}
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda task: running[task]["index"]):
                    child = running.pop(task)
                    end = task.result()
                    size += json_size(end)
                    if size > request.max_result_bytes:
                        raise _too_large(work, request.max_result_bytes)
                    ends.append(end)
                    progress.ended(end)
                    if now is not None:
                        now = max(now, end["stop"])
                    if end["status"] != "SUCCEEDED":
                        failed += child["items"]
                        if exceeded(failed, work.total_items, work.tolerated):
                            return {"ends": ends}  # the parent fails the Map Run
        finally:
            await _cancelled(running)


def _too_large(work: MapRunWork, most: int) -> ApplicationError:
    # Our own wording: AWS's Map Runs have no such limit, only the 256 KiB of the state's
    # output that these results would make.
    cause = (
        f"The results of the child executions of Map Run '{work.map_run_arn}' exceed "
        f"{most} bytes in one slice of them, more than the Temporal backend carries; "
        "a Distributed Map's output is at most 262144 bytes."
    )
    return ApplicationError(
        cause, DATA_LIMIT_EXCEEDED, cause, type=STATES_ERROR, non_retryable=True
    )
