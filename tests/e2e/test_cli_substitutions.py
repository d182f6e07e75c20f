"""``--substitute`` and ``--substitutions`` as a user gives them to ``asl validate``,
``asl run`` and ``asl render``: the SAM-style example, its placeholders filled or not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.cli.demo import EXAMPLES
from tests.e2e.test_cli_run import asl

FOLDER = EXAMPLES / "subscription_reminder"
DEFINITION = str(FOLDER / "subscription_reminder.asl.json")
VALUES = str(FOLDER / "substitutions.json")
RUN = ("--input", f"@{FOLDER / 'input.json'}", "--functions", str(FOLDER / "functions.json"))
NAMES = json.loads((FOLDER / "substitutions.json").read_text())


def test_validate_without_values_names_every_placeholder_and_passes() -> None:
    proc = asl("validate", DEFINITION)
    assert proc.returncode == 0, proc.stdout
    warnings = [line for line in proc.stdout.splitlines() if "UNRESOLVED_PLACEHOLDER" in line]
    assert len(warnings) == len(NAMES)
    assert all(f"${{{name}}}" in proc.stdout for name in NAMES)
    assert proc.stdout.splitlines()[-1] == f"{DEFINITION}: OK"


def test_validate_with_values_has_nothing_to_say() -> None:
    proc = asl("validate", DEFINITION, "--substitutions", VALUES)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"{DEFINITION}: OK")


def test_validate_checks_the_filled_definition() -> None:
    quoted = 'MaxReminders="3"'  # a JSON string in the text: a string, not a number
    proc = asl("validate", DEFINITION, "--substitutions", VALUES, "--substitute", quoted)
    assert proc.returncode == 1
    assert "(/States/Decide/Choices[1]/NumericGreaterThanEquals)" in proc.stdout


def test_run_with_values_from_a_file(tmp_path: Path) -> None:
    proc = asl("run", DEFINITION, "--substitutions", VALUES, *RUN, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    output = json.loads(proc.stdout)
    assert output["sent"]["reminder"] == {"sent": True, "channel": "email", "to": "ops@example.com"}
    assert (tmp_path / "out" / "subscription_reminder" / "c-1042.txt").exists()


def test_substitute_wins_over_the_file_and_a_bare_number_stays_a_number(tmp_path: Path) -> None:
    proc = asl(
        "run", DEFINITION, "--substitutions", VALUES, "--substitute", "MaxReminders=1", *RUN,
        "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["output"]["outcome"] == {
        "reminded": False,
        "reason": "enough reminders sent already",
    }


def test_values_given_one_by_one(tmp_path: Path) -> None:
    pairs = [arg for name, value in NAMES.items() for arg in ("--substitute", f"{name}={value}")]
    proc = asl("run", DEFINITION, *pairs, *RUN, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_run_without_values_refuses_in_one_line(tmp_path: Path) -> None:
    proc = asl("run", DEFINITION, *RUN, cwd=tmp_path)
    assert proc.returncode == 2
    [line] = proc.stderr.splitlines()
    assert line.startswith("asl run: no value for ${LookupFunctionArn}, ${LookupRetries}")
    assert "--substitute NAME=VALUE" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--substitute", "NoEquals"], "--substitute takes NAME=VALUE, not 'NoEquals'"),
        (["--substitute", "=x"], "--substitute takes NAME=VALUE, not '=x'"),
        (["--substitutions", "/nonexistent/values.json"], "the substitutions file"),
    ],
)
def test_bad_substitutions_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    for command in ("validate", "run", "render"):
        extra = ["-o", str(tmp_path / "x.dot")] if command == "render" else []
        proc = asl(command, DEFINITION, *extra, *args)
        assert proc.returncode == 2, (command, proc.stderr)
        assert message in proc.stderr
        assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("document", [["a", "b"], {"A": None}, {"A": {"b": 1}}])
def test_a_substitutions_file_maps_names_to_scalars(document: object, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(json.dumps(document))
    proc = asl("validate", DEFINITION, "--substitutions", str(values))
    assert proc.returncode == 2
    assert "must map each name to a string, number or boolean" in proc.stderr


def test_values_in_a_loop_exit_2(tmp_path: Path) -> None:
    proc = asl("run", DEFINITION, "--substitute", "LookupFunctionArn=${LookupFunctionArn}x", *RUN)
    assert proc.returncode == 2
    assert "in a loop" in proc.stderr


def test_render_without_values_draws_with_stand_ins(tmp_path: Path) -> None:
    out = tmp_path / "reminder.dot"
    proc = asl("render", DEFINITION, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "${ReminderDelaySeconds}" in proc.stderr and "as stand-ins" in proc.stderr
    assert "lambda:invoke · ${LookupFunctionArn}" in out.read_text()


def test_render_and_trace_with_values(tmp_path: Path) -> None:
    out = tmp_path / "reminder.dot"
    proc = asl("render", DEFINITION, "-o", str(out), "--substitutions", VALUES)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "Wait 1d" in out.read_text()
    trace = tmp_path / "trace.dot"
    proc = asl(
        "run", DEFINITION, "--substitutions", VALUES, *RUN, "--trace", str(trace), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "lookup-subscription" in trace.read_text()
