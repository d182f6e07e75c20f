"""RedriveExecution on Temporal: an ended execution's journal read by the run that
redrives it.

An execution's workflow runs a durable engine on a database in memory
(:mod:`runtime.journal`): every event keeps its strand and call count, every answer the
world gave is journaled, exactly as a local durable engine keeps them in its file. The
workflow answers the ``journal`` query with them (:func:`journal_page`), by pages within
Temporal's 2 MB answer limit; a workflow that ran before executions were journaled
answers with none, so it cannot be redriven.

A redrive is a new run of the same workflow id (Temporal allows a closed workflow's id
again) whose start request names the run it redrives (``StartRequest.redrive_of``). That
run reads the ended run's journal through the :data:`READ_JOURNAL_ACTIVITY` activity, a
page per call (so a long history never has to fit in one payload, and the pages are in
the new run's history: its replay reads them from there), writes it into its own
database in memory and asks its engine to redrive the execution
(:meth:`~runtime.executions.Engine.redrive`, planned by :mod:`runtime.redrive`): the same
replay without the failed path as on a local engine. Its Host is built with the ended
run's seed, so the execution's draws (ids, tokens, random numbers) replay as they were.

A Distributed Map's children are child workflows, not journaled: the run that redrives
also reads the ended run's Map Runs and their children (its ``map_runs`` and
``map_run_children`` queries, through :data:`READ_MAP_RUNS_ACTIVITY` and
:data:`READ_MAP_RUN_CHILDREN_ACTIVITY`, a page per call) and stores them with the
execution, as a local engine stores an ended execution's Map Runs: the redrive's plan
then redrives a failed Map Run, and the children that need not run again are told as they
ended (:mod:`runtime.temporal.earlier_children`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import astuple, dataclass
from typing import Any

from temporalio import activity

from asl.jsontext import json_size, parse_json
from runtime.store.executions import (
    EventRow,
    ExecutionRow,
    ExecutionStore,
    JournalRow,
    MapRunRows,
)

__all__ = [
    "CHILD_JOURNAL_QUERY",
    "JOURNAL_PAGE_BYTES",
    "JOURNAL_QUERY",
    "READ_CHILD_JOURNAL_ACTIVITY",
    "READ_JOURNAL_ACTIVITY",
    "READ_MAP_RUNS_ACTIVITY",
    "READ_MAP_RUN_CHILDREN_ACTIVITY",
    "ExecutionJournal",
    "Page",
    "journal_page",
    "read_child_journal_page",
    "read_journal",
    "read_journal_page",
    "read_map_run_children",
    "read_map_runs",
    "read_map_runs_of",
    "rows_page",
]

#: The query an execution's workflow answers with a page of its journal.
JOURNAL_QUERY = "journal"
#: The activity that reads a page of an ended run's journal for the run redriving it.
READ_JOURNAL_ACTIVITY = "asl.read_journal"
#: The query a redriving execution's workflow answers with a page of what one of its Map
#: Runs' children it redrives goes on from (its stored events, the answers it keeps).
CHILD_JOURNAL_QUERY = "child_journal"
#: The activity that reads such a page for the child's workflow.
READ_CHILD_JOURNAL_ACTIVITY = "asl.read_child_journal"
#: The activity that reads the Map Runs of an ended run (each as JSON text, no children).
READ_MAP_RUNS_ACTIVITY = "asl.read_map_runs"
#: The activity that reads a page of the children of one Map Run of an ended run.
READ_MAP_RUN_CHILDREN_ACTIVITY = "asl.read_map_run_children"
#: The JSON of one page: within Temporal's 2 MB limit on a query's answer and on an
#: activity's result, with room for one row over it (a row holds at most a 256 KiB payload).
JOURNAL_PAGE_BYTES = 1024 * 1024

#: One page: ``execution`` (the row's fields, None when nothing was journaled), ``seed``
#: (the Host's), ``events`` and ``answers`` (rows' fields from the positions asked) and
#: how many there are in all (``eventCount``, ``answerCount``).
Page = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExecutionJournal:
    """What an execution's workflow journaled: its row (None: nothing was journaled, as
    before executions on Temporal were), the seed of its Host, its events and answers."""

    execution: ExecutionRow | None
    seed: int
    events: list[EventRow]
    answers: list[JournalRow]


def journal_page(
    store: ExecutionStore | None,
    arn: str,
    seed: int,
    first_event: int,
    first_answer: int,
    max_bytes: int,
) -> Page:
    """The rows of the execution ``arn`` from the positions given: events first, then
    answers, as many as fit in ``max_bytes`` of JSON (one at least)."""
    row = None if store is None else store.execution(arn)
    if store is None or row is None:
        return rows_page(None, seed, [], [], 0, 0, max_bytes)
    events, answers = store.events(arn), store.journal(arn)
    return rows_page(row, seed, events, answers, first_event, first_answer, max_bytes)


def rows_page(
    row: ExecutionRow | None,
    seed: int,
    events: Sequence[EventRow],
    answers: Sequence[JournalRow],
    first_event: int,
    first_answer: int,
    max_bytes: int,
) -> Page:
    """A page of ``events`` and ``answers`` from the positions given (see
    :func:`journal_page`)."""
    execution = None if row is None else list(astuple(row))
    page: Page = {"execution": execution, "seed": seed, "events": [], "answers": [],
                  "eventCount": len(events), "answerCount": len(answers)}  # fmt: skip
    size = 0
    for key, rows in (("events", events[first_event:]), ("answers", answers[first_answer:])):
        for found in rows:
            fields = list(astuple(found))
            size += json_size(fields)
            if (page["events"] or page["answers"]) and size > max_bytes:
                return page
            page[key].append(fields)
    return page


async def read_journal(read_page: Callable[[int, int], Awaitable[Page]]) -> ExecutionJournal:
    """A whole journal, read by ``read_page(first_event, first_answer)`` page by page."""
    events: list[EventRow] = []
    answers: list[JournalRow] = []
    while True:
        page = await read_page(len(events), len(answers))
        events.extend(EventRow(*fields) for fields in page["events"])
        answers.extend(JournalRow(*fields) for fields in page["answers"])
        done = len(events) >= page["eventCount"] and len(answers) >= page["answerCount"]
        if done or not (page["events"] or page["answers"]):
            row = page["execution"]
            execution = None if row is None else ExecutionRow(*row)
            return ExecutionJournal(execution, page["seed"], events, answers)


async def read_map_runs_of(
    execution_arn: str,
    read_runs: Callable[[], Awaitable[list[str]]],
    read_children: Callable[[str, int], Awaitable[Page]],
) -> MapRunRows:
    """The Map Runs of an ended run (its execution's ARN ``execution_arn``) and their
    children, as the rows a local engine stores with an ended execution (no histories:
    the children's are their own workflows'): ``read_runs()`` gives its ``map_runs``
    answer, ``read_children(arn, first)`` a page of its ``map_run_children`` answer."""
    runs: list[tuple[str, str, str]] = []
    children: list[tuple[str, str, str]] = []
    for text in await read_runs():
        arn = parse_json(text)["arn"]
        runs.append((arn, execution_arn, text))
        told: list[str] = []
        while True:
            page = await read_children(arn, len(told))
            told.extend(page["children"])
            if len(told) >= page["total"] or not page["children"]:
                break
        children.extend((parse_json(child)["arn"], arn, child) for child in told)
    return MapRunRows(runs, children, [])


async def _ask_run(workflow_id: str, run_id: str, query: str, args: list[Any]) -> Any:
    """The answer of the ended run ``run_id`` of ``workflow_id`` (empty: its latest run) to
    ``query`` (a worker replays that run to answer)."""
    handle = activity.client().get_workflow_handle(workflow_id, run_id=run_id or None)
    return await handle.query(query, args=args)


@activity.defn(name=READ_JOURNAL_ACTIVITY)
async def read_journal_page(
    workflow_id: str, run_id: str, first_event: int, first_answer: int
) -> Page:
    """A page of the journal of the ended run ``run_id`` of ``workflow_id`` (its
    ``journal`` query)."""
    args = [first_event, first_answer, JOURNAL_PAGE_BYTES]
    page: Page = await _ask_run(workflow_id, run_id, JOURNAL_QUERY, args)
    return page


@activity.defn(name=READ_CHILD_JOURNAL_ACTIVITY)
async def read_child_journal_page(
    workflow_id: str, child_arn: str, first_event: int, first_answer: int
) -> Page:
    """A page of what the Map Run child ``child_arn`` goes on from, asked of the running
    workflow ``workflow_id`` that redrives it (its ``child_journal`` query)."""
    args = [child_arn, first_event, first_answer, JOURNAL_PAGE_BYTES]
    page: Page = await _ask_run(workflow_id, "", CHILD_JOURNAL_QUERY, args)
    return page


@activity.defn(name=READ_MAP_RUNS_ACTIVITY)
async def read_map_runs(workflow_id: str, run_id: str) -> list[str]:
    """The Map Runs of the ended run ``run_id`` of ``workflow_id`` (its ``map_runs``
    query: each as JSON text, without its children)."""
    runs: list[str] = await _ask_run(workflow_id, run_id, "map_runs", [])
    return runs


@activity.defn(name=READ_MAP_RUN_CHILDREN_ACTIVITY)
async def read_map_run_children(
    workflow_id: str, run_id: str, map_run_arn: str, first: int
) -> Page:
    """A page of the children of the Map Run ``map_run_arn`` of the ended run ``run_id``
    (its ``map_run_children`` query: each as JSON text, from index ``first``)."""
    args = [map_run_arn, first, JOURNAL_PAGE_BYTES]
    page: Page = await _ask_run(workflow_id, run_id, "map_run_children", args)
    return page
