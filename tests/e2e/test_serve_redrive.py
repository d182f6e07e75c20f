"""RedriveExecution through boto3 against `asl serve --db FILE`.

AWS's documentation (RedriveExecution API reference; "Redriving executions"): a FAILED,
ABORTED or TIMED_OUT Standard execution goes on from its unsuccessful step with the same
input, its successful steps not run again; in a Parallel or an Inline Map only the
branches and iterations that failed or were aborted run again; the answer is the
``redriveDate``; DescribeExecution gives ``redriveCount``, ``redriveDate`` and
``redriveStatus`` (``redriveStatusReason`` when NOT_REDRIVABLE, in the reasons the API
reference lists: "Execution is SUCCEEDED and cannot be redriven", ...); the history goes
on with ``ExecutionRedriven`` (``executionRedrivenEventDetails.redriveCount``, the
ExecutionRedrivenEventDetails reference) and ``$$.Execution.RedriveCount`` counts the
redrives (context object reference). EXPRESS executions are not supported. No recording of
a redriven history was found: where the re-run events link (``previousEventId``) is ours.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings
from runtime.service.server import serve_in_thread
from tests.polling import until
from tests.serving import ended as _ended
from tests.serving import sfn_client

# One server and its folder for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("serve_redrive")

ROLE = "arn:aws:iam::123456789012:role/r"
BOUND = 30.0

# Each call is written down; a call whose payload asks fails the first time its key is seen,
# and one given a gate waits (30 s at most) until the test has created that file.
HANDLERS = """
import json
import pathlib
import time

HERE = pathlib.Path(__file__).parent


def _wait_for(path):
    for _ in range(3000):
        if path.exists():
            return
        time.sleep(0.01)


def work(event, context):
    if "gate" in event:
        _wait_for(HERE / event["gate"])
    calls = HERE / "calls"
    seen = calls.read_text().splitlines() if calls.exists() else []
    with calls.open("a") as out:
        out.write(json.dumps(event["key"]) + "\\n")
    if event.get("failOnce") and json.dumps(event["key"]) not in seen:
        raise RuntimeError("first call fails")
    return event
"""


def _task(payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "work", "Payload": payload},
        "OutputPath": "$.Payload",
        **extra,
    }


SEQUENCE = {
    "StartAt": "First",
    "States": {
        "First": _task({"key": "first"}, Next="Second"),
        "Second": _task(
            {"key": "second", "failOnce": True, "redrives.$": "$$.Execution.RedriveCount"},
            End=True,
        ),
    },
}
BAD = {"key": "bad", "failOnce": True, "gate": "good-done"}
PARALLEL = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "End": True,
            "Branches": [
                {"StartAt": "Good", "States": {"Good": _task({"key": "good"}, End=True)}},
                {
                    "StartAt": "Bad",
                    "States": {"Bad": _task(BAD, End=True)},
                },
            ],
        }
    },
}
MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "End": True,
            # One at a time: item1's failure cannot abort a sibling still running (an
            # aborted iteration runs again too), so the calls below are exact.
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Item",
                "States": {"Item": _task({"key.$": "$.key", "failOnce.$": "$.failOnce"}, End=True)},
            },
        }
    },
}
ITEMS = [{"key": f"item{i}", "failOnce": i == 1} for i in range(3)]
ASK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "work", "Payload": {"key": "ask"}},
            "End": True,
        }
    },
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    found = tmp_path_factory.mktemp("redrive")
    (found / "handlers.py").write_text(HANDLERS)
    work = {"handler": "handlers:work", "timeout": 60}  # past a gate's 30 s
    (found / "functions.json").write_text(json.dumps({"functions": {"work": work}}))
    return found


@pytest.fixture(scope="module")
def sfn(folder: Path) -> Iterator[Any]:
    settings = ServiceSettings(
        clock="virtual", functions=folder / "functions.json", db=folder / "state.sqlite3"
    )
    with serve_in_thread(settings) as running:
        yield sfn_client(running.url)


def _calls(folder: Path) -> list[Any]:
    path = folder / "calls"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _run(sfn: Any, name: str, definition: dict[str, Any], value: Any = None) -> str:
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    started = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], input=json.dumps(value or {})
    )
    return str(started["executionArn"])


def _redriven(sfn: Any, arn: str) -> dict[str, Any]:
    failed = _ended(sfn, arn)
    assert (failed["status"], failed["redriveStatus"], failed["redriveCount"]) == (
        "FAILED",
        "REDRIVABLE",
        0,
    )
    assert "redriveStatusReason" not in failed
    answer = sfn.redrive_execution(executionArn=arn)
    assert set(answer) - {"ResponseMetadata"} == {"redriveDate"}
    ended = _ended(sfn, arn)
    assert ended["redriveCount"] == 1 and ended["redriveDate"] == answer["redriveDate"]
    return ended


def _exited(sfn: Any, arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateExitedEventDetails"]["name"] for e in events if "stateExitedEventDetails" in e]


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    return list(events)


def _types(sfn: Any, arn: str) -> list[str]:
    return [e["type"] for e in _history(sfn, arn)]


def test_a_failed_task_runs_again_and_the_steps_before_it_do_not(sfn: Any, folder: Path) -> None:
    before = len(_calls(folder))
    arn = _run(sfn, "sequence", SEQUENCE)
    ended = _redriven(sfn, arn)
    assert ended["status"] == "SUCCEEDED"
    assert json.loads(ended["output"]) == {"key": "second", "failOnce": True, "redrives": 1}
    assert _calls(folder)[before:] == ["first", "second", "second"]
    types = _types(sfn, arn)
    failed_at = types.index("ExecutionFailed")
    assert types[failed_at:] == [
        "ExecutionFailed", "ExecutionRedriven", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    assert events[failed_at + 1]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:sequence"
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert (listed[0]["redriveCount"], listed[0]["redriveDate"]) == (1, ended["redriveDate"])
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable) as refused:
        sfn.redrive_execution(executionArn=arn)
    assert refused.value.response["Error"]["Message"] == (
        "Execution is SUCCEEDED and cannot be redriven"
    )


def test_only_the_failed_branch_of_a_parallel_runs_again(sfn: Any, folder: Path) -> None:
    before = len(_calls(folder))
    arn = _run(sfn, "parallel", PARALLEL)
    # Bad fails once Good has succeeded: a Good still running would be aborted by Bad's
    # failure, and an aborted branch runs again too.
    until(lambda: "Good" in _exited(sfn, arn), BOUND)
    (folder / "good-done").touch()
    ended = _redriven(sfn, arn)
    assert json.loads(ended["output"]) == [{"key": "good"}, BAD]
    assert sorted(_calls(folder)[before:]) == ["bad", "bad", "good"]
    types = _types(sfn, arn)
    assert types.count("ExecutionRedriven") == 1 and types[-1] == "ExecutionSucceeded"
    assert types.count("ParallelStateEntered") == 1  # the state's entry is not recorded again


def test_only_the_failed_iteration_of_a_map_runs_again(sfn: Any, folder: Path) -> None:
    before = len(_calls(folder))
    arn = _run(sfn, "map", MAP, ITEMS)
    ended = _redriven(sfn, arn)
    assert json.loads(ended["output"]) == ITEMS
    assert sorted(_calls(folder)[before:]) == ["item0", "item1", "item1", "item2"]
    types = _types(sfn, arn)
    assert types.count("MapIterationSucceeded") == 3 and types[-1] == "ExecutionSucceeded"


#: MAP with its items run as child executions: the second fails its Map Run (no failure
#: tolerated) before the third starts. Keys of their own: a key fails only once.
MAPPED_ITEMS = [{"key": f"mapped{i}", "failOnce": i == 1} for i in range(3)]
DISTRIBUTED_MAP = {
    "StartAt": "Each",
    "States": {
        "Each": {
            **MAP["States"]["Each"],
            "ItemProcessor": {
                **MAP["States"]["Each"]["ItemProcessor"],
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            },
        }
    },
}


def _map_run_counts(sfn: Any, arn: str) -> dict[str, Any]:
    [listed] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    run_arn = listed["mapRunArn"]
    described = sfn.describe_map_run(mapRunArn=run_arn)
    children = sfn.list_executions(mapRunArn=run_arn)["executions"]
    return {
        "arn": run_arn,
        "status": described["status"],
        "started": described["startDate"],
        "redrives": (described["redriveCount"], described.get("redriveDate")),
        "counts": described["executionCounts"],
        "items": described["itemCounts"],
        "children": sorted(child["executionArn"] for child in children),
    }


def _counts(
    pending: int = 0, succeeded: int = 0, failed: int = 0, written: int = 0
) -> dict[str, int]:
    return {
        "pending": pending, "running": 0, "succeeded": succeeded, "failed": failed,
        "timedOut": 0, "aborted": 0, "total": pending + succeeded + failed,
        "resultsWritten": written, "failuresNotRedrivable": 0, "pendingRedrive": 0,
    }  # fmt: skip


def test_a_redriven_map_run_counts_its_children_again(sfn: Any, folder: Path) -> None:
    """A failed Map Run: the child never started pending; redriven with its parent, the
    Map Run (the same one, its children the same executions, and the one never started)
    counts them all succeeded, its redriveCount 1 and redriveDate the redrive's (the
    API reference, DescribeMapRun). No child is past the history length a redrive
    allows, so failuresNotRedrivable is 0, and no child waits for a redrive once the Map
    Run has ended: pendingRedrive 0 ("Redriving Map Runs": "When a Map Run has completed
    its execution or is aborted, the count of child workflow executions in the Pending
    redrive state is reset to 0").
    Only the unsuccessful children run again, and the history records ``MapRunRedriven``
    ``{mapRunArn, redriveCount}``, not the Map's start again ("Redriving Map Runs" in the
    developer guide; botocore's MapRunRedrivenEventDetails)."""
    before = len(_calls(folder))
    arn = _run(sfn, "distributed", DISTRIBUTED_MAP, MAPPED_ITEMS)
    _ended(sfn, arn)
    failed = _map_run_counts(sfn, arn)
    assert failed["status"] == "FAILED"
    assert failed["counts"] == failed["items"] == _counts(pending=1, succeeded=1, failed=1)
    assert len(failed["children"]) == 2
    _redriven(sfn, arn)
    again = _map_run_counts(sfn, arn)
    assert again["status"] == "SUCCEEDED" and again["arn"] == failed["arn"]
    # Started again by the redrive: redriven once, when; its start the first one's.
    assert failed["redrives"] == (0, None) and again["redrives"][0] == 1
    assert again["started"] == failed["started"] <= again["redrives"][1]
    assert again["counts"] == again["items"] == _counts(succeeded=3, written=3)
    assert set(failed["children"]) < set(again["children"])
    assert _calls(folder)[before:] == ["mapped0", "mapped1", "mapped1", "mapped2"]
    types = _types(sfn, arn)
    assert types[types.index("ExecutionFailed") :] == [
        "ExecutionFailed", "ExecutionRedriven", "MapRunRedriven", "MapRunSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    [redriven] = [e for e in events if e["type"] == "MapRunRedriven"]
    assert redriven["mapRunRedrivenEventDetails"] == {"mapRunArn": again["arn"], "redriveCount": 1}
    output = json.loads(sfn.describe_execution(executionArn=arn)["output"])
    assert output == [{"key": item["key"], "failOnce": item["failOnce"]} for item in MAPPED_ITEMS]


#: Two states in each child execution; the second fails the first time for item 1 only.
STEPPED_ITEMS = [{"key": f"stepped{i}", "failOnce": i == 1} for i in range(3)]
STEPPED = {
    "StartAt": "Each",
    "States": {
        "Each": {
            **DISTRIBUTED_MAP["States"]["Each"],
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Prepare",
                "States": {
                    "Prepare": _task(
                        {"key.$": "States.Format('{}-prepare', $.key)"},
                        ResultPath=None, OutputPath="$", Next="Work",
                    ),
                    "Work": _task(
                        {"key.$": "$.key", "failOnce.$": "$.failOnce",
                         "redrives.$": "$$.Execution.RedriveCount"},
                        End=True,
                    ),
                },
            },
        }
    },
}  # fmt: skip


def test_a_failed_standard_child_is_itself_redriven_from_its_failed_state(
    sfn: Any, folder: Path
) -> None:
    """The RedriveExecution API reference and "Redriving Map Runs": redriving the parent
    redrives the Map Run's unsuccessful STANDARD children, and a redrive "continues the
    failed execution from the unsuccessful step", keeping the successful steps' results
    and history, under the same ARN: the child's history goes on with ``ExecutionRedriven``
    and its redriveCount (DescribeExecution, ListExecutions' ExecutionListItem and
    ``$$.Execution.RedriveCount``) is 1, its redriveDate the redrive's. Its redriveStatus
    while it waits is ``REDRIVABLE_BY_MAP_RUN`` (botocore's ExecutionRedriveStatus: the
    Map Run can redrive it); ``redriveFilter`` lists the children redriven or not
    (ListExecutions in the API reference). Where the re-run events link is ours."""
    before = len(_calls(folder))
    arn = _run(sfn, "stepped", STEPPED, STEPPED_ITEMS)
    _ended(sfn, arn)
    [listed] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    run_arn = listed["mapRunArn"]
    [failed] = sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"]
    child = failed["executionArn"]
    waiting = sfn.describe_execution(executionArn=child)
    assert (waiting["redriveCount"], waiting["redriveStatus"]) == (0, "REDRIVABLE_BY_MAP_RUN")
    assert "redriveDate" not in waiting and "redriveStatusReason" not in waiting
    first = _types(sfn, child)
    assert first[-2:] == ["TaskFailed", "ExecutionFailed"]

    ended = _redriven(sfn, arn)
    assert _calls(folder)[before:] == [
        "stepped0-prepare", "stepped0", "stepped1-prepare", "stepped1", "stepped1",
        "stepped2-prepare", "stepped2",
    ]  # fmt: skip
    assert [item["redrives"] for item in json.loads(ended["output"])] == [0, 1, 0]
    described = sfn.describe_execution(executionArn=child)
    assert described["status"] == "SUCCEEDED" and described["mapRunArn"] == run_arn
    assert (described["redriveCount"], described["redriveDate"]) == (1, ended["redriveDate"])
    assert described["redriveStatusReason"] == "Execution is SUCCEEDED and cannot be redriven"
    events = _history(sfn, child)
    types = [e["type"] for e in events]
    assert types[: len(first)] == first  # its first attempt's history kept
    assert types[len(first) :] == [
        "ExecutionRedriven", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    assert events[len(first)]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    assert entered == ["Prepare", "Work"]  # Prepare, which succeeded, is not run again

    redriven = sfn.list_executions(mapRunArn=run_arn, redriveFilter="REDRIVEN")["executions"]
    assert [(c["executionArn"], c["redriveCount"]) for c in redriven] == [(child, 1)]
    assert redriven[0]["redriveDate"] == ended["redriveDate"]
    others = sfn.list_executions(mapRunArn=run_arn, redriveFilter="NOT_REDRIVEN")["executions"]
    assert len(others) == 2 and all(c["redriveCount"] == 0 for c in others)
    assert child not in {c["executionArn"] for c in others}


def test_running_and_express_executions_are_not_redrivable(sfn: Any) -> None:
    arn = _run(sfn, "ask", ASK)
    deadline = time.monotonic() + BOUND
    while "TaskSubmitted" not in _types(sfn, arn):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    described = sfn.describe_execution(executionArn=arn)
    assert (described["redriveStatus"], described["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is RUNNING and cannot be redriven",
    )
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable, match="is RUNNING"):
        sfn.redrive_execution(executionArn=arn)
    sfn.stop_execution(executionArn=arn)
    assert _ended(sfn, arn)["redriveStatus"] == "REDRIVABLE"  # ABORTED

    express = sfn.create_state_machine(
        name="express", definition=json.dumps(SEQUENCE), roleArn=ROLE, type="EXPRESS"
    )
    ran = sfn.start_sync_execution(stateMachineArn=express["stateMachineArn"])
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable, match="EXPRESS"):
        sfn.redrive_execution(executionArn=ran["executionArn"])


ALWAYS_FAILS = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "No", "Cause": "no"}}}
NAP = {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 1200, "End": True}}}


def _redrive(sfn: Any, arn: str, token: str) -> tuple[float, int]:
    """Redrive with a client token; the answer's date and the redrive count once ended."""
    answer = sfn.redrive_execution(executionArn=arn, clientToken=token)
    return answer["redriveDate"], _ended(sfn, arn)["redriveCount"]


def test_a_client_token_answers_again_as_it_did_and_redrives_once(sfn: Any) -> None:
    """The API reference (RedriveExecution, clientToken): "The API will return idempotent
    responses for the last 10 client tokens used to successfully redrive the execution.
    These client tokens are valid for up to 15 minutes after they are first used." Beyond
    that reach the call is a new one (AWS documents nothing there: our choice)."""
    arn = _run(sfn, "tokens", ALWAYS_FAILS)
    _ended(sfn, arn)
    first_date, count = _redrive(sfn, arn, "t0")
    assert count == 1
    assert _redrive(sfn, arn, "t0") == (first_date, 1)  # not redriven twice
    assert _types(sfn, arn).count("ExecutionRedriven") == 1
    dates = {token: _redrive(sfn, arn, token)[0] for token in [f"t{i}" for i in range(1, 11)]}
    assert _ended(sfn, arn)["redriveCount"] == 11
    assert _redrive(sfn, arn, "t0")[1] == 12  # no longer among the last ten: a new redrive
    assert _redrive(sfn, arn, "t10") == (dates["t10"], 12)
    _ended(sfn, _run(sfn, "nap", NAP))  # the virtual clock runs 20 minutes on
    assert _redrive(sfn, arn, "t10")[1] == 13  # past its 15 minutes: a new redrive
    assert _types(sfn, arn).count("ExecutionRedriven") == 13
