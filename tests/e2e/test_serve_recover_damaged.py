"""`asl serve --db FILE` restarted on a file whose executions cannot all be resumed.

A server is killed (SIGKILL) with executions parked on a Wait and on a task token; the
file is then damaged with sqlite3: one execution's input is no JSON text, one's journaled
answers are garbage, one's first state event was edited (its replay diverges), and the
revision of one's state machine is gone. The restarted server starts all the same: the
intact execution is resumed, and each damaged one has ended FAILED (``States.Runtime``, a
cause saying what is wrong; AWS keeps no damaged rows, so the words are ours), its
ExecutionFailed the last event of its history, said on one line of the server's log with
no traceback, and not taken up again by the next start.

AWS's rules still hold for them: a FAILED Standard execution is redrivable (the
RedriveExecution API reference), and a redrive that cannot resume it fails it again.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
from functools import partial
from pathlib import Path
from typing import Any

from tests.e2e.test_serve_durable_kill import (
    BOUND,
    HANDLERS,
    LONG_WAIT,
    ROLE,
    TOKEN,
    _client,
    _history,
    _kill,
    _serve,
)
from tests.polling import until

PREFIX = "arn:aws:states:us-east-1:123456789012:execution:"
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:{}"
#: Each damaged execution, by ARN, and what its cause says.
DAMAGED = {
    f"{PREFIX}wait:bad-input": "its stored input is not JSON text",
    f"{PREFIX}wait:diverged": "its event 2 was PassStateEntered",
    f"{PREFIX}token:bad-answer": "its journal's answer",
    f"{PREFIX}gone:no-revision": f"of its state machine {MACHINE.format('gone')} is not kept",
}


def _start_parked(folder: Path) -> str:
    """Start every execution of the test on a server, each parked; kill it. The intact
    execution's ARN."""
    server, port = _serve(folder)
    try:
        sfn = _client(port)
        arns = {}
        for name, definition in (("wait", LONG_WAIT), ("token", TOKEN), ("gone", LONG_WAIT)):
            arns[name] = sfn.create_state_machine(
                name=name, definition=json.dumps(definition), roleArn=ROLE
            )["stateMachineArn"]
        for machine, name in (
            ("wait", "good"),
            ("wait", "bad-input"),
            ("wait", "diverged"),
            ("token", "bad-answer"),
            ("gone", "no-revision"),
        ):
            sfn.start_execution(stateMachineArn=arns[machine], name=name, input='{"n": 1}')
        until(lambda: (folder / "token").exists(), BOUND)
        for arn in (f"{PREFIX}wait:good", *DAMAGED):
            until(partial(_parked, sfn, arn), BOUND)
    finally:
        _kill(server)
    return f"{PREFIX}wait:good"


def _parked(sfn: Any, arn: str) -> bool:
    """Whether the execution waits on its Wait or its task token."""
    return _history(sfn, arn)[-1]["type"] in ("WaitStateEntered", "TaskSubmitted")


def _damage(db: Path) -> None:
    def history(arn: str) -> str:
        return f"(SELECT rowid FROM executions WHERE arn = '{arn}')"

    with sqlite3.connect(db) as tampered:
        tampered.execute(
            "UPDATE executions SET input = '{\"n\": ' WHERE arn = ?", (f"{PREFIX}wait:bad-input",)
        )
        tampered.execute(
            "UPDATE events SET type = 'PassStateEntered' WHERE id = 2 AND history = "
            + history(f"{PREFIX}wait:diverged")
        )
        tampered.execute(
            "UPDATE journal SET answer = 'garbage' WHERE history = "
            + history(f"{PREFIX}token:bad-answer")
        )
        tampered.execute("DELETE FROM machines WHERE name = 'gone'")


def _stopped(server: subprocess.Popen[str]) -> str:
    """Stop the server; what it wrote to its standard error."""
    server.send_signal(signal.SIGTERM)
    server.wait(BOUND)
    assert server.stderr is not None
    return server.stderr.read()


def _failed(sfn: Any, arn: str) -> dict[str, Any]:
    described = sfn.describe_execution(executionArn=arn)
    assert (described["status"], described["error"]) == ("FAILED", "States.Runtime"), arn
    assert described["cause"].startswith("Execution cannot be resumed: ")
    return dict(described)


def test_a_restarted_server_resumes_what_it_can_and_fails_the_rest_once(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tmp_path / "functions.json").write_text(json.dumps({"functions": {"hold": "handlers:hold"}}))
    good = _start_parked(tmp_path)
    _damage(tmp_path / "state.sqlite3")

    second, port = _serve(tmp_path)  # announced: it started, having recovered what it could
    try:
        sfn = _client(port)
        assert sfn.describe_execution(executionArn=good)["status"] == "RUNNING"
        assert _history(sfn, good)[-1]["type"] == "WaitStateEntered"
        for arn, because in DAMAGED.items():
            described = _failed(sfn, arn)
            assert because in described["cause"], (arn, described["cause"])
            assert described["redriveStatus"] == "REDRIVABLE"
            events = _history(sfn, arn)
            assert [e["id"] for e in events] == list(range(1, len(events) + 1))
            assert events[-1]["type"] == "ExecutionFailed"
            assert events[-1]["executionFailedEventDetails"] == {
                "error": "States.Runtime",
                "cause": described["cause"],
            }
        listed = sfn.list_executions(stateMachineArn=MACHINE.format("wait"))
        statuses = {e["name"]: e["status"] for e in listed["executions"]}
        assert statuses == {"good": "RUNNING", "bad-input": "FAILED", "diverged": "FAILED"}
        redriven = f"{PREFIX}wait:bad-input"
        sfn.redrive_execution(executionArn=redriven)
        until(lambda: sfn.describe_execution(executionArn=redriven)["status"] != "RUNNING", BOUND)
        assert _failed(sfn, redriven)["redriveCount"] == 1
        types = [e["type"] for e in _history(sfn, redriven)]
        assert types[-3:] == ["ExecutionFailed", "ExecutionRedriven", "ExecutionFailed"]
    finally:
        said = _stopped(second)
    assert "Traceback" not in said
    for arn in DAMAGED:
        mentions = [line for line in said.splitlines() if arn in line]
        assert len(mentions) == (2 if arn == redriven else 1), (arn, said)

    third, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        assert sfn.describe_execution(executionArn=good)["status"] == "RUNNING"
        for arn in DAMAGED:
            _failed(sfn, arn)
    finally:
        said = _stopped(third)
    assert not any(arn in said for arn in DAMAGED)  # ended: not taken up again
