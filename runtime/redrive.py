"""Redriving an ended execution (RedriveExecution): which of its committed events and
journaled answers belong to the path that failed.

AWS's documentation (the RedriveExecution API reference, "Redriving executions"): a
FAILED, ABORTED or TIMED_OUT Standard execution that ended in the last 14 days goes on
from its unsuccessful step with the same input; the successful steps' results and history
are kept and those steps are not run again; in an Inline Map or a Parallel only the
iterations and branches that failed or were aborted run again; the history goes on with
an ``ExecutionRedriven`` event (its ``redriveCount``).

A durable execution is a replay of its journal (:mod:`runtime.journal`), so a redrive is
a replay without the failed path. Each strand (thread) of the execution that ended
unsuccessfully is *cut*:

- a strand that ended inside a state (entered, never exited: the unsuccessful step, or
  the step a failed or aborted branch or iteration was in) with no unsuccessful strand
  below it is cut after that state's entry: the state's work runs again, its retries
  afresh (what a careful user expects: AWS's recordings of a redriven history are not
  published), and the state's entry is not recorded twice;
- a strand whose state started children of which some ended unsuccessfully (a Parallel, a
  Map) is cut where the first of those children was cut: its successful children replay,
  the others run again under the same keys;
- a strand that ended with a failure or abort event outside any state (an iteration
  aborted before its first state) is cut before that event.

Events after a cut are *set aside*: they stay in the history (ids go on after them) but no
replay matches them. Answers the strand got after its cut are forgotten, so that work
runs again. The execution's own end event is always set aside.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asl.jsontext import json_text
from runtime.store import ApiError
from runtime.store.executions import INERT, EventRow, JournalRow, RedrivePlan

__all__ = ["ExecutionNotRedrivable", "not_redrivable", "not_redrivable_express", "redrive_plan"]

#: How long after its end an execution can be redriven (AWS: 14 days).
REDRIVE_WINDOW_SECONDS = 14 * 24 * 3600
#: AWS redrives an execution whose history has fewer events than this (room for the
#: ``ExecutionRedriven`` event and one more under the 25,000 limit).
REDRIVE_EVENT_LIMIT = 24_999


class ExecutionNotRedrivable(ApiError):
    """The execution cannot be redriven (AWS's error); the message says why."""

    code = "ExecutionNotRedrivable"


def not_redrivable_express() -> str:
    """Why an Express execution cannot be redriven (our wording: the API reference only
    says RedriveExecution is not supported by EXPRESS state machines)."""
    return "Executions of EXPRESS state machines cannot be redriven"


def not_redrivable(
    status: str,
    machine_type: str,
    stopped: float | None,
    now: float,
    events: Sequence[EventRow],
    past_max_time: bool,
    history_length: int | None = None,
) -> str | None:
    """Why an execution cannot be redriven, in the words of DescribeExecution's
    ``redriveStatusReason`` (AWS's API reference lists them); None when it can. ``events``:
    its stored history, or its first events when ``history_length`` says how many there
    are in all."""
    if machine_type == "EXPRESS":
        return not_redrivable_express()
    if status in ("RUNNING", "SUCCEEDED"):
        return f"Execution is {status} and cannot be redriven"
    if (len(events) if history_length is None else history_length) >= REDRIVE_EVENT_LIMIT:
        return "Execution history event limit exceeded."
    if past_max_time:
        return "Execution has exceeded the max execution time."
    if stopped is not None and now - stopped > REDRIVE_WINDOW_SECONDS:
        return "Execution redrivable period exceeded."
    if not events or events[0].calls == 0:
        # Journaled before events kept their strand's call count: no cut can be found.
        return "Execution was started before the launch of RedriveExecution."
    return None


_ENDS = ("Failed", "Aborted", "TimedOut")


@dataclass(frozen=True, slots=True)
class _Cut:
    """Where a strand is cut: its events after ``after`` set aside, its answers from call
    ``calls`` on forgotten (None: none)."""

    after: int
    calls: int | None


def redrive_plan(
    events: Sequence[EventRow], answers: Sequence[JournalRow], count: int, now: float
) -> RedrivePlan:
    """The plan to redrive an execution for the ``count``-th time at ``now``."""
    live = [e for e in events if not e.strand.startswith(INERT)]
    by_strand: dict[str, list[EventRow]] = defaultdict(list)
    for event in live:
        by_strand[event.strand].append(event)
    cuts: dict[str, _Cut] = {}
    dropped: set[str] = set()  # strands re-run whole (their parent's state runs again)
    _cut("", by_strand, cuts, dropped)
    set_aside = [
        e.id
        for e in live
        if e.strand in dropped
        or (e.strand in cuts and e.id > cuts[e.strand].after)
        or (e.strand == "" and e.type.startswith("Execution") and e.type.endswith(_ENDS))
    ]
    forgotten = [
        (a.strand, a.seq)
        for a in answers
        if a.strand in dropped or _after_cut(a, cuts.get(a.strand))
    ]
    last = max((e.id for e in events), default=0)
    details = json_text({"redriveCount": count})
    event = EventRow(last + 1, last, now, "ExecutionRedriven", details, f"{INERT}redrive", count)
    return RedrivePlan(tuple(set_aside), tuple(forgotten), event, count)


def _after_cut(answer: JournalRow, cut: _Cut | None) -> bool:
    if cut is None or cut.calls is None:
        return False
    return int(answer.seq.split(".", 1)[0]) >= cut.calls


def _cut(
    strand: str, by_strand: dict[str, list[EventRow]], cuts: dict[str, _Cut], dropped: set[str]
) -> int | None:
    """Cut ``strand`` and, below it, its children if it ended unsuccessfully; the id after
    which its events are set aside (None: it ended well)."""
    rows = by_strand.get(strand, [])
    entry = _open_entry(rows)
    if entry is None:
        ending = next((e for e in _after_last_exit(rows) if e.type.endswith(_ENDS)), None)
        if ending is None:
            return None
        cuts[strand] = _Cut(ending.id - 1, ending.calls)
        return ending.id - 1
    children = [c for c in _children(strand, by_strand) if _spawn(strand, c) >= entry.id]
    below = [after for c in children if (after := _cut(c, by_strand, cuts, dropped)) is not None]
    if not below:
        # The state runs again whole: whatever it started is not replayed.
        dropped.update(_descendants(children, by_strand))
        cuts[strand] = _Cut(entry.id, entry.calls)
        return entry.id
    after = min(below)
    first = next((e for e in rows if e.id > after), None)
    cuts[strand] = _Cut(after, None if first is None else first.calls)
    return after


def _open_entry(rows: Sequence[EventRow]) -> EventRow | None:
    """The state a strand ended in: its last entry with no exit after it."""
    entry = None
    for row in rows:
        if row.type.endswith("StateEntered"):
            entry = row
        elif row.type.endswith("StateExited"):
            entry = None
    return entry


def _after_last_exit(rows: Sequence[EventRow]) -> list[EventRow]:
    exits = [i for i, row in enumerate(rows) if row.type.endswith("StateExited")]
    return list(rows[exits[-1] + 1 :] if exits else rows)


def _children(strand: str, by_strand: dict[str, list[EventRow]]) -> list[str]:
    """The strands started by ``strand`` itself (``<strand>/<event>.<kind><index>``)."""
    prefix = f"{strand}/"
    return [s for s in by_strand if s.startswith(prefix) and "/" not in s[len(prefix) :]]


def _spawn(strand: str, child: str) -> int:
    """The id of the event a child strand started after."""
    return int(child[len(strand) + 1 :].split(".", 1)[0])


def _descendants(strands: Iterable[str], by_strand: dict[str, list[EventRow]]) -> set[str]:
    found = set(strands)
    return found | {s for s in by_strand for top in found if s.startswith(f"{top}/")}
