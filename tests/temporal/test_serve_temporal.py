"""``asl serve --backend temporal`` as a user runs it: Temporal's dev server (the session's),
a real ``asl worker`` and a real ``asl serve`` in processes of their own on 127.0.0.1,
driven by boto3. The same operations answer as on the local backend (the history of one
machine compared with a local server's, event by event; a Distributed Map's Map Runs and
child executions, nested ones too, through every Map Run operation, field for field);
what Temporal does not serve yet answers an AWS-shaped error saying so.

AWS's error codes and messages asserted here are those recorded against AWS in the
localstack snapshots (tests/aws/services/stepfunctions/v2/test_sfn_api.snapshot.json:
``ExecutionDoesNotExist: Execution Does Not Exist: '<arn>'``, ``ExecutionAlreadyExists:
Execution Already Exists: '<arn>'``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from runtime.service import ServiceSettings, serve_in_thread, temporal_executions
from runtime.service.catalog import MachineRecord, MemoryCatalog, Target
from runtime.temporal import TemporalExecutions
from tests.e2e.console_helpers import Browser
from tests.polling import until
from tests.serving import APPROVAL, announced_port, cli_env, one_line, refused_port, sfn_client
from tests.temporal import machines
from tests.temporal.backend import Backend

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

ROLE = "arn:aws:iam::123456789012:role/service-role/tests"
BOUND = 60.0  # seconds: every wait here ends well before
#: States of every kind that need no integration: its history is the interpreter's alone.
FLOW = {
    "StartAt": "Shape",
    "States": {
        "Shape": {"Type": "Pass", "Parameters": {"n.$": "$.n", "items": [1, 2, 3]}, "Next": "Big"},
        "Big": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Nap"}],
            "Default": "Both",
        },
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Both"},
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "L", "States": {"L": {"Type": "Pass", "Result": "l", "End": True}}},
                {"StartAt": "R", "States": {"R": {"Type": "Pass", "Result": "r", "End": True}}},
            ],
            "ResultPath": "$.both",
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "StartAt": "Twice",
                "States": {
                    "Twice": {
                        "Type": "Pass",
                        "Parameters": {"v.$": "States.MathAdd($, $)"},
                        "End": True,
                    }
                },
            },
            "ResultPath": "$.each",
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}


def _asl(*arguments: str, log: Path) -> subprocess.Popen[str]:
    """An ``asl`` command in a process of its own, its error output kept in ``log`` (a
    traceback there explains a failed test)."""
    with log.open("w") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", *arguments],
            stdout=subprocess.PIPE, stderr=errors, text=True, env=cli_env(),
        )  # fmt: skip


def _stopped(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


@contextmanager
def serving(address: str, folder: Path, functions: Path) -> Iterator[str]:
    """``asl worker`` (with ``functions``) and ``asl serve --backend temporal`` on a virtual
    clock, on a task queue of their own on the Temporal server at ``address``, their logs
    and the catalog in ``folder``; the server's URL."""
    queue = f"serve-{uuid.uuid4()}"
    temporal = ["--temporal-address", address, "--task-queue", queue]
    worker = _asl("worker", *temporal, "--functions", str(functions), log=folder / "worker.log")
    server = _asl(
        "serve", "--backend", "temporal", *temporal, "--port", "0", "--clock", "virtual",
        "--db", str(folder / "catalog.sqlite3"), log=folder / "serve.log",
    )  # fmt: skip
    try:
        assert worker.stdout is not None and server.stdout is not None
        assert f"serving task queue {queue}" in worker.stdout.readline()
        port = announced_port(server.stdout.readline())
        said = server.stdout.readline()
        assert said.startswith(f"asl serve: executions on Temporal at {address}"), said
        yield f"http://127.0.0.1:{port}"
    finally:
        _stopped(server)
        _stopped(worker)


@pytest.fixture(scope="module")
def served(temporal: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A worker and a server on a task queue of their own; the server's URL."""
    folder = tmp_path_factory.mktemp("serve-temporal")
    (folder / "handlers.py").write_text("def notify(event, context):\n    return {}\n")
    functions = folder / "functions.json"
    functions.write_text(json.dumps({"functions": {"notify": "handlers:notify"}}))
    with serving(temporal.address, folder, functions) as url:
        yield url


@pytest.fixture(scope="module")
def sfn(served: str) -> Any:
    return sfn_client(served)


def _machine(sfn: Any, definition: dict[str, Any], prefix: str = "m") -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    made = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return str(made["stateMachineArn"])


def _done(sfn: Any, arn: str) -> dict[str, Any]:
    def ended() -> dict[str, Any] | None:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        return None if described["status"] == "RUNNING" else described

    found: dict[str, Any] = until(ended, BOUND, every=0.1)
    return found


def _without_times(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in event.items() if k != "timestamp"} for event in events]


def test_the_same_history_as_the_local_backend(sfn: Any) -> None:
    arn = _machine(sfn, FLOW, "flow")
    started = sfn.start_execution(stateMachineArn=arn, name="one", input=json.dumps({"n": 9}))
    assert started["executionArn"] == arn.replace(":stateMachine:", ":execution:") + ":one"
    described = _done(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output["both"] == ["l", "r"] and output["each"] == [{"v": 2}, {"v": 4}, {"v": 6}]
    assert described["startDate"] <= described["stopDate"]
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]

    with serve_in_thread(ServiceSettings(clock="virtual")) as local:
        there = sfn_client(local.url)
        made = there.create_state_machine(
            name=arn.rsplit(":", 1)[1], definition=json.dumps(FLOW), roleArn=ROLE
        )
        ran = there.start_execution(
            stateMachineArn=made["stateMachineArn"], name="one", input=json.dumps({"n": 9})
        )
        _done(there, ran["executionArn"])
        expected = there.get_execution_history(executionArn=ran["executionArn"])["events"]
    assert _without_times(history) == _without_times(expected)
    assert "WaitStateEntered" in [e["type"] for e in history]

    backwards = sfn.get_execution_history(
        executionArn=started["executionArn"], reverseOrder=True, maxResults=3
    )
    assert [e["id"] for e in backwards["events"]] == [
        len(history),
        len(history) - 1,
        len(history) - 2,
    ]
    assert "nextToken" in backwards


def test_executions_are_listed_newest_first_in_pages_and_by_status(sfn: Any) -> None:
    arn = _machine(sfn, FLOW, "listed")
    names = ["a", "b", "c"]
    for name in names:
        started = sfn.start_execution(stateMachineArn=arn, name=name, input='{"n": 1}')
        _done(sfn, started["executionArn"])
    first = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert [e["name"] for e in first["executions"]] == ["c", "b"]
    rest = sfn.list_executions(stateMachineArn=arn, maxResults=2, nextToken=first["nextToken"])
    assert [e["name"] for e in rest["executions"]] == ["a"] and "nextToken" not in rest
    assert {e["status"] for e in first["executions"]} == {"SUCCEEDED"}
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"] == []
    succeeded = sfn.list_executions(stateMachineArn=arn, statusFilter="SUCCEEDED")
    assert [e["name"] for e in succeeded["executions"]] == ["c", "b", "a"]


def test_a_task_token_is_approved_with_send_task_success(sfn: Any) -> None:
    arn = _machine(sfn, APPROVAL, "approval")
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"order": 7}))

    def token() -> str | None:
        events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
        for event in events:
            if event["type"] == "TaskSubmitted":
                output = json.loads(event["taskSubmittedEventDetails"]["output"])
                assert output["StatusCode"] == 200
            if event["type"] == "TaskScheduled":
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                return str(parameters["Payload"]["token"])
        return None

    listed = sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
    assert [e["executionArn"] for e in listed] == [started["executionArn"]]
    sfn.send_task_success(taskToken=until(token, BOUND), output=json.dumps({"approved": True}))
    described = _done(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"order": 7, "approval": {"approved": True}}
    with pytest.raises(ClientError) as again:
        sfn.send_task_success(taskToken=token(), output="{}")
    assert again.value.response["Error"]["Code"] == "TaskTimedOut"


def test_an_activity_worker_takes_and_answers_its_task(sfn: Any) -> None:
    activity = sfn.create_activity(name="review-on-temporal")["activityArn"]
    task = {"Type": "Task", "Resource": activity, "HeartbeatSeconds": 60, "End": True}
    arn = _machine(sfn, {"StartAt": "Review", "States": {"Review": task}}, "activity")
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"doc": 3}))
    taken = sfn.get_activity_task(activityArn=activity, workerName="reviewer")
    assert json.loads(taken["input"]) == {"doc": 3}
    sfn.send_task_heartbeat(taskToken=taken["taskToken"])
    sfn.send_task_success(taskToken=taken["taskToken"], output=json.dumps({"ok": True}))
    described = _done(sfn, started["executionArn"])
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", {"ok": True})
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    started_event = next(e for e in events if e["type"] == "ActivityStarted")
    assert started_event["activityStartedEventDetails"] == {"workerName": "reviewer"}


def test_stop_execution_aborts_it(sfn: Any) -> None:
    arn = _machine(sfn, APPROVAL, "stopped")
    started = sfn.start_execution(stateMachineArn=arn)
    stopped = sfn.stop_execution(executionArn=started["executionArn"], error="E", cause="why")
    described = sfn.describe_execution(executionArn=started["executionArn"])
    assert described["status"] == "ABORTED"
    assert (described["error"], described["cause"]) == ("E", "why")
    assert described["stopDate"] == stopped["stopDate"]
    types = [
        e["type"] for e in sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    ]
    assert types[-1] == "ExecutionAborted"


def test_errors_are_aws_shaped(sfn: Any) -> None:
    arn = _machine(sfn, FLOW, "errors")
    missing = arn.replace(":stateMachine:", ":execution:") + ":nobody"
    with pytest.raises(ClientError) as absent:
        sfn.describe_execution(executionArn=missing)
    assert absent.value.response["Error"] == {
        "Code": "ExecutionDoesNotExist", "Message": f"Execution Does Not Exist: '{missing}'",
    }  # fmt: skip
    started = sfn.start_execution(stateMachineArn=arn, name="once", input='{"n": 1}')
    _done(sfn, started["executionArn"])
    with pytest.raises(ClientError) as taken:
        sfn.start_execution(stateMachineArn=arn, name="once", input='{"n": 1}')
    assert taken.value.response["Error"] == {
        "Code": "ExecutionAlreadyExists",
        "Message": f"Execution Already Exists: '{started['executionArn']}'",
    }
    with pytest.raises(ClientError) as redrive:
        sfn.redrive_execution(executionArn=started["executionArn"])
    assert redrive.value.response["Error"] == {
        "Code": "ExecutionNotRedrivable",
        "Message": "Execution is SUCCEEDED and cannot be redriven",
    }
    assert sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"] == []
    no_run = arn.replace(":stateMachine:", ":mapRun:") + "/Each:0f4e0a1d-nobody"
    with pytest.raises(ClientError) as unknown:
        sfn.describe_map_run(mapRunArn=no_run)
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFound"


def test_an_express_machine_runs_to_its_end_with_start_sync_execution(sfn: Any) -> None:
    name = f"express-{uuid.uuid4().hex[:8]}"
    made = sfn.create_state_machine(
        name=name, definition=json.dumps(FLOW), roleArn=ROLE, type="EXPRESS"
    )
    ran = sfn.start_sync_execution(stateMachineArn=made["stateMachineArn"], input='{"n": 1}')
    assert ran["status"] == "SUCCEEDED"
    assert ran["executionArn"].startswith(
        made["stateMachineArn"].replace(":stateMachine:", ":express:")
    )
    assert json.loads(ran["output"])["each"] == [{"v": 2}, {"v": 4}, {"v": 6}]
    assert ran["billingDetails"]["billedDurationInMilliseconds"] >= 100


def test_the_console_shows_an_execution_on_temporal(served: str, sfn: Any) -> None:
    arn = _machine(sfn, FLOW, "console")
    started = sfn.start_execution(stateMachineArn=arn, input='{"n": 1}')
    _done(sfn, started["executionArn"])
    browser = Browser(served)
    page = browser.get("/console/execution", arn=started["executionArn"])
    assert page.status_code == 200
    assert "SUCCEEDED" in page.text and "Map Runs are not served" not in page.text
    listed = browser.get("/console/executions", machine=arn)
    assert started["executionArn"].rsplit(":", 1)[1] in listed.text
    assert browser.get("/console/tasks").status_code == 200


def _row_of(page: str, name: str) -> str | None:
    """The console table's row that links to the execution named ``name``."""
    return next((row for row in page.split("<tr>") if f">{name}</a>" in row), None)


def test_the_console_lists_the_waiting_tasks_and_answers_them(served: str, sfn: Any) -> None:
    activity = sfn.create_activity(name="console-on-temporal")["activityArn"]
    review = {"StartAt": "Review", "States": {"Review": {"Type": "Task", "Resource": activity,
                                                         "End": True}}}  # fmt: skip
    started = {
        "Ask": sfn.start_execution(
            stateMachineArn=_machine(sfn, APPROVAL, "console-token"), input='{"order": 7}'
        ),
        "Review": sfn.start_execution(
            stateMachineArn=_machine(sfn, review, "console-activity"), input='{"doc": 3}'
        ),
    }
    names = {state: run["executionArn"].rsplit(":", 1)[1] for state, run in started.items()}
    browser = Browser(served)

    def listed() -> dict[str, str] | None:
        page = browser.get("/console/tasks")
        assert page.status_code == 200, page.text
        rows = {state: row for state, name in names.items() if (row := _row_of(page.text, name))}
        return rows if len(rows) == len(names) else None

    rows = until(listed, BOUND, every=0.25)
    assert ">Ask<" in rows["Ask"] and "callback" in rows["Ask"]
    assert ">Review<" in rows["Review"] and f"activity<br><small>{activity}" in rows["Review"]
    assert "&quot;doc&quot;: 3" in rows["Review"]
    for state, row in rows.items():
        token = row.split('name="token" value="')[1].split('"')[0]
        answered = browser.post("/console/approve", token=token, output=json.dumps({"ok": state}))
        assert answered.status_code == 200
    ended = {state: _done(sfn, run["executionArn"]) for state, run in started.items()}
    assert {state: json.loads(run["output"]) for state, run in ended.items()} == {
        "Ask": {"order": 7, "approval": {"ok": "Ask"}},
        "Review": {"ok": "Review"},
    }
    shown = browser.get("/console/tasks").text
    assert all(_row_of(shown, name) is None for name in names.values())


#: A Distributed Map whose second item fails (tolerated): children that succeed and one
#: that fails, each a child workflow on Temporal.
DISTRIBUTED = machines.distributing(
    {"StartAt": "Odd", "States": {
        "Odd": {"Type": "Choice", "Default": "Twice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 2, "Next": "Refuse"}]},
        "Refuse": {"Type": "Fail", "Error": "Even", "Cause": "two is even"},
        "Twice": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($.n, $.n)"},
                  "End": True},
    }},
    ToleratedFailureCount=1, MaxConcurrency=2,
)  # fmt: skip
_DATES = ("startDate", "stopDate", "timestamp", "redriveDate")


def _map_run_answers(sfn: Any, machine_arn: str) -> dict[str, Any]:
    """What the Map Run API answers of one run of DISTRIBUTED, dates left out and the ids
    each side draws (the Map Run's, its label, the children's names) replaced by what they
    stand for: the Map Run, and the item each child ran."""
    items = {"items": [{"n": n} for n in (1, 2, 3, 4)]}
    started = sfn.start_execution(stateMachineArn=machine_arn, name="d", input=json.dumps(items))
    arn = started["executionArn"]
    _done(sfn, arn)
    [listed] = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    run_arn = listed["mapRunArn"]
    children = sfn.list_executions(mapRunArn=run_arn)["executions"]
    answers: dict[str, Any] = {
        "mapRuns": [listed],
        "mapRun": sfn.describe_map_run(mapRunArn=run_arn),
        "children": children,
        "failed": sfn.list_executions(mapRunArn=run_arn, statusFilter="FAILED")["executions"],
        "firstPage": sfn.list_executions(mapRunArn=run_arn, maxResults=3)["executions"],
        "described": [], "histories": [], "childMapRuns": [],
    }  # fmt: skip
    label, run_id = run_arn.rsplit("/", 1)[1].split(":")
    ids = {run_id: "MAP-RUN", label: "LABEL"}
    for child in children:
        described = sfn.describe_execution(executionArn=child["executionArn"])
        ids[child["name"]] = f"ITEM-{json.loads(described['input'])['n']}"
        answers["described"].append(described)
        history = sfn.get_execution_history(executionArn=child["executionArn"])
        answers["histories"].append(history["events"])
        answers["childMapRuns"].append(
            sfn.list_map_runs(executionArn=child["executionArn"])["mapRuns"]
        )
    return _normalised(answers, ids)


def _normalised(answers: dict[str, Any], drawn: dict[str, str]) -> dict[str, Any]:
    """``answers`` without dates, each id ``drawn`` replaced by what it stands for."""
    text = json.dumps(_without(answers, _DATES))
    for value, meaning in drawn.items():
        text = text.replace(value, meaning)
    normalised: dict[str, Any] = json.loads(text)
    return normalised


def _without(value: Any, keys: tuple[str, ...]) -> Any:
    """``value`` with ``keys`` left out of every object in it, and no response metadata."""
    if isinstance(value, dict):
        return {
            k: _without(v, keys) for k, v in value.items()
            if k not in keys and k != "ResponseMetadata"
        }  # fmt: skip
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def test_map_runs_answer_as_on_the_local_backend(sfn: Any) -> None:
    """DescribeMapRun, ListMapRuns, ListExecutions by mapRunArn (with each child's
    ``mapRunArn`` and ``itemCount``, the API reference's ExecutionListItem), and a child's
    DescribeExecution and GetExecutionHistory: field for field the local backend's
    answers (which tests/spec/distributed_map asserts against AWS's records)."""
    arn = _machine(sfn, DISTRIBUTED, "dmap")
    on_temporal = _map_run_answers(sfn, arn)
    on_local = _on_local(arn, DISTRIBUTED, _map_run_answers)
    assert on_temporal == on_local
    assert on_temporal["mapRun"]["executionCounts"]["failed"] == 1
    assert on_temporal["mapRun"]["executionCounts"]["succeeded"] == 3
    assert [c["itemCount"] for c in on_temporal["children"]] == [1, 1, 1, 1]
    assert [c["name"] for c in on_temporal["failed"]] == ["ITEM-2"]
    assert len(on_temporal["firstPage"]) == 3


#: A Distributed Map whose children each run a Distributed Map of their own.
NESTED = machines.distributing(
    {"StartAt": "Inner", "States": {"Inner": {
        "Type": "Map", "ItemsPath": "$.inner", "End": True,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Twice",
            "States": {"Twice": {"Type": "Pass", "Parameters": {"v.$": "States.MathAdd($, $)"},
                                 "End": True}},
        },
    }}}
)  # fmt: skip


def _nested_answers(sfn: Any, machine_arn: str) -> dict[str, Any]:
    """What the API answers of one run of NESTED's inner Map Runs, each found first from
    its execution's history (so the server looks for it among the children of the outer
    Map Run), normalised as in :func:`_map_run_answers`."""
    items = {"items": [{"inner": [1, 2]}, {"inner": [3]}]}
    started = sfn.start_execution(stateMachineArn=machine_arn, name="n", input=json.dumps(items))
    _done(sfn, started["executionArn"])
    [outer] = sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"]
    drawn = _drawn(outer["mapRunArn"], "OUTER")
    answers: dict[str, Any] = {"inner": []}
    for child in sfn.list_executions(mapRunArn=outer["mapRunArn"])["executions"]:
        history = sfn.get_execution_history(executionArn=child["executionArn"])["events"]
        inner_arn = next(
            e["mapRunStartedEventDetails"]["mapRunArn"] for e in history
            if e["type"] == "MapRunStarted"
        )  # fmt: skip
        inner = sfn.describe_map_run(mapRunArn=inner_arn)
        items_of = json.loads(sfn.describe_execution(executionArn=child["executionArn"])["input"])
        drawn |= _drawn(inner_arn, f"INNER-{items_of['inner']}") | {child["name"]: "CHILD"}
        listed = sfn.list_executions(mapRunArn=inner_arn)["executions"]
        grandchildren = []
        for grandchild in listed:
            described = sfn.describe_execution(executionArn=grandchild["executionArn"])
            drawn[grandchild["name"]] = f"ITEM-{described['input']}"
            events = sfn.get_execution_history(executionArn=grandchild["executionArn"])
            grandchildren.append({"described": described, "events": events["events"]})
        answers["inner"].append({
            "mapRun": inner, "listed": listed, "grandchildren": grandchildren,
            "mapRuns": sfn.list_map_runs(executionArn=child["executionArn"])["mapRuns"],
        })  # fmt: skip
    return _normalised(answers, drawn)


def _on_local(
    arn: str, definition: dict[str, Any], answers: Callable[[Any, str], dict[str, Any]],
    functions: Path | None = None,
) -> dict[str, Any]:  # fmt: skip
    """``answers`` of a local server (on a virtual clock too, with the ``functions``
    file's) for a machine of the same name as ``arn``'s, running ``definition``. It keeps
    a database, as a Temporal server keeps every execution's journal: what can be redriven
    (a failed Map Run child's ``redriveStatus``) is the same."""
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "state.sqlite3"
        settings = ServiceSettings(clock="virtual", functions=functions, db=db)
        with serve_in_thread(settings) as local:
            there = sfn_client(local.url)
            made = there.create_state_machine(
                name=arn.rsplit(":", 1)[1], definition=json.dumps(definition), roleArn=ROLE
            )
            return answers(there, made["stateMachineArn"])


def _drawn(map_run_arn: str, meaning: str) -> dict[str, str]:
    """The labels and id a Map Run's ARN holds (``mapRun:<machine>/<label>...:<id>``),
    each with what it stands for."""
    path, run_id = map_run_arn.split(":mapRun:", 1)[1].split(":")
    labels = path.split("/")[1:]
    return {run_id: meaning, **{label: f"{meaning}-LABEL-{n}" for n, label in enumerate(labels)}}


def test_nested_map_runs_answer_as_on_the_local_backend(sfn: Any) -> None:
    """A child execution's own Map Run, its children, their descriptions and histories:
    as the local backend answers."""
    arn = _machine(sfn, NESTED, "nested")
    on_temporal = _nested_answers(sfn, arn)
    on_local = _on_local(arn, NESTED, _nested_answers)
    assert on_temporal == on_local
    counts = [run["mapRun"]["executionCounts"]["succeeded"] for run in on_temporal["inner"]]
    assert sorted(counts) == [1, 2]
    outputs = [g["described"]["output"] for run in on_temporal["inner"]
               for g in run["grandchildren"]]  # fmt: skip
    assert sorted(outputs) == ['{"v":2}', '{"v":4}', '{"v":6}']


def _target(prefix: str, definition: dict[str, Any]) -> Target:
    """What a new Standard machine of ``definition`` runs, for a backend made in the test."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    record = MachineRecord(
        f"arn:aws:states:us-east-1:123456789012:stateMachine:{name}", name, "STANDARD",
        json.dumps(definition), ROLE, 0.0,
    )  # fmt: skip
    return Target(record, record.definition, ROLE, None)


def test_a_fresh_server_finds_a_map_run_and_a_child_by_arn_alone(temporal: Backend) -> None:
    """A server that has read nothing of a Map Run yet (restarted, say) finds it, and a
    child of it, from the ARN alone, among the executions its catalog lists."""
    catalog = MemoryCatalog()
    first = temporal_executions.TemporalExecutionsBackend(temporal.executions, catalog)
    aim = _target("fresh", DISTRIBUTED)

    async def scenario() -> tuple[Any, Any, Any]:
        started = await first.start(aim, {"items": [{"n": 1}, {"n": 2}]}, "one", None)
        await first.wait(started.arn)
        [run] = await first.map_runs(started.arn)
        children = (await first.map_run(run.arn)).executions
        fresh = temporal_executions.TemporalExecutionsBackend(temporal.executions, catalog)
        child = await fresh.find(children[1].arn)
        again = temporal_executions.TemporalExecutionsBackend(temporal.executions, catalog)
        return run.arn, await again.map_run(run.arn), child

    run_arn, found, child = temporal.run(scenario())
    assert found.arn == run_arn and found.execution_counts()["failed"] == 1
    assert (child.status, child.error, child.cause) == ("FAILED", "Even", "two is even")


def test_the_console_shows_a_map_run_on_temporal(served: str, sfn: Any) -> None:
    arn = _machine(sfn, DISTRIBUTED, "console-dmap")
    # One child passes (Twice), one fails (Refuse), tolerated.
    items = json.dumps({"items": [{"n": 1}, {"n": 2}]})
    started = sfn.start_execution(stateMachineArn=arn, input=items)
    _done(sfn, started["executionArn"])
    children = sfn.list_executions(
        mapRunArn=sfn.list_map_runs(executionArn=started["executionArn"])["mapRuns"][0]["mapRunArn"]
    )["executions"]
    browser = Browser(served)
    page = browser.get("/console/execution", arn=started["executionArn"])
    assert page.status_code == 200
    assert "<h2>Map Runs</h2>" in page.text
    assert all(child["name"] in page.text for child in children)
    # The trace folds the children in, read through the same backend as the page: each
    # item state's node has its status in its class and its place as its title.
    report = browser.get("/console/report", arn=started["executionArn"]).text
    node = r'status&#45;(\w+)">\s*<title>/States/Each/ItemProcessor/States/(\w+)</title>'
    drawn = {name: status for status, name in re.findall(node, report)}
    assert drawn == {"Odd": "succeeded", "Twice": "succeeded", "Refuse": "failed"}


def _serve(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "serve", "--port", "0", "--db", ":memory:",
         *options],
        capture_output=True, text=True, env=cli_env(), timeout=BOUND,
    )  # fmt: skip


def test_help_shows_the_backend_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "serve", "--help"],
        capture_output=True, text=True, env=cli_env(), timeout=BOUND,
    )  # fmt: skip
    assert result.returncode == 0
    for option in ("--backend", "--temporal-address", "--namespace", "--task-queue"):
        assert option in result.stdout


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--temporal-address", "localhost"],
         "asl serve: --temporal-address 'localhost' is not HOST:PORT (such as 127.0.0.1:7233)"),
        ([], "asl serve: --backend temporal needs --temporal-address HOST:PORT"),
    ],
)  # fmt: skip
def test_a_bad_address_isone_line(options: list[str], said: str) -> None:
    result = _serve("--backend", "temporal", *options)
    assert result.returncode == 2
    assert one_line(result.stderr) == said


def test_a_server_that_does_not_answer_isone_line() -> None:
    with refused_port() as port:
        address = f"127.0.0.1:{port}"
        result = _serve("--backend", "temporal", "--temporal-address", address)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        f"asl serve: cannot connect to Temporal at {address}: Connection refused"
    )


def test_the_local_backend_never_loads_the_temporal_sdk() -> None:
    code = (
        "import sys; from runtime.service import ServiceSettings, serve_in_thread\n"
        "with serve_in_thread(ServiceSettings()): pass\n"
        "assert 'temporalio' not in sys.modules, 'temporalio loaded'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(), timeout=BOUND
    )
    assert result.returncode == 0, result.stderr


def test_without_a_worker_a_running_execution_is_described_from_its_start(
    temporal: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(temporal_executions, "WORKER_ANSWER_SECONDS", 0.5)
    client = temporal.executions.client
    queue = f"no-worker-{uuid.uuid4()}"  # no worker polls it
    backend = temporal_executions.TemporalExecutionsBackend(
        TemporalExecutions(client, task_queue=queue), MemoryCatalog()
    )
    aim = _target("idle", FLOW)

    async def scenario() -> tuple[Any, Any]:
        started = await backend.start(aim, {"n": 1}, "first", None)
        found = await backend.find(started.arn)
        with pytest.raises(temporal_executions.NoWorkerAnswered) as unanswered:
            await backend.history(started.arn)
        await client.get_workflow_handle(started.arn).terminate()
        return found, unanswered.value

    found, unanswered = temporal.run(scenario())
    assert (found.status, found.input, found.name) == ("RUNNING", {"n": 1}, "first")
    assert unanswered.status == 503
    assert f"run `asl worker` on task queue {queue!r}" in unanswered.message
