"""`asl serve` on a database file, attacked as a hostile or careless client would: lone
surrogates where the database cannot keep them (names, ARNs, errors and causes, a
worker's name, an execution's events replayed after a restart), a client that hangs up
or stalls in the middle of its body, bytes HTTP cannot parse or decode, a definition the
engine could not compile. Each is a client's mistake answered with AWS's error name
(status 400, never a 5xx, nothing logged), and every execution started ends with its
terminal event, in the database too.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings, serve_in_thread
from tests.polling import until
from tests.serving import APPROVAL, sfn_client
from tests.serving import ended as _ended

pytestmark = pytest.mark.xdist_group("serve_hostile")

ROLE = "arn:aws:iam::123456789012:role/r"
LONE = "\ud800"
PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
MACHINE = f"arn:aws:states:us-east-1:123456789012:stateMachine:m{LONE}"
EXECUTION = f"arn:aws:states:us-east-1:123456789012:execution:m:e{LONE}"
HANDLERS = (
    "def notify(event, context):\n    return {}\n\n"
    "def explode(event, context):\n    raise ValueError('bad \\ud800')\n"
)


def _settings(folder: Path) -> ServiceSettings:
    (folder / "hostile_handlers.py").write_text(HANDLERS)
    functions = {n: f"hostile_handlers:{n}" for n in ("notify", "explode")}
    (folder / "functions.json").write_text(json.dumps({"functions": functions}))
    return ServiceSettings(
        clock="virtual", functions=folder / "functions.json", db=folder / "state.sqlite3"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_in_thread(_settings(tmp_path_factory.mktemp("hostile"))) as running:
        yield running.url


@pytest.fixture(scope="module")
def sfn(server: str) -> Any:
    return sfn_client(server)


def _last_event(sfn: Any, arn: str) -> dict[str, Any]:
    events = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1)
    return events["events"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("operation", "members"),
    [
        ("describe_state_machine", {"stateMachineArn": MACHINE}),
        ("update_state_machine", {"stateMachineArn": MACHINE, "definition": PASS}),
        ("delete_state_machine", {"stateMachineArn": MACHINE}),
        ("publish_state_machine_version", {"stateMachineArn": MACHINE}),
        ("start_execution", {"stateMachineArn": MACHINE}),
        ("start_sync_execution", {"stateMachineArn": MACHINE}),
        ("list_executions", {"stateMachineArn": MACHINE}),
        ("describe_execution", {"executionArn": EXECUTION}),
        ("get_execution_history", {"executionArn": EXECUTION}),
        ("stop_execution", {"executionArn": EXECUTION}),
        ("redrive_execution", {"executionArn": EXECUTION}),
        ("list_map_runs", {"executionArn": EXECUTION}),
        ("describe_activity", {"activityArn": f"arn:aws:states:us-east-1:1:activity:a{LONE}"}),
        ("tag_resource", {"resourceArn": MACHINE, "tags": [{"key": "k", "value": "v"}]}),
        ("list_tags_for_resource", {"resourceArn": MACHINE}),
    ],
)
def test_an_arn_with_a_lone_surrogate_is_invalid_arn(
    sfn: Any, operation: str, members: dict[str, Any]
) -> None:
    # No name may hold a surrogate (botocore's documentation of names), so no ARN with one
    # names anything; AWS documents no answer: InvalidArn, modelled for each operation.
    with pytest.raises(sfn.exceptions.InvalidArn) as refused:
        getattr(sfn, operation)(**members)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_names_with_a_lone_surrogate_are_invalid_names(sfn: Any) -> None:
    # botocore's documentation of CreateStateMachine's name: no surrogates (U+D800-DFFF).
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.create_state_machine(name=f"m{LONE}", definition=PASS, roleArn=ROLE)
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.create_activity(name=f"a{LONE}")
    machine = sfn.create_state_machine(name="named", definition=PASS, roleArn=ROLE)
    with pytest.raises(sfn.exceptions.InvalidName):
        sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name=f"e{LONE}")


def _machine(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    made = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return str(made["stateMachineArn"])


def test_ends_with_lone_surrogates_are_recorded_and_survive_a_restart(tmp_path: Path) -> None:
    # A Fail state's Error and Cause, a handler's message, a StopExecution's cause: the
    # execution ends (its end was once refused by the database, the execution left
    # RUNNING for ever); the history keeps the text as it was.
    settings = _settings(tmp_path)
    fail = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": f"E{LONE}", "Cause": LONE}}}
    task = {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:explode"}
    with serve_in_thread(settings) as first:
        sfn = sfn_client(first.url)
        failed = sfn.start_execution(stateMachineArn=_machine(sfn, "fail", fail))["executionArn"]
        raised = sfn.start_execution(
            stateMachineArn=_machine(
                sfn, "raise", {"StartAt": "T", "States": {"T": {**task, "End": True}}}
            )
        )["executionArn"]
        stopped = sfn.start_execution(stateMachineArn=_machine(sfn, "ask", APPROVAL))[
            "executionArn"
        ]
        until(lambda: len(sfn.get_execution_history(executionArn=stopped)["events"]) >= 4)
        sfn.stop_execution(executionArn=stopped, error="Stop", cause=f"no {LONE}")
        ends = {arn: _last_event(sfn, arn) for arn in (failed, raised, stopped)}
        statuses = [_ended(sfn, arn)["status"] for arn in (failed, raised, stopped)]
    assert statuses == ["FAILED", "FAILED", "ABORTED"]
    assert ends[failed]["executionFailedEventDetails"] == {"error": f"E{LONE}", "cause": LONE}
    assert ends[raised]["type"] == "ExecutionFailed"
    assert f"bad {LONE}" in ends[raised]["executionFailedEventDetails"]["cause"]
    assert ends[stopped]["executionAbortedEventDetails"] == {"error": "Stop", "cause": f"no {LONE}"}
    with serve_in_thread(settings) as second:  # nothing left RUNNING to resume
        sfn = sfn_client(second.url)
        assert [_ended(sfn, arn)["status"] for arn in ends] == statuses
        assert {arn: _last_event(sfn, arn) for arn in ends} == ends


def test_an_execution_with_lone_surrogates_in_its_events_resumes_after_a_restart(
    tmp_path: Path,
) -> None:
    # Its events are stored with each lone surrogate escaped; the replay compared them
    # with its own unescaped text: the execution's first event "diverged", and the
    # server could not start again on its database.
    settings = _settings(tmp_path)
    activity = "arn:aws:states:us-east-1:123456789012:activity:review"
    asked = {
        "StartAt": "P",
        "States": {
            "P": {"Type": "Pass", "Parameters": {"seen.$": "$.text"}, "Next": "R"},
            "R": {"Type": "Task", "Resource": activity, "End": True},
        },
    }
    with serve_in_thread(settings) as first:
        sfn = sfn_client(first.url)
        sfn.create_activity(name="review")
        started = sfn.start_execution(
            stateMachineArn=_machine(sfn, "reviewed", asked), input=json.dumps({"text": LONE})
        )["executionArn"]
        until(lambda: _last_event(sfn, started)["type"] == "ActivityScheduled")
    with serve_in_thread(settings) as second:
        sfn = sfn_client(second.url)
        task = sfn.get_activity_task(activityArn=activity)
        assert json.loads(task["input"]) == {"seen": LONE}
        sfn.send_task_success(taskToken=task["taskToken"], output=json.dumps(LONE))
        described = _ended(sfn, started)
    assert (described["status"], json.loads(described["output"])) == ("SUCCEEDED", LONE)


def test_a_worker_named_with_a_lone_surrogate_takes_the_task(sfn: Any) -> None:
    # workerName is any name of 1-80 characters (botocore's model): the task is given and
    # the execution goes on (the database once refused the name: a 500, botocore retried).
    activity = sfn.create_activity(name="review")["activityArn"]
    asked = {"StartAt": "R", "States": {"R": {"Type": "Task", "Resource": activity, "End": True}}}
    started = sfn.start_execution(stateMachineArn=_machine(sfn, "reviewed", asked))
    task = sfn.get_activity_task(activityArn=activity, workerName=f"w{LONE}")
    sfn.send_task_success(taskToken=task["taskToken"], output='"ok"')
    assert _ended(sfn, started["executionArn"])["status"] == "SUCCEEDED"
    events = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert "ActivityStarted" in [event["type"] for event in events]


def _send(url: str, head: bytes, body: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.sendall(head + body)
    return connection


LIST_ACTIVITIES = (
    b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListActivities\r\n"
    b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 100\r\n\r\n"
)


def test_a_client_that_hangs_up_mid_body_is_no_fault_of_the_server(
    server: str, sfn: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        for _ in range(3):
            _send(server, LIST_ACTIVITIES, b'{"maxResults"').close()
        # The server has read each request by the time it answers this one.
        assert "activities" in sfn.list_activities()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


@pytest.mark.parametrize(
    "head",
    [
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 10_000 + b"\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        LIST_ACTIVITIES.replace(
            b"Content-Length: 100", b"Content-Encoding: gzip\r\nContent-Length: 2"
        )
        + b"{}",
    ],
    ids=["header line over 8 KiB", "Content-Length -1", "chunk size not hex", "not gzip"],
)
def test_a_request_that_cannot_be_read_is_400_and_not_logged(
    server: str, sfn: Any, head: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), _send(server, head, b"") as connection:
        assert connection.recv(4096).split(b"\r\n")[0].endswith(b" 400 Bad Request")
        assert "activities" in sfn.list_activities()
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_a_body_that_never_comes_is_request_timeout(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shorter than botocore's 60 s, for the test; S3's answer, as AWS's SDKs retry it.
    monkeypatch.setattr("runtime.service.wire.BODY_SECONDS", 0.5)
    with _send(server, LIST_ACTIVITIES, b"{") as connection:
        answer = connection.recv(4096).decode()
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400 ")
    assert json.loads(body)["__type"] == "RequestTimeout"


def test_a_wait_longer_than_a_year_is_a_definition_whose_run_fails(sfn: Any) -> None:
    # Seconds up to 99999999 is valid; a delay past a year fails the run as SecondsPath's
    # does (recorded against AWS, localstack test_wait): once a 500 at creation.
    wait = {"Type": "Wait", "Seconds": 99_999_999, "End": True}
    arn = _machine(sfn, "long", {"StartAt": "W", "States": {"W": wait}})
    described = _ended(sfn, sfn.start_execution(stateMachineArn=arn)["executionArn"])
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime")
    assert described["cause"].endswith("Wait state delay is too long.")
    tested = sfn.test_state(definition=json.dumps(wait), roleArn=ROLE, input="{}")
    assert (tested["status"], tested["error"]) == ("FAILED", "States.Runtime")
