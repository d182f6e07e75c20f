"""Workflow coverage: read from executions' histories (AWS's format), printed per state
machine by ``pytest --asl-cov``, drawn by ``--asl-cov-report``, enforced by
``--asl-cov-fail-under``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine
from runtime.testing.coverage import SessionCoverage

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "runtime.testing.pytest_plugin")

ROUTER = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.n", "NumericEquals": 1, "Next": "Both"},
                {"Variable": "$.n", "NumericEquals": 2, "Next": "Boom"},
            ],
            "Default": "Done",
        },
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
            ],
            "Next": "Done",
        },
        "Boom": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "boom"},
            "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}],
            "End": True,
        },
        "Done": {"Type": "Succeed"},
    },
}


def test_coverage_counts_states_transitions_retries_and_branches(
    asl_engine: WorkflowEngine,
) -> None:
    coverage = SessionCoverage()
    execution = asl_engine.run(ROUTER, {"n": 1}, state_machine_name="router")
    coverage.add("router", ROUTER, execution.history_json())  # AWS's GetExecutionHistory shape
    hits = {(item.kind, item.label): item.hits for item in coverage.machines["router"].items()}
    assert hits == {
        ("state", "Route"): 1,
        ("state", "Both"): 1,
        ("branch", "Both branch 1"): 1,
        ("branch", "Both branch 2"): 1,
        ("state", "Left"): 1,
        ("state", "Right"): 1,
        ("state", "Boom"): 0,
        ("retry", "Boom Retry"): 0,
        ("state", "Done"): 1,
        ("transition", "Route -> Both (choice #0)"): 1,
        ("transition", "Route -> Boom (choice #1)"): 0,
        ("transition", "Route -> Done (default)"): 0,
        ("transition", "Both -> Done (next)"): 1,
        ("transition", "Boom -> Done (catch #0)"): 0,
    }
    assert coverage.machines["router"].percent() == pytest.approx(100 * 9 / 14)


SESSION = """
from test_machine import ROUTER


def test_one(asl_engine):
    asl_engine.mock("Boom", error="Busy")
    asl_engine.run(ROUTER, {"n": 2}, state_machine_name="router")


def test_two(asl_engine):
    asl_engine.run(ROUTER, {"n": 3}, state_machine_name="router")
"""


#: What ``--asl-cov`` prints for SESSION's two tests.
REPORT = [
    "*- asl workflow coverage -*",
    "router: 50% (states 3/6, transitions 3/5, retries 1/1, branches 0/2; 2 runs)",
    "    missed state: Both",
    "    missed branch: Both branch 1",
    "    missed branch: Both branch 2",
    "    missed state: Left",
    "    missed state: Right",
    "    missed transition: Route -> Both (choice #0)",
    "    missed transition: Both -> Done (next)",
    "TOTAL: 50%",
]


@pytest.fixture
def session(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_machine=f"ROUTER = {ROUTER!r}\n", test_session=SESSION)
    return pytester


def test_asl_cov_prints_each_machine_and_what_it_missed(session: pytest.Pytester) -> None:
    result = session.runpytest(*PLUGIN, "--asl-cov")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(REPORT)


def test_fail_under_fails_a_passing_session(session: pytest.Pytester) -> None:
    result = session.runpytest(*PLUGIN, "--asl-cov-fail-under", "60")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAIL: workflow coverage 50.0% is under 60%"])
    assert session.runpytest(*PLUGIN, "--asl-cov-fail-under", "50").ret == pytest.ExitCode.OK


def test_the_report_draws_each_machine(session: pytest.Pytester, tmp_path: Path) -> None:
    result = session.runpytest(*PLUGIN, "--asl-cov-report", str(tmp_path / "cov"))
    result.assert_outcomes(passed=2)
    index = (tmp_path / "cov" / "index.html").read_text()
    assert "<h1>Workflow coverage: 50%</h1>" in index
    assert "<li>state: Left</li>" in index and "<img src='router.svg'" in index
    svg = ElementTree.parse(tmp_path / "cov" / "router.svg").getroot()
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "coverage 50% over 2 runs" in texts
    for name in ("Route", "Both", "Left", "Boom", "Done"):
        assert name in texts


@pytest.fixture
def split_session(pytester: pytest.Pytester) -> pytest.Pytester:
    """SESSION's two tests in two files, the second running the machine from its file."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_machine=f"ROUTER = {ROUTER!r}\n",
        test_one=SESSION[: SESSION.index("def test_two")],
        test_two="""
def test_two(asl_engine):
    asl_engine.run("router.asl.json", {"n": 3})  # the machine "router", from its file
""",
    )
    (pytester.path / "router.asl.json").write_text(json.dumps(ROUTER))
    return pytester


def test_under_xdist_the_controller_counts_every_workers_executions(
    split_session: pytest.Pytester, tmp_path: Path
) -> None:
    """Each file runs on a worker of its own (``--dist loadfile``), which alone would see
    43% or 21%: the controller prints, draws and enforces the session's 50%."""
    result = split_session.runpytest(
        *PLUGIN, "-n", "2", "--dist", "loadfile", "-v", "--asl-cov",
        "--asl-cov-report", str(tmp_path / "cov"), "--asl-cov-fail-under", "60",
    )  # fmt: skip
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines_random(["*gw0*PASSED*", "*gw1*PASSED*"])
    result.stdout.fnmatch_lines([*REPORT, "FAIL: workflow coverage 50.0% is under 60%"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "<h1>Workflow coverage: 50%</h1>" in (tmp_path / "cov" / "index.html").read_text()
