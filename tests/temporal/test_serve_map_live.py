"""A Distributed Map's children on ``asl serve --backend temporal`` while its Map Run runs
(a real ``asl worker`` and ``asl serve``, driven by boto3): listed by ListExecutions
(mapRunArn) from their start, RUNNING ones among them, counted by DescribeMapRun (those
not started yet pending), each described and its history read as far as it has come,
then listed SUCCEEDED once approved; a failed Map Run's children (or batches) never
started counted pending; field for field what a local server answers of the same steps
(the local backend's Map Run answers are asserted against AWS's records in
tests/spec/distributed_map and tests/spec/api/map_run_counts.json).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.polling import until
from tests.temporal import machines
from tests.temporal.test_serve_temporal import (
    BOUND,
    DISTRIBUTED,
    _done,
    _machine,
    _map_run_answers,
    _normalised,
    _on_local,
    served,
    sfn,
)

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")
__all__ = ["served", "sfn"]  # the fixtures of test_serve_temporal, used here

#: Children that each wait for a task token (``notify`` returns at once; the test
#: approves each child from the token its history shows), two at once of three.
WAITING = machines.distributing(
    {"StartAt": "Ask", "States": {"Ask": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "notify",
                       "Payload": {"token.$": "$$.Task.Token", "n.$": "$.n"}},
        "ResultPath": "$.approval", "End": True,
    }}},
    MaxConcurrency=2,
)  # fmt: skip


def _waiting_token(sfn: Any, child_arn: str) -> str | None:
    """The task token the running child waits for, once its Task has been submitted."""
    events = sfn.get_execution_history(executionArn=child_arn)["events"]
    if "TaskSubmitted" not in [event["type"] for event in events]:
        return None
    scheduled = next(event for event in events if event["type"] == "TaskScheduled")
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    return str(parameters["Payload"]["token"])


def _snapshot(sfn: Any, run_arn: str) -> dict[str, Any]:
    """What the API answers of the Map Run and each child it lists now."""
    listed = sfn.list_executions(mapRunArn=run_arn)["executions"]
    histories = [sfn.get_execution_history(executionArn=c["executionArn"]) for c in listed]
    return {
        "mapRun": sfn.describe_map_run(mapRunArn=run_arn),
        "listed": listed,
        "running": sfn.list_executions(mapRunArn=run_arn, statusFilter="RUNNING")["executions"],
        "described": [sfn.describe_execution(executionArn=c["executionArn"]) for c in listed],
        # The task tokens (and the Lambda envelope's ids) are each backend's own draw.
        "histories": [
            [(e["id"], e["previousEventId"], e["type"]) for e in history["events"]]
            for history in histories
        ],
    }


def _waiting_children(sfn: Any, run_arn: str, count: int) -> list[tuple[str, str]]:
    """Once ``count`` children are waiting for their tokens: each one's ARN and token."""

    def waiting() -> list[tuple[str, str]] | None:
        running = sfn.list_executions(mapRunArn=run_arn, statusFilter="RUNNING")["executions"]
        tokens = [(c["executionArn"], _waiting_token(sfn, c["executionArn"])) for c in running]
        if len(tokens) != count or any(token is None for _, token in tokens):
            return None
        return [(arn, str(token)) for arn, token in tokens]

    found: list[tuple[str, str]] = until(waiting, BOUND, every=0.2)
    return found


def _live_answers(sfn: Any, machine_arn: str) -> dict[str, Any]:
    """The Map Run's answers at three moments: two children waiting (the third not
    started: MaxConcurrency 2); those two approved and the third waiting; all ended.
    Dates left out, drawn ids replaced by what they stand for."""
    items = {"items": [{"n": n} for n in (1, 2, 3)]}
    started = sfn.start_execution(stateMachineArn=machine_arn, name="w", input=json.dumps(items))
    arn = started["executionArn"]

    def map_run() -> str | None:
        runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        return str(runs[0]["mapRunArn"]) if runs else None

    run_arn: str = until(map_run, BOUND, every=0.1)
    moments: dict[str, Any] = {}
    first = _waiting_children(sfn, run_arn, 2)
    moments["twoWaiting"] = _snapshot(sfn, run_arn)
    for _, token in first:
        sfn.send_task_success(taskToken=token, output=json.dumps({"ok": True}))
    [(_, last)] = _waiting_children(sfn, run_arn, 1)
    moments["lastWaiting"] = _snapshot(sfn, run_arn)
    sfn.send_task_success(taskToken=last, output=json.dumps({"ok": True}))
    moments["ended"] = _done(sfn, arn)["status"]
    moments["afterwards"] = _snapshot(sfn, run_arn)
    label, run_id = run_arn.rsplit("/", 1)[1].split(":")
    ids = {run_id: "MAP-RUN", label: "LABEL"}
    for child in moments["afterwards"]["described"]:
        ids[child["name"]] = f"ITEM-{json.loads(child['input'])['n']}"
    return _normalised(moments, ids)


def test_running_children_answer_as_on_the_local_backend(sfn: Any, tmp_path: Path) -> None:
    """Running children are listed (RUNNING among them), counted, described and their
    histories read; those ended before their slice ended too; all of it as a local
    server answers."""
    arn = _machine(sfn, WAITING, "live")
    on_temporal = _live_answers(sfn, arn)
    # ``notify`` as the Temporal test worker's: it returns at once.
    (tmp_path / "live_handlers.py").write_text("def notify(event, context):\n    return {}\n")
    functions = tmp_path / "functions.json"
    functions.write_text(json.dumps({"functions": {"notify": "live_handlers:notify"}}))
    on_local = _on_local(arn, WAITING, _live_answers, functions)
    assert on_temporal == on_local
    two = on_temporal["twoWaiting"]
    assert [c["status"] for c in two["listed"]] == ["RUNNING", "RUNNING"]
    assert [c["name"] for c in two["running"]] == ["ITEM-1", "ITEM-2"]
    # The third child is not started yet (MaxConcurrency 2): pending, and in the total.
    for counts in (two["mapRun"]["executionCounts"], two["mapRun"]["itemCounts"]):
        assert (counts["running"], counts["pending"], counts["total"]) == (2, 1, 3)
        assert counts["resultsWritten"] == 0
    assert [d["status"] for d in two["described"]] == ["RUNNING", "RUNNING"]
    assert all("stopDate" not in d and "mapRunArn" in d for d in two["described"])
    assert two["histories"][0][-1][2] == "TaskSubmitted"
    last = on_temporal["lastWaiting"]
    assert [c["status"] for c in last["listed"]] == ["SUCCEEDED", "SUCCEEDED", "RUNNING"]
    assert last["mapRun"]["executionCounts"]["succeeded"] == 2
    assert last["mapRun"]["executionCounts"]["pending"] == 0
    assert on_temporal["ended"] == "SUCCEEDED"
    after = on_temporal["afterwards"]
    assert [c["status"] for c in after["listed"]] == ["SUCCEEDED"] * 3
    assert after["running"] == [] and after["histories"][2][-1][2] == "ExecutionSucceeded"
    assert after["mapRun"]["itemCounts"] == {
        "pending": 0, "running": 0, "succeeded": 3, "failed": 0, "timedOut": 0, "aborted": 0,
        "total": 3, "resultsWritten": 3, "failuresNotRedrivable": 0, "pendingRedrive": 0,
    }  # fmt: skip


#: ``DISTRIBUTED`` with no tolerated failure, one child at a time: its second item fails
#: the Map Run before the third and fourth start.
STRICT = machines.distributing(DISTRIBUTED["States"]["Each"]["ItemProcessor"], MaxConcurrency=1)


def test_a_failed_map_run_counts_the_children_it_never_started(sfn: Any) -> None:
    """A Map Run failed by a child: those it never started count as pending (as AWS
    counts them: see tests/spec/api/map_run_counts.json), the Map Run answering as on the
    local backend."""
    arn = _machine(sfn, STRICT, "strict")
    on_temporal = _map_run_answers(sfn, arn)
    assert on_temporal == _on_local(arn, STRICT, _map_run_answers)
    described = on_temporal["mapRun"]
    assert described["status"] == "FAILED"
    for counts in (described["executionCounts"], described["itemCounts"]):
        assert (counts["succeeded"], counts["failed"], counts["pending"]) == (1, 1, 2)
        assert (counts["total"], counts["resultsWritten"]) == (4, 0)
    assert [c["name"] for c in on_temporal["children"]] == ["ITEM-1", "ITEM-2"]


#: Batches of two items, one batch at a time; a batch holding item 2 fails the Map Run.
STRICTLY_BATCHED = machines.distributing(
    {"StartAt": "Check", "States": {
        "Check": {"Type": "Pass", "Next": "Refused?",
                  "Parameters": {"refused.$": "States.ArrayContains($.Items[*].n, 2)"}},
        "Refused?": {"Type": "Choice", "Default": "Keep", "Choices": [
            {"Variable": "$.refused", "BooleanEquals": True, "Next": "Refuse"}]},
        "Refuse": {"Type": "Fail", "Error": "Refused"},
        "Keep": {"Type": "Pass", "End": True},
    }},
    MaxConcurrency=1, ItemBatcher={"MaxItemsPerBatch": 2},
)  # fmt: skip


def _counts(sfn: Any, machine_arn: str) -> dict[str, Any]:
    """The Map Run's status and counts once its execution has ended."""
    items = {"items": [{"n": n} for n in (1, 3, 2, 4, 5)]}
    started = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(items))
    _done(sfn, started["executionArn"])
    [listed] = sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    return {key: described[key] for key in ("status", "itemCounts", "executionCounts")}


def test_batches_never_started_count_their_items_as_pending(sfn: Any) -> None:
    """With an ItemBatcher, executionCounts count the batches and itemCounts their items,
    those of the batches never started pending: as on the local backend (and as
    tests/spec/api/map_run_counts.json asserts there)."""
    arn = _machine(sfn, STRICTLY_BATCHED, "batched")
    on_temporal = _counts(sfn, arn)
    assert on_temporal == _on_local(arn, STRICTLY_BATCHED, _counts)
    assert on_temporal["status"] == "FAILED"
    items, executions = on_temporal["itemCounts"], on_temporal["executionCounts"]
    assert (items["succeeded"], items["failed"], items["pending"], items["total"]) == (2, 2, 1, 5)
    assert (executions["succeeded"], executions["failed"], executions["pending"]) == (1, 1, 1)
