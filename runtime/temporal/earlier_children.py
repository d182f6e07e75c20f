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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asl.jsontext import parse_json
from runtime.map_children import ChildEnd
from runtime.states.map_run import ChildRecord
from runtime.store.executions import INERT, EventRow, ExecutionStore
from runtime.stored_map_runs import stored_map_runs

__all__ = ["EarlierChildren"]


@dataclass(slots=True)
class EarlierChildren:
    """The children of the Map Runs stored with the redriven execution ``execution_arn``
    in ``store`` (the ended run's, see the module's docstring)."""

    store: ExecutionStore
    execution_arn: str
    #: The Map Runs whose start the redrive replays, and those it redrove (by ARN).
    _replayed: set[str] | None = field(default=None, init=False)
    _redriven: set[str] = field(default_factory=set, init=False)

    def kept(self, map_run_arn: str) -> list[ChildEnd]:
        """The children of the Map Run ``map_run_arn`` that are not run again, as they
        ended: those that succeeded first, then the others, each group by index (a
        replayed Map Run that failed past its tolerated failures fails again at its last
        failure, with every child it had told of)."""
        replayed, redriven = self._plan()
        if map_run_arn not in replayed:
            return []
        run = next((r for r in stored_map_runs(self.store, self.execution_arn)
                    if r.arn == map_run_arn), None)  # fmt: skip
        if run is None:
            return []
        ends = [
            _end(child)
            for child in run.executions
            if child.status != "RUNNING"
            and (child.status == "SUCCEEDED" or map_run_arn not in redriven)
        ]
        return sorted(ends, key=lambda end: (end.status != "SUCCEEDED", end.index))

    def _plan(self) -> tuple[set[str], set[str]]:
        """The Map Runs whose start was committed before the redrive and is replayed, and
        those the redrive redrove: read once, from the events before any the replay adds."""
        if self._replayed is None:
            events = self.store.events(self.execution_arn)
            redrive = max((e.id for e in events if e.type == "ExecutionRedriven"), default=0)
            self._replayed = {
                _map_run_arn(e)
                for e in events
                if e.type == "MapRunStarted" and e.id < redrive and not e.strand.startswith(INERT)
            }
            self._redriven = {
                _map_run_arn(e) for e in events if e.type == "MapRunRedriven" and e.id > redrive
            }
        return self._replayed, self._redriven


def _end(child: ChildRecord) -> ChildEnd:
    stop = child.start_time if child.stop_time is None else child.stop_time
    return ChildEnd(
        child.index, child.status, child.output, child.error, child.cause, child.start_time, stop
    )


def _map_run_arn(event: EventRow) -> str:
    arn: str = parse_json(event.details or "{}").get("mapRunArn", "")
    return arn
