"""`asl serve --db FILE` as a subprocess, driven by the AWS CLI (`awscli` from PyPI) as a
subprocess: the settings a Step Functions Local user has (AWS_DEFAULT_REGION,
AWS_ACCOUNT_ID), the CLI's `--endpoint-url` and AWS_DISABLE_HOST_PREFIX_INJECTION; a task
token waited for and approved, the CLI's own pagination, TestState, RedriveExecution,
StartSyncExecution, errors; and a clean stop on SIGTERM.

The AWS CLI prints a service's error on stderr as "An error occurred (<Code>) when calling
the <Operation> operation: <Message>". Version 1 (`awscli` on PyPI, used here) exits 255
on it; version 2 documents 254 for a service error (AWS CLI User Guide, "Command line
return codes"), 255 for the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_serve_durable_kill import TOKEN  # its `hold` function writes the token
from tests.polling import until
from tests.serving import announced_port

# One `asl serve` process for the module: its tests run on one xdist worker.
pytestmark = pytest.mark.xdist_group("serve_cli")

BOUND = 30.0  # seconds: every command here ends well before
ROOT = Path(__file__).resolve().parents[2]
SERVICE_ERROR = 255  # awscli v1's status for an error the service answered
ROLE = "arn:aws:iam::111122223333:role/r"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "End": True}}}


HANDLERS = """
import pathlib

HERE = pathlib.Path(__file__).parent


def hold(event, context):
    (HERE / "token").write_text(event["token"])
    return {}


def fail_once(event, context):
    calls = HERE / "fail_once.calls"
    first = not calls.exists()
    calls.write_text("called")
    if first:
        raise RuntimeError("first call fails")
    return {"second": True}
"""
FAIL_ONCE = {
    "StartAt": "Before",
    "States": {
        "Before": {"Type": "Pass", "Next": "Flaky"},
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "fail_once"},
            "OutputPath": "$.Payload",
            "End": True,
        },
    },
}


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    folder = tmp_path_factory.mktemp("served")
    (folder / "handlers.py").write_text(HANDLERS)
    functions = {"hold": "handlers:hold", "fail_once": "handlers:fail_once"}
    (folder / "functions.json").write_text(json.dumps({"functions": functions}))
    environment = {
        **os.environ,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCOUNT_ID": "111122223333",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", "--port", "0", "--clock", "virtual",
         "--db", "state.sqlite3", "--functions", "functions.json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, cwd=folder,
    )  # fmt: skip
    assert server.stdout is not None
    port = announced_port(server.stdout.readline())
    yield f"http://127.0.0.1:{port}", server, folder
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


def _machine(url: str, folder: Path, name: str, definition: dict[str, Any]) -> str:
    (folder / f"{name}.json").write_text(json.dumps(definition))
    made = _ok(aws(url, folder, "create-state-machine", "--name", name, "--role-arn", ROLE,
                   "--definition", f"file://{name}.json"))  # fmt: skip
    return str(made["stateMachineArn"])


def _ended(url: str, folder: Path, arn: str) -> dict[str, Any]:
    deadline = time.monotonic() + BOUND
    while (described := _ok(aws(url, folder, "describe-execution", "--execution-arn", arn)))[
        "status"
    ] == "RUNNING":
        assert time.monotonic() < deadline, "still running"
        time.sleep(0.1)
    return dict(described)


def test_the_aws_cli_creates_starts_and_reads_executions(
    served: tuple[str, subprocess.Popen[str], Path], tmp_path: Path
) -> None:
    url, _, _ = served
    (tmp_path / "pass.json").write_text(json.dumps(PASS))
    create = ("create-state-machine", "--definition", "file://pass.json", "--role-arn", ROLE)
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
    assert missing.returncode == SERVICE_ERROR
    assert (
        "An error occurred (ExecutionDoesNotExist) when calling the DescribeExecution "
        f"operation: Execution Does Not Exist: '{started['executionArn']}-none'"
    ) in missing.stderr
    wrong = aws(url, tmp_path, "describe-execution", "--execution-arn", "no-arn")
    assert wrong.returncode == SERVICE_ERROR
    assert "(InvalidArn)" in wrong.stderr
    assert "Invalid Arn: 'Invalid ARN prefix: no-arn'" in wrong.stderr


def test_the_aws_cli_waits_for_a_task_token_and_approves_it(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    url, _, folder = served
    machine = _machine(url, folder, "token", TOKEN)
    started = _ok(aws(url, folder, "start-execution", "--state-machine-arn", machine))
    arn = started["executionArn"]
    deadline = time.monotonic() + BOUND
    while not (folder / "token").exists():
        assert time.monotonic() < deadline, "the function never ran"
        time.sleep(0.05)
    events = _ok(aws(url, folder, "get-execution-history", "--execution-arn", arn))["events"]
    scheduled = next(e for e in events if e["type"] == "TaskScheduled")
    parameters = json.loads(scheduled["taskScheduledEventDetails"]["parameters"])
    token = parameters["Payload"]["token"]
    assert token == (folder / "token").read_text()
    approve = ("send-task-success", "--task-token", token, "--task-output", '{"approved": true}')
    assert _ok(aws(url, folder, *approve)) is None  # an empty answer: the CLI prints nothing
    ended = _ended(url, folder, arn)
    assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", {"approved": True})
    newest = _ok(aws(url, folder, "get-execution-history", "--execution-arn", arn,
                     "--reverse-order", "--max-items", "2"))  # fmt: skip
    assert [e["type"] for e in newest["events"]] == ["ExecutionSucceeded", "TaskStateExited"]
    again = aws(url, folder, *approve)
    assert again.returncode == SERVICE_ERROR and "(TaskTimedOut)" in again.stderr


def test_the_aws_cli_pages_through_list_executions(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    url, _, folder = served
    machine = _machine(url, folder, "listed", PASS)
    names = ["one", "two", "three"]
    for name in names:
        _ok(aws(url, folder, "start-execution", "--state-machine-arn", machine, "--name", name))
    listing = ("list-executions", "--state-machine-arn", machine, "--max-items", "2")
    first = _ok(aws(url, folder, *listing))
    assert len(first["executions"]) == 2 and "NextToken" in first
    rest = _ok(aws(url, folder, *listing, "--starting-token", first["NextToken"]))
    assert "NextToken" not in rest
    listed = [e["name"] for e in first["executions"] + rest["executions"]]
    assert listed == list(reversed(names))  # newest first, as AWS lists them


def test_the_aws_cli_redrives_a_failed_execution(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    url, _, folder = served
    machine = _machine(url, folder, "redriven", FAIL_ONCE)
    arn = _ok(aws(url, folder, "start-execution", "--state-machine-arn", machine))["executionArn"]
    failed = _ended(url, folder, arn)
    assert (failed["status"], failed["redriveStatus"]) == ("FAILED", "REDRIVABLE")
    answer = _ok(aws(url, folder, "redrive-execution", "--execution-arn", arn))
    assert set(answer) == {"redriveDate"}
    ended = _ended(url, folder, arn)
    assert (ended["status"], ended["redriveCount"]) == ("SUCCEEDED", 1)
    assert json.loads(ended["output"]) == {"second": True}
    again = aws(url, folder, "redrive-execution", "--execution-arn", arn)
    assert again.returncode == SERVICE_ERROR and "(ExecutionNotRedrivable)" in again.stderr


def test_the_aws_cli_tests_a_state(served: tuple[str, subprocess.Popen[str], Path]) -> None:
    url, _, folder = served
    state = {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, 1)"}, "End": True}
    tested = _ok(aws(url, folder, "test-state", "--definition", json.dumps(state),
                     "--role-arn", ROLE, "--input", '{"a": 41}'))  # fmt: skip
    assert (tested["status"], json.loads(tested["output"])) == ("SUCCEEDED", {"sum": 42})


def test_sigterm_stops_the_server_cleanly(
    served: tuple[str, subprocess.Popen[str], Path],
) -> None:
    _, server, _ = served
    server.send_signal(signal.SIGTERM)
    assert server.wait(BOUND) == 0
    assert server.stderr is not None and "Traceback" not in server.stderr.read()


#: A handler module whose import (while the server builds its integrations) says it
#: started, then holds the start-up until the test lets it go.
HELD_START = """
import pathlib
import time

HERE = pathlib.Path(__file__).parent
(HERE / "starting").write_text("")
for _ in range(3000):  # bounded: 30 s
    if (HERE / "go").exists():
        break
    time.sleep(0.01)


def f(event, context):
    return event
"""


def _starting(folder: Path, *options: str, python: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """``asl serve`` of this tree on a free port, in memory, started in ``folder`` with
    ``options`` (and the interpreter with ``python``)."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [sys.executable, *python, "-m", "runtime.cli", "serve", "--port", "0",
         "--db", ":memory:", *options],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder,
        env=os.environ | {"PYTHONPATH": path},
    )  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_before_the_server_is_ready_stops_it_cleanly(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """Ctrl+C or SIGTERM while the server starts: exit 0 saying it stopped, as once serving
    (the README: "Ctrl+C or SIGTERM stops it (exit 0)"); it ended with 130 or 143, or
    started serving all the same."""
    (tmp_path / "held.py").write_text(HELD_START)
    (tmp_path / "functions.json").write_text(json.dumps({"functions": {"f": "held:f"}}))
    server = _starting(tmp_path, "--functions", "functions.json")
    try:
        until(lambda: (tmp_path / "starting").exists(), BOUND)
        server.send_signal(signum)
        (tmp_path / "go").write_text("")
        out, err = server.communicate(timeout=BOUND)
    finally:
        server.kill()
    assert server.returncode == 0, err
    assert err.splitlines()[-1] == "asl serve: stopped", err
    assert "Traceback" not in err
    assert "Step Functions API on" not in out  # it never served


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_command_is_imported_stops_it_quietly(
    tmp_path: Path, signum: signal.Signals
) -> None:
    """Ctrl+C or SIGTERM in the first fifth of a second, while the command's modules are
    still imported: it printed a KeyboardInterrupt's traceback (SIGINT) or ended
    unannounced (SIGTERM); now it stops as a later signal does, exit 0 saying so. Python's
    ``-X importtime`` tells when typer (the first of the command's imports) is in: the
    signal is sent then, and a few small delays after. (Sooner, while the interpreter
    itself starts, before any code of ours runs, its own handling applies.)"""
    for delay in (0.0, 0.02, 0.05):
        server = _starting(tmp_path, python=("-X", "importtime"))
        guard = threading.Timer(BOUND, server.kill)  # the reads below end by then
        guard.start()
        try:
            assert server.stderr is not None
            imported = iter(server.stderr.readline, "")
            seen = next(line for line in imported if line.split("|")[-1].strip() == "typer")
            time.sleep(delay)
            server.send_signal(signum)
            _, err = server.communicate(timeout=BOUND)
        finally:
            guard.cancel()
            server.kill()
        assert seen and "Traceback" not in err, err
        assert server.returncode == 0 and "asl serve: stopped" in err.splitlines(), err


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    # It reached the socket's bind and ended in an OverflowError's traceback (exit 1).
    done = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "serve", "--port", port, "--db", ":memory:"],
        capture_output=True, text=True, timeout=BOUND, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--port'" in done.stderr
    assert "Traceback" not in done.stderr
