"""`asl serve --schedules`: schedules start executions that boto3 lists, describes and
reads the history of, with the input the schedule's target gives them.

The context attributes filled into a target's input (`<aws.scheduler.schedule-arn>`,
`<aws.scheduler.scheduled-time>`, as `2022-03-22T18:59:43Z`) and the one-time
`at(yyyy-mm-ddThh:mm:ss)` expression are EventBridge Scheduler's (User Guide, "Adding
context attributes" and "Schedule types":
https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html,
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html).

Fast where time can be virtual: a server in this process on the virtual clock, whose
time jumps to an `at()` a day ahead at once. For real: `asl serve` as a subprocess on
the real clock with an `at()` a few seconds ahead, and restarts on the same `--db`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from runtime.service import ServiceSettings, serve_in_thread
from tests.serving import announced_port, sfn_client

BOUND = 30.0  # seconds: every wait here ends well before
ACCOUNT, REGION = "123456789012", "us-east-1"
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:cleanup"
DEFINITION_YAML = "StartAt: Clean\nStates:\n  Clean:\n    Type: Pass\n    End: true\n"
INPUT = '{"schedule": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>"}'


def _lead() -> float:
    """How far ahead a real-clock `at()` is set: the server must have started by then,
    which takes longer on a loaded machine (about 9 s at a load average of 11)."""
    return 6.0 + min(os.getloadavg()[0], 14.0)


def _at(moment: float) -> tuple[str, str]:
    """An `at()` expression for a moment (UTC, whole seconds) and the scheduled time as
    the context attribute gives it."""
    instant = datetime.fromtimestamp(int(moment), UTC)
    return f"at({instant:%Y-%m-%dT%H:%M:%S})", f"{instant:%Y-%m-%dT%H:%M:%S}Z"


def _write_schedules(folder: Path, entries: dict[str, str], name: str = "schedules.json") -> Path:
    """A schedules file of the named expressions, each starting `cleanup.asl.yaml`."""
    (folder / "cleanup.asl.yaml").write_text(DEFINITION_YAML)
    schedules = [
        {
            "Name": schedule,
            "ScheduleExpression": expression,
            "Target": {"Arn": "cleanup.asl.yaml", "Input": INPUT},
        }
        for schedule, expression in entries.items()
    ]
    path = folder / name
    path.write_text(json.dumps({"Schedules": schedules}))
    return path


def _client(url: str) -> Any:
    return sfn_client(url, REGION)


def _executions(sfn: Any, count: int, machine_arn: str = MACHINE_ARN) -> list[dict[str, Any]]:
    """The machine's executions, once at least ``count`` are listed (oldest first)."""
    deadline = time.monotonic() + _lead() + BOUND
    while time.monotonic() < deadline:
        listed = sfn.list_executions(stateMachineArn=machine_arn)["executions"]
        if len(listed) >= count:
            return list(reversed(listed))
        time.sleep(0.2)
    raise AssertionError(f"fewer than {count} executions started")


def _schedule_arn(name: str) -> str:
    return f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/default/{name}"


def test_a_schedule_starts_an_execution_clients_see(tmp_path: Path) -> None:
    expression, scheduled = _at(time.time() + 86400)
    settings = ServiceSettings(
        clock="virtual", schedules=_write_schedules(tmp_path, {"tomorrow": expression})
    )
    with serve_in_thread(settings) as server:
        sfn = _client(server.url)
        machines = sfn.list_state_machines()["stateMachines"]
        assert [(m["name"], m["type"]) for m in machines] == [("cleanup", "STANDARD")]
        [listed] = _executions(sfn, 1)
        assert str(uuid.UUID(listed["name"])) == listed["name"]
        described = sfn.describe_execution(executionArn=listed["executionArn"])
        assert described["status"] == "SUCCEEDED"
        expected = {"schedule": _schedule_arn("tomorrow"), "time": scheduled}
        assert json.loads(described["input"]) == expected
        assert json.loads(described["output"]) == expected
        events = sfn.get_execution_history(executionArn=listed["executionArn"])["events"]
        assert [e["type"] for e in events] == [
            "ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded",
        ]  # fmt: skip


BROKEN = '{"StartAt": "Nowhere", "States": {}}'
#: Set-ups `asl serve` refuses: (schedules, files beside them, options, what it says).
REFUSED = {
    "recurring on the virtual clock": (
        [{"Name": "often", "ScheduleExpression": "rate(5 minutes)", "Target": {"Arn": "m"}}],
        {},
        ["--clock", "virtual"],
        "recurring schedules cannot run on the virtual clock ('often')",
    ),
    "an invalid definition file": (
        [{"Name": "bad", "ScheduleExpression": "rate(5 minutes)", "Target": {"Arn": "m.json"}}],
        {"m.json": BROKEN},
        [],
        "schedule 'bad': m.json: Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED",
    ),
    "two definition files of one name": (
        [
            {"Name": "one", "ScheduleExpression": "rate(5 minutes)", "Target": {"Arn": "a/m.yaml"}},
            {"Name": "two", "ScheduleExpression": "rate(9 minutes)", "Target": {"Arn": "b/m.yaml"}},
        ],
        {"a/m.yaml": DEFINITION_YAML, "b/m.yaml": DEFINITION_YAML.replace("Clean", "Other")},
        [],
        "would both be the state machine 'm': rename one",
    ),
    "a database that cannot be used": (
        [{"Name": "often", "ScheduleExpression": "rate(5 minutes)", "Target": {"Arn": "m"}}],
        {"file": "not a folder"},
        ["--db", "file/state.sqlite3"],
        "the database file/state.sqlite3 cannot be used",
    ),
}


@pytest.mark.parametrize(("entries", "files", "options", "said"), REFUSED.values(), ids=REFUSED)
def test_a_set_up_that_cannot_work_exits_2_with_a_message(
    tmp_path: Path, entries: list[Any], files: dict[str, str], options: list[str], said: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "schedules.json").write_text(json.dumps({"Schedules": entries}))
    done = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "serve", "--port", "0",
         "--schedules", "schedules.json", "--db", ":memory:", *options],
        capture_output=True, text=True, timeout=BOUND, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert said in done.stderr
    assert "Traceback" not in done.stderr


class _Server:
    """`asl serve --schedules FILE --db DB` as a subprocess on a free loopback port,
    started ``before`` a moment when one is given."""

    def __init__(self, schedules: Path, db: Path, *, before: float | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "serve", "--port", "0",
             "--schedules", str(schedules), "--db", str(db)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        announced = self.process.stdout.readline()
        assert "Step Functions API on" in announced, self.process.communicate(timeout=BOUND)
        port = announced_port(announced)
        # Its schedules started before it announced: a time to come must still be to come.
        assert before is None or time.time() < int(before), "the server took too long to start"
        self.sfn = _client(f"http://127.0.0.1:{port}")

    def stop(self) -> str:
        """Stop it as SIGTERM does; what it said on stderr."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=BOUND)
        assert self.process.returncode == 0, err
        assert "Traceback" not in err, err
        return err


@pytest.fixture
def servers() -> Iterator[list[_Server]]:
    started: list[_Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(BOUND)


def _only_run(server: _Server, schedule: str, scheduled: str, kept: int = 0) -> None:
    """The server starts one execution, by ``schedule`` for its time ``scheduled``, and
    no other (``kept``: the executions an earlier server on its database started, which it
    lists too)."""
    *_, ran = _executions(server.sfn, kept + 1)
    described = server.sfn.describe_execution(executionArn=ran["executionArn"])
    expected = {"schedule": _schedule_arn(schedule), "time": scheduled}
    assert json.loads(described["input"]) == expected
    time.sleep(1)
    listed = server.sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]
    assert len(listed) == kept + 1


def test_a_restart_on_the_same_db_does_not_start_a_time_again(
    tmp_path: Path, servers: list[_Server]
) -> None:
    db = tmp_path / "state.sqlite3"
    moment = time.time() + _lead()
    first, first_time = _at(moment)
    servers.append(_Server(_write_schedules(tmp_path, {"first": first}), db, before=moment))
    _only_run(servers[0], "first", first_time)
    servers[0].stop()

    # The second server has a later schedule too: once it has fired, the first one, if
    # it were to start again, would have started already (a due time starts at once).
    later, later_time = _at(time.time() + _lead())
    both = _write_schedules(tmp_path, {"first": first, "later": later}, "both.json")
    servers.append(_Server(both, db))
    _only_run(servers[1], "later", later_time, kept=1)
    servers[1].stop()


def test_a_time_missed_while_down_starts_once_at_the_restart(
    tmp_path: Path, servers: list[_Server]
) -> None:
    db = tmp_path / "state.sqlite3"
    moment = time.time() + _lead()
    expression, scheduled = _at(moment)
    path = _write_schedules(tmp_path, {"missed": expression})
    servers.append(_Server(path, db, before=moment))
    servers[0].stop()
    time.sleep(max(0.0, int(moment) + 1 - time.time()))

    servers.append(_Server(path, db))
    _only_run(servers[1], "missed", scheduled)


def test_a_schedule_targets_a_machine_created_through_the_api(
    tmp_path: Path, servers: list[_Server]
) -> None:
    moment = time.time() + _lead()
    expression, scheduled = _at(moment)
    entries = [
        {"Name": name, "ScheduleExpression": expression, "Target": {"Arn": target, "Input": INPUT}}
        for name, target in (("deployed", "deployed"), ("orphan", "nowhere"))
    ]
    path = tmp_path / "schedules.json"
    path.write_text(json.dumps({"Schedules": entries}))
    servers.append(_Server(path, tmp_path / "db", before=moment))
    sfn = servers[0].sfn
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    role = f"arn:aws:iam::{ACCOUNT}:role/deployer"
    arn = sfn.create_state_machine(name="deployed", definition=definition, roleArn=role)[
        "stateMachineArn"
    ]
    [ran] = _executions(sfn, 1, arn)
    described = sfn.describe_execution(executionArn=ran["executionArn"])
    assert json.loads(described["input"]) == {
        "schedule": _schedule_arn("deployed"),
        "time": scheduled,
    }
    said = servers[0].stop()
    nowhere = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:nowhere"
    assert f"schedule orphan: could not start {nowhere} for {scheduled}: " in said
    assert f"StateMachineDoesNotExist: State Machine Does Not Exist: '{nowhere}'" in said


def test_two_servers_on_one_db_start_each_time_once(tmp_path: Path, servers: list[_Server]) -> None:
    """Each (schedule, time) is claimed in the shared database before its execution
    starts: the server that claims it starts it, the other finds it handled."""
    db = tmp_path / "state.sqlite3"
    moment = time.time() + 2 * _lead()  # two servers to start first
    expression, scheduled = _at(moment)
    names = ["one", "two", "three"]
    path = _write_schedules(tmp_path, dict.fromkeys(names, expression))
    servers.extend(_Server(path, db, before=moment) for _ in range(2))
    _executions(servers[0].sfn, len(names))
    time.sleep(1)  # a second start of a time, if there were one, would have come by now
    for server in servers:
        listed = server.sfn.list_executions(stateMachineArn=MACHINE_ARN)["executions"]
        inputs = [
            json.loads(server.sfn.describe_execution(executionArn=e["executionArn"])["input"])
            for e in listed
        ]
        assert sorted(inputs, key=lambda given: given["schedule"]) == [
            {"schedule": _schedule_arn(name), "time": scheduled} for name in sorted(names)
        ]
    for server in servers:
        server.stop()
