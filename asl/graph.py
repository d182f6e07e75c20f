"""The state graph of a definition: every state of every scope, and the transitions between them.

:func:`build_graph` reads a raw definition (valid or not: missing or mistyped pieces are
skipped, never fatal) and returns a :class:`networkx.MultiDiGraph`:

- **Nodes** are states. A node's id is the JSON pointer of the state object
  (``/States/Check``, ``/States/P/Branches/0/States/Inner``), so it is stable, unique across
  nested scopes, and tells where the state is. Attributes:
  ``name`` (the state name), ``type`` (its ``Type`` when that is a string, else None),
  ``scope`` (the id of the scope holding it), ``location`` (the pointer as a tuple of keys
  and indexes) and ``state`` (the state's own object).
- **Edges** are transitions inside one scope. Between the same two states there may be
  several, told apart by their key: ``"next"``, ``"default"``, ``"choice:<i>"`` (the i-th
  top-level rule of a Choice) and ``"catch:<i>"`` (the i-th Catcher). Attributes:
  ``kind`` (``next``, ``default``, ``choice`` or ``catch``), ``index`` (the rule's or
  Catcher's index, else None) and ``location`` (where the target name is written).
- **Scopes** are in ``graph.graph["scopes"]``: a dict from scope id to :class:`GraphScope`,
  the machine first, then nested scopes breadth-first. A scope is the machine (id ``""``),
  a Parallel branch or a Map processor (``ItemProcessor`` or the legacy ``Iterator``).
- **Dangling transitions** (a ``StartAt``, ``Next``, ``Default`` or Catcher ``Next`` that
  names no state of its scope) are in ``graph.graph["dangling"]`` as :class:`Dangling`
  records: a transition never leaves its scope, so a name found only in another scope
  dangles too.

Nested scopes are reached without recursion, so any nesting depth is safe.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from asl.loader import pointer

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "Dangling",
    "GraphScope",
    "Location",
    "build_graph",
    "scope_states",
    "terminal_states",
]

#: A path into the definition: object keys and array indexes.
Location = tuple[str | int, ...]
ScopeKind = Literal["machine", "branch", "processor"]
EdgeKind = Literal["start", "next", "default", "choice", "catch"]

_TERMINAL_TYPES = frozenset({"Succeed", "Fail"})


@dataclass(frozen=True, slots=True)
class GraphScope:
    """A set of states with a start: the machine, a Parallel branch or a Map processor."""

    id: str
    kind: ScopeKind
    location: Location
    #: Node id of the Parallel or Map state that owns the scope; None for the machine.
    parent: str | None
    #: ``StartAt`` as written, when it is a string.
    start_at: str | None
    #: Node id of the start state, when ``StartAt`` names a state of this scope.
    start: str | None
    #: Node ids of the scope's states, in document order.
    states: tuple[str, ...]
    #: The scope object itself.
    document: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Dangling:
    """A transition whose target is not a state of the same scope."""

    #: Node id of the state the transition leaves (the scope id for ``StartAt``).
    source: str
    kind: EdgeKind
    index: int | None
    target: str
    location: Location


def build_graph(definition: Mapping[str, Any]) -> nx.MultiDiGraph:
    """The graph of a definition and its nested scopes (see the module docstring)."""
    # Imported here: networkx takes about 0.1 s to import, which every module of the
    # package would pay (asl imports asl.validate, which imports this module).
    import networkx as nx

    graph = nx.MultiDiGraph()
    scopes: dict[str, GraphScope] = {}
    dangling: list[Dangling] = []
    graph.graph["scopes"] = scopes
    graph.graph["dangling"] = dangling
    if not isinstance(definition, Mapping):
        return graph
    pending: deque[tuple[Mapping[str, Any], Location, ScopeKind, str | None]] = deque(
        [(definition, (), "machine", None)]
    )
    while pending:
        doc, loc, kind, parent = pending.popleft()
        scope = _add_scope(graph, doc, loc, kind, parent, dangling)
        scopes[scope.id] = scope
        for node in scope.states:
            pending.extend(_nested_scopes(node, graph.nodes[node]))
    return graph


def scope_states(graph: nx.MultiDiGraph, scope_id: str) -> nx.MultiDiGraph:
    """A read-only view of one scope's states and the transitions between them."""
    return graph.subgraph(graph.graph["scopes"][scope_id].states)


def terminal_states(graph: nx.MultiDiGraph, nodes: Any = None) -> Iterator[str]:
    """Node ids of states that end their scope: ``End: true``, Succeed or Fail."""
    for node in graph.nodes if nodes is None else nodes:
        attrs = graph.nodes[node]
        if attrs["type"] in _TERMINAL_TYPES or attrs["state"].get("End") is True:
            yield node


# --- building -------------------------------------------------------------------------


def _add_scope(
    graph: nx.MultiDiGraph,
    doc: Mapping[str, Any],
    loc: Location,
    kind: ScopeKind,
    parent: str | None,
    dangling: list[Dangling],
) -> GraphScope:
    scope_id = pointer(*loc)
    states = doc.get("States")
    members: dict[str, str] = {}
    names = set(states) if isinstance(states, Mapping) else set()
    if isinstance(states, Mapping):
        for name, state in states.items():
            if isinstance(state, Mapping):
                node = _add_state(graph, name, state, (*loc, "States", name), scope_id)
                members[name] = node
    for name, node in members.items():
        for target, key, kind_, index, where in _transitions(graph.nodes[node]["state"]):
            target_loc = (*loc, "States", name, *where)
            if target in members:
                graph.add_edge(
                    node, members[target], key=key, kind=kind_, index=index, location=target_loc
                )
            elif target not in names:  # a state that is not an object is no node, yet exists
                dangling.append(Dangling(node, kind_, index, target, target_loc))
    start_at = doc.get("StartAt")
    start_at = start_at if isinstance(start_at, str) else None
    if start_at is not None and start_at not in names and isinstance(states, Mapping):
        dangling.append(Dangling(scope_id, "start", None, start_at, (*loc, "StartAt")))
    return GraphScope(
        id=scope_id,
        kind=kind,
        location=loc,
        parent=parent,
        start_at=start_at,
        start=members.get(start_at) if start_at is not None else None,
        states=tuple(members.values()),
        document=doc,
    )


def _add_state(
    graph: nx.MultiDiGraph, name: str, state: Mapping[str, Any], loc: Location, scope_id: str
) -> str:
    node = pointer(*loc)
    type_ = state.get("Type")
    graph.add_node(
        node,
        name=name,
        type=type_ if isinstance(type_, str) else None,
        scope=scope_id,
        location=loc,
        state=state,
    )
    return node


_Transition = tuple[str, str, EdgeKind, int | None, Location]


def _transitions(state: Mapping[str, Any]) -> Iterator[_Transition]:
    """(target, edge key, kind, index, location within the state) of each transition."""
    is_choice = state.get("Type") == "Choice"
    if not is_choice and isinstance(state.get("Next"), str):
        yield state["Next"], "next", "next", None, ("Next",)
    if is_choice:
        choices = state.get("Choices")
        if isinstance(choices, list):
            for i, rule in enumerate(choices):
                if isinstance(rule, Mapping) and isinstance(rule.get("Next"), str):
                    yield rule["Next"], f"choice:{i}", "choice", i, ("Choices", i, "Next")
        if isinstance(state.get("Default"), str):
            yield state["Default"], "default", "default", None, ("Default",)
    catch = state.get("Catch")
    if isinstance(catch, list):
        for i, catcher in enumerate(catch):
            if isinstance(catcher, Mapping) and isinstance(catcher.get("Next"), str):
                yield catcher["Next"], f"catch:{i}", "catch", i, ("Catch", i, "Next")


def _nested_scopes(
    node: str, attrs: Mapping[str, Any]
) -> Iterator[tuple[Mapping[str, Any], Location, ScopeKind, str | None]]:
    state, loc = attrs["state"], attrs["location"]
    if attrs["type"] == "Parallel" and isinstance(state.get("Branches"), list):
        for i, branch in enumerate(state["Branches"]):
            if isinstance(branch, Mapping):
                yield branch, (*loc, "Branches", i), "branch", node
    if attrs["type"] == "Map":
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(state.get(key), Mapping):
                yield state[key], (*loc, key), "processor", node
