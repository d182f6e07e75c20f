"""Histories folded onto diagrams: status per state, edges taken, counts, durations, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asl.events import EVENT_TYPES
from visualizer import build_trace, load_diagram, to_dot, to_mermaid
from visualizer.diagram import Diagram
from visualizer.trace import HistoryError, Trace, event_time, history_events

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


def _trace(definition: str, history: str | None = None) -> tuple[Diagram, Trace]:
    diagram = load_diagram(GOLDEN / "definitions" / f"{definition}.asl.json")
    events = json.loads((GOLDEN / "histories" / f"{history or definition}.json").read_text())
    return diagram, build_trace(diagram, events)


def _node(diagram: Diagram, name: str) -> str:
    return diagram.by_name[name]


def test_success_marks_every_visited_state_and_the_path_taken() -> None:
    diagram, trace = _trace("success")
    assert trace.status == "SUCCEEDED"
    assert trace.duration == pytest.approx(1.33)
    for name in ("Prepare", "Price order", "Large order?", "Review", "Done"):
        assert trace.state(_node(diagram, name)).status == "succeeded", name
    price = trace.state(_node(diagram, "Price order"))
    assert price.duration == pytest.approx(1.23)
    choice, review = _node(diagram, "Large order?"), _node(diagram, "Review")
    assert trace.edges[(choice, review, "choice:0")] == 1
    assert trace.edges[(choice, _node(diagram, "Done"), "default")] == 0
    assert trace.starts[""] == 1
    assert trace.ends[_node(diagram, "Done")] == 1


def test_caught_failure_takes_the_matching_catcher() -> None:
    diagram, trace = _trace("caught")
    charge = trace.state(_node(diagram, "Charge card"))
    assert charge.status == "caught"
    assert charge.error == "CardDeclined"
    notify = _node(diagram, "Notify customer")
    assert trace.edges[(_node(diagram, "Charge card"), notify, "catch:0")] == 1
    assert (
        trace.edges[(_node(diagram, "Charge card"), _node(diagram, "Charge failed"), "catch:1")]
        == 0
    )
    declined = trace.state(_node(diagram, "Declined"))
    assert declined.status == "failed"
    assert (declined.error, declined.cause) == ("CardDeclined", "The card was declined.")
    assert trace.state(_node(diagram, "Ship")).status == "not_reached"
    assert trace.status == "FAILED"
    assert trace.ends == {}


def test_epoch_timestamps_give_durations() -> None:
    diagram, trace = _trace("caught")
    assert trace.state(_node(diagram, "Charge card")).duration == pytest.approx(0.9)


def test_retries_are_counted_and_the_state_shows_as_retried() -> None:
    diagram, trace = _trace("retry")
    fetch = trace.state(_node(diagram, "Fetch report"))
    assert fetch.status == "retried"
    assert fetch.retries == 2
    assert fetch.visits[0].attempts == 3
    assert trace.state(_node(diagram, "Store report")).status == "succeeded"


def test_map_with_a_failed_iteration() -> None:
    diagram, trace = _trace("map_failure")
    resize_map = trace.state(_node(diagram, "Resize images"))
    assert resize_map.status == "failed"
    assert (resize_map.iterations, resize_map.failed_iterations) == (3, 1)
    assert resize_map.aborted_iterations == 1
    assert resize_map.error == "ImageError"
    resize = trace.state(_node(diagram, "Resize"))
    assert resize.status == "failed"
    assert [v.status for v in resize.visits] == ["succeeded", "failed", "aborted"]
    assert [v.iteration for v in resize.visits] == [0, 1, 2]
    assert all(v.parent is resize_map.visits[0] for v in resize.visits)
    assert trace.starts["/States/Resize images/ItemProcessor"] == 3
    assert trace.ends[_node(diagram, "Resize")] == 1
    assert trace.state(_node(diagram, "Publish")).status == "not_reached"
    assert trace.error == "ImageError"


def test_parallel_branches_start_from_the_fork_and_end_at_the_join() -> None:
    diagram, trace = _trace("parallel")
    fan = _node(diagram, "Fan out")
    assert trace.state(fan).status == "succeeded"
    pause, send = _node(diagram, "Pause"), _node(diagram, "Send e-mail")
    assert trace.edges[(pause, send, "next")] == 1
    assert trace.state(pause).duration == pytest.approx(2.0)
    branches = [scope.id for scope in diagram.children[fan]]
    assert [trace.starts[b] for b in branches] == [1, 1]
    assert trace.ends[send] == 1 and trace.ends[_node(diagram, "Log")] == 1
    assert all(v.depth == 1 for v in trace.state(send).visits)


def test_a_running_execution_shows_running_states() -> None:
    diagram, trace = _trace("parallel", "parallel_running")
    assert trace.status == "RUNNING"
    assert trace.state(_node(diagram, "Fan out")).status == "running"
    assert trace.state(_node(diagram, "Pause")).status == "running"
    assert trace.state(_node(diagram, "Log")).status == "succeeded"
    assert trace.state(_node(diagram, "Send e-mail")).status == "not_reached"


def test_history_of_our_engine_is_drawn_the_same_way() -> None:
    from runtime.testing import run

    example = ROOT / "examples" / "batch_map_retry"
    execution = run(
        example / "batch_map_retry.asl.json",
        json.loads((example / "input.json").read_text()),
        functions=example / "functions.json",
    )
    diagram = load_diagram(example / "batch_map_retry.asl.json")
    trace = build_trace(diagram, execution.history_json())
    record = trace.state(_node(diagram, "Import record"))
    assert trace.status == execution.status == "SUCCEEDED"
    assert (len(record.visits), record.caught) == (7, 3)
    assert record.status == "caught"
    failure = _node(diagram, "Record failure")
    assert trace.edges[(_node(diagram, "Import record"), failure, "catch:0")] == 3
    assert trace.state(_node(diagram, "Import records")).iterations == 7
    assert trace.unknown_states == []


def test_missing_previous_event_ids_fall_back_to_list_order() -> None:
    diagram = load_diagram(GOLDEN / "definitions" / "success.asl.json")
    events = json.loads((GOLDEN / "histories" / "success.json").read_text())["events"]
    for event in events:
        del event["previousEventId"]
    trace = build_trace(diagram, events)
    assert trace.edges[(_node(diagram, "Prepare"), _node(diagram, "Price order"), "next")] == 1
    assert trace.state(_node(diagram, "Done")).status == "succeeded"


def test_events_are_read_in_id_order() -> None:
    diagram = load_diagram(GOLDEN / "definitions" / "success.asl.json")
    events = json.loads((GOLDEN / "histories" / "success.json").read_text())["events"]
    trace = build_trace(diagram, {"events": list(reversed(events))})
    assert trace.status == "SUCCEEDED"
    assert [e["id"] for e in trace.events] == sorted(e["id"] for e in events)


def test_states_missing_from_the_definition_are_reported() -> None:
    diagram = load_diagram(GOLDEN / "definitions" / "retry.asl.json")
    events = json.loads((GOLDEN / "histories" / "success.json").read_text())
    trace = build_trace(diagram, events)
    assert trace.unknown_states == ["Prepare", "Price order", "Large order?", "Review", "Done"]
    assert trace.states == {}


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ("nope", 'a history is {"events": [...]} or a list of events'),
        ({"events": "x"}, 'a history is {"events": [...]} or a list of events'),
        ({"nothing": []}, 'a history is {"events": [...]} or a list of events'),
        ([{"id": 1}], "history event #1 is not an object with a 'type'"),
        ([{"type": "ExecutionStarted"}, 3], "history event #2 is not an object with a 'type'"),
    ],
)
def test_malformed_histories_raise_history_error(history: Any, message: str) -> None:
    with pytest.raises(HistoryError) as caught:
        history_events(history)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("timestamp", "seconds"),
    [
        ("2024-05-14T10:00:00Z", 1715680800.0),
        ("2024-05-14T12:00:00.500+02:00", 1715680800.5),
        (1715680800.25, 1715680800.25),
        (1715680800250, 1715680800.25),
        ("1715680800", 1715680800.0),
        ("2024-05-14T10:00:00", None),
        ("yesterday", None),
        (None, None),
        (True, None),
    ],
)
def test_event_time_reads_iso_text_and_epoch_numbers(timestamp: Any, seconds: float | None) -> None:
    assert event_time({"timestamp": timestamp}) == seconds


_NAMES = st.sampled_from(["Fan out", "Pause", "Send e-mail", "Log", "Joined", "Ghost", ""])


@st.composite
def _histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 25))
    events = []
    for i in range(count):
        event_type = draw(st.sampled_from(EVENT_TYPES))
        event: dict[str, Any] = {"type": event_type}
        if draw(st.booleans()):
            event["id"] = i + 1
            event["previousEventId"] = draw(st.integers(-2, count + 2))
        event["timestamp"] = draw(
            st.one_of(st.none(), st.floats(0, 2e9), st.text(max_size=5), st.integers(0, 2**40))
        )
        details = {"name": draw(_NAMES), "index": draw(st.integers(0, 3)), "error": "E"}
        if draw(st.booleans()):
            event[event_type[0].lower() + event_type[1:] + "EventDetails"] = details
            event["stateEnteredEventDetails"] = details
            event["stateExitedEventDetails"] = details
        events.append(event)
    return events


@settings(max_examples=300)
@given(_histories())
def test_any_list_of_events_folds_without_error(events: list[dict[str, Any]]) -> None:
    diagram = load_diagram(GOLDEN / "definitions" / "parallel.asl.json")
    trace = build_trace(diagram, events)
    assert len(trace.events) == len(events)
    for node, found in trace.states.items():
        assert node in diagram.states
        assert found.visits
    assert to_dot(diagram, trace).startswith("digraph workflow {")
    assert to_mermaid(diagram, trace).startswith("flowchart TD")


def test_an_evaluation_failure_belongs_to_the_state_it_names() -> None:
    from runtime.testing import run

    processor = {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "Output": "{% $nope %}",
                                                          "End": True}}}  # fmt: skip
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": processor, "End": True},
        },
    }
    execution = run(definition, [1])
    events = execution.history_json()["events"]
    failed = next(e for e in events if e["type"] == "EvaluationFailed")
    assert events[failed["previousEventId"] - 1]["type"] == "MapIterationStarted"
    diagram = load_diagram(definition)
    trace = build_trace(diagram, events)
    each = trace.state(_node(diagram, "Each"))
    assert (each.status, each.error) == ("failed", "States.QueryEvaluationError")
    assert each.visits[0].parent is trace.state(_node(diagram, "M")).visits[0]
    assert trace.state(_node(diagram, "First")).status == "succeeded"
