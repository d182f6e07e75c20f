"""`asl serve --db FILE` killed with SIGKILL while executions wait on a Wait, a task token
(a local function's `.waitForTaskToken`) and a retry backoff: a server restarted on the
same file recovers them, SendTaskSuccess reaches the token issued before the kill, and
boto3 sees each execution complete once, its history whole and its ids unbroken. An
activity task a worker took (GetActivityTask) before the kill is answered with its token
after the restart; a token whose execution ended, before the kill or after the restart,
is answered AWS's ``TaskTimedOut``. A Distributed Map cut by the kill resumes and
processes each item once; its Map Run and child executions answer after a second kill
as they did before it. Many StartExecution calls made at once (their starts committed
together, a group commit) each survive a kill that comes as soon as the last of them was
answered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from runtime.store.errors import TASK_TIMED_OUT_MESSAGE
from tests.polling import until
from tests.serving import announced_port, sfn_client
from tests.serving import ended as _ended

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


def count(event, context):
    with (HERE / "items").open("a") as out:
        out.write(f"{event}\\n")
    return event
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

#: A machine whose executions are still waiting when the server is killed.
LONG_WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}
STARTS = 32


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
    return sfn_client(f"http://127.0.0.1:{port}")


def _kill(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGKILL)
    server.wait(BOUND)


def _history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return list(sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"])


def _functions(folder: Path, *names: str) -> None:
    """HANDLERS in ``folder``, its functions ``names`` in its functions.json."""
    (folder / "handlers.py").write_text(HANDLERS)
    functions = {"functions": {name: f"handlers:{name}" for name in names}}
    (folder / "functions.json").write_text(json.dumps(functions))


def _machine(sfn: Any, name: str, definition: dict[str, Any]) -> str:
    made = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)
    return str(made["stateMachineArn"])


def test_a_killed_server_restarted_on_its_db_completes_every_execution(tmp_path: Path) -> None:
    _functions(tmp_path, "hold", "flaky")
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machines: dict[str, str] = {}
        started: dict[str, str] = {}
        for name, definition in (("wait", WAIT), ("token", TOKEN), ("retry", RETRY)):
            machines[name] = _machine(sfn, name, definition)
            begun = sfn.start_execution(stateMachineArn=machines[name], name=f"{name}-1")
            started[name] = begun["executionArn"]
        until(lambda: (tmp_path / "token").exists(), BOUND)
        until(
            lambda: any(e["type"] == "TaskFailed" for e in _history(sfn, started["retry"])), BOUND
        )
    finally:
        _kill(first)
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
        machine = _machine(sfn, "activity", definition)
        arn = sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')["executionArn"]
        taken = sfn.get_activity_task(activityArn=activity, workerName="w1")
        assert json.loads(taken["input"]) == {"n": 1}
    finally:
        _kill(first)

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        sfn.send_task_success(taskToken=taken["taskToken"], output='{"approved": true}')
        ended = _ended(sfn, arn)
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


#: A task token answered, then a Wait the server is killed in.
ASK_THEN_WAIT = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "hold", "Payload": {"token.$": "$$.Task.Token"}},
            "Next": "W",
        },
        "W": {"Type": "Wait", "Seconds": 3, "End": True},
    },
}


def _answered_token(sfn: Any, folder: Path, machine: str) -> tuple[str, str]:
    """An execution of ``machine`` started, and the token it waits on answered."""
    (folder / "token").unlink(missing_ok=True)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    until(lambda: (folder / "token").exists(), BOUND)
    token = (folder / "token").read_text()
    # Answered at once, maybe before the wait on it is recorded: the answer is kept for it.
    sfn.send_task_success(taskToken=token, output='{"approved": true}')
    return arn, token


def _late_answers_time_out(sfn: Any, tokens: list[str]) -> None:
    """Each SendTask* of each token answered AWS's ``TaskTimedOut``."""
    for token in tokens:
        for operation, members in (
            ("send_task_success", {"output": "{}"}),
            ("send_task_failure", {"error": "Late"}),
            ("send_task_heartbeat", {}),
        ):
            with pytest.raises(sfn.exceptions.TaskTimedOut) as refused:
                getattr(sfn, operation)(taskToken=token, **members)
            assert refused.value.response["Error"]["Message"] == TASK_TIMED_OUT_MESSAGE


def test_tokens_of_executions_ended_before_or_after_a_restart_answer_task_timed_out(
    tmp_path: Path,
) -> None:
    """AWS answers ``TaskTimedOut`` for a token whose task is over (the SendTaskSuccess API
    reference: "the task associated with the token has already been closed"; recorded for a
    late answer with "Task Timed Out: 'Provided task does not exist anymore'" in
    github.com/andybalham/blog-task-tokens-part-2), whatever a server restart did meanwhile;
    a token no execution drew stays ``TaskDoesNotExist``, a malformed one ``InvalidToken``."""
    _functions(tmp_path, "hold")
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machines = {
            name: _machine(sfn, name, definition)
            for name, definition in (("token", TOKEN), ("ask-then-wait", ASK_THEN_WAIT))
        }
        ended_before, early = _answered_token(sfn, tmp_path, machines["token"])
        assert _ended(sfn, ended_before)["status"] == "SUCCEEDED"
        ended_after, late = _answered_token(sfn, tmp_path, machines["ask-then-wait"])
        until(lambda: _history(sfn, ended_after)[-1]["type"] == "WaitStateEntered", BOUND)
    finally:
        _kill(first)

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        assert _ended(sfn, ended_after)["status"] == "SUCCEEDED"  # its Wait resumed
        _late_answers_time_out(sfn, [early, late])
        with pytest.raises(sfn.exceptions.TaskDoesNotExist):
            sfn.send_task_success(taskToken="A" * 43, output="{}")
        with pytest.raises(sfn.exceptions.InvalidToken):
            sfn.send_task_heartbeat(taskToken="not a token")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(BOUND)


#: ASK_THEN_WAIT's Task (its ``Next`` replaced below).
_ASK: dict[str, Any] = ASK_THEN_WAIT["States"]["Ask"]  # type: ignore[index]
#: A task whose token is answered, then one whose token times out (caught), then a Wait
#: that outlasts the test: the execution runs on, its tasks over.
ASK_THEN_LINGER = {
    "StartAt": "Ask",
    "States": {
        "Ask": {**_ASK, "Next": "Again"},
        "Again": {
            **_ASK, "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Linger"}], "Next": "Linger",
        },
        "Linger": {"Type": "Wait", "Seconds": 600, "End": True},
    },
}  # fmt: skip


def test_tokens_of_a_running_execution_whose_tasks_are_over_answer_task_timed_out(
    tmp_path: Path,
) -> None:
    """AWS answers ``TaskTimedOut``, "Task Timed Out: 'Provided task does not exist
    anymore'", for a token whose task is over while its execution runs on: answered once
    already (aws-samples/amazon-mwaa-examples#61: "a taskToken can only be used once") or
    timed out (andybalham/blog-task-tokens-part-2). The server answers so before a restart
    and after one, once it has recovered the execution (which no longer waits on them)."""
    _functions(tmp_path, "hold")
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machine = _machine(sfn, "linger", ASK_THEN_LINGER)
        arn, answered = _answered_token(sfn, tmp_path, machine)
        until(lambda: (tmp_path / "token").read_text() != answered, BOUND)
        timed_out = (tmp_path / "token").read_text()
        until(lambda: _history(sfn, arn)[-1]["type"] == "WaitStateEntered", BOUND)
        _late_answers_time_out(sfn, [answered, timed_out])
    finally:
        _kill(first)

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        _late_answers_time_out(sfn, [answered, timed_out])
        assert sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(BOUND)


FAN_OUT = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Count",
                "States": {
                    "Count": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Parameters": {"FunctionName": "count", "Payload.$": "$"},
                        "OutputPath": "$.Payload",
                        "Next": "Nap",
                    },
                    "Nap": {"Type": "Wait", "Seconds": 2, "End": True},
                },
            },
            "End": True,
        }
    },
}


def _map_run_answers(sfn: Any, arn: str) -> dict[str, Any]:
    """What the API says of an execution's Map Run and its children."""

    def strip(answer: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in answer.items() if k != "ResponseMetadata"}

    (listed,) = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    children = sfn.list_executions(mapRunArn=listed["mapRunArn"])["executions"]
    return {
        "listed": listed,
        "described": strip(sfn.describe_map_run(mapRunArn=listed["mapRunArn"])),
        "children": children,
        "child described": [
            strip(sfn.describe_execution(executionArn=c["executionArn"])) for c in children
        ],
        "child histories": [_history(sfn, c["executionArn"]) for c in children],
    }


def _first_child_waits(sfn: Any, arn: str) -> bool:
    runs = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    children = [] if not runs else sfn.list_executions(mapRunArn=runs[0]["mapRunArn"])["executions"]
    return any(
        e["type"] == "WaitStateEntered"
        for child in children
        for e in _history(sfn, child["executionArn"])
    )


def test_a_distributed_map_cut_by_a_kill_completes_once_and_its_map_run_is_kept(
    tmp_path: Path,
) -> None:
    _functions(tmp_path, "count")
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machine = _machine(sfn, "fan-out", FAN_OUT)
        arn = sfn.start_execution(stateMachineArn=machine, input='{"items": [1, 2, 3]}')[
            "executionArn"
        ]
        until(lambda: _first_child_waits(sfn, arn), BOUND)  # its Task's answer is committed
        (cut,) = sfn.list_map_runs(executionArn=arn)["mapRuns"]
    finally:
        _kill(first)

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        ended = _ended(sfn, arn)
        assert (ended["status"], json.loads(ended["output"])) == ("SUCCEEDED", [1, 2, 3])
        assert (tmp_path / "items").read_text().split() == ["1", "2", "3"]  # each once
        before = _map_run_answers(sfn, arn)
        assert before["listed"]["mapRunArn"] == cut["mapRunArn"]
        assert before["described"]["status"] == "SUCCEEDED"
        assert before["described"]["executionCounts"]["succeeded"] == 3
        types = [e["type"] for e in _history(sfn, arn)]
        assert types.count("MapRunStarted") == types.count("MapRunSucceeded") == 1
    finally:
        _kill(second)

    third, port = _serve(tmp_path)
    try:
        assert _map_run_answers(_client(port), arn) == before
    finally:
        third.send_signal(signal.SIGTERM)
        third.wait(BOUND)


def test_starts_answered_together_all_survive_a_kill(tmp_path: Path) -> None:
    (tmp_path / "functions.json").write_text(json.dumps({"functions": {}}))
    first, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        machine = _machine(sfn, "long-wait", LONG_WAIT)
        clients = [_client(port) for _ in range(STARTS)]  # one per thread: calls at once

        def start(n: int) -> str:
            begun = clients[n].start_execution(
                stateMachineArn=machine, name=f"e{n}", input=json.dumps({"n": n})
            )
            return str(begun["executionArn"])

        with ThreadPoolExecutor(STARTS) as pool:
            acknowledged = list(pool.map(start, range(STARTS)))
    finally:
        _kill(first)  # at once: only what was committed before each answer is left

    second, port = _serve(tmp_path)
    try:
        sfn = _client(port)
        for n, arn in enumerate(acknowledged):
            described = sfn.describe_execution(executionArn=arn)
            assert (described["status"], json.loads(described["input"])) == ("RUNNING", {"n": n})
            assert [e["type"] for e in _history(sfn, arn)][:2] == [
                "ExecutionStarted",
                "WaitStateEntered",
            ]
        listed = sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
        assert sorted(e["executionArn"] for e in listed) == sorted(acknowledged)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(BOUND)
