"""Two `asl serve` processes on one `--db`: a server started while another runs leaves that
one's RUNNING executions to it (each runs once: its Task is invoked once, its history
written once); once the first is killed with SIGKILL, a server started after takes them
over and finishes them, and a server already running takes one over when asked to stop
it. StopExecution of a
live server's execution sent to another is refused, saying where to send it."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_serve_durable_kill import (
    BOUND,
    ROLE,
    _client,
    _ended,
    _history,
    _kill,
    _serve,
)
from tests.polling import until

#: Long enough for a second server to start while the execution waits.
WAIT_SECONDS = 4
WAIT = {
    "StartAt": "W",
    "States": {
        "W": {"Type": "Wait", "Seconds": WAIT_SECONDS, "Next": "Done"},
        "Done": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "count", "Payload": {"sleep": 0}},
            "OutputPath": "$.Payload",
            "End": True,
        },
    },
}
HANDLERS = """
import pathlib
import time


def count(event, context):
    with (pathlib.Path(__file__).parent / "calls").open("a") as out:
        out.write("call\\n")
    time.sleep(event["sleep"])
    return "waited"
"""
#: An execution in its Task when the second server starts: a server that resumed it
#: would invoke the function again (an in-flight Task is re-invoked).
SLOW = {
    "StartAt": "Slow",
    "States": {
        "Slow": WAIT["States"]["Done"]
        | {"Parameters": {"FunctionName": "count", "Payload": {"sleep": WAIT_SECONDS}}}
    },
}
LONG_WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}


def _stop(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGTERM)
    server.wait(BOUND)


def _once(sfn: Any, arn: str) -> list[str]:
    """The history's event types, after checking its ids run unbroken from 1."""
    events = _history(sfn, arn)
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    return [e["type"] for e in events]


def _machine(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    made = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return str(made["stateMachineArn"])


def _functions(folder: Path) -> None:
    (folder / "handlers.py").write_text(HANDLERS)
    (folder / "functions.json").write_text(
        json.dumps({"functions": {"count": {"handler": "handlers:count", "timeout": 30}}})
    )


def _calls(folder: Path) -> int:
    return len((folder / "calls").read_text().splitlines())


def test_a_second_server_leaves_a_live_servers_executions_to_it(tmp_path: Path) -> None:
    _functions(tmp_path)
    first, port = _serve(tmp_path)
    second = None
    try:
        sfn = _client(port)
        machine = _machine(sfn, "slow", SLOW)
        arn = sfn.start_execution(stateMachineArn=machine, name="once")["executionArn"]
        until(lambda: (tmp_path / "calls").exists(), BOUND)
        second, other_port = _serve(tmp_path)  # answers only once its start-up recovery ran
        ended = _ended(sfn, arn)
        assert ended["status"] == "SUCCEEDED", (ended.get("error"), ended.get("cause"))
        assert json.loads(ended["output"]) == "waited"
        types = _once(sfn, arn)
        assert types.count("TaskScheduled") == types.count("ExecutionSucceeded") == 1
        assert _once(_client(other_port), arn) == types  # the file holds one history
        assert _calls(tmp_path) == 1
    finally:
        _stop(first)
        if second is not None:
            _stop(second)


def test_a_killed_servers_executions_go_to_the_next_server_started(tmp_path: Path) -> None:
    _functions(tmp_path)
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machines = {"wait": _machine(sfn, "wait", WAIT), "long": _machine(sfn, "long", LONG_WAIT)}
        arn = sfn.start_execution(stateMachineArn=machines["wait"], name="moved")["executionArn"]
        second, second_port = _serve(tmp_path)
    except BaseException:
        _kill(first)
        raise
    try:
        # The second server's own execution stays its own after the kill.
        kept = _client(second_port).start_execution(stateMachineArn=machines["long"], name="kept")[
            "executionArn"
        ]
        _kill(first)
        third, third_port = _serve(tmp_path)
        try:
            sfn = _client(third_port)
            ended = _ended(sfn, arn)
            assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", "waited")
            assert _once(sfn, arn).count("ExecutionSucceeded") == 1
            assert _calls(tmp_path) == 1
            # The third server does not run it, so it cannot stop it; the second can.
            with pytest.raises(sfn.exceptions.ValidationException, match="another asl serve"):
                sfn.stop_execution(executionArn=kept, error="Mine", cause="not the third's")
            assert sfn.describe_execution(executionArn=kept)["status"] == "RUNNING"
        finally:
            _stop(third)
        second_sfn = _client(second_port)
        second_sfn.stop_execution(executionArn=kept, error="Mine", cause="the second's")
        stopped = second_sfn.describe_execution(executionArn=kept)
        assert (stopped["status"], stopped["error"]) == ("ABORTED", "Mine")
    finally:
        _stop(second)


def test_stop_execution_on_a_server_takes_over_a_dead_servers_execution(tmp_path: Path) -> None:
    _functions(tmp_path)
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machine = _machine(sfn, "long", LONG_WAIT)
        arn = sfn.start_execution(stateMachineArn=machine, name="orphan")["executionArn"]
        second, second_port = _serve(tmp_path)
    finally:
        _kill(first)
    try:
        sfn = _client(second_port)
        sfn.stop_execution(executionArn=arn, error="Gone", cause="its server died")
        stopped = sfn.describe_execution(executionArn=arn)
        assert (stopped["status"], stopped["error"]) == ("ABORTED", "Gone")
        assert _once(sfn, arn)[-1] == "ExecutionAborted"
    finally:
        _stop(second)
