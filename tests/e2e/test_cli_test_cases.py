"""``asl test``: every test case of a MockConfigFile run against its machines, checked
against an expectations file, with a JUnit XML report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "http_task"
MOCKS = str(EXAMPLE / "mock_config.json")
MACHINE = str(EXAMPLE / "http_task.asl.json")
INPUT = json.loads((EXAMPLE / "input.json").read_text())
SENT = {"invoiceId": "in_1PJ2nX", "status": "open", "sentTo": "billing@customer.example.org"}


def asl_test(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "test", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _expectations(tmp_path: Path, cases: dict[str, object]) -> str:
    path = tmp_path / "expect.json"
    path.write_text(json.dumps({"http_task": cases}))
    return str(path)


def test_every_case_is_run_and_reported() -> None:
    proc = asl_test(MOCKS, MACHINE)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "http_task/Created: FAILED"  # no input given: {} has no customer
    assert [line for line in lines if not line.startswith(" ")] == [
        "http_task/Created: FAILED",
        "http_task/BusyThenCreated: FAILED",
        "http_task/Replayed: FAILED",
        "http_task/UnknownCustomer: FAILED",
        "4 test cases run (nothing to check them against: --expect)",
    ]


def test_input_is_given_to_every_case_without_its_own(tmp_path: Path) -> None:
    expect = _expectations(tmp_path, {"Created": {"status": "SUCCEEDED", "output": SENT}})
    proc = asl_test(MOCKS, MACHINE, "--input", f"@{EXAMPLE / 'input.json'}", "--expect", expect)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "http_task/Created: SUCCEEDED  ok"
    assert "http_task/BusyThenCreated: SUCCEEDED" in lines  # the same input, no expectation
    assert lines[-1] == "4 of 4 test cases passed"


def test_an_input_that_is_not_json_is_a_usage_error() -> None:
    proc = asl_test(MOCKS, MACHINE, "--input", "{bad")
    assert proc.returncode == 2
    assert proc.stderr.startswith("asl test: --input is not JSON: Expecting property name")


def test_expectations_pass_and_fail_with_a_junit_report(tmp_path: Path) -> None:
    expect = _expectations(
        tmp_path,
        {
            "Created": {"input": INPUT, "status": "SUCCEEDED", "output": SENT},
            "Replayed": {
                "input": INPUT,
                "path": ["Create invoice", "Invoice created?", "Invoice already exists"],
            },
            "UnknownCustomer": {"input": INPUT, "error": "CustomerNotFound"},
            "BusyThenCreated": {"input": INPUT, "status": "FAILED"},
        },
    )
    report = tmp_path / "junit.xml"
    proc = asl_test(MOCKS, MACHINE, "--expect", expect, "--junit-xml", str(report))
    assert proc.returncode == 1, proc.stderr
    assert "http_task/Created: SUCCEEDED  ok" in proc.stdout
    assert f"  output: {json.dumps(SENT)}" in proc.stdout
    assert "http_task/BusyThenCreated: SUCCEEDED  FAIL" in proc.stdout
    assert "  | status SUCCEEDED, expected FAILED" in proc.stdout
    assert "  |    1. Create invoice    SUCCEEDED, 2 retries, errors: " in proc.stdout
    assert proc.stdout.endswith("3 of 4 test cases passed\n")
    suite = ElementTree.parse(report).getroot()
    assert (suite.get("tests"), suite.get("failures")) == ("4", "1")
    failed = [case for case in suite if case.find("failure") is not None]
    assert [(case.get("classname"), case.get("name")) for case in failed] == [
        ("http_task", "BusyThenCreated")
    ]
    assert failed[0].find("failure").get("message") == "status SUCCEEDED, expected FAILED"  # type: ignore[union-attr]


def test_bad_usage_exits_2_with_a_message(tmp_path: Path) -> None:
    proc = asl_test(MOCKS, MACHINE, "--expect", _expectations(tmp_path, {"Nope": {}}))
    assert proc.returncode == 2
    assert proc.stderr == "asl test: expectations: 'http_task' has no test case 'Nope'\n"
    other = tmp_path / "other.asl.json"
    other.write_text(Path(MACHINE).read_text())
    proc = asl_test(MOCKS, str(other))
    assert proc.returncode == 2
    assert proc.stderr == f"asl test: {MOCKS} has no test cases for other\n"
