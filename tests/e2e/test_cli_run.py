"""`asl run` as a user runs it, and every example as `make demo` runs it (each example's
own behaviour is tested beside it, in examples/*/test_*.py)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.cli.demo import EXAMPLES, run_example

WAIT_A_DAY = {
    "StartAt": "Wait",
    "States": {
        "Wait": {"Type": "Wait", "Seconds": 86400, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"got.$": "$.x"}, "End": True},
    },
}


def asl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_run_prints_output_and_exits_0(tmp_path: Path) -> None:
    definition = tmp_path / "wait.asl.json"
    definition.write_text(json.dumps(WAIT_A_DAY))
    history = tmp_path / "history.json"
    proc = asl("run", str(definition), "--input", '{"x": 5}', "--history", str(history))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"got": 5}
    assert "SUCCEEDED" in proc.stderr
    events = json.loads(history.read_text())["events"]
    assert [e["type"] for e in events] == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_runs_with_one_seed_repeat_to_the_byte(tmp_path: Path) -> None:
    definition = tmp_path / "ids.asl.json"
    definition.write_text(json.dumps({
        "StartAt": "Wait",
        "States": {
            "Wait": {"Type": "Wait", "Seconds": 90, "Next": "Ids"},
            "Ids": {"Type": "Pass", "End": True, "Parameters": {
                "id.$": "States.UUID()", "n.$": "States.MathRandom(1, 1000)",
                "name.$": "$$.Execution.Name", "at.$": "$$.State.EnteredTime"}},
        },
    }))  # fmt: skip
    runs = []
    for n in range(2):
        history = tmp_path / f"history{n}.json"
        proc = asl("run", str(definition), "--seed", "3", "--history", str(history))
        assert proc.returncode == 0, proc.stderr
        runs.append((proc.stdout, history.read_bytes()))
    assert runs[0] == runs[1]
    assert json.loads(runs[0][0])["at"] == "2025-01-01T00:01:30.000Z"  # the seeded clock's start


def test_an_input_file_without_its_at_sign_gets_a_hint(tmp_path: Path) -> None:
    definition = tmp_path / "wait.asl.json"
    definition.write_text(json.dumps(WAIT_A_DAY))
    (tmp_path / "in.json").write_text('{"x": 1}')
    proc = asl("run", str(definition), "--input", "in.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "InvalidExecutionInput" in proc.stderr
    assert "write --input @in.json" in proc.stderr


def test_a_trace_that_cannot_be_drawn_is_bad_usage(tmp_path: Path) -> None:
    definition = tmp_path / "wait.asl.json"
    definition.write_text(json.dumps(WAIT_A_DAY))
    proc = asl("run", str(definition), "--trace", str(tmp_path / "t.gif"))
    assert proc.returncode == 2
    assert "end it with .svg" in proc.stderr
    assert proc.stdout == ""  # refused before running


def test_a_failure_names_its_state_and_an_unregistered_function_gets_a_hint(
    tmp_path: Path,
) -> None:
    definition = tmp_path / "call.asl.json"
    task = {"Type": "Task", "End": True,
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:nope"}  # fmt: skip
    definition.write_text(json.dumps({"StartAt": "Call nope", "States": {"Call nope": task}}))
    proc = asl("run", str(definition))
    assert proc.returncode == 1
    assert "FAILED in state 'Call nope': Lambda.ResourceNotFoundException" in proc.stderr
    assert "hint: a Lambda function the Task calls is not registered" in proc.stderr


def test_run_json_format_and_failure_exit_1(tmp_path: Path) -> None:
    definition = tmp_path / "fail.json"
    definition.write_text(
        json.dumps({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E", "Cause": "c"}}})
    )
    proc = asl("run", str(definition), "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout) == {
        "status": "FAILED",
        "output": None,
        "error": "E",
        "cause": "c",
    }


def test_run_reports_lambda_billing(tmp_path: Path) -> None:
    (tmp_path / "fns.py").write_text("def echo(event, context):\n    return event\n")
    (tmp_path / "functions.json").write_text(
        '{"functions": {"echo": {"handler": "fns:echo", "memory": 256}}}'
    )
    definition = tmp_path / "call.asl.json"
    definition.write_text(
        json.dumps(
            {
                "StartAt": "Call",
                "States": {
                    "Call": {
                        "Type": "Task",
                        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo",
                        "End": True,
                    }
                },
            }
        )
    )
    proc = asl(
        "run",
        str(definition),
        "--input",
        '{"a": 1}',
        "--functions",
        str(tmp_path / "functions.json"),
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"a": 1}
    assert "Lambda: 1 invocation, 1 ms billed, " in proc.stderr
    assert " GB-seconds" in proc.stderr


def test_run_with_inline_functions_keeps_their_output_in_their_logs(tmp_path: Path) -> None:
    (tmp_path / "fns.py").write_text(
        "def talk(event, context):\n    print('said', event['a'])\n    return event\n"
    )
    (tmp_path / "functions.json").write_text(
        '{"isolation": "inline", "functions": {"talk": "fns:talk"}}'
    )
    definition = tmp_path / "call.asl.json"
    task = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True,
            "Parameters": {"FunctionName": "talk", "Payload.$": "$"},
            "OutputPath": "$.Payload"}  # fmt: skip
    definition.write_text(json.dumps({"StartAt": "Call", "States": {"Call": task}}))
    functions = str(tmp_path / "functions.json")
    proc = asl("run", str(definition), "--input", '{"a": 1}', "--functions", functions, "--logs")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"a": 1}
    assert "talk | said 1" in proc.stderr


def test_run_input_from_file(tmp_path: Path) -> None:
    definition = tmp_path / "wait.asl.json"
    definition.write_text(json.dumps(WAIT_A_DAY))
    (tmp_path / "in.json").write_text('{"x": [1, 2]}')
    proc = asl("run", str(definition), "--input", f"@{tmp_path / 'in.json'}")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"got": [1, 2]}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{not json"], "InvalidExecutionInput"),
        (["--input", "@/nonexistent/input.json"], "cannot read the input file"),
        (["--mock-config", "m.json"], "--mock-config and --test-case go together"),
        (["--functions", "/nonexistent/functions.json"], "functions"),
    ],
)
def test_run_bad_usage_exits_2_with_a_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    definition = tmp_path / "wait.asl.json"
    definition.write_text(json.dumps(WAIT_A_DAY))
    proc = asl("run", str(definition), *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_invalid_definition_exits_2_with_diagnostics(tmp_path: Path) -> None:
    definition = tmp_path / "bad.json"
    definition.write_text(json.dumps({"StartAt": "Nowhere", "States": {}}))
    proc = asl("run", str(definition))
    assert proc.returncode == 2
    assert "SCHEMA_VALIDATION_FAILED" in proc.stderr or "MISSING_TRANSITION_TARGET" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "folder", sorted(p.parent.name for p in EXAMPLES.glob("*/*.asl.json")), ids=str
)
def test_every_example_repeats_with_one_seed(
    folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    for n in range(2):
        (tmp_path / str(n)).mkdir()
        monkeypatch.chdir(tmp_path / str(n))  # each run with the handlers' files anew
        execution = asyncio.run(run_example(EXAMPLES / folder, seed=11))
        assert execution.status == "SUCCEEDED", (execution.error, execution.cause)
        runs.append(json.dumps([execution.output, execution.history_json()]))
    assert runs[0] == runs[1]
