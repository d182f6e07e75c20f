"""The record of a Distributed Map's work: a Map Run and its child executions, with their
counts as ``DescribeMapRun`` gives them, and ``map_runs`` on an execution (and on a child
execution) to find its Map Runs.

What can be read of them is :class:`MapRunRecord` and :class:`ChildRecord`; while their
execution runs they are the live :class:`MapRun` and :class:`ChildExecution`, and once a
durable execution has ended they are read back from its database
(:mod:`runtime.stored_map_runs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asl import model as m
from asl.errors import RUNTIME, StatesError
from asl.jsontext import json_text
from runtime.context import context_timestamp
from runtime.execution_arns import is_express
from runtime.frame import Frame, Run
from runtime.history import Event
from runtime.redrive import past_redrive_limit

__all__ = [
    "MAP_RUN_REDRIVE_LIMIT",
    "NOT_REDRIVABLE",
    "ChildExecution",
    "ChildRecord",
    "MapRun",
    "MapRunRecord",
    "count_name",
    "empty_tally",
    "register",
    "tally_children",
    "tally_in",
]

#: How many times a Map Run can be redriven: AWS's "Redriving Map Runs" page, "the hard
#: limit of 1000 redrives of a given Map Run. If you've exceeded this limit, you'll
#: receive the States.Runtime error." (AWS documents no such limit for an execution.)
MAP_RUN_REDRIVE_LIMIT = 1000

#: A child's status, and the name of its count in ``DescribeMapRun``.
_COUNTED = {
    "RUNNING": "running", "SUCCEEDED": "succeeded", "FAILED": "failed",
    "TIMED_OUT": "timedOut", "ABORTED": "aborted",
}  # fmt: skip


#: The tally of the unsuccessful children a redrive cannot run again.
NOT_REDRIVABLE = "failuresNotRedrivable"


def empty_tally() -> dict[str, tuple[int, int]]:
    """A tally of no children (see :meth:`MapRunRecord.child_tally`)."""
    return dict.fromkeys((*_COUNTED.values(), NOT_REDRIVABLE), (0, 0))


def tally_in(tally: dict[str, tuple[int, int]], name: str, children: int, items: int) -> None:
    """Add ``children`` children of ``items`` items to the tally ``name`` of ``tally``."""
    had, had_items = tally[name]
    tally[name] = (had + children, had_items + items)


def count_name(status: str) -> str:
    """The name of the count of children in ``status`` in ``DescribeMapRun``."""
    return _COUNTED[status]


def tally_children(children: Sequence[ChildRecord]) -> dict[str, tuple[int, int]]:
    """The tally (see :meth:`MapRunRecord.child_tally`) of ``children``."""
    tally = {name: [0, 0] for name in (*_COUNTED.values(), NOT_REDRIVABLE)}
    not_redrivable = tally[NOT_REDRIVABLE]
    for child in children:
        items = child.item_count
        counted = tally[_COUNTED[child.status]]
        counted[0] += 1
        counted[1] += items
        if child.past_redrive_limit:  # set only on an unsuccessful end (see end())
            not_redrivable[0] += 1
            not_redrivable[1] += items
    return {name: (children, items) for name, (children, items) in tally.items()}


class ChildRecord:
    """What can be read of one child workflow execution of a Map Run: an item, or a batch
    of items."""

    def __init__(
        self, arn: str, index: int, name: str, value: Any, state_machine_arn: str,
        start_time: float,
    ) -> None:  # fmt: skip
        self.arn = arn
        #: The position of its item (or batch) in the Map Run.
        self.index = index
        self.name = name
        self.input = value
        #: The state machine it is an execution of: ``<machine>/<label>``.
        self.state_machine_arn = state_machine_arn
        self.status = "RUNNING"
        self.output: Any = None
        self.error: str | None = None
        self.cause: str | None = None
        self.start_time = start_time
        self.stop_time: float | None = None
        #: How many items it processes (1, or the size of its batch).
        self.item_count = 1
        #: Never redriven on its own (a Map Run's children are redriven with their parent).
        self.redrive_count = 0
        self.redrive_date: float | None = None
        #: An unsuccessful STANDARD child whose history is too long to be redriven: its
        #: Map Run's redrives leave it as it ended (see :mod:`runtime.redrive`).
        self.past_redrive_limit = False

    @property
    def history(self) -> Sequence[Event]:
        """The child execution's own history events."""
        raise NotImplementedError

    @property
    def map_runs(self) -> list[MapRunRecord]:
        """The Map Runs its own Distributed Maps started."""
        raise NotImplementedError

    @property
    def path(self) -> list[str]:
        """The names of the states it entered."""
        return [
            str(event.details["name"])
            for event in self.history
            if event.type.endswith("StateEntered") and event.details is not None
        ]

    def history_json(self) -> dict[str, Any]:
        """Its history as ``GetExecutionHistory`` returns it."""
        return {"events": [event.to_aws() for event in self.history]}

    def record(self) -> dict[str, Any]:
        """The execution as AWS exports it (``Transformation: NONE``)."""
        out: dict[str, Any] = {}
        if self.status != "SUCCEEDED":
            if self.cause is not None:
                out["Cause"] = self.cause
            if self.error is not None:
                out["Error"] = self.error
        out.update(
            ExecutionArn=self.arn,
            Input=json_text(self.input),
            InputDetails={"Included": True},
            Name=self.name,
        )
        if self.status == "SUCCEEDED":
            out.update(Output=json_text(self.output), OutputDetails={"Included": True})
        out.update(
            StartDate=context_timestamp(self.start_time),
            StateMachineArn=self.state_machine_arn,
            Status=self.status,
            StopDate=context_timestamp(self.stop_time or self.start_time),
        )
        return out


class ChildExecution(ChildRecord):
    """A child execution while its Map Run runs: its own :class:`~runtime.frame.Run`."""

    def __init__(self, map_run: MapRun, index: int, name: str, value: Any, run: Run) -> None:
        super().__init__(
            run.execution_arn, index, name, value, run.state_machine_arn, run.host.now()
        )
        self.map_run = map_run
        self.run = run

    @property
    def history(self) -> Sequence[Event]:
        """The child execution's own history events."""
        return self.run.history

    @property
    def path(self) -> list[str]:
        """The names of the states it entered."""
        return self.run.path

    @property
    def map_runs(self) -> list[MapRunRecord]:
        """The Map Runs its own Distributed Maps started."""
        return list(self.run.map_runs)

    def end(self, status: str) -> None:
        """Mark the execution ended (its end event is in its history)."""
        self.status = status
        self.stop_time = self.run.host.now()
        self.past_redrive_limit = (
            status != "SUCCEEDED"
            and not is_express(self.arn)
            and past_redrive_limit(len(self.run.history))
        )


class MapRunRecord:
    """What can be read of the child executions one Distributed Map state started, and
    their counts."""

    def __init__(
        self, arn: str, execution_arn: str, state_machine_arn: str, start_time: float
    ) -> None:
        self.arn = arn
        #: The execution (or child execution) whose Distributed Map started it.
        self.execution_arn = execution_arn
        #: The state machine the children run: ``<machine>/<label>``.
        self.state_machine_arn = state_machine_arn
        self.status = "RUNNING"
        self.start_time = start_time
        self.stop_time: float | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.max_concurrency = 0
        self.tolerated_failure_count = 0
        self.tolerated_failure_percentage = 0.0
        self._executions: list[ChildRecord] = []
        #: How many child executions (items, or batches of them) and how many items the
        #: Map Run has in all: known once its items are read and batched (0 until then).
        self.planned_executions = 0
        self.planned_items = 0
        #: How many children, and how many of their items, had their results written
        #: (into the state's output, or by its ResultWriter) when the Map Run succeeded.
        self.results_written = 0
        self.items_written = 0
        #: How many times a redrive of its execution started it again, and when last.
        self.redrive_count = 0
        self.redrive_date: float | None = None
        #: The Distributed Map state that started it (its children run its ItemProcessor).
        self.state_name = ""
        #: The unsuccessful children a redrive is to run again and has not started yet
        #: (their index: their item count); none once the Map Run has ended.
        self.awaiting_redrive: dict[int, int] = {}

    @property
    def executions(self) -> list[ChildRecord]:
        """Its child executions, in the order they started."""
        return self._executions

    def child_tally(self) -> dict[str, tuple[int, int]]:
        """Its started children, and their items, by the name of their status's count
        (``running``, ``succeeded``, ...), and ``failuresNotRedrivable``: the unsuccessful
        ones past the history length a redrive allows."""
        return tally_children(self.executions)

    def execution_counts(self, tally: dict[str, tuple[int, int]] | None = None) -> dict[str, int]:
        """Child executions by status, as ``DescribeMapRun`` counts them (from ``tally``,
        its :meth:`child_tally`, if given)."""
        waiting = len(self.awaiting_redrive)
        tally = self.child_tally() if tally is None else tally
        return _counts(tally, 0, self.planned_executions, self.results_written, waiting)

    def item_counts(self, tally: dict[str, tuple[int, int]] | None = None) -> dict[str, int]:
        """Items by the status of the child that processed them (from ``tally``, its
        :meth:`child_tally`, if given)."""
        waiting = sum(self.awaiting_redrive.values())
        tally = self.child_tally() if tally is None else tally
        return _counts(tally, 1, self.planned_items, self.items_written, waiting)

    def describe(self) -> dict[str, Any]:
        """The Map Run as ``DescribeMapRun`` answers (dates as epoch seconds)."""
        tally = self.child_tally()
        return {
            "mapRunArn": self.arn,
            "executionArn": self.execution_arn,
            "status": self.status,
            "startDate": self.start_time,
            **({} if self.stop_time is None else {"stopDate": self.stop_time}),
            "maxConcurrency": self.max_concurrency,
            "toleratedFailurePercentage": float(self.tolerated_failure_percentage),
            "toleratedFailureCount": self.tolerated_failure_count,
            "itemCounts": self.item_counts(tally),
            "executionCounts": self.execution_counts(tally),
            # 0 before any redrive, no redriveDate then [API reference, DescribeMapRun;
            # AWS's output in the aws-samples reinvent2023-api312 README].
            "redriveCount": self.redrive_count,
            **({} if self.redrive_date is None else {"redriveDate": self.redrive_date}),
        }


def _counts(
    tally: dict[str, tuple[int, int]], column: int, planned: int, written: int, waiting: int
) -> dict[str, int]:
    """AWS's counts [API reference, MapRunExecutionCounts and MapRunItemCounts] of the
    children (``column`` 0) or their items (1): ``pending`` those not started yet
    (children never started because the Map Run failed or was aborted stay pending,
    as measured on AWS: floci-io/floci#2694), ``total`` all of them, started or not."""
    counts = {"pending": 0} | {name: tally[name][column] for name in _COUNTED.values()}
    started = sum(tally[name][column] for name in _COUNTED.values())
    counts["pending"] = max(0, planned - started)
    counts["total"] = started + counts["pending"]
    counts["resultsWritten"] = written
    # "The number of FAILED, ABORTED, or TIMED_OUT child workflow executions that
    # cannot be redriven because their execution status is terminal" (the API
    # reference, MapRunExecutionCounts): the STANDARD children past the history length
    # a redrive allows ("Redriving Map Runs": their "last error or output ... is
    # permanent"). Not the failures a succeeded Map Run tolerated: AWS answers 0 for
    # one with a failed child (DescribeMapRun output in aws-samples/
    # reinvent2023-api312-ml-workloads-with-aws-step-functions, README).
    counts["failuresNotRedrivable"] = tally[NOT_REDRIVABLE][column]
    # Those waiting to run again are not started yet: pending too (the "Redriving Map
    # Runs" page: they "transition to the pending state"); see runtime.pending_redrive.
    counts["pendingRedrive"] = waiting
    return counts


class MapRun(MapRunRecord):
    """A Map Run while its Distributed Map state runs."""

    def __init__(self, arn: str, state: m.Map, frame: Frame, label: str) -> None:
        run = frame.run
        super().__init__(arn, run.execution_arn, f"{run.state_machine_arn}/{label}", run.host.now())
        self.state_name = state.name
        self.label = label
        machine = run.state_machine_arn.split(":stateMachine:", 1)[-1]
        #: The name of the state machine the children run: ``<machine>/<label>``.
        self.state_machine_name = f"{machine}/{label}"
        self.execution_type = state.item_processor.processor_config.execution_type or "STANDARD"
        self._now = run.host.now
        earlier = _earlier_starts(run, arn)
        if earlier:  # started again by a redrive of its execution: the same Map Run
            self.start_time, self.redrive_date = earlier[0], self.start_time
            self.redrive_count = len(earlier)
        redrives = _redrives(run, arn)
        if redrives:  # redriven with its execution (its start replayed)
            self.redrive_count, self.redrive_date = len(redrives), redrives[-1]

    def check_redrive_limit(self) -> None:
        """``States.Runtime`` when this run of the Map Run is a redrive past AWS's limit
        (the cause is ours: AWS's is not published)."""
        if self.redrive_count > MAP_RUN_REDRIVE_LIMIT:
            raise StatesError(
                RUNTIME,
                f"The Map Run '{self.arn}' cannot be redriven more than "
                f"{MAP_RUN_REDRIVE_LIMIT} times",
            )

    def close(self, status: str, error: str | None = None, cause: str | None = None) -> None:
        """End the Map Run (no child waits for a redrive then)."""
        self.status, self.error, self.cause = status, error, cause
        self.stop_time = self._now()
        self.awaiting_redrive = {}


def _earlier_starts(run: Run, arn: str) -> list[float]:
    """When the Map Run ``arn`` was started by the attempts of its execution before the
    one starting it now (the first, or a redrive; a replay says which: it replays a start
    of the attempt it was recorded in). Their ``MapRunStarted`` events stay in the
    history, each before the ``ExecutionRedriven`` that ended its attempt."""
    replayed = run.history.replayed_redrive_count()
    attempt = run.execution_context.get("RedriveCount", 0) if replayed is None else replayed
    if not attempt:
        return []
    starts: list[float] = []
    redrives = 0
    for event in run.history:
        if event.type == "ExecutionRedriven":
            redrives += 1
            if redrives == attempt:
                break
        elif event.type == "MapRunStarted" and (event.details or {}).get("mapRunArn") == arn:
            starts.append(event.timestamp)
    return starts


def _redrives(run: Run, arn: str) -> list[float]:
    """When the Map Run ``arn`` was redriven: its ``MapRunRedriven`` events, which a
    redrive of its execution adds to the history before the replay (see
    :mod:`runtime.redrive`)."""
    return [
        event.timestamp
        for event in run.history
        if event.type == "MapRunRedriven" and (event.details or {}).get("mapRunArn") == arn
    ]


def register(frame: Frame, map_run: MapRun) -> None:
    """Record a Map Run the frame's execution started."""
    frame.run.map_runs += (map_run,)
