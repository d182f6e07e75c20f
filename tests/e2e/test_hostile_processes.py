"""Hostile handlers and hostile text: whatever a handler does, the processes it starts end
with the engine, abandoned threads are bounded, its output stays out of the command's,
and nothing the command prints can drive the terminal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from integrations.lambdas import InProcessExecutor, LocalFunctions
from runtime.store import NewTask, TaskStore
from runtime.testing import run, start
from tests.invariants import assert_ended

FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"
HANG = "arn:aws:lambda:us-east-1:123456789012:function:hang"
CALL = {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": True}}}

# A handler that starts a child process, says where both are, then does what MODE says.
HANDLER = """
import os, subprocess, sys, time

def handler(event, context):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1000)"])
    with open(os.environ["PIDS_FILE"], "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    if event.get("mode") == "spin":
        while True:
            pass
    if event.get("mode") == "sleep":
        time.sleep(1000)
    return {"child": child.pid}
"""


def _asl(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


def _functions(folder: Path, timeout: int = 900, isolation: str = "process") -> Path:
    (folder / "spawner.py").write_text(HANDLER)
    file = folder / "functions.json"
    entry = {"handler": "spawner:handler", "isolation": isolation, "timeout": timeout}
    file.write_text(json.dumps({"functions": {"f": entry}}))
    (folder / "call.asl.json").write_text(json.dumps(CALL))
    return file


def _pids(file: Path, within: float = 30) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        text = file.read_text() if file.exists() else ""
        if len(text.split()) == 2:
            return [int(pid) for pid in text.split()]
        time.sleep(0.05)
    raise AssertionError("the handler never started")


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie waiting for its reaper has ended)."""
    state = subprocess.run(["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True)
    return state.stdout.strip() not in ("",) and not state.stdout.strip().startswith("Z")


def _all_end(pids: list[int], within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_asl_run_ends_a_spinning_worker_and_its_children(
    tmp_path: Path, sig: signal.Signals
) -> None:
    functions = _functions(tmp_path)
    pids_file = tmp_path / "pids"
    engine = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "run", "call.asl.json", "--functions",
         str(functions), "--input", '{"mode": "spin"}', "--real-time"],
        cwd=tmp_path,
        env={**os.environ, "PIDS_FILE": str(pids_file)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        pids = _pids(pids_file)
        assert all(_alive(pid) for pid in pids)
        engine.send_signal(sig)
        engine.wait(timeout=30)
        assert _all_end(pids), "the worker or its child outlived the engine"
    finally:
        engine.kill()
        engine.wait()


@pytest.mark.parametrize("isolation", ["process", "thread"])
def test_a_child_a_handler_left_behind_ends_with_the_run(tmp_path: Path, isolation: str) -> None:
    functions = _functions(tmp_path, isolation=isolation)
    pids_file = tmp_path / "pids"
    result = _asl(
        "run", "call.asl.json", "--functions", str(functions), "--input", '{"mode": "return"}',
        cwd=tmp_path, env={**os.environ, "PIDS_FILE": str(pids_file)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    worker, child = _pids(pids_file)
    assert json.loads(result.stdout) == {"child": child}
    assert _all_end([worker, child])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux lists a thread's children")
async def test_processes_in_process_handlers_leave_running_end_with_the_engine_alone() -> None:
    released = threading.Event()
    hung_child: list[int] = []

    def spawn(event: Any, context: Any) -> Any:
        shell = subprocess.Popen(
            ["sh", "-c", "sleep 1000 & echo $!; wait"], stdout=subprocess.PIPE, text=True
        )
        assert shell.stdout is not None
        return {"shell": shell.pid, "grandchild": int(shell.stdout.readline())}

    def hang(event: Any, context: Any) -> Any:
        hung_child.append(subprocess.Popen(["sleep", "1000"]).pid)
        released.wait(60)  # past its timeout: abandoned, still running at close

    local = LocalFunctions()
    local.register("f", spawn)
    local.register("hang", hang, timeout=1)
    bystander = subprocess.Popen(["sleep", "1000"])  # the program's own, not a handler's
    try:
        first = await start(CALL, {}, functions=local, clock="real")
        spawned = (await first.wait()).output
        hang_call = {"StartAt": "H", "States": {"H": {**CALL["States"]["T"], "Resource": HANG}}}
        engine = first.machine.engine
        hung = await (await engine.create_state_machine(hang_call).start({})).wait()
        assert hung.error == "Sandbox.Timedout"
        pids = [spawned["shell"], spawned["grandchild"], *hung_child]
        assert all(_alive(pid) for pid in pids)
        await engine.aclose()
        assert _all_end(pids), "a process a handler started outlived the engine"
        assert _alive(bystander.pid)
    finally:
        released.set()
        bystander.kill()
        bystander.wait()


async def test_a_worker_killed_at_its_timeout_takes_its_children_along(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    functions = _functions(tmp_path, timeout=1)
    pids_file = tmp_path / "pids"
    monkeypatch.setenv("PIDS_FILE", str(pids_file))
    execution = await start(CALL, {"mode": "sleep"}, functions=functions, clock="real")
    try:
        await execution.wait()
        assert (execution.status, execution.error) == ("FAILED", "Sandbox.Timedout")
        assert _all_end(_pids(pids_file))  # while the engine still runs
    finally:
        await execution.machine.engine.aclose()


def test_hung_in_process_handlers_are_bounded_and_the_next_call_is_throttled() -> None:
    release = threading.Event()

    def hangs(event: Any, context: Any) -> Any:
        release.wait(60)
        return {}

    functions = LocalFunctions(InProcessExecutor(max_abandoned=2))
    functions.register("f", hangs, timeout=1)
    try:
        for _ in range(2):
            execution = run(CALL, {}, functions=functions)
            assert (execution.status, execution.error) == ("FAILED", "Sandbox.Timedout")
        # two threads still hang: a third call is refused as Lambda refuses one over its
        # concurrency, rather than leaving one more thread behind
        execution = run(CALL, {}, functions=functions)
        assert (execution.status, execution.error) == ("FAILED", "Lambda.TooManyRequestsException")
        assert (execution.cause or "").startswith("Rate Exceeded. (Service: AWSLambda; Status")
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the hung calls return: the function runs again
        execution = run(CALL, {}, functions=functions)
        if execution.error != "Lambda.TooManyRequestsException":
            break
        time.sleep(0.05)
    assert execution.status == "SUCCEEDED"
    assert_ended(execution)


CHATTY = """
import asyncio, os, subprocess, sys, threading, time

def chatty(event, context):
    for n in range(5):
        print(f"item {event['i']} line {n}")
        print(f"item {event['i']} err {n}", file=sys.stderr)
        time.sleep(0.01)
    stray = threading.Thread(target=print, args=("from a thread the handler started",))
    stray.start()
    stray.join()
    subprocess.run([sys.executable, "-c", "print('from a child process')"], check=True)
    os.write(1, b"written to descriptor 1\\n")
    return event['i']

async def talks(event, context):
    print("async \\x1b[31mhandler\\x1b[0m")
    await asyncio.sleep(0)
    return "done"
"""


def test_handlers_print_to_their_logs_never_to_the_output(tmp_path: Path) -> None:
    (tmp_path / "chatty.py").write_text(CHATTY)
    (tmp_path / "functions.json").write_text(
        json.dumps({"functions": {"f": "chatty:chatty", "g": "chatty:talks"}})
    )
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "T",
                    "States": {"T": {"Type": "Task", "Resource": FUNCTION, "End": True}},
                },
                "ResultPath": "$.out",
                "Next": "A",
            },
            "A": {
                "Type": "Task",
                "Resource": FUNCTION[: -len("f")] + "g",
                "ResultPath": "$.async",
                "End": True,
            },
        },
    }
    (tmp_path / "m.asl.json").write_text(json.dumps(definition))
    items = json.dumps({"items": [{"i": i} for i in range(4)]})
    common = ("run", "m.asl.json", "--functions", "functions.json", "--input", items, "-f", "json")
    quiet = _asl(*common, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert json.loads(quiet.stdout)["output"]["out"] == [0, 1, 2, 3]
    assert json.loads(quiet.stdout)["output"]["async"] == "done"
    assert "item 0" not in quiet.stderr
    assert "see them with --logs" in quiet.stderr
    for stray in ("from a thread the handler started", "from a child process", "descriptor 1"):
        assert stray in quiet.stderr  # never on stdout
    shown = _asl(*common, "--logs", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == json.loads(quiet.stdout)
    for i in range(4):  # each invocation's log holds its own lines, in order, and no other
        block = [line for line in shown.stderr.splitlines() if f"item {i} " in line]
        assert block == [f"f | item {i} {kind} {n}" for n in range(5) for kind in ("line", "err")]
    assert "g | async \\x1b[31mhandler\\x1b[0m" in shown.stderr
    assert "\x1b" not in shown.stderr


def test_a_cause_cannot_drive_the_terminal(tmp_path: Path) -> None:
    hostile = "\x1b]0;owned\x07\x1b[2J\rhidden\u202eevil\x9b31m"
    fail = {"Type": "Fail", "Error": "Bad\x1b[5m", "Cause": hostile}
    (tmp_path / "f.asl.json").write_text(json.dumps({"StartAt": "F", "States": {"F": fail}}))
    result = _asl("run", "f.asl.json", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "FAILED in state 'F': Bad\\x1b[5m",
        "\\x1b]0;owned\\x07\\x1b[2J\\x0dhidden\\u202eevil\\x9b31m",
    ]
    as_json = _asl("run", "f.asl.json", "-f", "json", cwd=tmp_path)
    assert json.loads(as_json.stdout)["cause"] == hostile
    assert not any(c in as_json.stdout for c in "\x1b\x07\r\u202e\x9b")


def test_asl_tasks_shows_hostile_names_escaped(tmp_path: Path) -> None:
    store = TaskStore(tmp_path / "store")
    store.add(
        NewTask(
            token="t" * 43,
            kind="callback",
            execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:e",
            state_name="Ask\x1b[2J\u2066",
            resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
            input=json.dumps({"q": "\x9b\x7f"}, ensure_ascii=False),
            heartbeat_seconds=None,
            timeout_seconds=None,
        )
    )
    text = _asl("tasks", "--store", str(tmp_path / "store"))
    assert "state      Ask\\x1b[2J\\u2066 (callback" in text.stdout
    assert '{"q": "\\x9b\\x7f"}' in text.stdout
    listed = _asl("tasks", "--store", str(tmp_path / "store"), "-f", "json")
    assert "\\u009b\\u007f" in listed.stdout
    assert json.loads(listed.stdout)[0]["stateName"] == "Ask\x1b[2J\u2066"
    for shown in (text.stdout, listed.stdout):
        assert not any(c in shown for c in "\x1b\x9b\x7f\u2066")


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="Linux lists a thread's children")
async def test_processes_handlers_left_that_have_ended_are_forgotten() -> None:
    def brief(event: Any, context: Any) -> Any:
        subprocess.Popen(["true"])  # left running, ends on its own a moment later
        return None

    local = LocalFunctions()
    local.register("f", brief)
    execution = await start(CALL, {}, functions=local, clock="real")
    engine = execution.machine.engine
    try:
        for _ in range(200):
            await (await engine.create_state_machine(CALL).start({})).wait()
        executor = local._executor
        assert isinstance(executor, InProcessExecutor)
        assert len(executor._processes._started) <= 2 * 64  # not one per invocation
    finally:
        await engine.aclose()
