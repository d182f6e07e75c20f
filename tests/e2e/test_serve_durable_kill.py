"""`asl serve --db FILE` killed with SIGKILL while executions wait on a Wait, a task token
(a local function's `.waitForTaskToken`) and a retry backoff: a server restarted on the
same file recovers them, SendTaskSuccess reaches the token issued before the kill, and
boto3 sees each execution complete once, its history whole and its ids unbroken. An
activity task a worker took (GetActivityTask) before the kill is answered with its token
after the restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.polling import until
from tests.serving import announced_port

ROOT = Path(__file__).resolve().parents[2]
BOUND = 30.0  # seconds: every wait here ends well before
ROLE = "arn:aws:iam::123456789012:role/r"

HANDLERS = """
import pathlib

HERE = pathlib.Path(__file__).parent


def hold(event, context):
    (HERE / "token").write_text(event["token"])
    return {}


def flaky(event, context):
    calls = HERE / "flaky.calls"
    count = len(calls.read_text().splitlines()) if calls.exists() else 0
    with calls.open("a") as out:
        out.write("call\\n")
    if count == 0:
        raise RuntimeError("first call fails")
    return {"calls": count + 1}
"""

WAIT = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": 3, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "waited", "End": True},
    },
}
TOKEN = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "hold", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}
RETRY = {
    "StartAt": "Flaky",
    "States": {
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "flaky"},
            "OutputPath": "$.Payload",
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 3, "MaxAttempts": 2}],
            "End": True,
        }
    },
}


def _serve(folder: Path) -> tuple[subprocess.Popen[str], int]:
    """The server on ``folder``'s database, and the port it chose."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    server = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", "--port", "0",
         "--db", str(folder / "state.sqlite3"), "--functions", "functions.json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
        env=os.environ | {"PYTHONPATH": path},
    )  # fmt: skip
    assert server.stdout is not None
    announced = server.stdout.readline()
    assert "Step Functions API on" in announced, server.stderr.read() if server.stderr else ""
    return server, announced_port(announced)


def _client(port: int) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 1}),
    )


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def test_a_killed_server_restarted_on_its_db_completes_every_execution(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    functions = {"functions": {"hold": "handlers:hold", "flaky": "handlers:flaky"}}
    (tmp_path / "functions.json").write_text(json.dumps(functions))
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machines: dict[str, str] = {}
        started: dict[str, str] = {}
        for name, definition in (("wait", WAIT), ("token", TOKEN), ("retry", RETRY)):
            made = sfn.create_state_machine(
                name=name, definition=json.dumps(definition), roleArn=ROLE
            )
            machines[name] = made["stateMachineArn"]
            begun = sfn.start_execution(stateMachineArn=machines[name], name=f"{name}-1")
            started[name] = begun["executionArn"]
        until(lambda: (tmp_path / "token").exists(), BOUND)
        until(
            lambda: any(e["type"] == "TaskFailed" for e in _history(sfn, started["retry"])), BOUND
        )
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(BOUND)
    assert first.returncode == -signal.SIGKILL

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        running = sfn.describe_execution(executionArn=started["token"])
        assert running["status"] == "RUNNING"
        token = (tmp_path / "token").read_text()
        sfn.send_task_success(taskToken=token, output=json.dumps({"approved": True}))
        statuses = lambda: [  # noqa: E731
            sfn.describe_execution(executionArn=arn)["status"] for arn in started.values()
        ]
        until(lambda: statuses() == ["SUCCEEDED"] * 3, BOUND)
        outputs = {
            name: json.loads(sfn.describe_execution(executionArn=arn)["output"])
            for name, arn in started.items()
        }
        assert outputs == {"wait": "waited", "token": {"approved": True}, "retry": {"calls": 2}}
        for name, arn in started.items():
            listed = sfn.list_executions(stateMachineArn=machines[name])["executions"]
            assert [e["executionArn"] for e in listed] == [arn]
            events = _history(sfn, arn)
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            types = [e["type"] for e in events]
            assert types.count("ExecutionStarted") == types.count("ExecutionSucceeded") == 1
        token_types = [e["type"] for e in _history(sfn, started["token"])]
        assert token_types.count("TaskScheduled") == 1  # the function was not invoked again
        retry_types = [e["type"] for e in _history(sfn, started["retry"])]
        assert retry_types.count("TaskFailed") == 1 and retry_types.count("TaskSucceeded") == 1
        assert len((tmp_path / "flaky.calls").read_text().splitlines()) == 2
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(BOUND)


def test_an_activity_task_taken_before_a_kill_is_answered_after_the_restart(
    tmp_path: Path,
) -> None:
    (tmp_path / "functions.json").write_text(json.dumps({"functions": {}}))
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        activity = sfn.create_activity(name="approve")["activityArn"]
        task = {"Type": "Task", "Resource": activity, "End": True}
        definition = {"StartAt": "Approve", "States": {"Approve": task}}
        machine = sfn.create_state_machine(
            name="activity", definition=json.dumps(definition), roleArn=ROLE
        )["stateMachineArn"]
        arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')["executionArn"]
        taken = sfn.get_activity_task(activityArn=activity, workerName="w1")
        assert json.loads(taken["input"]) == {"n": 1}
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(BOUND)

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        sfn.send_task_success(taskToken=taken["taskToken"], output='{"approved": true}')
        until(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", BOUND)
        ended = sfn.describe_execution(executionArn=arn)
        assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", {"approved": True})
        types = [e["type"] for e in _history(sfn, arn)]
        assert types == [
            "ExecutionStarted",
            "TaskStateEntered",
            "ActivityScheduled",
            "ActivityStarted",
            "ActivitySucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ]
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(BOUND)
