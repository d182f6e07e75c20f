"""Which children of a Distributed Map a redrive on Temporal does not run again, and how
they ended.

On a local engine a Map Run's children are strands of their parent, journaled: a redrive
replays the children that succeeded and runs the others again (:mod:`runtime.redrive`).
On Temporal they are child workflows, outside the journal; the run that redrives reads
the ended run's Map Runs and children and stores them with the execution
(:mod:`runtime.temporal.redrive`), so the redrive's plan is the local one, and tells the
Map Runs' children from them (:class:`EarlierChildren`):

- a Map Run the redrive redrove (its ``MapRunRedriven`` among the events the redrive
  added): its children that succeeded are told as they ended, the others run again under
  their names (AWS's "Redriving Map Runs": only the unsuccessful child executions run
  again, with their ARNs);
- a Map Run whose start is replayed and that was not redriven (it ended before the path
  that failed): every child that ended is told as it ended, none runs again, as a local
  engine replays them all;
- a Map Run started anew (its state runs again whole, e.g. after ``States.Runtime``):
  every child runs.

An unsuccessful STANDARD child that runs again goes on from the state it failed in, as on
a local engine and on AWS, when its workflow journaled it (events keyed by strand, its
answers): the run that redrives read that journal (its events stored with the Map Run,
the answers kept apart, cut by :func:`~runtime.redrive.kept_child_answers`), the redrive's
plan redrove the child (an ``ExecutionRedriven`` added to its stored events), and the
child's new workflow run reads both back (:meth:`EarlierChildren.resumed`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from asl.jsontext import parse_json
from runtime.map_children import ChildEnd
from runtime.redrive import redrive_count
from runtime.states.map_run import ChildRecord
from runtime.store.executions import INERT, EventRow, ExecutionStore, JournalRow
from runtime.stored_map_runs import stored_map_runs

__all__ = ["EarlierChildren"]


class EarlierChildren:
    """The children of the Map Runs stored with the redriven execution ``execution_arn``
    in ``store`` (the ended run's, see the module's docstring)."""

    def __init__(
        self,
        store: ExecutionStore,
        execution_arn: str,
        journaled: Mapping[str, tuple[int, Sequence[JournalRow]]] | None = None,
    ) -> None:
        self._store = store
        self._execution_arn = execution_arn
        #: The unsuccessful STANDARD children whose workflows journaled them, by ARN: how
        #: many ``ExecutionRedriven`` events their stored history had before the redrive,
        #: and the answers a redrive of them keeps.
        self._journaled = {} if journaled is None else dict(journaled)
        #: The children kept, by Map Run: read at the first Map Run's start, once the
        #: redrive's plan is applied.
        self._kept: dict[str, list[ChildEnd]] | None = None

    def kept(self, map_run_arn: str) -> list[ChildEnd]:
        """The children of the Map Run ``map_run_arn`` that are not run again, as they
        ended: those that succeeded first, then the others, each group by index (a
        replayed Map Run that failed past its tolerated failures fails again at its last
        failure, with every child it had told of). Asked once per Map Run: its start is
        replayed once."""
        if self._kept is None:
            self._kept = self._read()
        return self._kept.pop(map_run_arn, [])

    def resumed(self, child_arn: str) -> tuple[list[EventRow], Sequence[JournalRow]] | None:
        """What the child ``child_arn`` goes on from when the redrive's plan redrove it (its
        stored events, an ``ExecutionRedriven`` added, and the answers it keeps); None when
        it runs again from its start."""
        journaled = self._journaled.get(child_arn)
        if journaled is None:
            return None
        before, answers = journaled
        events = self._store.events(child_arn)
        if redrive_count(events) <= before:
            return None
        return events, answers

    def _read(self) -> dict[str, list[ChildEnd]]:
        """The Map Runs whose start was committed before the redrive (and is replayed),
        and which of them the redrive redrove, from the events before any the replay adds;
        the children each keeps."""
        events = self._store.events(self._execution_arn)
        redrive = max((e.id for e in events if e.type == "ExecutionRedriven"), default=0)
        replayed = {
            _map_run_arn(e)
            for e in events
            if e.type == "MapRunStarted" and e.id < redrive and not e.strand.startswith(INERT)
        }
        redriven = {
            _map_run_arn(e) for e in events if e.type == "MapRunRedriven" and e.id > redrive
        }
        kept: dict[str, list[ChildEnd]] = {}
        for run in stored_map_runs(self._store, self._execution_arn):
            if run.arn in replayed:
                ends = [
                    _end(child)
                    for child in run.executions
                    if child.status != "RUNNING"
                    and (child.status == "SUCCEEDED" or run.arn not in redriven)
                ]
                kept[run.arn] = sorted(ends, key=lambda end: (end.status != "SUCCEEDED", end.index))
        return kept


def _end(child: ChildRecord) -> ChildEnd:
    stop = child.start_time if child.stop_time is None else child.stop_time
    return ChildEnd(
        child.index, child.status, child.output, child.error, child.cause, child.start_time, stop,
        child.redrive_count, child.redrive_date,
    )  # fmt: skip


def _map_run_arn(event: EventRow) -> str:
    arn: str = parse_json(event.details or "{}").get("mapRunArn", "")
    return arn
