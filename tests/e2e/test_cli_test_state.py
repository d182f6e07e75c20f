"""`asl test-state` as a user runs it: a subprocess, real files, TestState's response
printed as JSON, and the exit status a CI job reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RETRY = {
    "QueryLanguage": "JSONata",
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Arguments": {"FunctionName": "foo", "Payload": "bar"},
    "Retry": [{"ErrorEquals": ["MockException"], "MaxAttempts": 5, "BackoffRate": 2}],
    "End": True,
}
MACHINE = {
    "StartAt": "State0",
    "States": {
        "State0": {"Type": "Pass", "Next": "State1"},
        "State1": {"Type": "Fail", "Error": "SomeFailure", "Cause": "it failed"},
    },
}


def asl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "test-state", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_state_of_a_machine_at_debug(tmp_path: Path) -> None:
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(MACHINE))
    proc = asl(str(definition), "--state-name", "State0", "--input", '{"a": 1}',
               "--inspection-level", "DEBUG")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    response = json.loads(proc.stdout)
    assert (response["status"], response["nextState"]) == ("SUCCEEDED", "State1")
    assert json.loads(response["output"]) == {"a": 1}
    assert json.loads(response["inspectionData"]["input"]) == {"a": 1}


def test_a_failed_state_exits_1_unless_expected(tmp_path: Path) -> None:
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(MACHINE))
    failed = asl(str(definition), "--state-name", "State1")
    assert failed.returncode == 1
    assert json.loads(failed.stdout) == {
        "status": "FAILED",
        "error": "SomeFailure",
        "cause": "it failed",
    }
    assert (
        asl(str(definition), "--state-name", "State1", "--expect-status", "FAILED").returncode == 0
    )
    assert (
        asl(str(definition), "--state-name", "State0", "--expect-status", "FAILED").returncode == 1
    )


def test_a_mock_from_a_file_and_a_retriable_status(tmp_path: Path) -> None:
    definition = tmp_path / "task.json"
    definition.write_text(json.dumps(RETRY))
    mock = tmp_path / "mock.json"
    mock.write_text(json.dumps({"errorOutput": {"error": "MockException", "cause": "c"}}))
    proc = asl(str(definition), "--mock", f"@{mock}", "--inspection-level", "DEBUG",
               "--state-configuration", '{"retrierRetryCount": 2}')  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    response = json.loads(proc.stdout)
    assert response["status"] == "RETRIABLE"
    assert response["inspectionData"]["errorDetails"] == {
        "retryIndex": 0,
        "retryBackoffIntervalSeconds": 4,
    }


def test_a_request_aws_refuses_exits_2(tmp_path: Path) -> None:
    definition = tmp_path / "pass.json"
    definition.write_text(json.dumps({"Type": "Pass", "End": True}))
    proc = asl(str(definition), "--mock", '{"result": "{}"}')
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "asl test-state: ValidationException: State type 'Pass' is not supported when a mock "
        "is specified"
    )
    assert asl(str(tmp_path / "missing.json")).returncode == 2
    assert asl(str(definition), "--input", "{not json").returncode == 2
