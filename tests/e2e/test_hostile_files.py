"""Hostile files through the ``asl`` command and the Python API: every file the tools read
is read up to a bound, YAML aliases cannot expand a document past one, a definition
longer than AWS takes is refused before it is parsed, and a file that cannot be read or
written, or a task store that cannot be used, is one line naming it, never a traceback.

Commands that would grow without a bound run in a process capped at 1 GiB of address
space, so a regression fails the test instead of exhausting the machine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import asl
from asl.model import Task
from runtime.cli.commands import app
from runtime.testing import run

CAP_BYTES = 1024**3
TOKEN = "t" * 43  # the shape of a task token
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
CALLBACK = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}
# Nine levels of nine aliases: 387,420,489 strings once expanded, from about 400 bytes.
LAUGHS = "".join(
    f"{name}: &{name} [{', '.join([f'*{below}'] * 9) if below else ', '.join(['lol'] * 9)}]\n"
    for below, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))


def asl_capped(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The ``asl`` command in a process that cannot grow past :data:`CAP_BYTES`."""
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd, preexec_fn=_capped,
    )  # fmt: skip


def _one_line(stderr: str) -> str:
    """The one line a refusal prints (and no traceback)."""
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def _write(path: Path, value: Any) -> Path:
    path.write_text(value if isinstance(value, str) else json.dumps(value))
    return path


# --- YAML aliases ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [["validate"], ["run"], ["render", "-o", "out.dot"]])
def test_a_yaml_alias_bomb_definition_is_refused_before_it_grows(
    tmp_path: Path, command: list[str]
) -> None:
    bomb = _write(tmp_path / "bomb.asl.yaml", LAUGHS + "StartAt: P\nStates: {P: {Type: Pass}}\n")
    proc = asl_capped(command[0], str(bomb), *command[1:], cwd=tmp_path)
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    assert line == (
        f"asl {command[0]}: {bomb}: ValidationException: 1 validation error detected: Value "
        "at 'definition' failed to satisfy constraint: Member must have length less than or "
        "equal to 1048576 (its YAML aliases expand it past 1048576 characters of JSON text)"
    )


def test_a_yaml_alias_inside_its_own_anchor_is_refused() -> None:
    with pytest.raises(asl.DefinitionTooLarge, match="expand it without end"):
        asl.validate("Loop: &loop [*loop]\nStartAt: P\nStates: {P: {Type: Pass, End: true}}\n")


def test_yaml_anchors_that_stay_small_still_share_a_block() -> None:
    task = "Type: Task, Resource: 'arn:aws:states:::lambda:invoke', Parameters: {FunctionName: f}"
    machine = asl.load(
        "StartAt: A\nStates:\n"
        f"  A: {{{task}, Next: B, Retry: &retry [{{ErrorEquals: [States.ALL]}}]}}\n"
        f"  B: {{{task}, End: true, Retry: *retry}}\n"
    )
    a, b = (state for state in machine.states.values() if isinstance(state, Task))
    assert len(a.retry) == 1 and a.retry == b.retry


@pytest.mark.parametrize(
    ("option", "extra", "prefix"),
    [
        ("--functions", [], ""),
        ("--mock-config", ["--test-case", "t"], "MockConfigFile "),
        ("--connections", [], ""),
        ("--resources", [], ""),
        ("--substitutions", [], "the substitutions file "),
    ],
)
def test_a_yaml_alias_bomb_set_up_file_is_refused(
    tmp_path: Path, option: str, extra: list[str], prefix: str
) -> None:
    definition = _write(tmp_path / "m.asl.json", PASS)
    bomb = _write(tmp_path / "bomb.yaml", LAUGHS)
    proc = asl_capped("run", str(definition), option, str(bomb), *extra, cwd=tmp_path)
    assert proc.returncode == 2
    assert _one_line(proc.stderr) == (
        f"asl run: {prefix}{bomb}: cannot be read: its YAML aliases expand it past 4194304 "
        "characters of JSON text"
    )


def test_placeholder_values_that_double_on_every_pass_are_refused(tmp_path: Path) -> None:
    definition = _write(
        tmp_path / "m.asl.json",
        '{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "${A0}", "End": true}}}',
    )
    values = {f"A{i}": f"${{A{i + 1}}}${{A{i + 1}}}" for i in range(40)} | {"A40": "x"}
    proc = asl_capped(
        "validate", str(definition), "--substitutions", str(_write(tmp_path / "v.json", values)),
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert _one_line(proc.stderr).endswith(
        "less than or equal to 1048576 (once its placeholders are filled)"
    )


# --- the definition size limit ----------------------------------------------------------


def _states(count: int) -> dict[str, Any]:
    states: dict[str, Any] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(count)}
    states[f"S{count}"] = {"Type": "Succeed"}
    return {"StartAt": "S0", "States": states}


def test_a_19_mb_definition_is_refused_unparsed(tmp_path: Path) -> None:
    huge = _states(400_000)
    definition = _write(tmp_path / "huge.asl.json", huge)
    assert definition.stat().st_size > 18_000_000
    result = CliRunner().invoke(app, ["validate", str(definition)])
    assert result.exit_code == 2
    assert _one_line(result.stderr).startswith(
        f"asl validate: {definition}: ValidationException: 1 validation error detected: "
    )
    with pytest.raises(asl.DefinitionTooLarge):
        run(huge)


def test_a_definition_just_over_the_limit_is_refused_by_asl_run(tmp_path: Path) -> None:
    text = json.dumps(PASS).ljust(1_048_577)
    result = CliRunner().invoke(app, ["run", str(_write(tmp_path / "m.asl.json", text))])
    assert result.exit_code == 2
    assert "ValidationException" in _one_line(result.stderr)
    assert result.stdout == ""


# --- file arguments ------------------------------------------------------------------


def _file_arguments(tmp_path: Path, hostile: str) -> list[list[str]]:
    """Every file argument of every command, each given ``hostile``."""
    definition = str(_write(tmp_path / "m.asl.json", PASS))
    store = str(tmp_path / "store")
    return [
        ["run", definition, "--input", f"@{hostile}"],
        ["run", definition, "--functions", hostile],
        ["run", definition, "--mock-config", hostile, "--test-case", "t"],
        ["run", definition, "--connections", hostile],
        ["run", definition, "--resources", hostile],
        ["run", definition, "--substitutions", hostile],
        ["run", hostile],
        ["validate", hostile],
        ["render", hostile, "-o", str(tmp_path / "out.dot")],
        ["render", definition, "-o", str(tmp_path / "out.dot"), "--history", hostile],
        ["tasks", "approve", TOKEN, "--output", f"@{hostile}", "--store", store],
    ]


def test_a_file_without_end_is_refused_after_its_bound(tmp_path: Path) -> None:
    for args in _file_arguments(tmp_path, "/dev/zero"):
        proc = asl_capped(*args, cwd=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        line = _one_line(proc.stderr)
        assert "/dev/zero" in line and "larger than" in line, (args, line)


def test_a_file_that_is_not_utf8_is_one_line_naming_it(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"name": "café"}'.encode("latin-1"))
    for args in _file_arguments(tmp_path, str(latin1)):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        line = _one_line(result.stderr)
        assert f"{latin1}" in line, (args, line)
        assert "not UTF-8 text (byte 0xe9 at offset 13)" in line, (args, line)


def test_a_directory_given_as_a_file_is_one_line_naming_it(tmp_path: Path) -> None:
    for args in _file_arguments(tmp_path, str(tmp_path)):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert str(tmp_path) in _one_line(result.stderr), args


# --- outputs ---------------------------------------------------------------------------


def test_a_history_that_cannot_be_written_still_prints_the_result(tmp_path: Path) -> None:
    definition = _write(tmp_path / "m.asl.json", PASS)
    result = CliRunner().invoke(app, ["run", str(definition), "--history", "/dev/full"])
    assert result.exit_code == 2
    assert json.loads(result.stdout) == {}
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "SUCCEEDED after 1 state"
    assert lines[1:] == [
        "asl run: cannot write the history to /dev/full: [Errno 28] No space left on device"
    ]


@pytest.mark.parametrize("option", ["--history", "--trace"])
def test_an_output_that_is_a_directory_is_refused_before_running(
    tmp_path: Path, option: str
) -> None:
    definition = _write(tmp_path / "m.asl.json", PASS)
    (tmp_path / "out.svg").mkdir()
    result = CliRunner().invoke(app, ["run", str(definition), option, str(tmp_path / "out.svg")])
    assert result.exit_code == 2
    assert _one_line(result.stderr) == f"asl run: {option}: {tmp_path / 'out.svg'} is a directory"
    assert result.stdout == ""


def test_a_picture_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    definition = _write(tmp_path / "m.asl.json", PASS)
    result = CliRunner().invoke(app, ["render", str(definition), "-o", "/dev/full", "-f", "dot"])
    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        "asl render: cannot write /dev/full: [Errno 28] No space left on device"
    )


# --- the task store --------------------------------------------------------------------


@pytest.fixture
def corrupt_store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    store.mkdir()
    (store / "store.sqlite3").write_text("not a database, but text")
    return store


@pytest.mark.parametrize(
    "command",
    [["tasks"], ["tasks", "list"], ["tasks", "approve", TOKEN], ["tasks", "heartbeat", TOKEN]],
)
def test_asl_tasks_on_a_corrupt_store_is_one_line(corrupt_store: Path, command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--store", str(corrupt_store)])
    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        f"asl tasks: the task store {corrupt_store / 'store.sqlite3'} cannot be used: "
        "file is not a database"
    )


def test_asl_run_refuses_a_corrupt_store_before_a_task_waits_on_it(
    tmp_path: Path, corrupt_store: Path
) -> None:
    definition = _write(tmp_path / "callback.asl.json", CALLBACK)
    result = CliRunner().invoke(app, ["run", str(definition), "--store", str(corrupt_store)])
    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        f"asl run: the task store {corrupt_store / 'store.sqlite3'} cannot be used: "
        "file is not a database"
    )


def test_asl_run_needs_no_store_when_nothing_waits(tmp_path: Path, corrupt_store: Path) -> None:
    definition = _write(tmp_path / "m.asl.json", PASS)
    result = CliRunner().invoke(app, ["run", str(definition), "--store", str(corrupt_store)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {}


def test_asl_run_refuses_a_store_whose_folder_is_a_file(tmp_path: Path) -> None:
    definition = _write(tmp_path / "callback.asl.json", CALLBACK)
    _write(tmp_path / ".asl", "a file where the store's folder should be")
    result = CliRunner().invoke(
        app, ["run", str(definition), "--store", str(tmp_path / ".asl" / "inner")]
    )
    assert result.exit_code == 2
    assert _one_line(result.stderr) == (
        f"asl run: the task store {tmp_path / '.asl' / 'inner' / 'store.sqlite3'} cannot be "
        f"used: {tmp_path / '.asl'} is not a directory"
    )
