"""Workflow coverage: read from executions' histories (AWS's format), printed per state
machine by ``pytest --asl-cov``, drawn by ``--asl-cov-report``, enforced by
``--asl-cov-fail-under``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from runtime.testing import WorkflowEngine
from runtime.testing.coverage import SessionCoverage, map_run_histories
from visualizer.describe import iteration_text
from visualizer.styles import HEAT_STEPS

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


def test_coverage_counts_states_transitions_retriers_catchers_and_branches(
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
        ("retrier", "Boom Retry #0 (Busy)"): 0,
        ("catcher", "Boom Catch #0 (States.ALL) -> Done"): 0,
        ("state", "Done"): 1,
        ("transition", "Route -> Both (choice #0)"): 1,
        ("transition", "Route -> Boom (choice #1)"): 0,
        ("transition", "Route -> Done (default)"): 0,
        ("transition", "Both -> Done (next)"): 1,
    }
    assert coverage.machines["router"].percent() == pytest.approx(100 * 9 / 14)


# AWS applies the first Retrier whose ErrorEquals names the error ("When a state reports an
# error, Step Functions scans through the retriers"), each Retrier keeping its own count,
# and once retries no longer resolve it, the first Catcher in array order that names it
# ("Step Functions scans through the catchers in the order listed in the array"):
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
PAY = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "charge"},
            "Retry": [
                {"ErrorEquals": ["Busy"], "MaxAttempts": 2},
                {"ErrorEquals": ["Throttled"], "MaxAttempts": 0},
                {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1},
            ],
            "Catch": [
                {"ErrorEquals": ["Declined"], "Next": "Declined"},
                {"ErrorEquals": ["States.ALL"], "Next": "Broken"},
            ],
            "End": True,
        },
        "Declined": {"Type": "Fail", "Error": "Declined"},
        "Broken": {"Type": "Fail", "Error": "Broken"},
    },
}


def _throws(*errors: str) -> dict[str, dict[str, dict[str, str]]]:
    return {str(i): {"Throw": {"Error": error, "Cause": ""}} for i, error in enumerate(errors)}


PAY_CASES = {
    "StateMachines": {
        "pay": {
            "TestCases": {
                "BusyOopsDeclined": {"Charge": "BusyOopsDeclined"},
                "Throttled": {"Charge": "Throttled"},
            }
        }
    },
    "MockedResponses": {
        "BusyOopsDeclined": _throws("Busy", "Busy", "Oops", "Declined"),
        "Throttled": _throws("Throttled"),
    },
}


def _hits(coverage: SessionCoverage, name: str, kind: str) -> dict[str, int]:
    return {i.label: i.hits for i in coverage.machines[name].items() if i.kind == kind}


def test_each_retrier_and_catcher_is_the_first_that_names_the_error(
    asl_engine: WorkflowEngine,
) -> None:
    asl_engine.mock_config(PAY_CASES)
    coverage = SessionCoverage()
    for case in ("BusyOopsDeclined", "Throttled"):
        execution = asl_engine.run(PAY, {}, state_machine_name="pay", test_case=case)
        coverage.add("pay", PAY, execution.history_json())
    # Busy twice: retrier #0 retries both. Oops: #2 (States.ALL) retries it. Declined: #2
    # again, exhausted, so Catcher #0 takes it. Throttled: #1 (MaxAttempts 0) hands it on
    # at once, and only Catcher #1 (States.ALL) names it.
    assert _hits(coverage, "pay", "retrier") == {
        "Charge Retry #0 (Busy)": 2,
        "Charge Retry #1 (Throttled)": 1,
        "Charge Retry #2 (States.ALL)": 2,
    }
    assert _hits(coverage, "pay", "catcher") == {
        "Charge Catch #0 (Declined) -> Declined": 1,
        "Charge Catch #1 (States.ALL) -> Broken": 1,
    }
    assert coverage.machines["pay"].percent() == 100.0


def _retried(scope: str, states: dict[str, object]) -> dict[str, object]:
    """A Map or Parallel around the Task F, retried per error name."""
    return {
        "StartAt": "Outer",
        "States": {
            "Outer": {
                "Type": scope,
                **({"Branches": [states]} if scope == "Parallel" else {"ItemProcessor": states}),
                "Retry": [
                    {"ErrorEquals": ["X"], "MaxAttempts": 1, "IntervalSeconds": 1},
                    {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1, "IntervalSeconds": 1},
                ],
                "End": True,
            }
        },
    }


@pytest.mark.parametrize("scope", ["Parallel", "Map"])
def test_a_map_or_parallel_retry_is_counted_by_the_error_of_each_attempt(
    asl_engine: WorkflowEngine, scope: str
) -> None:
    # A retried attempt of a Map or Parallel records no failure event of its own: the
    # error is its child's (here Y, then X, then the third attempt succeeds).
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "f"},
        "End": True,
    }
    machine = _retried(scope, {"StartAt": "F", "States": {"F": task}})
    answers = {
        "0": {"Throw": {"Error": "Y"}},
        "1": {"Throw": {"Error": "X"}},
        "2": {"Return": {"Payload": 1}},
    }
    asl_engine.mock_config(
        {
            "StateMachines": {"outer": {"TestCases": {"T": {"F": "YXok"}}}},
            "MockedResponses": {"YXok": answers},
        }
    )
    execution = asl_engine.run(machine, [1], state_machine_name="outer", test_case="T")
    assert execution.status == "SUCCEEDED"
    coverage = SessionCoverage()
    coverage.add("outer", machine, execution.history_json())
    assert _hits(coverage, "outer", "retrier") == {
        "Outer Retry #0 (X)": 1,
        "Outer Retry #1 (States.ALL)": 1,
    }


def test_a_retried_distributed_map_counts_its_map_runs_error_and_every_child(
    asl_engine: WorkflowEngine,
) -> None:
    # Its items fail in child executions this history does not hold: the MapRunFailed
    # event names the Map's error, which decides the Retrier and the Catcher.
    machine = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "F",
                    "States": {"F": {"Type": "Fail", "Error": "Bad"}},
                },
                "ToleratedFailureCount": 0,
                "Retry": [
                    {"ErrorEquals": ["Bad"]},
                    {"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "MaxAttempts": 1},
                ],
                "Catch": [
                    {"ErrorEquals": ["Bad"], "Next": "Done"},
                    {"ErrorEquals": ["States.ALL"], "Next": "Done"},
                ],
                "End": True,
            },
            "Done": {"Type": "Succeed"},
        },
    }
    coverage = SessionCoverage()
    execution = asl_engine.run(machine, [1, 2])
    coverage.add("each", machine, execution.history_json(), map_run_histories(execution))
    assert _hits(coverage, "each", "retrier") == {
        "Each Retry #0 (Bad)": 0,
        "Each Retry #1 (States.ExceedToleratedFailureThreshold)": 2,
    }
    assert _hits(coverage, "each", "catcher") == {
        "Each Catch #0 (Bad) -> Done": 0,
        "Each Catch #1 (States.ALL) -> Done": 1,
    }
    # Each attempt started a Map Run of its own: both items failed in both, and every
    # child counts (the Map's first attempt and its retry).
    each = coverage.machines["each"]
    assert _hits(coverage, "each", "state")["F"] == 4
    assert iteration_text(each.trace().state(each.diagram.by_name["Each"])) == (
        "4 iterations · 4 failed"
    )


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
    "router: 50% (states 3/6, transitions 2/4, retriers 1/1, catchers 1/1, branches 0/2; 2 runs)",
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


def test_asl_cov_verbose_lists_every_item_hit_with_its_count(session: pytest.Pytester) -> None:
    result = session.runpytest(*PLUGIN, "--asl-cov", "-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "router: 50% (*)",
            "         2× state: Route",
            "    missed state: Both",
            "*",
            "         1× state: Boom",
            "         2× retrier: Boom Retry #0 (Busy)",
            "         1× catcher: Boom Catch #0 (States.ALL) -> Done",
            "         2× state: Done",
            "    missed transition: Route -> Both (choice #0)",
            "         1× transition: Route -> Boom (choice #1)",
            "         1× transition: Route -> Done (default)",
            "    missed transition: Both -> Done (next)",
            "TOTAL: 50%",
        ]
    )


def test_fail_under_fails_a_passing_session(session: pytest.Pytester) -> None:
    result = session.runpytest(*PLUGIN, "--asl-cov-fail-under", "60")
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["FAIL: workflow coverage 50.0% is under 60%"])
    assert session.runpytest(*PLUGIN, "--asl-cov-fail-under", "50").ret == pytest.ExitCode.OK


SVG = "{http://www.w3.org/2000/svg}"


def _shapes(svg: ElementTree.Element) -> dict[str, ElementTree.Element]:
    """Each state's drawn shape (path or polygon) by state name."""
    out = {}
    for group in svg.iter(f"{SVG}g"):
        if "state" in (group.get("class") or "").split():
            title = group.find(f"{SVG}title")
            shape = next(e for e in group.iter() if e.tag in (f"{SVG}path", f"{SVG}polygon"))
            out[(title.text or "").rsplit("/", 1)[-1]] = shape  # type: ignore[union-attr]
    return out


def test_the_report_draws_each_machine_as_a_heat_map(
    session: pytest.Pytester, tmp_path: Path
) -> None:
    result = session.runpytest(*PLUGIN, "--asl-cov-report", str(tmp_path / "cov"))
    result.assert_outcomes(passed=2)
    index = (tmp_path / "cov" / "index.html").read_text()
    assert "<h1>Workflow coverage: 50%</h1>" in index
    assert "<td>state</td><td>Left</td><td class='hits'>missed</td>" in index
    assert "<td>retrier</td><td>Boom Retry #0 (Busy)</td><td class='hits'>2</td>" in index
    assert "<img src='router.svg'" in index
    svg = ElementTree.parse(tmp_path / "cov" / "router.svg").getroot()
    texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "coverage 50% over 2 runs" in texts
    assert "hits: never 1 2 failed in a run caught an error" in texts  # the legend
    assert "↻ retry 1× 1s ×2 · Busy · handled 2" in texts
    shapes = _shapes(svg)
    # Never entered: white, a dashed grey border. Entered: graded by hits, the most
    # (Route and Done, twice) darkest. Boom caught its error: an orange border.
    for name in ("Both", "Left", "Right"):
        assert (shapes[name].get("fill"), shapes[name].get("stroke")) == ("#ffffff", "#9ca3af")
        assert shapes[name].get("stroke-dasharray")
    assert shapes["Route"].get("fill") == shapes["Done"].get("fill") == "#1d91c0"
    assert (shapes["Boom"].get("fill"), shapes["Boom"].get("stroke")) == ("#41b6c4", "#c2410c")
    edges = {
        (g.findtext(f"{SVG}title") or ""): g
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "edge"
    }
    never = edges["/States/Route->/States/Both"].find(f"{SVG}path")
    assert never is not None and never.get("stroke") == "#9ca3af"
    assert never.get("stroke-dasharray") == "1,5"  # dotted


# ORDERS: a Distributed Map, EACH, inside a Parallel branch, which runs each item as a
# child workflow execution whose history is its own, apart from the parent's
# (https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html); inside it, a Choice,
# an inline Map and a Task with a Retrier and a Catcher.
CHARGE = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
    "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 1, "IntervalSeconds": 1}],
    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Refund"}],
    "End": True,
}
PARTS = {
    "Type": "Map",
    "ItemsPath": "$.parts",
    "ItemProcessor": {"StartAt": "Part", "States": {"Part": {"Type": "Pass", "End": True}}},
    "End": True,
}
KIND = {
    "Type": "Choice",
    "Choices": [{"Variable": "$.parts", "IsPresent": True, "Next": "Parts"}],
    "Default": "Charge",
}
EACH = {
    "Type": "Map",
    "ItemProcessor": {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Kind",
        "States": {
            "Kind": KIND,
            "Parts": PARTS,
            "Charge": CHARGE,
            "Refund": {"Type": "Pass", "End": True},
        },
    },
    "End": True,
}
ORDERS = {
    "StartAt": "Split",
    "States": {
        "Split": {
            "Type": "Parallel",
            "Branches": [{"StartAt": "Each", "States": {"Each": EACH}}],
            "End": True,
        }
    },
}

ORDERS_SESSION = """
from test_orders_machine import ORDERS


class Busy(Exception):
    pass


class Declined(Exception):
    pass


def charge(event, context):
    if event["id"] == "declined":
        raise Declined("card declined")
    return "charged"


def test_parts_and_a_declined_card(asl_engine):
    asl_engine.function("charge", charge)
    items = [{"parts": [1, 2]}, {"id": "ok"}, {"id": "declined"}]
    assert asl_engine.run(ORDERS, items, state_machine_name="orders").status == "SUCCEEDED"


def test_a_busy_card(asl_engine):
    tries = []

    def busy_once(event, context):
        tries.append(event)
        if len(tries) == 1:
            raise Busy("try again")
        return "charged"

    asl_engine.function("charge", busy_once)
    assert asl_engine.run(ORDERS, [{"id": "ok"}], state_machine_name="orders").status == "SUCCEEDED"
"""


@pytest.fixture
def orders(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(
        test_orders_machine=f"ORDERS = {ORDERS!r}\n", test_orders_session=ORDERS_SESSION
    )
    return pytester


def test_a_distributed_maps_children_count_towards_the_machine(orders: pytest.Pytester) -> None:
    result = orders.runpytest(*PLUGIN, "--asl-cov", "-v")
    result.assert_outcomes(passed=2)
    # 4 children in 2 runs: Kind 4×, Charge 3× (once retried, once caught), the inline Map
    # Parts once with 2 iterations.
    result.stdout.fnmatch_lines(
        [
            "orders: 100% (states 7/7, transitions 2/2, retriers 1/1, catchers 1/1,"
            " branches 3/3; 2 runs)",
            "         2× state: Split",
            "         2× branch: Split branch 1",
            "         2× state: Each",
            "         4× branch: Each iterations",
            "         4× state: Kind",
            "         1× state: Parts",
            "         2× branch: Parts iterations",
            "         3× state: Charge",
            "         1× retrier: Charge Retry #0 (Busy)",
            "         1× catcher: Charge Catch #0 (States.ALL) -> Refund",
            "         1× state: Refund",
            "         2× state: Part",
            "         1× transition: Kind -> Parts (choice #0)",
            "         3× transition: Kind -> Charge (default)",
            "TOTAL: 100%",
        ]
    )


def test_the_heat_map_shades_the_states_a_distributed_map_ran(
    orders: pytest.Pytester, tmp_path: Path
) -> None:
    result = orders.runpytest(*PLUGIN, "--asl-cov-report", str(tmp_path / "cov"))
    result.assert_outcomes(passed=2)
    assert "<h1>Workflow coverage: 100%</h1>" in (tmp_path / "cov" / "index.html").read_text()
    svg = ElementTree.parse(tmp_path / "cov" / "orders.svg").getroot()
    texts = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "Each item (distributed) · 4 iterations" in texts
    shapes = _shapes(svg)
    # Kind, entered most (4×), darkest; none of the ItemProcessor's states left white.
    assert shapes["Kind"].get("fill") == HEAT_STEPS[-1][0]
    for name in ("Parts", "Part", "Charge", "Refund"):
        assert shapes[name].get("fill") not in ("#ffffff", None), name
        assert not shapes[name].get("stroke-dasharray"), name
    assert shapes["Charge"].get("stroke") == "#c2410c"  # it caught an error


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
