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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from typing import Any

from temporalio import activity

from asl.jsontext import json_size
from runtime.store.executions import EventRow, ExecutionRow, ExecutionStore, JournalRow

__all__ = [
    "JOURNAL_PAGE_BYTES",
    "JOURNAL_QUERY",
    "READ_JOURNAL_ACTIVITY",
    "ExecutionJournal",
    "Page",
    "journal_page",
    "read_journal",
    "read_journal_page",
]

#: The query an execution's workflow answers with a page of its journal.
JOURNAL_QUERY = "journal"
#: The activity that reads a page of an ended run's journal for the run redriving it.
READ_JOURNAL_ACTIVITY = "asl.read_journal"
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
        return {"execution": None, "seed": seed, "events": [], "answers": [],
                "eventCount": 0, "answerCount": 0}  # fmt: skip
    events, answers = store.events(arn), store.journal(arn)
    page: Page = {"execution": list(astuple(row)), "seed": seed, "events": [], "answers": [],
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


@activity.defn(name=READ_JOURNAL_ACTIVITY)
async def read_journal_page(
    workflow_id: str, run_id: str, first_event: int, first_answer: int
) -> Page:
    """A page of the journal of the ended run ``run_id`` of ``workflow_id`` (its
    ``journal`` query, answered by a worker replaying that run)."""
    handle = activity.client().get_workflow_handle(workflow_id, run_id=run_id)
    page: Page = await handle.query(
        JOURNAL_QUERY, args=[first_event, first_answer, JOURNAL_PAGE_BYTES]
    )
    return page
