"""Map Runs kept in a durable engine's database: written with their execution's end (in
the transaction of its last events), read back once it has left memory.

While an execution runs, its Map Runs are the live objects of its Distributed Maps (after
a crash the replay makes them again); once it has ended, they and their child executions
(with their histories, and the Map Runs of their own Distributed Maps) are rows of
:mod:`runtime.store.executions`, and :func:`stored_map_runs` gives them back as records
that answer as the live ones did.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from asl.jsontext import json_text, parse_json
from runtime.child_history import ChildHistory
from runtime.execution_arns import is_express
from runtime.history import Event
from runtime.journal import stored_event
from runtime.redrive import StoredMapRun
from runtime.states.map_run import (
    NOT_REDRIVABLE,
    ChildRecord,
    MapRunRecord,
    count_name,
    empty_tally,
    tally_in,
)
from runtime.store.executions import EventRow, ExecutionStore, MapRunRows

__all__ = [
    "StoredMapRunRecord",
    "child_record",
    "child_text",
    "map_run_record",
    "map_run_rows",
    "map_run_text",
    "redrive_inputs",
    "stored_child",
    "stored_map_run",
    "stored_map_runs",
]

#: The fields of a Map Run (beyond its ARNs and children) kept in its row.
_RUN_FIELDS = (
    "state_machine_arn", "status", "start_time", "stop_time", "error", "cause", "max_concurrency",
    "tolerated_failure_count", "tolerated_failure_percentage", "results_written", "state_name",
    "planned_executions", "planned_items", "items_written", "redrive_count", "redrive_date",
)  # fmt: skip
#: The fields of a child execution (beyond its ARN, history and Map Runs) kept in its row.
_CHILD_FIELDS = (
    "index", "name", "input", "state_machine_arn", "status", "output", "error", "cause",
    "start_time", "stop_time", "item_count", "redrive_count", "redrive_date",
    "past_redrive_limit",
)  # fmt: skip
#: The key of a Map Run's row that keeps its children's tally (``child_tally``), so
#: DescribeMapRun of a stored Map Run reads no child; rows written before have none.
_TALLY = "child_tally"


def map_run_rows(runs: Iterable[MapRunRecord]) -> MapRunRows:
    """An execution's Map Runs, their children and the children's own Map Runs, as rows."""
    listed: list[tuple[str, str, str]] = []
    children: list[tuple[str, str, str]] = []
    histories: list[tuple[str, list[EventRow]]] = []

    def add(runs: Iterable[MapRunRecord]) -> None:
        for run in runs:
            fields = {name: getattr(run, name) for name in _RUN_FIELDS}
            fields[_TALLY] = run.child_tally()
            listed.append((run.arn, run.execution_arn, json_text(fields)))
            for child in run.executions:
                children.append((child.arn, run.arn, _fields(child, _CHILD_FIELDS)))
                histories.append((child.arn, _event_rows(child.history)))
                add(child.map_runs)

    add(runs)
    return MapRunRows(listed, children, histories)


def _fields(record: object, names: tuple[str, ...]) -> str:
    return json_text({name: getattr(record, name) for name in names})


def map_run_text(run: MapRunRecord) -> str:
    """A Map Run without its children, as JSON text (:func:`map_run_record` reads it)."""
    return _fields(run, ("arn", "execution_arn", *_RUN_FIELDS))


def map_run_record(text: str) -> MapRunRecord:
    """The Map Run :func:`map_run_text` wrote, without its children."""
    fields = parse_json(text)
    return _run(fields["arn"], fields["execution_arn"], fields)


def child_text(child: ChildRecord) -> str:
    """A child execution without its history, as JSON text (:func:`child_record` reads it)."""
    return _fields(child, ("arn", *_CHILD_FIELDS))


def child_record(text: str) -> ChildRecord:
    """The child execution :func:`child_text` wrote, without its history."""
    fields = parse_json(text)
    child = ChildRecord(
        fields["arn"], fields["index"], fields["name"], fields["input"],
        fields["state_machine_arn"], fields["start_time"],
    )  # fmt: skip
    _set(child, fields)
    return child


def _event_rows(history: Sequence[Event]) -> list[EventRow]:
    """A child's events as stored: keyed when its parent is durable (a redrive cuts them)."""
    if isinstance(history, ChildHistory):
        return history.rows()
    return [
        EventRow(e.id, e.previous_event_id, e.timestamp, e.type,
                 None if e.details is None else json_text(e.details), "", 0)
        for e in history
    ]  # fmt: skip


def stored_map_runs(store: ExecutionStore, owner: str) -> list[MapRunRecord]:
    """The Map Runs stored with the ended execution ``owner`` (its own, each with its
    children, and theirs within them), all read at once."""
    run_rows, child_rows = store.map_runs(owner)
    started: dict[str, list[MapRunRecord]] = defaultdict(list)  # by who started them
    runs: dict[str, MapRunRecord] = {}
    for arn, parent, body in run_rows:
        run = _run(arn, parent, parse_json(body))
        runs[arn] = run
        started[parent].append(run)
    for arn, run_arn, body in child_rows:
        history = partial(_history, store, arn)
        child = _StoredChild(arn, parse_json(body), history, started[arn].copy)
        runs[run_arn].executions.append(child)
    return started[owner]


def stored_map_run(
    store: ExecutionStore, arn: str, row: tuple[str, str, str]
) -> StoredMapRunRecord:
    """The stored Map Run ``arn`` alone, from its row (as
    :meth:`~runtime.store.executions.ExecutionStore.map_run_row` read it): its children read
    only when asked for."""
    owner, parent, body = row
    return StoredMapRunRecord(arn, parent, parse_json(body), store, owner)


def stored_child(
    store: ExecutionStore, arn: str, row: tuple[str, str, str]
) -> tuple[MapRunRecord, ChildRecord]:
    """The stored Map Run child execution ``arn`` and its Map Run, from the child's row (as
    :meth:`~runtime.store.executions.ExecutionStore.map_run_child` read it) and its Map
    Run's: the child's siblings, history and Map Runs are read only when asked for, so
    what one child costs does not grow with its Map Run."""
    owner, run_arn, body = row
    run_row = store.map_run_row(run_arn)
    assert run_row is not None  # written in one transaction with its children
    return stored_map_run(store, run_arn, run_row), _child(store, owner, arn, body)


def _run(arn: str, parent: str, fields: dict[str, Any]) -> MapRunRecord:
    run = MapRunRecord(arn, parent, fields["state_machine_arn"], fields["start_time"])
    fields.pop(_TALLY, None)  # it has its children: it counts them
    _set(run, fields)
    return run


def _child(store: ExecutionStore, owner: str, arn: str, body: str) -> ChildRecord:
    history = partial(_history, store, arn)
    return _StoredChild(arn, parse_json(body), history, partial(_started_by, store, owner, arn))


def _children(store: ExecutionStore, owner: str, run: str) -> list[ChildRecord]:
    return [_child(store, owner, arn, body) for arn, body, _ in store.map_run_children(owner, run)]


def _started_by(store: ExecutionStore, owner: str, parent: str) -> list[MapRunRecord]:
    """The stored Map Runs the child execution ``parent`` started, their children read when
    asked for."""
    return [
        StoredMapRunRecord(arn, parent, parse_json(body), store, owner)
        for arn, _, body in store.map_runs_started_by(owner, parent)
    ]


def redrive_inputs(store: ExecutionStore, owner: str) -> dict[str, StoredMapRun]:
    """What a redrive of the ended execution ``owner`` reads of its own Map Runs: which
    children succeeded, and the stored histories of its unsuccessful STANDARD children."""
    found: dict[str, StoredMapRun] = {}
    for run in stored_map_runs(store, owner):
        succeeded = frozenset(c.index for c in run.executions if c.status == "SUCCEEDED")
        unsuccessful = {
            child.index: (child.arn, store.events(child.arn))
            for child in run.executions
            if child.status != "SUCCEEDED" and not is_express(child.arn)
        }
        found[run.arn] = StoredMapRun(succeeded, unsuccessful)
    return found


def _set(record: object, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(record, name, value)


def _history(store: ExecutionStore, arn: str) -> list[Event]:
    return [stored_event(row) for row in store.events(arn)]


class _StoredChild(ChildRecord):
    """A child execution of an ended execution, read back: its history and Map Runs read
    when asked."""

    def __init__(
        self,
        arn: str,
        fields: dict[str, Any],
        history: Callable[[], list[Event]],
        map_runs: Callable[[], list[MapRunRecord]],
    ) -> None:
        super().__init__(
            arn, fields["index"], fields["name"], fields["input"], fields["state_machine_arn"],
            fields["start_time"],
        )  # fmt: skip
        _set(self, fields)
        self._read_history = history
        self._history: list[Event] | None = None
        self._read_map_runs = map_runs
        self._map_runs: list[MapRunRecord] | None = None

    @property
    def history(self) -> list[Event]:
        """The child execution's own history events (read from the database once)."""
        if self._history is None:
            self._history = self._read_history()
        return self._history

    @property
    def map_runs(self) -> list[MapRunRecord]:
        """The Map Runs its own Distributed Maps started (read from the database once)."""
        if self._map_runs is None:
            self._map_runs = self._read_map_runs()
        return list(self._map_runs)


class StoredMapRunRecord(MapRunRecord):
    """A Map Run of an ended execution (``owner``) read back alone: its children read when
    asked for, all at once (:attr:`executions`) or a page at a time (:meth:`children_page`)."""

    def __init__(
        self, arn: str, parent: str, fields: dict[str, Any], store: ExecutionStore, owner: str
    ) -> None:
        super().__init__(arn, parent, fields["state_machine_arn"], fields["start_time"])
        tally = fields.pop(_TALLY, None)
        _set(self, fields)
        self._store, self._owner = store, owner
        self._read = False
        self._tally: dict[str, tuple[int, int]] | None = (
            None if tally is None else {name: (n, items) for name, (n, items) in tally.items()}
        )

    def child_tally(self) -> dict[str, tuple[int, int]]:
        """Its children's tally, as stored with it or, in a row written without one,
        counted in SQLite: no child is read."""
        if self._tally is None:
            self._tally = empty_tally()
            counted = self._store.map_run_child_counts(self._owner, self.arn)
            for status, past, children, items in counted:
                tally_in(self._tally, count_name(status), children, items)
                if past and status != "SUCCEEDED":
                    tally_in(self._tally, NOT_REDRIVABLE, children, items)
        return dict(self._tally)

    @property
    def executions(self) -> list[ChildRecord]:
        """Its child executions, in the order they started (read from the database once)."""
        if not self._read:
            self._executions = _children(self._store, self._owner, self.arn)
            self._read = True
        return self._executions

    def children_page(
        self, after: int | None, offset: int, limit: int, status: str | None,
        redriven: bool | None,
    ) -> list[tuple[ChildRecord, int]]:  # fmt: skip
        """Up to ``limit`` of its children, in ``status`` if given and redriven (or not) if
        ``redriven`` says, each with its place in the order they started: those after the
        place ``after`` or, without one, after the first ``offset`` of them. Only those are
        read: paging through its children reads each once."""
        rows = self._store.map_run_children(
            self._owner, self.arn, -1 if after is None else after, limit,
            0 if after is not None else offset, status, redriven,
        )  # fmt: skip
        return [(_child(self._store, self._owner, arn, body), place) for arn, body, place in rows]
