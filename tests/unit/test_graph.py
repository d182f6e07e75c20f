"""The state graph: nodes per state across nested scopes, typed edges, scopes, dangling names."""

from __future__ import annotations

from typing import Any

import networkx as nx

from asl.graph import Dangling, build_graph, scope_states, terminal_states

DEFINITION: dict[str, Any] = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.a", "IsPresent": True, "Next": "Work"},
                {"Variable": "$.b", "IsPresent": True, "Next": "Work"},
            ],
            "Default": "Fan",
        },
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fan"}],
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "Next": "Ghost"}}},
                {"StartAt": "B2", "States": {"B2": {"Type": "Succeed"}}},
            ],
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "End": True,
        },
    },
}


def test_nodes_are_states_keyed_by_json_pointer() -> None:
    graph = build_graph(DEFINITION)
    assert list(graph.nodes) == [
        "/States/Check",
        "/States/Work",
        "/States/Fan",
        "/States/Each",
        "/States/Fan/Branches/0/States/B1",
        "/States/Fan/Branches/1/States/B2",
        "/States/Each/ItemProcessor/States/I",
    ]
    b1 = graph.nodes["/States/Fan/Branches/0/States/B1"]
    assert b1["name"] == "B1"
    assert b1["type"] == "Pass"
    assert b1["scope"] == "/States/Fan/Branches/0"
    assert b1["location"] == ("States", "Fan", "Branches", 0, "States", "B1")
    assert b1["state"] is DEFINITION["States"]["Fan"]["Branches"][0]["States"]["B1"]


def test_edges_are_typed_and_parallel_edges_are_kept() -> None:
    graph = build_graph(DEFINITION)
    edges = {(u, v, k): d for u, v, k, d in graph.edges(keys=True, data=True)}
    assert set(graph["/States/Check"]["/States/Work"]) == {"choice:0", "choice:1"}
    assert edges[("/States/Check", "/States/Work", "choice:1")] == {
        "kind": "choice",
        "index": 1,
        "location": ("States", "Check", "Choices", 1, "Next"),
    }
    assert edges[("/States/Check", "/States/Fan", "default")]["kind"] == "default"
    assert set(graph["/States/Work"]["/States/Fan"]) == {"next", "catch:0"}
    assert edges[("/States/Work", "/States/Fan", "catch:0")]["index"] == 0
    assert edges[("/States/Fan", "/States/Each", "next")]["index"] is None


def test_scopes_are_described() -> None:
    scopes = build_graph(DEFINITION).graph["scopes"]
    assert list(scopes) == [
        "",
        "/States/Fan/Branches/0",
        "/States/Fan/Branches/1",
        "/States/Each/ItemProcessor",
    ]
    machine = scopes[""]
    assert (machine.kind, machine.parent, machine.start_at, machine.start) == (
        "machine",
        None,
        "Check",
        "/States/Check",
    )
    processor = scopes["/States/Each/ItemProcessor"]
    assert processor.kind == "processor"
    assert processor.parent == "/States/Each"
    assert processor.states == ("/States/Each/ItemProcessor/States/I",)
    assert scopes["/States/Fan/Branches/1"].kind == "branch"


def test_transitions_never_leave_their_scope() -> None:
    graph = build_graph(DEFINITION)
    assert graph.graph["dangling"] == [
        Dangling(
            source="/States/Fan/Branches/0/States/B1",
            kind="next",
            index=None,
            target="Ghost",
            location=("States", "Fan", "Branches", 0, "States", "B1", "Next"),
        )
    ]
    # B1 exists, but only inside a branch: from the top level it dangles.
    moved = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B1"}}}
    moved["States"]["P"] = {**DEFINITION["States"]["Fan"], "End": True}
    del moved["States"]["P"]["Next"]
    assert [d.target for d in build_graph(moved).graph["dangling"]] == ["B1", "Ghost"]


def test_dangling_start() -> None:
    graph = build_graph({"StartAt": "Nope", "States": {"A": {"Type": "Succeed"}}})
    (dangling,) = graph.graph["dangling"]
    assert (dangling.source, dangling.kind, dangling.location) == ("", "start", ("StartAt",))
    assert graph.graph["scopes"][""].start is None


def test_terminal_states_and_scope_views() -> None:
    graph = build_graph(DEFINITION)
    assert set(terminal_states(graph)) == {
        "/States/Each",
        "/States/Fan/Branches/1/States/B2",
        "/States/Each/ItemProcessor/States/I",
    }
    top = scope_states(graph, "")
    assert set(top.nodes) == {"/States/Check", "/States/Work", "/States/Fan", "/States/Each"}
    assert nx.has_path(top, "/States/Check", "/States/Each")


def test_tolerates_missing_and_mistyped_pieces() -> None:
    for definition in (
        [],
        {},
        {"States": []},
        {"StartAt": 3, "States": {"A": 1, "B": {"Type": 7, "Next": 5}}},
        {"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [1, None, {}]}}},
        {"StartAt": "A", "States": {"A": {"Type": "Map", "ItemProcessor": []}}},
        {"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [3, {"Next": 4}]}}},
        {"StartAt": "A", "States": {"A": {"Type": "Task", "Catch": {"Next": "A"}}}},
    ):
        graph = build_graph(definition)  # type: ignore[arg-type]
        assert isinstance(graph, nx.MultiDiGraph)


def test_a_name_of_a_state_that_is_not_an_object_does_not_dangle() -> None:
    graph = build_graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": 1}})
    assert graph.graph["dangling"] == []
    assert list(graph.nodes) == ["/States/A"]


def test_any_nesting_depth_without_recursion() -> None:
    scope: dict[str, Any] = {"StartAt": "L", "States": {"L": {"Type": "Succeed"}}}
    for _ in range(2000):
        scope = {
            "StartAt": "P",
            "States": {"P": {"Type": "Parallel", "Branches": [scope], "End": True}},
        }
    graph = build_graph(scope)
    assert len(graph.graph["scopes"]) == 2001


def test_names_with_slashes_and_tildes_get_distinct_ids() -> None:
    graph = build_graph(
        {"StartAt": "a/b", "States": {"a/b": {"Type": "Succeed"}, "a~b": {"Type": "Succeed"}}}
    )
    assert list(graph.nodes) == ["/States/a~1b", "/States/a~0b"]
