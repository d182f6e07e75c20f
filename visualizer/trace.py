"""An execution overlaid on its workflow: what happened at each state, and which way it went.

The input is an execution history as AWS's ``GetExecutionHistory`` returns it
(``{"events": [...]}``, timestamps as ISO text or epoch seconds), from this engine or from
AWS. Events are threaded by their ``previousEventId``: each event continues the thread of
the event it names, so the events of concurrent Map iterations and Parallel branches are
told apart, a state entered right after another's exit is a transition between them, and
a state entered right after a Map iteration or Parallel start is the start of a nested
scope. When ``previousEventId`` is missing the preceding event in the list is used.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asl import model as m
from asl.errors import first_match
from asl.events import details, state_type_of
from visualizer.diagram import Diagram, Edge
from visualizer.styles import Status

__all__ = [
    "HistoryError",
    "StateTrace",
    "Trace",
    "Visit",
    "build_trace",
    "event_time",
    "merge_traces",
]

HistoryLike = Mapping[str, Any] | Sequence[Mapping[str, Any]]

#: Events that report a failed attempt of a state's work.
FAILURE_EVENTS = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "TaskStartFailed",
        "TaskSubmitFailed",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed",
        "LambdaFunctionScheduleFailed",
        "ActivityFailed",
        "ActivityTimedOut",
        "ActivityScheduleFailed",
        "MapStateFailed",
        "ParallelStateFailed",
        "EvaluationFailed",
    }
)
#: Events that report a successful attempt.
SUCCESS_EVENTS = frozenset(
    {
        "TaskSucceeded",
        "LambdaFunctionSucceeded",
        "ActivitySucceeded",
        "MapStateSucceeded",
        "ParallelStateSucceeded",
    }
)
#: Events that start one attempt of a state's work (so attempts - 1 = retries).
ATTEMPT_EVENTS = frozenset(
    {
        "TaskScheduled",
        "LambdaFunctionScheduled",
        "ActivityScheduled",
        "MapStateStarted",
        "ParallelStateStarted",
    }
)
EXECUTION_ENDS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
# Events of a Map or Parallel state itself, which may follow events of its children.
_CONTROL_PREFIXES = {"MapState": "Map", "MapIteration": "Map", "ParallelState": "Parallel"}
_SEVERITY: dict[Status, int] = {
    "failed": 6,
    "aborted": 5,
    "running": 4,
    "caught": 3,
    "retried": 2,
    "succeeded": 1,
    "not_reached": 0,
}


class HistoryError(ValueError):
    """A history that is not a list of AWS history events."""


@dataclass(slots=True, eq=False)
class Visit:
    """One entry into a state and what happened until it was left."""

    name: str
    state_type: str
    #: Node id of the state in the diagram; None when the definition has no such state.
    node: str | None
    parent: Visit | None
    entered: Mapping[str, Any]
    start: float | None
    #: Index of the Map iteration the visit ran in (of its nearest Map), if any.
    iteration: int | None = None
    events: list[Mapping[str, Any]] = field(default_factory=list)
    exited: Mapping[str, Any] | None = None
    aborted: bool = False
    end: float | None = None
    status: Status = "running"
    attempts: int = 0
    retries: int = 0
    error: str | None = None
    cause: str | None = None
    #: The error of each failed attempt of the state's work, in order (None when the
    #: history names none).
    errors: list[str | None] = field(default_factory=list)

    @property
    def duration(self) -> float | None:
        """Seconds from entry to exit (or to the last event seen), when both are known."""
        if self.start is None or self.end is None:
            return None
        return max(self.end - self.start, 0.0)

    @property
    def depth(self) -> int:
        """How many Map or Parallel states enclose the visit."""
        depth, parent = 0, self.parent
        while parent is not None:
            depth, parent = depth + 1, parent.parent
        return depth


@dataclass(slots=True)
class StateTrace:
    """Everything that happened at one state, over all its visits."""

    node: str
    visits: list[Visit] = field(default_factory=list)
    status: Status = "not_reached"
    retries: int = 0
    failed: int = 0
    caught: int = 0
    aborted: int = 0
    duration: float | None = None
    error: str | None = None
    cause: str | None = None
    #: Map states: iterations started, failed and aborted.
    iterations: int = 0
    failed_iterations: int = 0
    aborted_iterations: int = 0
    #: Retrier index -> errors it handled: it was the first whose ErrorEquals names the
    #: error, whether it retried or, exhausted, handed the error on to the Catchers.
    retriers: Counter[int] = field(default_factory=Counter)


@dataclass(slots=True)
class Trace:
    """An execution folded onto a diagram."""

    events: list[Mapping[str, Any]]
    visits: list[Visit]
    states: dict[str, StateTrace]
    #: (source node, target node, edge key) -> times taken.
    edges: Counter[tuple[str, str, str]]
    #: Scope id -> times the scope's start state was entered from the scope's start.
    starts: Counter[str]
    #: Node id -> times a state that ends its scope was left (End: true, Succeed).
    ends: Counter[str]
    #: Event id -> the visit it belongs to (None for execution-level events).
    owners: dict[int, Visit | None]
    status: str = "RUNNING"
    error: str | None = None
    cause: str | None = None
    start: float | None = None
    end: float | None = None
    #: State names in the history that the definition does not have.
    unknown_states: list[str] = field(default_factory=list)

    def state(self, node: str) -> StateTrace:
        """What happened at a state (``not_reached`` when nothing did)."""
        found = self.states.get(node)
        return found if found is not None else StateTrace(node)

    @property
    def duration(self) -> float | None:
        """Seconds from the execution's start to its end (or its last event)."""
        if self.start is None or self.end is None:
            return None
        return max(self.end - self.start, 0.0)


# --- reading events --------------------------------------------------------------------


def event_time(event: Mapping[str, Any]) -> float | None:
    """An event's timestamp in epoch seconds: ISO text, epoch seconds or milliseconds."""
    value = event.get("timestamp")
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value
        try:
            value = float(text)
        except ValueError:
            return _iso_time(text)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        return float(value) / 1000 if value > 1e11 else float(value)
    return None


def _iso_time(value: str) -> float | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def history_events(history: HistoryLike) -> list[Mapping[str, Any]]:
    """The events of a history, checked and in id order."""
    events = history.get("events") if isinstance(history, Mapping) else history
    if not isinstance(events, Sequence) or isinstance(events, str | bytes):
        raise HistoryError('a history is {"events": [...]} or a list of events')
    for i, event in enumerate(events):
        if not isinstance(event, Mapping) or not isinstance(event.get("type"), str):
            raise HistoryError(f"history event #{i + 1} is not an object with a 'type'")
    if all(isinstance(e.get("id"), int) and not isinstance(e.get("id"), bool) for e in events):
        return sorted(events, key=lambda e: e["id"])
    return list(events)


# --- threading events into visits ------------------------------------------------------

_Context = tuple[Visit | None, int | None]


@dataclass(slots=True)
class _Reader:
    diagram: Diagram
    visits: list[Visit] = field(default_factory=list)
    owners: dict[int, Visit | None] = field(default_factory=dict)
    open_by_name: dict[str, list[Visit]] = field(default_factory=dict)
    transitions: list[tuple[Visit, Visit]] = field(default_factory=list)
    scope_starts: list[Visit] = field(default_factory=list)
    unknown: dict[str, None] = field(default_factory=dict)
    #: The visit the event being read belongs to.
    owner: Visit | None = None

    def read(self, events: list[Mapping[str, Any]]) -> None:
        """Thread every event; afterwards the visits, transitions and owners are known."""
        by_id = {e["id"]: i for i, e in enumerate(events) if isinstance(e.get("id"), int)}
        contexts: list[_Context] = []
        exits: dict[int, Visit] = {}
        for i, event in enumerate(events):
            prev = by_id.get(event.get("previousEventId"), i - 1)
            prev = prev if prev < i else i - 1
            context = contexts[prev] if prev >= 0 else (None, None)
            self.owner = None
            contexts.append(self._step(event, context, exits.get(prev)))
            if event["type"].endswith("StateExited") and self.owner is not None:
                exits[i] = self.owner
            self.owners[_key(event, i)] = self.owner

    def _step(self, event: Mapping[str, Any], context: _Context, after: Visit | None) -> _Context:
        kind = event["type"]
        parent, iteration = context
        state_type = state_type_of(kind)
        if state_type is not None and kind.endswith("Entered"):
            return self._enter(event, state_type, parent, iteration, after)
        if state_type is not None:  # Exited or Aborted (an Aborted event has no name)
            visit = self._find_open(details(event).get("name"), state_type, parent)
            self._attach(visit, event)
            if visit is not None:
                self._close(visit, event)
                return visit.parent, visit.iteration
            return context
        if kind in EXECUTION_ENDS or kind == "ExecutionStarted":
            return None, None
        if kind == "EvaluationFailed":  # linked to the event before the state's entry
            opened = self.open_by_name.get(details(event).get("state"))  # type: ignore[arg-type]
            if opened:
                self._attach(opened[-1], event)
                return opened[-1].parent, opened[-1].iteration
        control = next((t for p, t in _CONTROL_PREFIXES.items() if kind.startswith(p)), None)
        if control is not None:
            visit = self._find_control(event, control, parent)
            self._attach(visit, event)
            index = details(event).get("index")
            if kind == "MapIterationStarted" and isinstance(index, int):
                return visit, index
            return (visit, iteration) if visit is not None else context
        visit = parent if parent is not None and parent.exited is None else self._latest_open()
        self._attach(visit, event)
        return (visit, iteration) if visit is not None else context

    def _enter(
        self,
        event: Mapping[str, Any],
        state_type: str,
        parent: Visit | None,
        iteration: int | None,
        after: Visit | None,
    ) -> _Context:
        name = details(event).get("name")
        name = name if isinstance(name, str) else ""
        node = self.diagram.by_name.get(name)
        if node is None:
            self.unknown[name] = None
        visit = Visit(name, state_type, node, parent, event, event_time(event), iteration)
        self.visits.append(visit)
        self.open_by_name.setdefault(name, []).append(visit)
        self._attach(visit, event)
        if after is not None and after.parent is parent:
            self.transitions.append((after, visit))
        else:
            self.scope_starts.append(visit)
        return visit, iteration

    def _attach(self, visit: Visit | None, event: Mapping[str, Any]) -> None:
        self.owner = visit
        if visit is not None:
            visit.events.append(event)

    def _close(self, visit: Visit, event: Mapping[str, Any]) -> None:
        self.open_by_name[visit.name].remove(visit)
        visit.end = event_time(event)
        if event["type"].endswith("Exited"):
            visit.exited = event
        else:
            visit.aborted = True

    def _find_open(self, name: Any, state_type: str, start: Visit | None) -> Visit | None:
        """The open visit of a state (by name, or by type when the event names none):
        the nearest in this thread, else the latest."""
        visit = start
        while visit is not None:
            same = visit.name == name if name is not None else visit.state_type == state_type
            if same and visit.exited is None and not visit.aborted:
                return visit
            visit = visit.parent
        if name is None:
            return self._latest_open(state_type)
        candidates = self.open_by_name.get(name) if isinstance(name, str) else None
        return candidates[-1] if candidates else None

    def _find_control(
        self, event: Mapping[str, Any], state_type: str, start: Visit | None
    ) -> Visit | None:
        name = details(event).get("name")
        visit = start
        while visit is not None:
            if visit.state_type == state_type and (name is None or visit.name == name):
                return visit
            visit = visit.parent
        if isinstance(name, str) and self.open_by_name.get(name):
            return self.open_by_name[name][-1]
        return self._latest_open(state_type)

    def _latest_open(self, state_type: str | None = None) -> Visit | None:
        for visit in reversed(self.visits):
            is_open = visit.exited is None and not visit.aborted
            if is_open and (state_type is None or visit.state_type == state_type):
                return visit
        return None


def _key(event: Mapping[str, Any], index: int) -> int:
    value = event.get("id")
    return value if isinstance(value, int) else -index - 1


# --- outcomes --------------------------------------------------------------------------


def build_trace(diagram: Diagram, history: HistoryLike) -> Trace:
    """Fold a history onto a diagram: visits, per-state outcomes, edges taken."""
    events = history_events(history)
    reader = _Reader(diagram)
    reader.read(events)
    trace = Trace(
        events=events,
        visits=reader.visits,
        states={},
        edges=Counter(),
        starts=Counter(),
        ends=Counter(),
        owners=reader.owners,
        unknown_states=list(reader.unknown),
    )
    _execution_outcome(trace)
    for visit in reader.visits:
        _visit_outcome(diagram, trace, visit)
    for visit in reversed(reader.visits):  # children before their Map or Parallel
        _inherit_error(trace, visit)
    _attempt_errors(trace)
    _aggregate(diagram, trace)
    _count_transitions(diagram, trace, reader)
    return trace


def merge_traces(traces: Sequence[Trace], status: str = "") -> Trace:
    """Several executions of one diagram as one :class:`Trace` to draw or count: each
    state with all its visits and every count summed, its status the most severe seen
    (one never entered ``not_reached``), each transition with how often it was taken."""
    states: dict[str, StateTrace] = {}
    for found in (s for t in traces for s in t.states.values()):
        merged = states.setdefault(found.node, StateTrace(found.node))
        merged.visits.extend(found.visits)
        for name in _SUMMED:
            setattr(merged, name, getattr(merged, name) + getattr(found, name))
        merged.retriers.update(found.retriers)
        if found.duration is not None:
            merged.duration = (merged.duration or 0.0) + found.duration
        if _SEVERITY[found.status] >= _SEVERITY[merged.status]:
            merged.status = found.status
            if found.error is not None:
                merged.error, merged.cause = found.error, found.cause
    return Trace(
        events=[],
        visits=[v for t in traces for v in t.visits],
        states=states,
        edges=sum((t.edges for t in traces), Counter()),
        starts=sum((t.starts for t in traces), Counter()),
        ends=sum((t.ends for t in traces), Counter()),
        owners={},
        status=status,
    )


_SUMMED = (
    "retries",
    "failed",
    "caught",
    "aborted",
    "iterations",
    "failed_iterations",
    "aborted_iterations",
)


def _execution_outcome(trace: Trace) -> None:
    times = [t for t in (event_time(e) for e in trace.events) if t is not None]
    trace.start = times[0] if times else None
    trace.end = times[-1] if times else None
    for event in trace.events:
        status = EXECUTION_ENDS.get(event["type"])
        if status is not None:
            trace.status = status
            info = details(event)
            trace.error = _text(info.get("error"))
            trace.cause = _text(info.get("cause"))


def _visit_outcome(diagram: Diagram, trace: Trace, visit: Visit) -> None:
    kinds = [e["type"] for e in visit.events]
    failures = [e for e in visit.events if e["type"] in FAILURE_EVENTS]
    outcomes = [k for k in kinds if k in FAILURE_EVENTS or k in SUCCESS_EVENTS]
    ended_in_failure = bool(outcomes) and outcomes[-1] in FAILURE_EVENTS
    visit.attempts = sum(k in ATTEMPT_EVENTS for k in kinds)
    visit.retries = max(visit.attempts - 1, len(failures) - int(ended_in_failure), 0)
    for failure in reversed(failures):
        info = details(failure)
        if info.get("error") is not None or info.get("cause") is not None:
            visit.error, visit.cause = _text(info.get("error")), _text(info.get("cause"))
            break
    if visit.end is None:
        visit.end = event_time(visit.events[-1]) if visit.exited or visit.aborted else trace.end
    visit.status = _visit_status(visit, trace, bool(failures), ended_in_failure)
    if visit.status == "failed" and visit.error is None:
        _failure_from_definition(diagram, trace, visit)


def _visit_status(visit: Visit, trace: Trace, failed: bool, ended_in_failure: bool) -> Status:
    if visit.aborted:
        return "aborted"
    if visit.exited is not None:
        if ended_in_failure:
            return "caught"
        return "retried" if visit.retries else "succeeded"
    if visit.state_type == "Fail" or failed:
        return "failed"
    if trace.status == "RUNNING":
        return "running"
    return "aborted" if trace.status == "ABORTED" else "failed"


def _failure_from_definition(diagram: Diagram, trace: Trace, visit: Visit) -> None:
    state = diagram.states.get(visit.node) if visit.node is not None else None
    if isinstance(state, m.Fail) and (state.error is not None or state.cause is not None):
        visit.error, visit.cause = state.error, state.cause
    elif trace.status in ("FAILED", "TIMED_OUT"):
        visit.error, visit.cause = trace.error, trace.cause


def _inherit_error(trace: Trace, visit: Visit) -> None:
    """A Map or Parallel that failed has no error of its own: take its failed child's."""
    if visit.error is not None or visit.status not in ("caught", "failed"):
        return
    for child in reversed(trace.visits):
        if child.parent is visit and child.error is not None and child.status == "failed":
            visit.error, visit.cause = child.error, child.cause
            return


def _attempt_errors(trace: Trace) -> None:
    """Each visit's errors, one per failed attempt: a Task's are its failure events'."""
    position = {id(event): i for i, event in enumerate(trace.events)}
    children: dict[int, list[Visit]] = {}
    for visit in trace.visits:
        if visit.parent is not None:
            children.setdefault(id(visit.parent), []).append(visit)
    for visit in trace.visits:
        if visit.state_type in ("Map", "Parallel"):
            visit.errors = _scope_errors(visit, children.get(id(visit), []), position)
        else:
            failures = [e for e in visit.events if e["type"] in FAILURE_EVENTS]
            visit.errors = [_text(details(e).get("error")) for e in failures]


def _scope_errors(
    visit: Visit, children: list[Visit], position: dict[int, int]
) -> list[str | None]:
    """A Map's or Parallel's errors. It records no failure event for an attempt it
    retries, so each failed attempt's error is the one an event of its own names (an
    evaluation's, a Map Run's), else that of the child that failed last in the attempt
    (after it the others are aborted), else, for the last attempt, the state's own.
    Before the first attempt only an evaluation can fail."""
    said = [(position[id(e)], details(e).get("error")) for e in visit.events]
    said = [(at, error) for at, error in said if error is not None]
    starts = [position[id(e)] for e in visit.events if e["type"] in ATTEMPT_EVENTS]
    ended_failed = any(e["type"] in ("MapStateFailed", "ParallelStateFailed") for e in visit.events)
    bounds = [-1, *starts, len(position)]
    errors: list[str | None] = []
    for k in range(len(bounds) - 1):
        low, high = bounds[k], bounds[k + 1]
        last = k == len(starts)
        found = [(at, error) for at, error in said if low < at < high]
        if not (found if k == 0 else not last or ended_failed):
            continue
        found += [
            (at, child.error)
            for child in children
            if low < position[id(child.events[0])] < high
            and (at := _failed_at(child, position)) is not None
        ]
        if found:
            errors.append(_text(max(found, key=lambda pair: pair[0])[1]))
        else:
            errors.append(visit.error if last else None)
    return errors


def _failed_at(visit: Visit, position: dict[int, int]) -> int | None:
    """Where in the history a visit failed (its last outcome a failure, never left), or
    None when it did not."""
    if visit.exited is not None:
        return None
    outcomes = [
        e for e in visit.events if e["type"] in FAILURE_EVENTS or e["type"] in SUCCESS_EVENTS
    ]
    if outcomes and outcomes[-1]["type"] in FAILURE_EVENTS:
        return position[id(outcomes[-1])]
    return position[id(visit.events[-1])] if visit.status == "failed" else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _aggregate(diagram: Diagram, trace: Trace) -> None:
    for visit in trace.visits:
        if visit.node is None:
            continue
        state = trace.states.setdefault(visit.node, StateTrace(visit.node))
        retriers = [r.error_equals for r in getattr(diagram.states[visit.node], "retry", ())]
        for error in visit.errors:
            index = first_match(retriers, error)
            if index is not None:
                state.retriers[index] += 1
        state.visits.append(visit)
        state.retries += visit.retries
        state.failed += visit.status == "failed"
        state.caught += visit.status == "caught"
        state.aborted += visit.status == "aborted"
        if _SEVERITY[visit.status] >= _SEVERITY[state.status]:
            state.status = visit.status
            if visit.error is not None:
                state.error, state.cause = visit.error, visit.cause
        if visit.duration is not None:
            state.duration = (state.duration or 0.0) + visit.duration
        kinds = Counter(e["type"] for e in visit.events)
        state.iterations += kinds["MapIterationStarted"]
        state.failed_iterations += kinds["MapIterationFailed"]
        state.aborted_iterations += kinds["MapIterationAborted"]


def _count_transitions(diagram: Diagram, trace: Trace, reader: _Reader) -> None:
    for before, after in reader.transitions:
        if before.node is None or after.node is None:
            continue
        edge = _edge_taken(diagram, before, after.node)
        if edge is not None:
            trace.edges[(edge.source, edge.target, edge.key)] += 1
    for visit in reader.scope_starts:
        if visit.node is None:
            continue
        scope = diagram.scopes[diagram.graph.nodes[visit.node]["scope"]]
        if scope.start == visit.node:
            trace.starts[scope.id] += 1
    for visit in trace.visits:
        left = visit.node is not None and visit.exited is not None and visit.status != "caught"
        if left and diagram.ends_scope(visit.node):  # type: ignore[arg-type]
            trace.ends[visit.node] += 1  # type: ignore[index]


def _edge_taken(diagram: Diagram, visit: Visit, target: str) -> Edge | None:
    """Which transition a visit left by: its Catcher (the first whose ErrorEquals names the
    error of its last attempt) when it ended in an error, else the
    Choice rule, Default or Next leading to the state entered next. Two Choice rules
    leading to the same state cannot be told apart from the history: the first is used."""
    assert visit.node is not None
    candidates = [e for e in diagram.out_edges(visit.node) if e.target == target]
    if not candidates:
        return None
    if visit.status == "caught":
        catchers = [c.error_equals for c in getattr(diagram.states[visit.node], "catch", ())]
        index = first_match(catchers, visit.errors[-1] if visit.errors else visit.error)
        catches = [e for e in candidates if e.kind == "catch"]
        for edge in catches:
            if edge.index == index:
                return edge
        if catches:
            return catches[0]
    preferred = ("choice", "default") if visit.state_type == "Choice" else ("next",)
    for edge in candidates:
        if edge.kind in preferred:
            return edge
    return candidates[0]
