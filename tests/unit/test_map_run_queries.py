"""What an execution's workflow answers of its Map Runs (the ``map_runs`` and
``map_run_children`` queries, no Temporal server needed: a query is a plain method): the
records as JSON text read back field for field, the children by index, a page bounded
in size and never empty."""

from __future__ import annotations

from collections.abc import Sequence

from asl.jsontext import json_size
from runtime.states.map_run import ChildRecord, MapRunRecord
from runtime.stored_map_runs import child_record, map_run_record
from runtime.temporal.workflow import ExecutionHandlers

RUN = "arn:aws:states:us-east-1:123456789012:mapRun:m/label:1"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:m/label"


class _Holding(ExecutionHandlers):
    """A workflow's handlers over Map Runs given in the test."""

    def __init__(self, runs: Sequence[MapRunRecord]) -> None:
        self.runs = runs

    def _map_runs(self) -> Sequence[MapRunRecord]:
        return self.runs


def _run(children: int) -> MapRunRecord:
    run = MapRunRecord(RUN, "arn:aws:states:us-east-1:123456789012:execution:m:e", MACHINE, 5.0)
    run.status, run.stop_time, run.max_concurrency = "SUCCEEDED", 9.0, 2
    run.planned_executions = run.planned_items = children
    run.results_written = run.items_written = children
    for index in reversed(range(children)):  # as the slices tell of them: not in order
        child = ChildRecord(
            f"{MACHINE.replace(':stateMachine:', ':execution:')}:c{index}", index, f"c{index}",
            {"n": index, "pad": "x" * 100}, MACHINE, 6.0,
        )  # fmt: skip
        child.status, child.output, child.stop_time = "SUCCEEDED", {"v": index}, 7.0
        run.executions.append(child)
    return run


def test_a_map_run_is_read_back_without_its_children() -> None:
    run = _run(3)
    [text] = _Holding([run]).map_runs()
    again = map_run_record(text)
    # Without its children, every one of them counts as not started yet.
    counts = _unknown_children(3)
    assert again.describe() == {**run.describe(), "itemCounts": counts, "executionCounts": counts}
    assert (again.state_machine_arn, again.executions) == (MACHINE, [])


def _unknown_children(planned: int) -> dict[str, int]:
    counts = dict.fromkeys(("running", "succeeded", "failed", "timedOut", "aborted"), 0)
    return {"pending": planned, **counts, "total": planned, "resultsWritten": planned,
            "failuresNotRedrivable": 0, "pendingRedrive": 0}  # fmt: skip


def test_children_come_by_index_in_pages_bounded_in_size() -> None:
    handlers = _Holding([_run(10)])
    one = json_size(handlers.map_run_children(RUN, 0, 10**6)["children"][0])
    read: list[ChildRecord] = []
    while True:
        page = handlers.map_run_children(RUN, len(read), 3 * one)
        assert page["total"] == 10 and 1 <= len(page["children"]) <= 3
        read.extend(child_record(text) for text in page["children"])
        if len(read) == page["total"]:
            break
    assert [child.index for child in read] == list(range(10))
    assert (read[4].input, read[4].output, read[4].status) == (
        {"n": 4, "pad": "x" * 100}, {"v": 4}, "SUCCEEDED",
    )  # fmt: skip
    single = handlers.map_run_children(RUN, 0, 1)["children"]
    assert len(single) == 1  # one at least, however small the bound


def test_an_unknown_map_run_has_no_children() -> None:
    assert _Holding([]).map_run_children(RUN, 0, 10**6) == {"children": [], "total": 0}
