"""A Distributed Map's children after their execution ended, on `asl serve --db FILE`:
each read by its own ARN (DescribeExecution, GetExecutionHistory,
DescribeStateMachineForExecution, ListMapRuns of a child), the Map Run's children listed
a page at a time (ListExecutions with ``mapRunArn``, its filters), and all of it read the
same from a server started on the same file after the first one stopped.

AWS's API reference: DescribeExecution of a Map Run's child names its ``mapRunArn``;
ListExecutions takes ``mapRunArn`` (with ``statusFilter`` and ``redriveFilter``) and pages
with ``maxResults`` and ``nextToken``; a failed child is ``REDRIVABLE_BY_MAP_RUN``
("Redriving Map Runs"). DescribeStateMachineForExecution of a child is answered here as
the local backend always has (the item processor's definition is not kept).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runtime.service import ServiceSettings
from runtime.service.server import serve_in_thread
from tests.serving import ended, sfn_client

ROLE = "arn:aws:iam::123456789012:role/r"
_DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
#: Each item's child succeeds but for those marked ``fail``; each child runs a Distributed
#: Map of its own over its ``inner`` items (nested Map Runs, stored with the top execution).
MACHINE = {
    "StartAt": "Outer",
    "States": {
        "Outer": {
            "Type": "Map",
            "ToleratedFailureCount": 10,
            "MaxConcurrency": 3,
            "ItemProcessor": {
                "ProcessorConfig": _DISTRIBUTED,
                "StartAt": "Inner",
                "States": {
                    "Inner": {
                        "Type": "Map",
                        "ItemsPath": "$.inner",
                        "ResultPath": "$.inner",
                        "ItemProcessor": {
                            "ProcessorConfig": _DISTRIBUTED,
                            "StartAt": "Echo",
                            "States": {"Echo": {"Type": "Pass", "End": True}},
                        },
                        "Next": "Check",
                    },
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "No"}],
                        "Default": "Yes",
                    },
                    "No": {"Type": "Fail", "Error": "Item.Bad", "Cause": "marked to fail"},
                    "Yes": {"Type": "Succeed"},
                },
            },
            "End": True,
        }
    },
}
ITEMS = [{"n": n, "fail": n in (2, 5), "inner": [n, n + 1]} for n in range(7)]


def _serve(db: Path) -> Any:
    return serve_in_thread(ServiceSettings(db=db))


def _pages(call: Any, key: str, **request: Any) -> list[Any]:
    """Every page of a paged call, two items a page."""
    found: list[Any] = []
    for _ in range(100):
        answer = call(**request, maxResults=2)
        found += answer[key]
        if "nextToken" not in answer:
            return found
        request["nextToken"] = answer["nextToken"]
    raise AssertionError("more than 100 pages")


def _definition_of(sfn: Any, arn: str) -> Any:
    try:
        return sfn.describe_state_machine_for_execution(executionArn=arn)
    except ClientError as refused:
        return refused.response["Error"]["Code"]


def _strip(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k != "ResponseMetadata"}


def _reads(sfn: Any, top: str) -> dict[str, Any]:
    """Everything a client reads of the execution's Map Runs and their children."""
    (outer,) = sfn.list_map_runs(executionArn=top)["mapRuns"]
    run = outer["mapRunArn"]
    children = _pages(sfn.list_executions, "executions", mapRunArn=run)
    seen: dict[str, Any] = {
        "map run": _strip(sfn.describe_map_run(mapRunArn=run)),
        "children": children,
        "failed": _pages(sfn.list_executions, "executions", mapRunArn=run, statusFilter="FAILED"),
        "not redriven": _pages(
            sfn.list_executions, "executions", mapRunArn=run, redriveFilter="NOT_REDRIVEN"
        ),
    }
    for child in children:
        arn = child["executionArn"]
        inner = sfn.list_map_runs(executionArn=arn)["mapRuns"]
        grandchildren = [
            g
            for m in inner
            for g in _pages(sfn.list_executions, "executions", mapRunArn=m["mapRunArn"])
        ]
        seen[arn] = {
            "describe": _strip(sfn.describe_execution(executionArn=arn)),
            "history": _pages(sfn.get_execution_history, "events", executionArn=arn),
            "reversed": sfn.get_execution_history(executionArn=arn, reverseOrder=True)["events"],
            "definition": _definition_of(sfn, arn),
            "map runs": inner,
            "grandchildren": [
                (_strip(sfn.describe_execution(executionArn=g["executionArn"])),
                 sfn.get_execution_history(executionArn=g["executionArn"])["events"])
                for g in grandchildren
            ],
        }  # fmt: skip
    return seen


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite3"


def _start_fan(sfn: Any) -> str:
    """Create the ``fan`` machine and start it on ``ITEMS``: the execution's ARN."""
    machine = sfn.create_state_machine(name="fan", definition=json.dumps(MACHINE), roleArn=ROLE)
    return str(
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(ITEMS))[
            "executionArn"
        ]
    )


def test_each_child_reads_the_same_after_a_restart(database: Path) -> None:
    with _serve(database) as running:
        sfn = sfn_client(running.url)
        top = _start_fan(sfn)
        assert ended(sfn, top)["status"] == "SUCCEEDED"
        before = _reads(sfn, top)
    with _serve(database) as running:
        after = _reads(sfn_client(running.url), top)
    assert after == before
    children = before["children"]
    assert len(children) == len(ITEMS)
    assert len({child["executionArn"] for child in children}) == len(ITEMS)
    assert sorted(c["executionArn"] for c in before["failed"]) == sorted(
        c["executionArn"] for c in children if c["status"] == "FAILED"
    )
    assert len(before["failed"]) == 2
    assert before["not redriven"] == children
    failed = before[before["failed"][0]["executionArn"]]
    assert failed["describe"]["redriveStatus"] == "NOT_REDRIVABLE"  # its parent SUCCEEDED
    assert failed["history"][-1]["type"] == "ExecutionFailed"
    assert failed["reversed"] == failed["history"][::-1]
    # Differs from AWS, which answers with the Map Run's state machine (runs.py says why).
    assert failed["definition"] == "ExecutionDoesNotExist"
    for child in children:
        read = before[child["executionArn"]]
        assert read["describe"]["mapRunArn"] == child["mapRunArn"]
        assert read["describe"]["status"] == child["status"]
        assert len(read["map runs"]) == 1
        assert [d["status"] for d, _ in read["grandchildren"]] == ["SUCCEEDED", "SUCCEEDED"]
        assert all(h[-1]["type"] == "ExecutionSucceeded" for _, h in read["grandchildren"])


def test_a_map_run_pages_its_children_in_order(database: Path) -> None:
    with _serve(database) as running:
        sfn = sfn_client(running.url)
        top = _start_fan(sfn)
        ended(sfn, top)
        (outer,) = sfn.list_map_runs(executionArn=top)["mapRuns"]
        run = outer["mapRunArn"]
        whole = sfn.list_executions(mapRunArn=run, maxResults=100)["executions"]
        for size in (1, 3, 7):
            paged: list[Any] = []
            request: dict[str, Any] = {"mapRunArn": run, "maxResults": size}
            for _ in range(20):
                answer = sfn.list_executions(**request)
                paged += answer["executions"]
                if "nextToken" not in answer:
                    break
                request["nextToken"] = answer["nextToken"]
            assert paged == whole
        succeeded = sfn.list_executions(mapRunArn=run, statusFilter="SUCCEEDED", maxResults=100)
        assert succeeded["executions"] == [c for c in whole if c["status"] == "SUCCEEDED"]
        redriven = sfn.list_executions(mapRunArn=run, redriveFilter="REDRIVEN")
        assert redriven["executions"] == []
        token = sfn.list_executions(mapRunArn=run, maxResults=2)["nextToken"]
        with pytest.raises(ClientError) as refused:  # a token of another request
            sfn.list_executions(mapRunArn=run, statusFilter="FAILED", nextToken=token)
        assert refused.value.response["Error"]["Code"] == "InvalidToken"


#: A STANDARD child that loops until its history is full (item "loop"), fails at once
#: ("bad"), succeeds ("ok") or waits long ("wait": aborted when its Map Run fails); one
#: failure tolerated, so the Map Run fails when "loop" and "bad" have, and its parent with it.
LONG = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ToleratedFailureCount": 1,
            "ItemProcessor": {
                "ProcessorConfig": _DISTRIBUTED,
                "StartAt": "Route",
                "States": {
                    "Route": {
                        "Type": "Choice",
                        "Choices": [
                            {"Variable": "$.v", "StringEquals": "loop", "Next": "Loop"},
                            {"Variable": "$.v", "StringEquals": "ok", "Next": "Ok"},
                            {"Variable": "$.v", "StringEquals": "wait", "Next": "Wait"},
                        ],
                        "Default": "Bad",
                    },
                    "Loop": {"Type": "Pass", "Next": "Route"},
                    "Ok": {"Type": "Succeed"},
                    "Wait": {"Type": "Wait", "Seconds": 600, "Next": "Ok"},
                    "Bad": {"Type": "Fail", "Error": "Item.Bad", "Cause": "marked to fail"},
                },
            },
            "End": True,
        }
    },
}


def _redrive_states(sfn: Any, top: str) -> dict[str, tuple[str, str | None, str | None]]:
    """Each child's status, redriveStatus and redriveStatusReason, by its item's ``v``."""
    (run,) = sfn.list_map_runs(executionArn=top)["mapRuns"]
    children = _pages(sfn.list_executions, "executions", mapRunArn=run["mapRunArn"])
    states = {}
    for child in children:
        described = sfn.describe_execution(executionArn=child["executionArn"])
        states[json.loads(described["input"])["v"]] = (
            described["status"],
            described["redriveStatus"],
            described.get("redriveStatusReason"),
        )
    return states


@pytest.mark.parametrize("durable", [False, True], ids=["in memory", "on a database"])
def test_a_child_past_the_history_limit_is_not_redrivable(durable: bool, tmp_path: Path) -> None:
    """ "Redriving Map Runs" (redrive eligibility for child workflows): a STANDARD child
    whose history passed the 25,000 events limit is not redriven, it counts as failed;
    DescribeExecution's API reference lists "Execution history event limit exceeded." as a
    reason a STANDARD execution is NOT_REDRIVABLE. Its failed sibling waits for its Map Run
    (REDRIVABLE_BY_MAP_RUN, no reason) when the parent can be redriven: on a database, read
    while the server that ran it serves and again after a restart; in memory the parent
    cannot be (nothing journaled), so the sibling gives the parent's reason, and the long
    child still its own, read from the Map Run the engine holds."""
    settings = ServiceSettings(db=tmp_path / "state.sqlite3" if durable else ":memory:")
    with serve_in_thread(settings) as running:
        sfn = sfn_client(running.url)
        machine = sfn.create_state_machine(name="long", definition=json.dumps(LONG), roleArn=ROLE)
        items = [{"v": "loop"}, {"v": "bad"}]
        top = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"], input=json.dumps(items)
        )["executionArn"]
        assert ended(sfn, top, 120.0)["status"] == "FAILED"
        first = _redrive_states(sfn, top)
        parent = sfn.describe_execution(executionArn=top)
    assert first["loop"] == ("FAILED", "NOT_REDRIVABLE", "Execution history event limit exceeded.")
    if not durable:
        assert first["bad"] == ("FAILED", "NOT_REDRIVABLE", parent["redriveStatusReason"])
        return
    assert parent["redriveStatus"] == "REDRIVABLE"
    assert first["bad"] == ("FAILED", "REDRIVABLE_BY_MAP_RUN", None)
    with serve_in_thread(settings) as running:
        assert _redrive_states(sfn_client(running.url), top) == first


def _run_long(sfn: Any, items: list[dict[str, str]]) -> tuple[str, dict[str, Any]]:
    """Run LONG over ``items`` to its end: its Map Run's ARN and DescribeMapRun."""
    machine = sfn.create_state_machine(name="long", definition=json.dumps(LONG), roleArn=ROLE)
    top = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input=json.dumps(items))[
        "executionArn"
    ]
    assert ended(sfn, top, 120.0)["status"] == "FAILED"
    (run,) = sfn.list_map_runs(executionArn=top)["mapRuns"]
    return run["mapRunArn"], _strip(sfn.describe_map_run(mapRunArn=run["mapRunArn"]))


def _without(answer: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in names}


def test_describe_map_run_counts_the_same_stored_and_in_memory(tmp_path: Path) -> None:
    """DescribeMapRun's itemCounts and executionCounts (API reference, MapRunItemCounts and
    MapRunExecutionCounts) of an ended Map Run with succeeded, failed, aborted children and
    one past the history limit (failuresNotRedrivable, "Redriving Map Runs"): on a
    database the same as in memory, where the children are counted one by one; the same
    after a restart, which reads the counts stored with the Map Run; and the same from a
    file whose Map Runs were stored without counts, as earlier versions wrote them
    (counted in SQLite). No child here times out: a Map Run's child has no timeout."""
    items = [{"v": "ok"}, {"v": "bad"}, {"v": "wait"}, {"v": "loop"}]
    with serve_in_thread(ServiceSettings(db=":memory:")) as running:
        _, in_memory = _run_long(sfn_client(running.url), items)
    counts = in_memory["executionCounts"]
    assert (counts["succeeded"], counts["failed"], counts["aborted"]) == (1, 2, 1)
    assert (counts["total"], counts["failuresNotRedrivable"]) == (4, 1)
    assert in_memory["itemCounts"] == counts
    database = tmp_path / "state.sqlite3"
    with _serve(database) as running:
        run, first = _run_long(sfn_client(running.url), items)
    assert _without(first, "mapRunArn", "executionArn", "startDate", "stopDate") == _without(
        in_memory, "mapRunArn", "executionArn", "startDate", "stopDate"
    )
    with _serve(database) as running:
        assert _strip(sfn_client(running.url).describe_map_run(mapRunArn=run)) == first
    with sqlite3.connect(database) as db:  # as an earlier version wrote the Map Run
        changed = db.execute(
            "UPDATE map_runs SET body = json_remove(body, '$.child_tally') "
            "WHERE json_extract(body, '$.child_tally') IS NOT NULL"
        ).rowcount
    assert changed == 1
    with _serve(database) as running:
        assert _strip(sfn_client(running.url).describe_map_run(mapRunArn=run)) == first
