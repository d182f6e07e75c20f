"""`asl serve` as a subprocess, driven by the AWS CLI (`awscli` from PyPI) as a subprocess:
the settings a Step Functions Local user has (AWS_DEFAULT_REGION, AWS_ACCOUNT_ID), the
CLI's `--endpoint-url` and AWS_DISABLE_HOST_PREFIX_INJECTION, and a clean stop on
SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BOUND = 30.0  # seconds: every command here ends well before
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCOUNT_ID": "111122223333",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", "--port", str(port), "--clock", "virtual",
         "--db", ":memory:"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )  # fmt: skip
    assert server.stdout is not None
    announced = server.stdout.readline()
    assert f"Step Functions API on http://127.0.0.1:{port}" in announced, announced
    yield f"http://127.0.0.1:{port}", server
    if server.poll() is None:
        server.kill()
        server.wait(BOUND)


def aws(url: str, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The AWS CLI against the server, with nothing of the user's own configuration."""
    environment = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": str(folder / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(folder / "no-credentials"),
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }
    command = [sys.executable, "-m", "awscli", "stepfunctions", *args, "--endpoint-url", url]
    return subprocess.run(
        [*command, "--output", "json"],
        capture_output=True, text=True, timeout=BOUND, env=environment, cwd=folder,
    )  # fmt: skip


def _ok(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_the_aws_cli_creates_starts_and_reads_executions(
    served: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    url, _ = served
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    role = "arn:aws:iam::111122223333:role/r"
    create = ("create-state-machine", "--definition", "file://pass.json", "--role-arn", role)
    made = _ok(aws(url, tmp_path, *create, "--name", "cli"))
    assert made["stateMachineArn"] == "arn:aws:states:eu-west-1:111122223333:stateMachine:cli"
    start = ("start-execution", "--state-machine-arn", made["stateMachineArn"])
    started = _ok(aws(url, tmp_path, *start, "--name", "first", "--input", '{"a": 1}'))
    described = _ok(
        aws(url, tmp_path, "describe-execution", "--execution-arn", started["executionArn"])
    )
    assert described["status"] in ("RUNNING", "SUCCEEDED")
    history = _ok(aws(url, tmp_path, "get-execution-history", "--execution-arn",
                      started["executionArn"], "--reverse-order", "--max-items", "1"))  # fmt: skip
    assert [e["type"] for e in history["events"]] == ["ExecutionSucceeded"]
    assert "NextToken" in history  # the CLI's own pagination over the API's nextToken

    express = _ok(aws(url, tmp_path, *create, "--name", "cli-express", "--type", "EXPRESS"))
    synced = _ok(aws(url, tmp_path, "start-sync-execution", "--state-machine-arn",
                     express["stateMachineArn"], "--input", "{}"))  # fmt: skip
    assert (synced["status"], json.loads(synced["output"])) == ("SUCCEEDED", {"ok": True})

    missing = aws(url, tmp_path, "describe-execution", "--execution-arn",
                  started["executionArn"] + "-none")  # fmt: skip
    assert missing.returncode != 0 and "(ExecutionDoesNotExist)" in missing.stderr
    wrong = aws(url, tmp_path, "describe-execution", "--execution-arn", "no-arn")
    assert "Invalid Arn: 'Invalid ARN prefix: no-arn'" in wrong.stderr


def test_sigterm_stops_the_server_cleanly(served: tuple[str, subprocess.Popen[str]]) -> None:
    _, server = served
    server.send_signal(signal.SIGTERM)
    assert server.wait(BOUND) == 0
    assert server.stderr is not None and "Traceback" not in server.stderr.read()
