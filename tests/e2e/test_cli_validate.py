"""`asl validate` as a user runs it: a subprocess, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

VALID = {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}


def asl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_valid_file_exits_0(tmp_path: Path) -> None:
    f = tmp_path / "ok.asl.json"
    f.write_text(json.dumps(VALID))
    proc = asl("validate", str(f))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{f}: OK"


def test_invalid_json_reports_line_and_column_and_exits_1(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text('{\n  "StartAt": "A",\n  "States": }\n')
    proc = asl("validate", str(f))
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{f}:3:13: ERROR INVALID_JSON_DESCRIPTION ")
    assert "Traceback" not in proc.stderr


def test_json_format_is_aws_response_shape(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text("[1, 2]")
    proc = asl("validate", "--format", "json", str(f))
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert out["result"] == "FAIL"
    assert out["truncated"] is False
    assert out["diagnostics"][0]["code"] == "SCHEMA_VALIDATION_FAILED"
    assert out["diagnostics"][0]["message"] == "Definition must be a valid JSON object"


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_unreadable_file_exits_2(tmp_path: Path, output_format: str) -> None:
    proc = asl("validate", "--format", output_format, str(tmp_path / "missing.asl.yaml"))
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_usage_exits_2() -> None:
    proc = asl("validate", "--format", "xml", "x.json")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
