"""`asl tasks`: another terminal lists and answers the tokens a running `asl run` waits on."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runtime.cli.tasks import app
from runtime.store import NewTask, TaskStore

HEARTBEAT = 3600
APPROVAL = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "notify",
                "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"},
            },
            # A token's wait for an outside answer runs on real seconds, even on asl run's
            # virtual clock; 5 s raced the `asl tasks` start-ups before the answer (three,
            # each 1-3 s under load) and timed the task out.
            "HeartbeatSeconds": HEARTBEAT,
            "ResultPath": "$.approval",
            "Next": "Done",
        },
        "Done": {"Type": "Pass", "End": True},
    },
}
HANDLERS = "def notify(event, context):\n    return {'sent': event['order']}\n"
BOUND = 30.0  # seconds: every wait in these tests ends well before


def _files(folder: Path) -> Path:
    (folder / "approval.asl.json").write_text(json.dumps(APPROVAL))
    (folder / "functions.json").write_text(json.dumps({"functions": {"notify": "handlers:notify"}}))
    (folder / "handlers.py").write_text(HANDLERS)
    return folder / "approval.asl.json"


def _start_run(folder: Path, *store: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "runtime.cli", "run", str(_files(folder))]
    command += ["--input", '{"order": 7}', "--functions", str(folder / "functions.json"), *store]
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder
    )


def asl_tasks(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "tasks", *args],
        capture_output=True, text=True, timeout=BOUND, cwd=folder,
    )  # fmt: skip


def _until_waiting(folder: Path, run: subprocess.Popen[str], *store: str) -> dict[str, Any]:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        listed = asl_tasks(folder, *store, "--format", "json")
        assert listed.returncode == 0, listed.stderr
        tasks = json.loads(listed.stdout)
        if tasks:
            assert len(tasks) == 1
            return dict(tasks[0])
        assert run.poll() is None, run.communicate()
        time.sleep(0.2)
    raise AssertionError("asl tasks never listed the waiting token")


def _finish(run: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = run.communicate(timeout=BOUND)
    finally:
        run.kill()
    return run.returncode, out, err


def test_asl_tasks_approves_what_asl_run_waits_on(tmp_path: Path) -> None:
    store = ("--store", str(tmp_path / "store"))
    run = _start_run(tmp_path, *store)
    try:
        task = _until_waiting(tmp_path, run, *store)
        assert (task["stateName"], task["kind"], task["status"]) == ("Ask", "callback", "RUNNING")
        assert task["input"]["Payload"] == {"token": task["taskToken"], "order": 7}
        assert task["executionArn"].startswith("arn:aws:states:us-east-1:")
        assert task["heartbeatSeconds"] == HEARTBEAT and task["ageSeconds"] >= 0
        text = asl_tasks(tmp_path, *store)
        assert task["taskToken"] in text.stdout and "Ask (callback, waiting" in text.stdout
        approved = asl_tasks(
            tmp_path, "approve", task["taskToken"], "--output", '{"approved": true}', *store
        )
        assert approved.returncode == 0, approved.stderr
        code, out, err = _finish(run)
    finally:
        run.kill()
    assert code == 0, err
    assert json.loads(out) == {"order": 7, "approval": {"approved": True}}
    again = asl_tasks(tmp_path, "approve", task["taskToken"], *store)
    assert again.returncode == 1
    assert "TaskTimedOut: Task Timed Out: 'Provided task does not exist anymore'" in again.stderr
    assert json.loads(asl_tasks(tmp_path, *store, "-f", "json").stdout) == []


def test_asl_tasks_rejects_through_the_default_store(tmp_path: Path) -> None:
    run = _start_run(tmp_path)  # no --store: .asl/ in the working directory
    try:
        task = _until_waiting(tmp_path, run)
        assert (tmp_path / ".asl" / "store.sqlite3").exists()
        beat = asl_tasks(tmp_path, "heartbeat", task["taskToken"])
        assert beat.returncode == 0, beat.stderr
        rejected = asl_tasks(
            tmp_path, "reject", task["taskToken"], "--error", "Rejected", "--cause", "too big"
        )
        assert rejected.returncode == 0, rejected.stderr
        code, _out, err = _finish(run)
    finally:
        run.kill()
    assert code == 1
    assert "FAILED in state 'Ask': Rejected" in err and "too big" in err


# The sub-app in this process, against a store the test fills in.

runner = CliRunner()
TOKEN = "T" * 43


def _store_with_a_task(folder: Path) -> list[str]:
    store = TaskStore(folder)
    store.add(NewTask(TOKEN, "callback", "arn:x", "Approve", "sqs:sendMessage", '{"n":1}', 60))
    store.close()
    return ["--store", str(folder)]


def test_listing_an_empty_or_missing_store(tmp_path: Path) -> None:
    store = ["--store", str(tmp_path / "none")]
    assert runner.invoke(app, [*store, "-f", "json"]).stdout.strip() == "[]"
    shown = runner.invoke(app, ["list", *store])
    assert shown.exit_code == 0 and "No task is waiting." in shown.output
    assert not (tmp_path / "none").exists()


def test_listing_and_answering(tmp_path: Path) -> None:
    store = _store_with_a_task(tmp_path)
    shown = runner.invoke(app, ["list", *store])
    assert shown.exit_code == 0
    assert f"{TOKEN}\n  state      Approve (callback, waiting " in shown.stdout
    assert '  input      {"n":1}' in shown.stdout
    assert runner.invoke(app, ["heartbeat", TOKEN, *store]).exit_code == 0
    failed = runner.invoke(app, ["reject", TOKEN, *store])
    assert failed.exit_code == 0
    record = TaskStore(tmp_path).get(TOKEN)
    assert record is not None
    assert (record.status, record.error, record.cause, record.heartbeats) == (
        "FAILED",
        None,
        None,
        1,
    )


def test_answers_that_fail(tmp_path: Path) -> None:
    store = _store_with_a_task(tmp_path)
    not_json = runner.invoke(app, ["approve", TOKEN, "--output", "{nope", *store])
    assert not_json.exit_code == 2 and "InvalidOutput" in not_json.output
    unknown = runner.invoke(app, ["approve", "U" * 43, *store])
    assert unknown.exit_code == 1 and "TaskDoesNotExist" in unknown.output
    malformed = runner.invoke(app, ["heartbeat", "bad token", *store])
    assert malformed.exit_code == 1 and "InvalidToken" in malformed.output
    missing = runner.invoke(app, ["approve", TOKEN, "--store", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "TaskDoesNotExist" in missing.output
    from_file = tmp_path / "output.json"
    from_file.write_text('{"from": "file"}')
    assert (
        runner.invoke(app, ["approve", TOKEN, "--output", f"@{from_file}", *store]).exit_code == 0
    )
    record = TaskStore(tmp_path).get(TOKEN)
    assert record is not None and json.loads(record.output or "") == {"from": "file"}


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("deleted", "the file was deleted or replaced while in use"),
        ("overwritten", "file is not a database"),
    ],
)
def test_a_store_broken_while_asl_run_waits_fails_the_run_in_one_line(
    tmp_path: Path, damage: str, reason: str
) -> None:
    store = tmp_path / "store"
    run = _start_run(tmp_path, "--store", str(store))
    try:
        _until_waiting(tmp_path, run, "--store", str(store))
        for part in store.iterdir():  # the database and its WAL and shared-memory files
            if damage == "deleted":
                part.unlink()
            else:
                part.write_bytes(b"not a database " * 4096)
        code, out, err = _finish(run)
    finally:
        run.kill()
    assert code == 1 and out == ""
    assert "Traceback" not in err and "engine error" not in err, err
    lines = err.splitlines()
    failed = lines.index("FAILED in state 'Ask': States.Runtime")
    assert lines[failed + 1] == f"the task store {store / 'store.sqlite3'} cannot be used: {reason}"
