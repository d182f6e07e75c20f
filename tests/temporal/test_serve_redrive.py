"""RedriveExecution on ``asl serve --backend temporal`` (a real ``asl worker`` and
``asl serve`` in processes of their own, driven by boto3), answered and recorded exactly as
a local server with ``--db`` answers and records it: the same history, event for event,
after each of two redrives.

AWS's documentation (RedriveExecution API reference; "Redriving executions"): a FAILED,
ABORTED or TIMED_OUT Standard execution goes on from its unsuccessful step with the same
input, its successful steps not run again; in a Parallel or an Inline Map only the
branches and iterations that failed run again; the answer is the ``redriveDate``;
DescribeExecution gives ``redriveCount``, ``redriveDate``, ``redriveStatus`` and, when
NOT_REDRIVABLE, ``redriveStatusReason`` ("Execution is SUCCEEDED and cannot be
redriven"); the history goes on with ``ExecutionRedriven``; ``$$.Execution.RedriveCount``
counts the redrives (context object reference); a repeated ``clientToken`` is answered
idempotently. No recording of a redriven history was found: the local server's history,
which tests/e2e/test_serve_redrive.py checks against those documents, is the reference.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from temporalio.client import WorkflowHistory

from integrations.base import Registry
from integrations.lambdas import LocalFunctions
from runtime.defaults import DEFAULT_ACCOUNT, DEFAULT_REGION
from runtime.host import SEEDED_START
from runtime.service import ServiceSettings, serve_in_thread
from tests.e2e.console_helpers import Browser
from tests.serving import sfn_client
from tests.temporal import machines
from tests.temporal.backend import Backend
from tests.temporal.test_replay import _replayer
from tests.temporal.test_serve_temporal import _done, serving

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

ROLE = "arn:aws:iam::123456789012:role/service-role/tests"
#: Each call is written down in the handler's folder; one whose payload says ``failOnce``
#: fails the first time its key is seen.
HANDLER = """
import json
import pathlib

CALLS = pathlib.Path(__file__).parent / "calls"


def work(event, context):
    lines = CALLS.read_text().splitlines() if CALLS.exists() else []
    seen = [json.loads(line)["key"] for line in lines]
    with CALLS.open("a") as out:
        out.write(json.dumps(event) + "\\n")
    if event.get("failOnce") and event["key"] not in seen:
        raise RuntimeError("first call fails")
    return event
"""
WORK = f"arn:aws:lambda:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:function:work"


def _task(payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": WORK, "Parameters": payload, **extra}


#: A Task that succeeds, a Parallel whose second branch fails once (after a Wait, so the
#: first branch has ended: nothing is aborted), then an Inline Map whose second item
#: fails once: two failures, two redrives.
MACHINE = {
    "StartAt": "First",
    "States": {
        "First": _task({"key": "first"}, ResultPath="$.first", Next="Both"),
        "Both": {
            "Type": "Parallel",
            "ResultPath": "$.both",
            "Next": "Each",
            "Branches": [
                {"StartAt": "Good", "States": {"Good": _task({"key": "good"}, End=True)}},
                {
                    "StartAt": "Later",
                    "States": {
                        "Later": {"Type": "Wait", "Seconds": 60, "Next": "Bad"},
                        "Bad": _task(
                            {
                                "key": "bad",
                                "failOnce": True,
                                "redrives.$": "$$.Execution.RedriveCount",
                            },
                            End=True,
                        ),
                    },
                },
            ],
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ResultPath": "$.each",
            "End": True,
            "ItemProcessor": {
                "StartAt": "Item",
                "States": {
                    "Item": _task(
                        {
                            "key.$": "$.key",
                            "failOnce.$": "$.failOnce",
                            "redrives.$": "$$.Execution.RedriveCount",
                        },
                        End=True,
                    )
                },
            },
        },
    },
}
INPUT = {"items": [{"key": f"item{i}", "failOnce": i == 1} for i in range(3)]}


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "redrive_work.py").write_text(HANDLER)
    functions = {"functions": {"work": "redrive_work:work"}}
    (folder / "functions.json").write_text(json.dumps(functions))
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The handler's folder of the Temporal worker, and of the local server."""
    root = tmp_path_factory.mktemp("redrive-temporal")
    return _folder(root, "temporal"), _folder(root, "local")


@pytest.fixture(scope="module")
def served(temporal: Backend, folders: tuple[Path, Path]) -> Iterator[str]:
    """The URL of ``asl serve --backend temporal`` with a worker of its own."""
    folder = folders[0]
    with serving(temporal.address, folder, folder / "functions.json") as url:
        yield url


def _redrive_fields(described: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in described.items() if k.startswith("redrive") and k != "redriveDate"}


def _comparable(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Events without their timestamps, and without causes: a failed Lambda's cause holds
    its request id and its stack trace's file paths, each process's own."""

    def without(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: without(v) for k, v in value.items() if k not in ("timestamp", "cause")}
        if isinstance(value, list):
            return [without(v) for v in value]
        return value

    return [without(event) for event in events]


def _scenario(sfn: Any, folder: Path) -> dict[str, Any]:
    """Run MACHINE to its first failure, redrive it twice (the first time with a client
    token, asked twice) and say what was seen."""
    made = sfn.create_state_machine(name="redriven", definition=json.dumps(MACHINE), roleArn=ROLE)
    arn = sfn.start_execution(
        stateMachineArn=made["stateMachineArn"], name="once", input=json.dumps(INPUT)
    )["executionArn"]
    seen: dict[str, Any] = {"described": [_redrive_fields(_done(sfn, arn))]}
    first = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
    again = sfn.redrive_execution(executionArn=arn, clientToken="token-1")
    assert again["redriveDate"] == first["redriveDate"]
    failed = _done(sfn, arn)
    assert failed["redriveDate"] == first["redriveDate"]
    seen["described"].append(_redrive_fields(failed))
    second = sfn.redrive_execution(executionArn=arn)
    succeeded = _done(sfn, arn)
    assert succeeded["redriveDate"] == second["redriveDate"] >= first["redriveDate"]
    seen["described"].append(_redrive_fields(succeeded))
    seen["status"], seen["output"] = succeeded["status"], json.loads(succeeded["output"])
    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=arn)
    seen["refused"] = refused.value.response["Error"]
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    seen["history"] = _comparable(events)
    calls = (folder / "calls").read_text().splitlines()
    seen["calls"] = [json.loads(line) for line in calls]
    return seen


def test_a_redriven_execution_goes_on_as_on_the_local_backend(
    served: str, folders: tuple[Path, Path]
) -> None:
    there = _scenario(sfn_client(served), folders[0])
    local_settings = ServiceSettings(
        clock="virtual", functions=folders[1] / "functions.json", db=folders[1] / "db.sqlite3"
    )
    with serve_in_thread(local_settings) as local:
        here = _scenario(sfn_client(local.url), folders[1])
    assert there == here
    # What AWS documents, seen on both:
    assert there["described"] == [
        {"redriveCount": 0, "redriveStatus": "REDRIVABLE"},
        {"redriveCount": 1, "redriveStatus": "REDRIVABLE"},
        {
            "redriveCount": 2,
            "redriveStatus": "NOT_REDRIVABLE",
            "redriveStatusReason": "Execution is SUCCEEDED and cannot be redriven",
        },
    ]
    assert there["refused"]["Code"] == "ExecutionNotRedrivable"
    keys = [(call["key"], call.get("redrives")) for call in there["calls"]]
    # Succeeded work is not run again: each Task once, but the two that failed once.
    assert keys == [
        ("first", None), ("good", None), ("bad", 0), ("bad", 1),
        ("item0", 1), ("item1", 1), ("item1", 2), ("item2", 2),
    ]  # fmt: skip
    assert there["output"]["both"][1]["redrives"] == 1
    assert [item["redrives"] for item in there["output"]["each"]] == [1, 2, 2]
    types = [event["type"] for event in there["history"]]
    assert types.count("ExecutionRedriven") == 2 and types[-1] == "ExecutionSucceeded"
    redriven = [e for e in there["history"] if e["type"] == "ExecutionRedriven"]
    assert [e["executionRedrivenEventDetails"] for e in redriven] == [
        {"redriveCount": 1},
        {"redriveCount": 2},
    ]


def test_the_console_redrives_an_execution_on_temporal(served: str) -> None:
    sfn = sfn_client(served)
    failing = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Error": "E", "Cause": "c"}}}
    made = sfn.create_state_machine(name="refused", definition=json.dumps(failing), roleArn=ROLE)
    arn = sfn.start_execution(stateMachineArn=made["stateMachineArn"])["executionArn"]
    _done(sfn, arn)
    browser = Browser(served)
    assert ">Redrive</button>" in browser.get("/console/execution", arn=arn).text
    assert browser.post("/console/redrive", arn=arn).status_code == 200
    again = _done(sfn, arn)
    assert (again["status"], again["redriveCount"]) == ("FAILED", 1)
    events = sfn.get_execution_history(executionArn=arn)["events"]
    assert [e["type"] for e in events][-2:] == ["ExecutionRedriven", "ExecutionFailed"]


def _echo_and_flaky(temporal: Backend, workflow_id: str) -> list[str]:
    """Serve the workflow's Tasks with local functions ``echo`` and ``flaky`` (whose first
    call fails); the names of the calls made, in order."""
    calls: list[str] = []

    def flaky(event: Any, context: Any) -> Any:
        calls.append("flaky")
        if calls.count("flaky") == 1:
            raise ValueError("first call fails")
        return event

    def echo(event: Any, context: Any) -> Any:
        calls.append("echo")
        return event

    functions = LocalFunctions()
    functions.register("echo", echo)
    functions.register("flaky", flaky)
    registry = Registry()
    functions.install(registry)
    temporal.routed.invokers[workflow_id] = registry
    return calls


def test_a_redriven_run_replays(temporal: Backend) -> None:
    """The run that redrives an execution replays through Temporal's Replayer (its read
    of the ended run's journal is in its own history)."""
    workflow_id = f"redrive-replay-{uuid.uuid4()}"
    calls = _echo_and_flaky(temporal, workflow_id)
    definition = {
        "StartAt": "Echo",
        "States": {
            "Echo": {"Type": "Task", "Resource": WORK.replace("work", "echo"), "Next": "Flaky"},
            "Flaky": {"Type": "Task", "Resource": WORK.replace("work", "flaky"), "End": True},
        },
    }

    async def redriven() -> tuple[dict[str, Any], WorkflowHistory]:
        executions = temporal.executions
        await executions.start(
            definition, {"n": 1}, workflow_id=workflow_id, seed=5, clock="virtual",
            start=SEEDED_START,
        )  # fmt: skip
        assert (await executions.wait(workflow_id))["status"] == "FAILED"
        await executions.redrive(workflow_id)
        ended = await executions.wait(workflow_id)
        handle = executions.client.get_workflow_handle(workflow_id)
        return ended, await handle.fetch_history()

    try:
        ended, history = temporal.run(redriven())
    finally:
        del temporal.routed.invokers[workflow_id]
    assert (ended["status"], ended["redriveCount"]) == ("SUCCEEDED", 1)
    assert calls == ["echo", "flaky", "flaky"]  # Echo's result was kept, Flaky ran again
    asyncio.run(_replayer().replay_workflow(history))


def test_a_distributed_map_that_succeeded_before_the_failure_replays(temporal: Backend) -> None:
    """A Distributed Map's children are child workflows, not journaled: the run that
    redrives reads them from the ended run and runs none of them again (a local engine
    replays them), its Map Run comes out as it was (same ARN, same counts), and the run
    replays through Temporal's Replayer."""
    workflow_id = f"redrive-dmap-{uuid.uuid4()}"
    calls = _echo_and_flaky(temporal, workflow_id)
    definition = machines.distributing(
        {"StartAt": "Same", "States": {"Same": {
            "Type": "Task", "Resource": WORK.replace("work", "echo"), "End": True,
        }}}
    )  # fmt: skip
    mapped = definition["States"][definition["StartAt"]]
    del mapped["End"]
    mapped["Next"] = "Flaky"
    definition["States"]["Flaky"] = {
        "Type": "Task", "Resource": WORK.replace("work", "flaky"), "End": True,
    }  # fmt: skip

    async def redriven() -> tuple[list[str], dict[str, Any], list[str], list[str], Any]:
        executions = temporal.executions
        await executions.start(
            definition, {"items": [1, 2, 3]}, workflow_id=workflow_id, seed=3, clock="virtual"
        )
        assert (await executions.wait(workflow_id))["status"] == "FAILED"
        before = await executions.map_runs(workflow_id)
        await executions.redrive(workflow_id)
        ended = await executions.wait(workflow_id)
        events = (await executions.history(workflow_id))["events"]
        after = await executions.map_runs(workflow_id)
        history = await executions.client.get_workflow_handle(workflow_id).fetch_history()
        return before, ended, after, [e["type"] for e in events], history

    try:
        before, ended, after, types, history = temporal.run(redriven())
    finally:
        del temporal.routed.invokers[workflow_id]
    assert (ended["status"], ended["redriveCount"]) == ("SUCCEEDED", 1)
    assert len(after) == 1 and after == before
    assert types.count("MapRunStarted") == 1
    assert sorted(calls) == ["echo", "echo", "echo", "flaky", "flaky"]
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven", "LambdaFunctionScheduled", "LambdaFunctionStarted",
        "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    asyncio.run(_replayer().replay_workflow(history))


def test_a_redriven_child_goes_on_from_its_failed_state_and_replays(temporal: Backend) -> None:
    """A Distributed Map's STANDARD child whose second Task fails once: redriven with its
    parent, the child's workflow goes on from the state it failed in (its first Task not
    run again, its history kept, ``ExecutionRedriven`` added: "Redriving Map Runs" in the
    developer guide), and the runs that redrove, the parent's and the child's, replay
    through Temporal's Replayer (what they read of the ended runs is in their histories)."""
    workflow_id = f"redrive-child-{uuid.uuid4()}"
    calls = _echo_and_flaky(temporal, workflow_id)
    definition = machines.distributing(
        {"StartAt": "Echo", "States": {
            "Echo": {"Type": "Task", "Resource": WORK.replace("work", "echo"), "Next": "Flaky"},
            "Flaky": {"Type": "Task", "Resource": WORK.replace("work", "flaky"), "End": True},
        }}
    )  # fmt: skip

    async def redriven() -> tuple[dict[str, Any], list[str], list[WorkflowHistory]]:
        executions = temporal.executions
        await executions.start(definition, {"items": [1]}, workflow_id=workflow_id, seed=3,
                               clock="virtual")  # fmt: skip
        assert (await executions.wait(workflow_id))["status"] == "FAILED"
        await executions.redrive(workflow_id)
        ended = await executions.wait(workflow_id)
        [run] = [json.loads(text) for text in await executions.map_runs(workflow_id)]
        child_id = f"{workflow_id}/{run['arn'].rsplit(':', 1)[-1]}/0"
        child = (await executions.history(child_id))["events"]
        histories = [
            await executions.client.get_workflow_handle(each).fetch_history()
            for each in (workflow_id, child_id)
        ]
        return ended, [event["type"] for event in child], histories

    try:
        ended, child, histories = temporal.run(redriven())
    finally:
        del temporal.routed.invokers[workflow_id]
    assert (ended["status"], ended["redriveCount"]) == ("SUCCEEDED", 1)
    assert calls == ["echo", "flaky", "flaky"]  # Echo's result was kept, Flaky ran again
    assert child[: child.index("ExecutionRedriven")][-2:] == [
        "LambdaFunctionFailed",
        "ExecutionFailed",
    ]
    assert child[child.index("ExecutionRedriven") :] == [
        "ExecutionRedriven", "LambdaFunctionScheduled", "LambdaFunctionStarted",
        "LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    for history in histories:
        asyncio.run(_replayer().replay_workflow(history))


#: A Distributed Map whose second item fails once, one child at a time: its Map Run fails
#: with the third child never started, and succeeds when its parent is redriven.
MAPPED = machines.distributing(
    {"StartAt": "Item", "States": {"Item": _task({"key.$": "$.key", "failOnce.$": "$.failOnce"},
                                                 End=True)}},
    MaxConcurrency=1,
)  # fmt: skip
MAPPED_INPUT = {"items": [{"key": f"mapped{i}", "failOnce": i == 1} for i in range(3)]}


#: The ids each server draws at random: a Map Run's, its children's names.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _types(sfn: Any, arn: str) -> list[str]:
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [event["type"] for event in events]


def _map_run(sfn: Any, arn: str) -> dict[str, Any]:
    [listed] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=listed["mapRunArn"])
    seen = {key: described[key] for key in ("mapRunArn", "status", "itemCounts",
                                            "executionCounts")}  # fmt: skip
    children = sfn.list_executions(mapRunArn=listed["mapRunArn"])["executions"]
    seen["children"] = {
        child["executionArn"]: (child["status"], _types(sfn, child["executionArn"]),
                                _redrive_fields(sfn.describe_execution(
                                    executionArn=child["executionArn"])))
        for child in children
    }  # fmt: skip
    return {**seen, "redriven": (described["redriveCount"], "redriveDate" in described)}


def _map_run_scenario(
    sfn: Any, folder: Path, name: str = "once", value: dict[str, Any] = MAPPED_INPUT
) -> dict[str, Any]:
    """MAPPED run to its failure, then redriven until it succeeds (three times at most):
    its Map Run at each end, the parent's history and output, and the calls its children
    made; ids drawn at random (the Map Run's, the children's names) as ``<id>``, once
    checked the same before and after."""
    calls = folder / "calls"
    before = len(calls.read_text().splitlines()) if calls.exists() else 0
    made = sfn.create_state_machine(name="mapped", definition=json.dumps(MAPPED), roleArn=ROLE)
    arn = sfn.start_execution(
        stateMachineArn=made["stateMachineArn"], name=name, input=json.dumps(value)
    )["executionArn"]
    status, failed = _done(sfn, arn)["status"], _map_run(sfn, arn)
    ended = {"status": status}
    seen: dict[str, Any] = {"again": []}
    while ended["status"] == "FAILED" and len(seen["again"]) < 3:
        sfn.redrive_execution(executionArn=arn)
        ended = _done(sfn, arn)
        seen["again"].append((ended["status"], _map_run(sfn, arn)))
    redriven = seen["again"][-1][1]
    # The same Map Run; the children it had, the same executions: the one that failed
    # ran again under its ARN.
    assert redriven["mapRunArn"] == failed["mapRunArn"]
    assert set(failed["children"]) < set(redriven["children"])
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    seen.update(
        failed=(status, failed), redriven=seen["again"][-1], output=json.loads(ended["output"]),
        history=_comparable(events),
    )  # fmt: skip
    for _, run in (seen["failed"], *seen["again"]):
        run["children"] = sorted(run["children"].values())
    seen["calls"] = [json.loads(line)["key"] for line in calls.read_text().splitlines()[before:]]
    return json.loads(_UUID.sub("<id>", json.dumps(seen)))  # type: ignore[no-any-return]


def _redriven_children_agree(local: dict[str, Any], there: dict[str, Any]) -> None:
    """The same scenario on a local server and on Temporal agrees, the histories of the
    children it redrove too: a redriven STANDARD child goes on from the state it failed in,
    its history kept and an ``ExecutionRedriven`` event added, on both as on AWS
    ("Redriving Map Runs": the unsuccessful child executions are redriven)."""
    assert local == there
    children = [child for _, run in there["again"] for child in run["children"]]
    redriven = [(types, fields) for _, types, fields in children if "ExecutionRedriven" in types]
    assert redriven
    for types, fields in redriven:
        # Its first attempt kept, then the state it failed in entered no second time.
        cut = types.index("ExecutionRedriven")
        assert types[0] == "ExecutionStarted" and types[cut - 1] == "ExecutionFailed"
        assert "TaskStateEntered" not in types[cut:]
        assert fields["redriveCount"] == types.count("ExecutionRedriven")


def test_a_redriven_map_run_runs_again_only_its_unsuccessful_children_as_locally(
    served: str, folders: tuple[Path, Path]
) -> None:
    """A failed Map Run counts the child it never started as pending; redriven with its
    parent, only its unsuccessful children run again (the one that failed, under its ARN,
    from the state it failed in, and the one never started), the one that succeeded is
    not, and it counts every child succeeded: the same Map Run, children (their histories
    too), history and output as a local server with ``--db`` (tests/e2e/test_serve_redrive.py checks
    that one against AWS's documents: "Redriving Map Runs" in the developer guide,
    DescribeMapRun's ``redriveCount``, the ``MapRunRedriven`` event)."""
    there = _map_run_scenario(sfn_client(served), folders[0])
    local_settings = ServiceSettings(
        clock="virtual", functions=folders[1] / "functions.json", db=folders[1] / "db.sqlite3"
    )
    with serve_in_thread(local_settings) as local:
        _redriven_children_agree(_map_run_scenario(sfn_client(local.url), folders[1]), there)
    status, failed = there["failed"]
    assert (status, failed["status"]) == ("FAILED", "FAILED")
    assert [failed["executionCounts"][k] for k in ("succeeded", "failed", "pending")] == [1, 1, 1]
    status, redriven = there["redriven"]
    assert (status, redriven["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert (failed["redriven"], redriven["redriven"]) == ([0, False], [1, True])
    assert redriven["itemCounts"] == redriven["executionCounts"] == {
        "pending": 0, "running": 0, "succeeded": 3, "failed": 0, "timedOut": 0, "aborted": 0,
        "total": 3, "resultsWritten": 3, "failuresNotRedrivable": 0, "pendingRedrive": 0,
    }  # fmt: skip
    assert there["calls"] == ["mapped0", "mapped1", "mapped1", "mapped2"]
    assert there["output"] == [
        {k: item[k] for k in ("key", "failOnce")} for item in MAPPED_INPUT["items"]
    ]
    types = [event["type"] for event in there["history"]]
    assert types[types.index("ExecutionFailed") :] == [
        "ExecutionFailed", "ExecutionRedriven", "MapRunRedriven", "MapRunSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    [event] = [e for e in there["history"] if e["type"] == "MapRunRedriven"]
    assert event["mapRunRedrivenEventDetails"] == {
        "mapRunArn": redriven["mapRunArn"], "redriveCount": 1,
    }  # fmt: skip


def test_a_map_run_redriven_twice_runs_again_only_its_unsuccessful_children_as_locally(
    served: str, folders: tuple[Path, Path]
) -> None:
    """Its second and third items fail once each: the first redrive runs the second item's
    child again (it succeeds) and the third's (it fails), the second redrive only the
    third's; each redrive counts in ``redriveCount`` and records ``MapRunRedriven``, as on
    a local server with ``--db``."""
    value = {"items": [{"key": f"twice{i}", "failOnce": i > 0} for i in range(3)]}
    there = _map_run_scenario(sfn_client(served), folders[0], "twice", value)
    local_settings = ServiceSettings(
        clock="virtual", functions=folders[1] / "functions.json", db=folders[1] / "db.sqlite3"
    )
    with serve_in_thread(local_settings) as local:
        here = _map_run_scenario(sfn_client(local.url), folders[1], "twice", value)
        _redriven_children_agree(here, there)
    assert there["calls"] == ["twice0", "twice1", "twice1", "twice2", "twice2"]
    assert [(status, run["redriven"]) for status, run in there["again"]] == [
        ("FAILED", [1, True]), ("SUCCEEDED", [2, True]),
    ]  # fmt: skip
    redrives = [e["mapRunRedrivenEventDetails"]["redriveCount"] for e in there["history"]
                if e["type"] == "MapRunRedriven"]  # fmt: skip
    assert redrives == [1, 2]
    assert there["output"] == [{k: item[k] for k in ("key", "failOnce")} for item in value["items"]]
