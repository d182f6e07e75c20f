"""A durable engine killed with SIGKILL while executions wait on a Wait, a task token, a
retry backoff and a Task in flight: a new process recovers them all, and each completes
once, with the history an uninterrupted run records (tests/e2e/durable_worker.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("durable_worker.py")


def _worker(phase: str, db: Path, folder: Path) -> subprocess.Popen[str]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = os.environ | {"PYTHONPATH": path}
    return subprocess.Popen(
        [sys.executable, str(WORKER), phase, str(db), str(folder)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _calls(folder: Path, kind: str) -> int:
    return len((folder / f"{kind}.calls").read_text().splitlines())


def _types(report: dict[str, Any], name: str) -> list[str]:
    return [event["type"] for event in report[name]["events"]]


def _time(report: dict[str, Any], name: str, event_type: str) -> list[float]:
    return [
        datetime.fromisoformat(event["timestamp"]).timestamp()
        for event in report[name]["events"]
        if event["type"] == event_type
    ]


def test_executions_survive_a_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "executions.sqlite3"
    first = _worker("start", db, tmp_path)
    assert first.stdout is not None
    try:
        line = first.stdout.readline()
        assert line == "READY\n", first.stderr.read() if first.stderr else line
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL

    second = _worker("recover", db, tmp_path)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    report = json.loads(out)

    assert sorted(report) == ["inflight", "retry", "token", "wait"]
    for name, execution in report.items():
        assert (execution["status"], execution["fault"]) == ("SUCCEEDED", None), name
        ids = [event["id"] for event in execution["events"]]
        assert ids == list(range(1, len(ids) + 1)), name  # none lost, none twice

    assert _types(report, "wait") == [
        "ExecutionStarted", "WaitStateEntered", "WaitStateExited", "TaskStateEntered",
        "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    (entered,), (exited,) = (
        _time(report, "wait", "WaitStateEntered"),
        _time(report, "wait", "WaitStateExited"),
    )
    assert 4 <= exited - entered < 30  # the Wait kept its deadline across the restart

    assert report["token"]["output"] == {"approved": True}
    assert _types(report, "token")[2:6] == [
        "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded",
    ]  # fmt: skip
    assert _calls(tmp_path, "token") == 1  # the message carrying the token went out once

    assert report["retry"]["output"] == {"kind": "flaky", "call": 2}
    assert _types(report, "retry").count("TaskFailed") == 1
    failed, (retried, _) = (
        _time(report, "retry", "TaskFailed"),
        _time(report, "retry", "TaskScheduled")[::-1],
    )
    assert retried - failed[0] >= 3  # the backoff kept its deadline
    assert _calls(tmp_path, "flaky") == 2  # the failed attempt was not made again

    # At least once: the Task in flight at the kill is invoked again, once.
    assert report["inflight"]["output"] == {"kind": "slow", "call": 2}
    assert _calls(tmp_path, "slow") == 2
    assert _types(report, "inflight").count("TaskScheduled") == 1
