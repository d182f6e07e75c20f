"""Which children of its Map Runs a redrive on Temporal runs again
(``runtime.temporal.earlier_children``), read from an execution's store as the redriving
run leaves it: the ended run's Map Runs stored, the redrive's plan applied."""

from __future__ import annotations

from asl.jsontext import json_text
from runtime.map_children import ChildEnd
from runtime.states.map_run import ChildRecord, MapRunRecord
from runtime.store.executions import (
    INERT,
    EventRow,
    ExecutionRow,
    ExecutionStore,
    MapRunRows,
    commit_write,
    start_write,
)
from runtime.stored_map_runs import child_text, map_run_text
from runtime.temporal.earlier_children import EarlierChildren

ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"
#: A Map Run that ended before the failed path, one the redrive redrove, one whose state
#: runs again whole (its start set aside).
REPLAYED, REDRIVEN, ANEW = (f"arn:aws:states:us-east-1:123456789012:mapRun:m/l:{n}" for n in "abc")


def _event(event_id: int, kind: str, map_run: str | None = None, strand: str = "") -> EventRow:
    details = None if map_run is None else json_text({"mapRunArn": map_run})
    return EventRow(event_id, event_id - 1, float(event_id), kind, details, strand, event_id)


def _map_run(arn: str, statuses: list[str]) -> tuple[MapRunRecord, list[ChildRecord]]:
    run = MapRunRecord(arn, ARN, "arn:aws:states:us-east-1:123456789012:stateMachine:m/l", 1.0)
    children = []
    for index, status in enumerate(statuses):
        child = ChildRecord(f"{arn}-{index}", index, f"n{index}", {"i": index}, "m/l", 2.0)
        child.status, child.stop_time = status, 3.0 + index
        child.output = {"i": index} if status == "SUCCEEDED" else None
        child.error = None if status == "SUCCEEDED" else "E"
        children.append(child)
    return run, children


def _store() -> ExecutionStore:
    store = ExecutionStore(":memory:")
    row = ExecutionRow(ARN, "m", "1", "e", "FAILED", "{}", None, "E", None, 0.0, 9.0, 7, 1)
    events = [
        _event(1, "ExecutionStarted"),
        _event(2, "MapRunStarted", REPLAYED),
        _event(3, "MapRunStarted", REDRIVEN),
        _event(4, "MapRunStarted", ANEW, strand=f"{INERT}/4.b1"),
        _event(5, "ExecutionFailed", strand=INERT),
        _event(6, "ExecutionRedriven"),
        _event(7, "MapRunRedriven", REDRIVEN, strand=f"{INERT}redrive/{REDRIVEN}"),
        # Recorded by the replay: the state that runs again whole starts its Map Run.
        _event(8, "MapRunStarted", ANEW, strand="/4.b1"),
    ]
    store.write(start_write(row, events, []))
    runs, children = [], []
    statuses = {
        REPLAYED: ["FAILED", "SUCCEEDED"],
        REDRIVEN: ["SUCCEEDED", "FAILED", "SUCCEEDED"],
        ANEW: ["SUCCEEDED"],
    }
    for arn, told in statuses.items():
        run, kids = _map_run(arn, told)
        runs.append((arn, ARN, map_run_text(run)))
        children.extend((kid.arn, arn, child_text(kid)) for kid in kids)
    store.write(commit_write(ARN, (), (), map_runs=MapRunRows(runs, children, [])))
    return store


def test_a_redriven_map_run_keeps_the_children_that_succeeded() -> None:
    kept = EarlierChildren(_store(), ARN).kept(REDRIVEN)
    assert kept == [
        ChildEnd(0, "SUCCEEDED", {"i": 0}, None, None, 2.0, 3.0),
        ChildEnd(2, "SUCCEEDED", {"i": 2}, None, None, 2.0, 5.0),
    ]


def test_a_replayed_map_run_keeps_every_child_the_successful_first() -> None:
    kept = EarlierChildren(_store(), ARN).kept(REPLAYED)
    assert [(end.index, end.status, end.error) for end in kept] == [
        (1, "SUCCEEDED", None),
        (0, "FAILED", "E"),
    ]


def test_a_map_run_started_anew_or_unknown_keeps_none() -> None:
    earlier = EarlierChildren(_store(), ARN)
    assert earlier.kept(ANEW) == []
    assert earlier.kept(ANEW.replace(":c", ":d")) == []
