"""A workflow ready to draw: the :mod:`asl.graph` state graph next to the typed model.

The graph gives structure (states, scopes, typed transitions) exactly as the validator
sees it; the model gives each state's meaning with AWS's defaults filled in (a Retrier's
interval, a Choice rule's operator). Every writer (DOT, Mermaid, HTML) draws a
:class:`Diagram`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from asl import model as m
from asl.compile import build_machine
from asl.diagnostics import DefinitionError, has_errors
from asl.graph import GraphScope, Location, build_graph, terminal_states
from asl.loader import Source, read_document
from asl.validate import validate_document
from asl.validate.placeholders import unresolved
from visualizer.placeholders import with_stand_ins
from visualizer.repair import Repair, repair

__all__ = ["Diagram", "Edge", "load_diagram"]


@dataclass(frozen=True, slots=True)
class Edge:
    """A transition between two states of one scope, as :mod:`asl.graph` types it."""

    source: str
    target: str
    key: str
    kind: str
    index: int | None


@dataclass(frozen=True, slots=True)
class Diagram:
    """A valid definition's graph and model, indexed for drawing."""

    graph: nx.MultiDiGraph
    machine: m.StateMachine
    #: Node id -> the model of that state.
    states: Mapping[str, m.State]
    #: State name -> node id (names are unique across a machine).
    by_name: Mapping[str, str]
    #: Node id of a Parallel or Map -> its nested scopes, in order.
    children: Mapping[str, tuple[GraphScope, ...]]
    #: For a definition the validator rejects, drawn anyway: its problems and what was
    #: mended to draw it (see :mod:`visualizer.repair`); None for a valid one.
    repair: Repair | None = None
    #: Placeholders without a value drawn as a stand-in value of their field's type
    #: (their fields cannot hold text, see :mod:`visualizer.placeholders`).
    stand_ins: tuple[str, ...] = ()

    @property
    def scopes(self) -> Mapping[str, GraphScope]:
        """Every scope by id, the machine (id ``""``) first."""
        scopes: Mapping[str, GraphScope] = self.graph.graph["scopes"]
        return scopes

    @property
    def root(self) -> GraphScope:
        """The machine's own scope."""
        return self.scopes[""]

    def state_type(self, node: str) -> str:
        """The ``Type`` of a state."""
        return self.states[node].type

    def drawn_type(self, node: str) -> str:
        """The type a state is drawn as: its ``Type``; for a stand-in of a state that cannot
        be read (see :mod:`visualizer.repair`), the type it was declared with, when ASL has
        that type (an unreadable Choice still looks like a Choice), else a Pass's plain box
        (the stand-in's own type, a Pass or a Fail, says only where it leads)."""
        if self.repair is None or node not in self.repair.stand_ins:
            return self.state_type(node)
        declared = self.repair.stand_ins[node]
        return declared if declared in m.STATE_TYPES else "Pass"

    def name(self, node: str) -> str:
        """The name of a state."""
        return self.states[node].name

    def edges(self) -> Iterator[Edge]:
        """Every transition, in the order the graph holds them (document order)."""
        for source, target, key, data in self.graph.edges(keys=True, data=True):
            yield Edge(source, target, key, data["kind"], data["index"])

    def out_edges(self, node: str) -> list[Edge]:
        """The transitions leaving one state."""
        return [
            Edge(node, target, key, data["kind"], data["index"])
            for _, target, key, data in self.graph.out_edges(node, keys=True, data=True)
        ]

    def ends_scope(self, node: str) -> bool:
        """True for a state that ends its scope successfully (``End: true`` or Succeed)."""
        return self.state_type(node) != "Fail" and any(terminal_states(self.graph, [node]))

    def ends_machine(self) -> bool:
        """True when some top-level state ends the machine (an End node is drawn)."""
        return any(self.ends_scope(node) for node in self.root.states)


def load_diagram(source: Source | Diagram, *, mark_problems: bool = False) -> Diagram:
    """The diagram of a definition (path, JSON or YAML text, or dict).

    Raises :class:`~asl.diagnostics.DefinitionError` with every diagnostic when the
    definition is invalid, and ``FileNotFoundError`` when a file cannot be read. With
    ``mark_problems`` an invalid definition is drawn anyway, its problems marked on its
    states (``Diagram.repair``), and the error is raised only when nothing can be drawn.
    A ``${Name}`` placeholder without a value is drawn as written, or as a stand-in where
    its field cannot hold text (``Diagram.stand_ins``).
    """
    if isinstance(source, Diagram):
        return source
    document = read_document(source)
    diagnostics = validate_document(document)
    value: Any = document.value
    stand_ins: list[str] = []
    if isinstance(value, Mapping) and unresolved(value):
        value, stand_ins = with_stand_ins(value)
    if not has_errors(diagnostics):
        return replace(diagram_of(value), stand_ins=tuple(stand_ins))
    mended = repair(value) if mark_problems else None
    if mended is None:
        raise DefinitionError(diagnostics)
    try:
        return replace(diagram_of(mended.document), repair=mended, stand_ins=tuple(stand_ins))
    except Exception:  # the repair is best effort: what it could not mend is not drawable
        raise DefinitionError(diagnostics) from None


def diagram_of(definition: Mapping[str, Any]) -> Diagram:
    """The diagram of a definition the validator accepted."""
    machine = build_machine(definition)
    graph = build_graph(definition)
    states: dict[str, m.State] = {}
    by_name: dict[str, str] = {}
    for node, attrs in graph.nodes(data=True):
        state = _model_state(machine, attrs["location"])
        states[node] = state
        by_name[state.name] = node
    children: dict[str, list[GraphScope]] = {}
    for scope in graph.graph["scopes"].values():
        if scope.parent is not None:
            children.setdefault(scope.parent, []).append(scope)
    return Diagram(
        graph=graph,
        machine=machine,
        states=states,
        by_name=by_name,
        children={node: tuple(scopes) for node, scopes in children.items()},
    )


def _model_state(machine: m.StateMachine, location: Location) -> m.State:
    """The model state at a location such as ``("States", "P", "Branches", 0, ...)``."""
    scope: m.Scope = machine.scope
    state: m.State | None = None
    parts = list(location)
    while parts:
        key = parts.pop(0)
        if key == "States":
            state = scope.states[str(parts.pop(0))]
        elif key == "Branches" and isinstance(state, m.Parallel):
            scope = state.branches[int(parts.pop(0))]
        elif key in ("ItemProcessor", "Iterator") and isinstance(state, m.Map):
            scope = state.item_processor
        else:  # the graph and the model disagree: a bug, not a user error
            raise AssertionError(f"no model state at {location!r}")
    assert state is not None, location
    return state
