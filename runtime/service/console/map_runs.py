"""The child executions of an execution's Map Runs: listed on its page, read for its
trace.

A Distributed Map's items run as child executions whose histories are their own (AWS,
https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html): the parent's
history shows only ``MapRunStarted`` ... ``MapRunSucceeded``. To draw the ItemProcessor's
states as they ran, the execution's trace folds the children's histories in
(:func:`visualizer.map_runs.fold_map_runs`, as ``asl render --map-runs`` does), read here
as the rest of the console reads, so the local store and Temporal answer alike: the
children of each Map Run a history's ``MapRunStarted`` names by ListExecutions, each
child's history from the backend (what GetExecutionHistory reads). A Map Run still running
gives the children started so far, each history as far as it has gone.

A Map Run may have 10,000 children, each a history to read: the trace folds in the first
:data:`CHILDREN_PER_MAP_RUN` that ListExecutions lists, at most
:data:`CHILDREN_PER_TRACE` in all (nested Map Runs' children count too), and says which
Map Runs it drew from only some of theirs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from asl.events import details
from runtime.service.console import reads
from runtime.service.console.context import Context
from runtime.service.console.html import date, link, short_name, status, table, url
from runtime.store import ApiError

__all__ = [
    "CHILDREN_PER_MAP_RUN",
    "CHILDREN_PER_TRACE",
    "ChildHistories",
    "child_histories",
    "map_runs_html",
]

#: The children of one Map Run whose histories a trace reads: the first ones listed.
CHILDREN_PER_MAP_RUN = 100
#: The children's histories one trace reads in all, nested Map Runs' included.
CHILDREN_PER_TRACE = 1000


@dataclass(slots=True)
class ChildHistories:
    """What an execution's trace folds in: the histories of its Map Runs' children (and of
    theirs) by Map Run ARN, and a line for each Map Run drawn from only some of them."""

    histories: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


async def child_histories(ctx: Context, events: Sequence[Mapping[str, Any]]) -> ChildHistories:
    """The histories of the children of the Map Runs an execution started, by its
    ``events``, and of those its children started (its own first, in the order they
    started, then its children's), bounded as the module says. The Map Runs are those the histories'
    ``MapRunStarted`` events name, as :func:`~visualizer.map_runs.fold_map_runs` follows
    them: no ListMapRuns of each child."""
    found = ChildHistories()
    budget = CHILDREN_PER_TRACE
    started = deque(_started(events))
    while started:
        map_run = started.popleft()
        if budget == 0:
            found.notes.append(
                f"Map Runs past the first {CHILDREN_PER_TRACE:,} child executions read "
                "are not drawn."
            )
            break
        histories = found.histories[map_run] = []
        try:
            request = {"mapRunArn": map_run, "maxResults": min(CHILDREN_PER_MAP_RUN, budget)}
            listed = await ctx.call("ListExecutions", request)
            children = [str(child["executionArn"]) for child in listed["executions"]]
            budget -= len(children)
            for child in children:
                histories.append(await reads.found_history(ctx, child))
                started.extend(_started(histories[-1]["events"]))
            if "nextToken" in listed:
                shown = await _listed_of(ctx, map_run, len(children))
                found.notes.append(
                    f"{_named(map_run)} the states inside it are drawn from {shown}."
                )
        except ApiError as error:
            # A history may name a Map Run its backend no longer holds (on Temporal, that of
            # the run a redrive replaced): the trace is drawn without what is missing.
            found.notes.append(
                f"{_named(map_run)} drawn from the {len(histories)} child executions read "
                f"before {error.code}: {error.message}"
            )
    return found


def _named(map_run: str) -> str:
    return f"Map Run {short_name(map_run)}:"


def _started(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ARNs of the Map Runs a history's ``MapRunStarted`` events name, once each."""
    arns = (details(e).get("mapRunArn") for e in events if e["type"] == "MapRunStarted")
    return list(dict.fromkeys(arn for arn in arns if isinstance(arn, str)))


async def map_runs_html(ctx: Context, arn: str) -> str:
    """The execution's Map Runs, each with a table of its child executions (the first page
    ListExecutions gives, and a line saying so when there are more)."""
    sections = []
    async for map_run in _map_runs(ctx, arn):
        listed = await ctx.call("ListExecutions", {"mapRunArn": map_run})
        rows = [
            [
                link(url("/console/execution", arn=c["executionArn"]), c["name"]),
                status(c["status"]),
                date(c["startDate"]),
                date(c.get("stopDate")),
            ]
            for c in listed["executions"]
        ]
        heading = f"<h3>Map Run {escape(short_name(map_run))}</h3>"
        if "nextToken" in listed:
            shown = await _listed_of(ctx, map_run, len(rows))
            heading += f'<p class="muted partial">Listed: {escape(shown)}.</p>'
        sections.append(heading + table(["Child execution", "Status", "Started", "Stopped"], rows))
    return "<h2>Map Runs</h2>" + "".join(sections) if sections else ""


async def _listed_of(ctx: Context, map_run: str, listed: int) -> str:
    """ "the first LISTED of its N child executions" of a Map Run that has more than were
    listed (N from DescribeMapRun: the children started and those still to start)."""
    described = await ctx.call("DescribeMapRun", {"mapRunArn": map_run})
    total = described["executionCounts"]["total"]
    return f"the first {listed:,} of its {total:,} child executions"


async def _map_runs(ctx: Context, arn: str) -> AsyncIterator[str]:
    """The ARNs of the Map Runs the execution ``arn`` started, page after page."""
    request: dict[str, Any] = {"executionArn": arn}
    while True:
        answer = await ctx.call("ListMapRuns", request)
        for run in answer["mapRuns"]:
            yield str(run["mapRunArn"])
        if "nextToken" not in answer:
            return
        request = {**request, "nextToken": answer["nextToken"]}
