"""Rules over the state graph: transition targets, reachability, terminal states, loops with
no exit, and names that must be unique across the whole machine."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asl.diagnostics import (
    DUPLICATE_LABEL_NAME,
    DUPLICATE_STATE_NAME,
    MISSING_END_STATE,
    MISSING_TRANSITION_TARGET,
    NO_EXIT_LOOP,
)
from asl.graph import GraphScope, terminal_states
from asl.validate._base import Collector, field_list

if TYPE_CHECKING:
    import networkx as nx

# networkx's algorithms are imported where they are used: only a graph built by
# asl.graph.build_graph reaches them, and that has imported networkx.
GraphRule = Callable[["nx.MultiDiGraph", Collector], None]

#: Every graph rule with the code it reports, in the order they run.
GRAPH_RULES: list[tuple[str, GraphRule]] = []


def graph_rule(code: str) -> Callable[[GraphRule], GraphRule]:
    """Register a rule over the whole state graph under its code."""

    def register(fn: GraphRule) -> GraphRule:
        GRAPH_RULES.append((code, fn))
        return fn

    return register


def check_graph(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """Run every graph rule."""
    for _, rule in GRAPH_RULES:
        rule(graph, collector)


def _machine(graph: nx.MultiDiGraph) -> GraphScope:
    scope: GraphScope = graph.graph["scopes"][""]
    return scope


def _has_no_terminal(graph: nx.MultiDiGraph) -> bool:
    machine = _machine(graph)
    return bool(machine.states) and next(terminal_states(graph, machine.states), None) is None


@graph_rule(MISSING_TRANSITION_TARGET)
def missing_targets(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """Every StartAt, Next, Default and Catcher Next names a state of the same scope."""
    for dangling in graph.graph["dangling"]:
        message = f"Missing 'Next' target: {dangling.target}"
        collector.add("ERROR", MISSING_TRANSITION_TARGET, message, dangling.location)


@graph_rule(MISSING_END_STATE)
def missing_end_state(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """The machine has a terminal state (AWS checks the top level only)."""
    if _has_no_terminal(graph):
        collector.add("ERROR", MISSING_END_STATE, "Workflow has no terminal state", None)


@graph_rule(MISSING_TRANSITION_TARGET)
def unreachable_states(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """Every state is reached from its scope's StartAt (AWS reports this as an error)."""
    no_terminal = _has_no_terminal(graph)
    for scope in graph.graph["scopes"].values():
        if scope.start_at is None or (scope.kind == "machine" and no_terminal):
            continue
        reached = _reached(graph, scope)
        for node in scope.states:
            if node not in reached:
                attrs = graph.nodes[node]
                message = f'State "{attrs["name"]}" is not reachable.'
                collector.add("ERROR", MISSING_TRANSITION_TARGET, message, attrs["location"])


def _reached(graph: nx.MultiDiGraph, scope: GraphScope) -> set[str]:
    if scope.start is None:
        return set()
    from networkx import descendants

    return {scope.start} | descendants(graph, scope.start)


@graph_rule(NO_EXIT_LOOP)
def loops_without_exit(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """A reachable cycle from which no terminal state can be reached runs forever."""
    # Transitions never leave their scope, so components never span two scopes.
    can_finish = _can_finish(graph)
    skip_machine = _has_no_terminal(graph)  # MISSING_END_STATE says it already
    reached: set[str] = set()
    for scope in graph.graph["scopes"].values():
        reached |= _reached(graph, scope)
    from networkx import strongly_connected_components

    for component in strongly_connected_components(graph):
        if not _is_cycle(graph, component) or component & can_finish:
            continue
        if not component & reached:
            continue  # reported as unreachable
        scope = graph.graph["scopes"][graph.nodes[next(iter(component))]["scope"]]
        if not (skip_machine and scope.kind == "machine"):
            _report_loop(graph, scope, component, collector)


def _can_finish(graph: nx.MultiDiGraph) -> set[str]:
    """States from which some terminal state of their scope can be reached."""
    found = set(terminal_states(graph))
    stack = list(found)
    while stack:
        for before in graph.predecessors(stack.pop()):
            if before not in found:
                found.add(before)
                stack.append(before)
    return found


def _is_cycle(graph: nx.MultiDiGraph, component: set[str]) -> bool:
    if len(component) > 1:
        return True
    (node,) = component
    return bool(graph.has_edge(node, node))


def _report_loop(
    graph: nx.MultiDiGraph, scope: GraphScope, component: set[str], collector: Collector
) -> None:
    ordered = [node for node in scope.states if node in component]
    names = field_list(str(graph.nodes[node]["name"]) for node in ordered)
    message = f"The states {names} form a loop that never reaches a terminal state"
    collector.add("WARNING", NO_EXIT_LOOP, message, graph.nodes[ordered[0]]["location"])


@graph_rule(DUPLICATE_STATE_NAME)
def duplicate_state_names(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """State names are unique across the machine, nested scopes included."""
    seen: set[Any] = set()
    for _, attrs in graph.nodes(data=True):
        name = attrs["name"]
        if name in seen:
            message = f"Duplicate State name: {name}"
            collector.add("ERROR", DUPLICATE_STATE_NAME, message, attrs["location"])
        seen.add(name)


@graph_rule(DUPLICATE_LABEL_NAME)
def duplicate_labels(graph: nx.MultiDiGraph, collector: Collector) -> None:
    """Map Labels are unique across the machine."""
    seen: set[str] = set()
    for _, attrs in graph.nodes(data=True):
        label = attrs["state"].get("Label") if attrs["type"] == "Map" else None
        if not isinstance(label, str):
            continue
        if label in seen:
            message = f"Duplicate Label name: {label}"
            collector.add("ERROR", DUPLICATE_LABEL_NAME, message, (*attrs["location"], "Label"))
        seen.add(label)
