"""A Distributed Map's child executions folded onto the trace of their parent
(``visualizer.map_runs``): in Distributed mode each item runs as a child workflow execution
with a history of its own, apart from the parent's
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html)."""

from __future__ import annotations

from typing import Any

from runtime.testing import run
from runtime.testing.coverage import map_run_histories
from visualizer import build_trace, load_diagram
from visualizer.describe import iteration_text
from visualizer.map_runs import fold_map_runs

DISTRIBUTED = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}


def _distributed(states: dict[str, Any], start: str, **fields: Any) -> dict[str, Any]:
    processor = {"ProcessorConfig": DISTRIBUTED, "StartAt": start, "States": states}
    return {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}


LINE = {
    "Line": {
        "Type": "Choice",
        "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Bad"}],
        "Default": "Good",
    },
    "Good": {"Type": "Pass", "End": True},
    "Bad": {"Type": "Fail", "Error": "Zero"},
}
# A Distributed Map in a Distributed Map. An order with a line 0 fails its inner Map Run
# (no failure tolerated there), so its outer child fails, which the outer Map tolerates.
NESTED = {
    "StartAt": "Orders",
    "States": {
        "Orders": _distributed(
            {"Lines": _distributed(LINE, "Line", ItemsPath="$.lines")},
            "Lines",
            ToleratedFailurePercentage=100,
        )
    },
}


def test_children_and_their_own_map_runs_count_on_the_parents_diagram() -> None:
    execution = run(NESTED, [{"lines": [1, 2]}, {"lines": [0]}])
    assert execution.status == "SUCCEEDED"
    diagram = load_diagram(NESTED)
    parent = build_trace(diagram, execution.history_json())
    trace = fold_map_runs(diagram, parent, map_run_histories(execution))
    assert (trace.status, trace.start, trace.end) == ("SUCCEEDED", parent.start, parent.end)

    def state(name: str) -> Any:
        return trace.state(diagram.by_name[name])

    assert iteration_text(state("Orders")) == "2 iterations · 1 failed"
    assert len(state("Orders").visits) == 1
    assert iteration_text(state("Lines")) == "3 iterations · 1 failed"
    assert len(state("Lines").visits) == 2
    assert [len(state(n).visits) for n in ("Line", "Good", "Bad")] == [3, 2, 1]
    assert state("Bad").status == "failed"
    line, good, bad = (diagram.by_name[n] for n in ("Line", "Good", "Bad"))
    assert trace.edges[(line, good, "default")] == 2
    assert trace.edges[(line, bad, "choice:0")] == 1
    inner = diagram.children[diagram.by_name["Lines"]][0]
    assert trace.starts[inner.id] == 3


def test_without_its_map_runs_a_trace_is_left_as_it_is() -> None:
    execution = run(NESTED, [{"lines": [1]}])
    diagram = load_diagram(NESTED)
    trace = build_trace(diagram, execution.history_json())
    assert fold_map_runs(diagram, trace, {}) is trace
    assert trace.state(diagram.by_name["Orders"]).iterations == 0
    assert trace.state(diagram.by_name["Line"]).visits == []


def test_a_map_run_is_read_once_even_when_histories_name_it_again() -> None:
    # Histories from outside may be inconsistent: a child naming its own Map Run cannot
    # make the fold loop or count twice.
    execution = run(NESTED, [{"lines": [1]}])
    diagram = load_diagram(NESTED)
    history = execution.history_json()
    (map_run,) = execution.map_runs
    trace = fold_map_runs(diagram, build_trace(diagram, history), {map_run.arn: [history]})
    assert trace.state(diagram.by_name["Orders"]).iterations == 1
    assert len(trace.state(diagram.by_name["Orders"]).visits) == 2
