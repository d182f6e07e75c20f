"""Invalid definitions drawn anyway: what is mended to lay them out, and what is marked."""

from __future__ import annotations

from typing import Any

import pytest

from asl.diagnostics import DefinitionError
from visualizer import load_diagram
from visualizer.dot import to_dot
from visualizer.mermaid import to_mermaid

BROKEN: dict[str, Any] = {
    "StartAt": "Validate",
    "States": {
        "Validate": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "validate", "Payload.$": "$$$.bad"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Report failure"}],
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.total", "NumericGreaterThan": "lots", "Next": "Approve"},
                {"Variable": "$.total", "NumericLessThan": 10, "Next": "Ship"},
            ],
            "Default": "Ship",
        },
        "Approve": {"Type": "Task", "Next": "Ship"},
        "Ship": {"Type": "Wiat", "Seconds": 5, "Next": "Done"},
        "Orphan": {"Type": "Pass", "End": True},
        "Done": {"Type": "Succeed"},
    },
}


LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:fetch"


def _pass(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", **fields}


def test_an_invalid_definition_is_refused_unless_its_problems_are_to_be_marked() -> None:
    with pytest.raises(DefinitionError):
        load_diagram(BROKEN)
    assert load_diagram(BROKEN, mark_problems=True).repair is not None
    assert load_diagram({"StartAt": "A", "States": {"A": _pass(End=True)}}).repair is None


def test_each_problem_is_marked_on_its_state_and_mended_as_little_as_possible() -> None:
    diagram = load_diagram(BROKEN, mark_problems=True)
    repair = diagram.repair
    assert repair is not None
    codes = {node: [d.code for d in found] for node, found in repair.problems.items()}
    assert codes == {
        "/States/Validate": ["SCHEMA_VALIDATION_FAILED", "MISSING_TRANSITION_TARGET"],
        "/States/Route": ["SCHEMA_VALIDATION_FAILED"],
        "/States/Approve": ["SCHEMA_VALIDATION_FAILED"],
        "/States/Ship": ["SCHEMA_VALIDATION_FAILED"],
        "/States/Orphan": ["MISSING_TRANSITION_TARGET"],
    }
    assert repair.general == []
    assert repair.missing == {"/States/Report failure"}
    assert repair.stand_ins == {"/States/Approve": "Task", "/States/Ship": "Wiat"}
    assert repair.broken_rules == {("/States/Route", 0)}
    # What could be kept was: the Task's type and Catch edge, both Choice rules' edges.
    assert diagram.state_type("/States/Validate") == "Task"
    targets = {(e.source, e.target, e.kind) for e in diagram.edges()}
    assert ("/States/Validate", "/States/Report failure", "catch") in targets
    assert ("/States/Route", "/States/Approve", "choice") in targets
    assert ("/States/Route", "/States/Ship", "choice") in targets
    assert ("/States/Approve", "/States/Ship", "next") in targets


def test_the_drawings_say_what_is_wrong_where() -> None:
    diagram = load_diagram(BROKEN, mark_problems=True)
    dot = to_dot(diagram)
    assert "Invalid definition · 6 problems" in dot
    assert "⚠ invalid rule" in dot
    assert "missing: no state has this name" in dot
    assert "Wiat (cannot be read)" in dot
    assert "These fields are" in dot and "required: [Resource]" in dot
    assert dot.count("dashed") >= 6  # the five states with problems, the missing one
    mermaid = to_mermaid(diagram)
    assert "%% Invalid definition · 6 problems" in mermaid
    assert "classDef problem" in mermaid


@pytest.mark.parametrize(
    ("definition", "general", "missing"),
    [
        ({"States": {"A": _pass(End=True)}}, ["These fields are required: [StartAt]"], set()),
        (
            {"StartAt": "Nowhere", "States": {"A": _pass(End=True)}},
            ["Missing 'Next' target: Nowhere"],  # AWS's words, for StartAt too
            {"/States/Nowhere"},
        ),
        (
            {"StartAt": "A", "Colour": "red", "States": {"A": _pass(End=True)}},
            ["Field 'Colour' is not supported"],
            set(),
        ),
    ],
)
def test_problems_of_the_machine_itself_are_listed_in_the_headline(
    definition: dict[str, Any], general: list[str], missing: set[str]
) -> None:
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    assert [d.message for d in diagram.repair.general] == general
    assert diagram.repair.missing == missing
    assert "⚠ " + diagram.repair.general[0].code in to_dot(diagram)


def test_a_branch_problem_keeps_the_parallel_and_its_branches() -> None:
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    {"States": {"A": _pass(End=True)}},
                    {"StartAt": "B", "States": {"B": _pass(Next="Gone")}},
                ],
                "End": True,
            }
        },
    }
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    assert diagram.state_type("/States/P") == "Parallel"
    assert diagram.repair.stand_ins == {}
    assert diagram.repair.missing == {"/States/P/Branches/1/States/Gone"}
    assert len(diagram.children["/States/P"]) == 2


def test_a_state_without_type_and_a_bad_jsonata_rule_are_marked() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Condition": "{% $x = %}", "Next": "T"}],
                "Default": "T",
            },
            "T": {"Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    assert diagram.repair.broken_rules == {("/States/C", 0)}
    assert diagram.repair.stand_ins == {"/States/T": None}
    assert "no Type (cannot be read)" in to_dot(diagram)


def test_a_rule_with_two_problems_keeps_its_choice_and_its_target() -> None:
    # An unknown operator is two problems at one rule (the field, and no operator): both
    # were mended in one pass, the second taken for the placeholder's own failure, so the
    # Choice became a stand-in Pass that lost its rule's edge and went to End.
    definition = {
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "BadOp": True, "Next": "Done"}],
            },
            "Done": {"Type": "Succeed"},
        },
    }
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    assert [d.code for d in diagram.repair.problems["/States/Route"]] == [
        "SCHEMA_VALIDATION_FAILED",
        "SCHEMA_VALIDATION_FAILED",
    ]
    assert diagram.repair.stand_ins == {}
    assert diagram.repair.broken_rules == {("/States/Route", 0)}
    assert diagram.state_type("/States/Route") == "Choice"
    edges = {(e.source, e.target, e.kind) for e in diagram.edges()}
    assert ("/States/Route", "/States/Done", "choice") in edges
    assert not any(source == "/States/Route" and target == "end" for source, target, _ in edges)


@pytest.mark.parametrize(
    "choices",
    [
        pytest.param("oops", id="not-a-list"),
        pytest.param([], id="no-rule"),
        pytest.param([{"Variable": "$.x", "IsPresent": True}], id="a-rule-without-next"),
        pytest.param(None, id="none-at-all"),
    ],
)
def test_a_choice_whose_rules_cannot_be_read_and_without_default_is_a_choice_going_nowhere(
    choices: Any,
) -> None:
    # It was drawn as a stand-in Pass going to End: an edge the definition never had.
    route: dict[str, Any] = {"Type": "Choice"} | ({} if choices is None else {"Choices": choices})
    definition = {"StartAt": "Route", "States": {"Route": route, "Done": {"Type": "Succeed"}}}
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    assert diagram.repair.stand_ins == {"/States/Route": "Choice"}
    assert diagram.drawn_type("/States/Route") == "Choice"
    assert not any(e.source == "/States/Route" for e in diagram.edges())
    assert not diagram.ends_scope("/States/Route")
    dot = to_dot(diagram)
    route_line = next(
        line for line in dot.splitlines() if line.strip().startswith('"/States/Route" [')
    )
    assert 'shape="diamond"' in route_line and "Choice (cannot be read)" in route_line
    assert 'color="#dc2626"' in route_line and "dashed" in route_line  # marked invalid
    assert "Route (Choice)" in route_line  # its tooltip
    assert '"/States/Route" ->' not in dot
    mermaid = to_mermaid(diagram)
    assert 's0{"<b>Route</b><br/>Choice (cannot be read)' in mermaid
    assert "s0 -->" not in mermaid


@pytest.mark.parametrize(
    ("declared", "drawn", "state"),
    [
        pytest.param("Pass", "Pass", {"Type": "Pass"}, id="pass"),
        pytest.param("Task", "Task", {"Type": "Task", "Resource": LAMBDA}, id="task"),
        pytest.param(
            "Task",
            "Task",
            {"Type": "Task", "Resource": LAMBDA, "Catch": [{"ErrorEquals": ["X"], "Next": "F"}]},
            id="task-with-catch",
        ),
        pytest.param("Wait", "Wait", {"Type": "Wait", "Seconds": 5}, id="wait"),
        pytest.param(
            "Parallel",
            "Parallel",
            {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": _pass(End=True)}}]},
            id="parallel",
        ),
        # No ASL type to look like: a plain box, not the Fail the stand-in is.
        pytest.param(None, "Pass", {"Comment": "no Type"}, id="no-type"),
        pytest.param("Wiat", "Pass", {"Type": "Wiat", "Seconds": 5}, id="unknown-type"),
    ],
)
def test_a_state_without_next_or_end_is_drawn_going_nowhere(
    declared: str | None, drawn: str, state: dict[str, Any]
) -> None:
    # It was drawn as a stand-in Pass going to End, as if it ended the machine; AWS rejects
    # it ("should have only one of the following fields: [Next, End]"), so no edge leaves it.
    definition = {"StartAt": "F", "States": {"F": _pass(Next="Shape"), "Shape": state}}
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    node = "/States/Shape"
    assert diagram.repair.stand_ins == {node: declared}
    assert diagram.drawn_type(node) == drawn
    assert not any(e.source == node for e in diagram.edges())
    assert not diagram.ends_scope(node)
    dot = to_dot(diagram)
    assert f'"{node}" ->' not in dot
    assert '"end"' not in dot  # nothing ends the machine, so there is no End marker
    shape_line = next(line for line in dot.splitlines() if line.strip().startswith(f'"{node}" ['))
    assert f"{declared or 'no Type'} (cannot be read)" in shape_line
    assert 'color="#dc2626"' in shape_line and "dashed" in shape_line  # marked invalid
    mermaid = to_mermaid(diagram)
    assert "s1 -->" not in mermaid and "finish" not in mermaid


@pytest.mark.parametrize(
    ("declared", "state"),
    [
        pytest.param("Wiat", {"Type": "Wiat", "Seconds": 5, "End": True}, id="end-true"),
        pytest.param("Succeed", {"Type": "Succeed", "Choices": []}, id="succeed"),
    ],
)
def test_a_stand_in_of_a_state_that_ended_its_scope_still_ends_it(
    declared: str, state: dict[str, Any]
) -> None:
    definition = {"StartAt": "Fetch", "States": {"Fetch": _pass(Next="Shape"), "Shape": state}}
    diagram = load_diagram(definition, mark_problems=True)
    assert diagram.repair is not None
    assert diagram.repair.stand_ins == {"/States/Shape": declared}
    assert diagram.ends_scope("/States/Shape")
    assert '"/States/Shape" -> "end"' in to_dot(diagram)


@pytest.mark.parametrize(
    "definition",
    [
        "[1, 2]",
        {"StartAt": "A"},
        {"StartAt": "A", "States": {}},
        {"StartAt": "A", "States": "none"},
    ],
)
def test_nothing_to_draw_is_still_a_definition_error(definition: Any) -> None:
    with pytest.raises(DefinitionError):
        load_diagram(definition, mark_problems=True)
