"""The ``asl`` command's light paths import none of the heavy modules: ``asl --help``, a
subcommand's ``--help`` and ``asl validate`` of a JSONPath definition start without the
engine, its servers and clients (aiohttp, temporalio, the AWS SDK), the JSONata library or
the visualizer, which only the commands that run or draw load. What is loaded is read
from ``sys.modules`` of a fresh interpreter that ran the command, never from a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Loaded only by the commands that run an execution, serve, draw or work for Temporal.
HEAVY = (
    "aiohttp",
    "aiobotocore",
    "botocore",
    "moto",
    "temporalio",
    "jsonata",
    "asyncio",
    "runtime.executions",
    "runtime.testing",
    "integrations.lambdas",
    "visualizer",
    "asl.compile",
)
#: What validating needs, and the help text does not.
VALIDATOR = ("networkx", "jsonschema")

_PROBE = """
import json, sys
from runtime.cli.commands import app
try:
    app(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

JSONPATH_MACHINE = {
    "StartAt": "Pick",
    "States": {
        "Pick": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"}],
            "Default": "Small",
        },
        "Big": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": True},
        "Small": {"Type": "Succeed"},
    },
}


def _loaded(*args: str) -> tuple[int, set[str]]:
    """The exit code of ``asl ARGS`` and every module loaded when it ended."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    last = proc.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    return result["code"], set(result["modules"])


def _among(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in names))


@pytest.mark.parametrize(
    "args", [("--help",), ("tasks", "--help"), ("render", "--help"), ("run", "--help")], ids=str
)
def test_help_loads_neither_the_engine_nor_the_validator(args: tuple[str, ...]) -> None:
    code, modules = _loaded(*args)
    assert code == 0
    assert _among(modules, HEAVY + VALIDATOR) == []


def test_validating_a_jsonpath_definition_loads_only_the_validator(tmp_path: Path) -> None:
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(JSONPATH_MACHINE))
    code, modules = _loaded("validate", str(definition))
    assert code == 0
    assert _among(modules, HEAVY) == []
    assert _among(modules, VALIDATOR) != []  # it did validate


def test_the_heavy_modules_are_seen_when_a_command_needs_them(tmp_path: Path) -> None:
    # The probe tells loaded from not: running an execution loads the engine.
    definition = tmp_path / "machine.asl.json"
    definition.write_text(json.dumps(JSONPATH_MACHINE))
    code, modules = _loaded("run", str(definition), "--input", '{"n": 2}')
    assert code == 0
    assert {"runtime.executions", "asyncio", "asl.compile"} <= modules
