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

A Distributed Map whose Map Run failed or was aborted is not run again whole: its Map
Run is *redriven* (AWS's "Redriving Map Runs" page: a redriven parent restarts the Map
Run's unsuccessful child executions, which keep their execution ARNs; the history
records a ``MapRunRedriven`` event, ``mapRunRedrivenEventDetails`` ``{mapRunArn,
redriveCount}`` in the service model). Its strand is cut after ``MapRunStarted``; the
children that succeeded replay, and so do the items its ItemReader read, unless it
failed reading them or writing its results (``_Cutter._map_run_calls``). An unsuccessful
STANDARD child is itself redriven, as RedriveExecution redrives an execution: its stored
events (each keyed by its strand, as the execution's are: :mod:`runtime.child_history`)
are cut as above, those after the cut set aside, its answers after the cut (journaled in
the parent's journal, under the child's strands) forgotten, and an ``ExecutionRedriven``
event added to its history; it goes on from the state it failed in, its redrive count
one more. An unsuccessful EXPRESS child is run again from its start (the
RedriveExecution API reference: "When you redrive a Map Run, the Express child workflows
are rerun using the StartExecution API action"): it keeps only its first answer, its
name (so its ARN: "Express child workflow executions use the same execution ARN as the
original execution attempt", "Redriving Map Runs"), and its history starts afresh; so
does a STANDARD child stored before children's events kept their strand. A STANDARD
child whose history reached the limit is not redriven ("Redriving Map Runs": it counts
towards the tolerated failure threshold as failed): it keeps its answers and replays as
it ran. A Map Run that failed with ``States.Runtime`` or ``States.DataLimitExceeded`` is
not redriven on AWS (a new one starts): the state runs again whole, as does one whose
Map Run is not stored with the execution. (On Temporal the redriving run is given the
ended run's Map Runs: ``runtime.temporal.earlier_children``; its children are child
workflows that journal themselves, so a child's answers are its own:
:func:`kept_child_answers` cuts them as a local child's are cut in its parent's
journal.) A child's own Map Runs are not redriven with it: a child's state that started
one runs again whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from asl.errors import DATA_LIMIT_EXCEEDED, ITEM_READER_FAILED, RESULT_WRITER_FAILED, RUNTIME
from asl.jsontext import json_text, parse_json
from runtime.store import ApiError
from runtime.store.executions import INERT, ChildRedrive, EventRow, JournalRow, RedrivePlan
from runtime.unresumable import Unresumable, check_rows

__all__ = [
    "HISTORY_LIMIT_EXCEEDED",
    "ExecutionNotRedrivable",
    "StoredMapRun",
    "kept_child_answers",
    "not_redrivable",
    "not_redrivable_express",
    "past_redrive_limit",
    "redrive_count",
    "redrive_plan",
]

#: How long after its end an execution can be redriven (AWS: 14 days).
REDRIVE_WINDOW_SECONDS = 14 * 24 * 3600
#: AWS redrives an execution whose history has fewer events than this (room for the
#: ``ExecutionRedriven`` event and one more under the 25,000 limit).
REDRIVE_EVENT_LIMIT = 24_999
#: Why an execution (or a Map Run's STANDARD child) whose history reached that limit
#: cannot be redriven: DescribeExecution's ``redriveStatusReason`` in AWS's API reference.
HISTORY_LIMIT_EXCEEDED = "Execution history event limit exceeded."


def past_redrive_limit(history_length: int) -> bool:
    """Whether a history of that many events is too long to be redriven."""
    return history_length >= REDRIVE_EVENT_LIMIT


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
    if past_redrive_limit(len(events) if history_length is None else history_length):
        return HISTORY_LIMIT_EXCEEDED
    if past_max_time:
        return "Execution has exceeded the max execution time."
    if stopped is not None and now - stopped > REDRIVE_WINDOW_SECONDS:
        return "Execution redrivable period exceeded."
    if not events or events[0].calls == 0:
        # Journaled before events kept their strand's call count: no cut can be found.
        return "Execution was started before the launch of RedriveExecution."
    try:
        check_rows(events, ())
    except Unresumable as damaged:  # our words: AWS's rows are never damaged
        return f"Execution cannot be redriven: its stored history is damaged ({damaged})"
    return None


_ENDS = ("Failed", "Aborted", "TimedOut")


@dataclass(frozen=True, slots=True)
class _Cut:
    """Where a strand is cut: its events after ``after`` set aside, its answers from call
    ``calls`` on forgotten (None: none)."""

    after: int
    calls: int | None


@dataclass(frozen=True, slots=True)
class StoredMapRun:
    """What a redrive reads of a Map Run stored with the execution."""

    #: The indexes of the children that succeeded.
    succeeded: frozenset[int]
    #: The unsuccessful STANDARD children by index: each one's ARN and stored history.
    unsuccessful: Mapping[int, tuple[str, Sequence[EventRow]]] = field(default_factory=dict)


def redrive_plan(
    events: Sequence[EventRow],
    answers: Sequence[JournalRow],
    count: int,
    now: float,
    map_runs: Mapping[str, StoredMapRun] | None = None,
) -> RedrivePlan:
    """The plan to redrive an execution for the ``count``-th time at ``now``. ``map_runs``:
    the Map Runs stored with the execution (by ARN); a Map Run not named there is not
    redriven (its state runs again whole)."""
    live = [e for e in events if not e.strand.startswith(INERT)]
    cutter = _Cutter(_by_strand(live), {} if map_runs is None else map_runs, answers)
    cutter.cut("")
    set_aside = cutter.set_aside(live, "")
    children = tuple(cutter.redrive_children(count, now))
    forgotten = [
        (a.strand, a.seq)
        for a in answers
        if a.strand in cutter.dropped
        or _after_cut(a, cutter.cuts.get(a.strand))
        or cutter.rerun_child(a)
    ]
    last = max((e.id for e in events), default=0)
    added = [_redriven(last, now, count, count)]
    for arn in cutter.redriven:
        # Where AWS links MapRunRedriven is not documented: to ExecutionRedriven here.
        details = json_text({"mapRunArn": arn, "redriveCount": _map_run_redrives(events, arn)})
        added.append(
            EventRow(last + len(added) + 1, last + 1, now, "MapRunRedriven", details,
                     f"{INERT}redrive/{arn}", count)
        )  # fmt: skip
    return RedrivePlan(tuple(set_aside), tuple(forgotten), tuple(added), count, children)


def kept_child_answers(
    events: Sequence[EventRow], answers: Sequence[JournalRow]
) -> list[JournalRow]:
    """The answers of an unsuccessful STANDARD Map Run child, journaled apart from its
    parent's (a child workflow's on Temporal), that a redrive of its Map Run keeps when it
    redrives the child: those before the cuts of its strands, cut as
    :meth:`_Cutter.redrive_children` cuts them from its stored events (before the plan)."""
    live = [e for e in events if not e.strand.startswith(INERT)]
    if not live:
        return []
    child = _Cutter(_by_strand(live), {})
    child.cut(live[0].strand)
    return [
        a
        for a in answers
        if a.strand not in child.dropped and not _after_cut(a, child.cuts.get(a.strand))
    ]


def _redriven(last: int, now: float, redrives: int, seq: int) -> EventRow:
    """The ``ExecutionRedriven`` event of a history whose last event is ``last``, its
    ``redrives``-th (its strand inert: nothing replays it)."""
    details = json_text({"redriveCount": redrives})
    return EventRow(last + 1, last, now, "ExecutionRedriven", details, f"{INERT}redrive", seq)


def _by_strand(live: Iterable[EventRow]) -> dict[str, list[EventRow]]:
    by_strand: dict[str, list[EventRow]] = defaultdict(list)
    for event in live:
        by_strand[event.strand].append(event)
    return by_strand


def redrive_count(events: Iterable[EventRow]) -> int:
    """How many times the execution whose stored events these are was redriven."""
    return sum(1 for e in events if e.type == "ExecutionRedriven")


def _map_run_redrives(events: Sequence[EventRow], arn: str) -> int:
    """How many times the Map Run ``arn`` will have been redriven, this redrive included."""
    earlier = [e for e in events if e.type == "MapRunRedriven"]
    return 1 + sum(1 for e in earlier if parse_json(e.details or "{}").get("mapRunArn") == arn)


def _after_cut(answer: JournalRow, cut: _Cut | None) -> bool:
    if cut is None or cut.calls is None:
        return False
    return _call(answer) >= cut.calls


def _call(answer: JournalRow) -> int:
    """The position of an answer among its strand's calls."""
    return int(answer.seq.split(".", 1)[0])


#: The calls an unsuccessful child of a redriven Map Run that runs again from its start
#: keeps: its name (its first call, see ``runtime.states.child_executions``), so it runs
#: again under the same ARN.
_CHILD_KEPT_CALLS = 1
#: Map Run failures AWS answers with a new Map Run rather than a redrive of this one.
_NOT_REDRIVEN = (RUNTIME, DATA_LIMIT_EXCEEDED)
#: Map Run failures after which its redrive reads the items again (see _map_run_calls).
_READ_AGAIN = (ITEM_READER_FAILED, RESULT_WRITER_FAILED)


@dataclass(slots=True)
class _Cutter:
    """Where each strand of an execution is cut (see the module's docstring)."""

    by_strand: dict[str, list[EventRow]]
    map_runs: Mapping[str, StoredMapRun]
    #: The execution's journaled answers (what a redriven Map Run keeps of its own).
    answers: Sequence[JournalRow] = ()
    cuts: dict[str, _Cut] = field(default_factory=dict)
    #: Strands re-run whole (their parent's state runs again).
    dropped: set[str] = field(default_factory=set)
    #: The Map Runs redriven, in the order of their starts.
    redriven: list[str] = field(default_factory=list)
    #: The strand-key prefixes of the children of redriven Map Runs (``<strand>/<id>.d``),
    #: with what is stored of those Map Runs.
    children: dict[str, StoredMapRun] = field(default_factory=dict)
    #: The strands of the children redriven from where they failed (not run again whole).
    resumed: set[str] = field(default_factory=set)
    #: The strands of the unsuccessful children that cannot be redriven (they replay).
    kept: set[str] = field(default_factory=set)

    def cut(self, strand: str) -> int | None:
        """Cut ``strand`` and, below it, its children if it ended unsuccessfully; the id
        after which its events are set aside (None: it ended well)."""
        rows = self.by_strand.get(strand, [])
        entry = _open_entry(rows)
        if entry is None:
            ending = next((e for e in _after_last_exit(rows) if e.type.endswith(_ENDS)), None)
            if ending is None:
                return None
            self.cuts[strand] = _Cut(ending.id - 1, ending.calls)
            return ending.id - 1
        started = self._redrivable_map_run(rows, entry)
        if started is not None:
            self.cuts[strand] = _Cut(started.id, self._map_run_calls(rows, started))
            return started.id
        children = [c for c in _children(strand, self.by_strand) if _spawn(strand, c) >= entry.id]
        below = [after for c in children if (after := self.cut(c)) is not None]
        if not below:
            # The state runs again whole: whatever it started is not replayed.
            self.dropped.update(_descendants(children, self.by_strand))
            self.cuts[strand] = _Cut(entry.id, entry.calls)
            return entry.id
        return self._cut_after(strand, rows, min(below))

    def _cut_after(self, strand: str, rows: Sequence[EventRow], after: int) -> int:
        first = next((e for e in rows if e.id > after), None)
        self.cuts[strand] = _Cut(after, None if first is None else first.calls)
        return after

    def _redrivable_map_run(self, rows: Sequence[EventRow], entry: EventRow) -> EventRow | None:
        """The ``MapRunStarted`` of the state ``entry`` entered when its Map Run is to be
        redriven (recording which, and its children); None otherwise."""
        # The last attempt's Map Run (a retried Distributed Map starts one per attempt).
        started = next((e for e in reversed(rows) if e.type == "MapRunStarted"), None)
        if started is None or started.id < entry.id:
            return None
        arn = parse_json(started.details or "{}").get("mapRunArn")
        if arn not in self.map_runs or _map_run_error(rows, started) in _NOT_REDRIVEN:
            return None
        self.redriven.append(arn)
        self.children[f"{started.strand}/{started.id}.d"] = self.map_runs[arn]
        return started

    def _map_run_calls(self, rows: Sequence[EventRow], started: EventRow) -> int:
        """From which call on the answers a redriven Map Run's strand got after its start
        ``started`` are forgotten. AWS's "Redriving Map Runs" page, "Scenarios of input
        used on Map Run redrive": a Map Run that failed with ``States.ItemReaderFailed`` or
        ``States.ResultWriterFailed`` reads its items from the bucket again; one that
        failed after starting (or trying to start) its children "uses the same input
        provided in the original execution attempt". So the Task answers right after its
        start (its ItemReader's reads), up to the strand's first other answer, are kept
        and replayed, and what follows (the time its children ended, ...) is made again;
        a read an abort cut short left no answer and is made again. (A Map Run aborted
        while its ResultWriter wrote may keep the writes answered before the abort too,
        when no other answer came between its reads and its writes.)"""
        call = started.calls
        if _map_run_error(rows, started) in _READ_AGAIN:
            return call
        got = sorted(
            (_call(a), a.answer)
            for a in self.answers
            if a.strand == started.strand and _call(a) >= call
        )
        for number, text in got:
            # A Task's answer is journaled as {"ok": ...} (json_text: no spaces).
            if number != call or not text.startswith('{"ok":'):
                break
            call += 1
        return call

    def set_aside(self, live: Iterable[EventRow], top: str) -> list[int]:
        """The ids of the events after the cuts, and of the end event of the execution
        whose top strand is ``top``."""
        cuts, dropped = self.cuts, self.dropped
        return [
            e.id
            for e in live
            if e.strand in dropped
            or (e.strand in cuts and e.id > cuts[e.strand].after)
            or (e.strand == top and e.type.startswith("Execution") and e.type.endswith(_ENDS))
        ]

    def redrive_children(self, count: int, now: float) -> Iterator[ChildRedrive]:
        """Cut the unsuccessful STANDARD children of the redriven Map Runs, each as an
        execution is cut (their cuts kept with the parent's, which journals their answers),
        and say what changes in their histories. ``count``: the parent's redrive count."""
        for prefix, run in self.children.items():
            for index, (arn, events) in run.unsuccessful.items():
                top = f"{prefix}{index}"
                if past_redrive_limit(len(events)):
                    # "Redriving Map Runs": a STANDARD child past the history limit is not
                    # redriven, it counts as failed: it replays as it ran.
                    self.kept.add(top)
                    continue
                live = [e for e in events if not e.strand.startswith(INERT)]
                if not live or live[0].strand != top:
                    continue  # stored before its events kept their strand: run again whole
                child = _Cutter(_by_strand(live), {})
                child.cut(top)
                self.cuts.update(child.cuts)
                self.dropped.update(child.dropped)
                self.resumed.add(top)
                redrives = 1 + redrive_count(events)
                added = _redriven(max(e.id for e in events), now, redrives, count)
                yield ChildRedrive(arn, tuple(child.set_aside(live, top)), (added,))

    def rerun_child(self, answer: JournalRow) -> bool:
        """Whether ``answer`` belongs to an unsuccessful child of a redriven Map Run that
        runs again from its start, and is forgotten (all but the child's name)."""
        for prefix, run in self.children.items():
            if not answer.strand.startswith(prefix):
                continue
            index, _, below = answer.strand[len(prefix) :].partition("/")
            if not index.isdigit() or int(index) in run.succeeded:
                return False
            if f"{prefix}{index}" in self.resumed or f"{prefix}{index}" in self.kept:
                return False  # redriven from where it failed (its cuts say), or not at all
            return bool(below) or _call(answer) >= _CHILD_KEPT_CALLS
        return False


def _map_run_error(rows: Sequence[EventRow], started: EventRow) -> str | None:
    """The error the Map Run started at ``started`` failed with (None: it did not fail)."""
    failed = next((e for e in rows if e.id > started.id and e.type == "MapRunFailed"), None)
    return None if failed is None else parse_json(failed.details or "{}").get("error")


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
