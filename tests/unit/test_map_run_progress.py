"""What a Map Run's slice answers of the children it has started (``started_children``,
no Temporal server needed: a query is a plain method), what an execution's workflow
answers of its running slices, and the server's bounded memory of what it found."""

from __future__ import annotations

from asl.jsontext import json_size
from runtime.map_children import MapRunWork
from runtime.service.recent import Recent
from runtime.stored_map_runs import child_record
from runtime.temporal.map_run_progress import SliceProgress, SliceQueries
from runtime.temporal.workflow import ExecutionHandlers

WORK = MapRunWork(
    state_name="Each", map_run_arn="arn:aws:states:us-east-1:123456789012:mapRun:m/L:1",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m/L",
    state_machine_name="m/L", execution_type="STANDARD", role_arn="arn:aws:iam::1:role/r",
    region="us-east-1", account="123456789012", max_concurrency=2, tolerated=(None, None),
    total_items=3,
)  # fmt: skip


class _Slice(SliceQueries):
    """A slice's query over the progress the test makes."""

    def __init__(self, progress: SliceProgress | None) -> None:
        self._progress = progress


def _progress() -> SliceProgress:
    progress = SliceProgress(WORK)
    for index in range(3):
        child = {"index": index, "name": f"c{index}", "input": f'{{"n":{index}}}', "items": 2}
        progress.started(child, 10.0 + index)
    progress.ended({
        "index": 1, "status": "FAILED", "output": None, "error": "E", "cause": "why",
        "start": 11.5, "stop": 12.0,
    })  # fmt: skip
    return progress


def test_started_children_are_running_or_as_they_ended() -> None:
    page = _Slice(_progress()).started_children(0, 10**6)
    assert page["total"] == 3
    first, failed, third = map(child_record, page["children"])
    assert (first.arn, first.name, first.input, first.item_count) == (
        "arn:aws:states:us-east-1:123456789012:execution:m/L:c0", "c0", {"n": 0}, 2,
    )  # fmt: skip
    assert (first.status, first.start_time, first.stop_time) == ("RUNNING", 10.0, None)
    assert first.state_machine_arn == WORK.state_machine_arn
    assert (failed.status, failed.error, failed.cause) == ("FAILED", "E", "why")
    assert (failed.start_time, failed.stop_time) == (11.5, 12.0)
    assert (third.index, third.status) == (2, "RUNNING")


def test_started_children_come_in_pages_bounded_in_size() -> None:
    slice_ = _Slice(_progress())
    one = json_size(slice_.started_children(0, 10**6)["children"][0])
    page = slice_.started_children(1, one + one // 2)
    assert [child_record(text).index for text in page["children"]] == [1]
    assert len(slice_.started_children(0, 1)["children"]) == 1  # one at least


def test_a_slice_not_started_yet_has_no_children() -> None:
    assert _Slice(None).started_children(0, 10**6) == {"children": [], "total": 0}


def test_a_workflow_without_a_host_has_no_running_slices() -> None:
    assert ExecutionHandlers().map_run_slices(WORK.map_run_arn) == []


def test_recent_forgets_the_least_recently_used() -> None:
    recent: Recent[str, int] = Recent(2)
    recent["a"], recent["b"] = 1, 2
    assert recent.get("a") == 1  # now "b" is the least recently used
    recent["c"] = 3
    assert ("a" in recent, "b" in recent, "c" in recent, len(recent)) == (True, False, True, 2)
    assert recent.get("b") is None
