"""A Distributed Map's child executions folded into the trace of the execution that ran it.

In Distributed mode each item (or batch of items) of a Map runs as a child workflow
execution whose history is its own, apart from the parent's (AWS,
https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html): the parent's history
shows only the Map Run, ``MapRunStarted {mapRunArn}`` ... ``MapRunSucceeded``. The
children's histories (by Map Run ARN, as ``ListExecutions(mapRunArn=...)`` and
``GetExecutionHistory`` give them, or ``Execution.map_runs`` locally) are folded onto the
parent's diagram: the ItemProcessor's states are the parent's, named alike, so their visits,
transitions, Retriers and Catchers count where they are drawn, and each child is an
iteration of the Map state whose Map Run started it. A child's own Distributed Maps are
followed the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from asl.events import details
from visualizer.diagram import Diagram
from visualizer.trace import HistoryLike, StateTrace, Trace, build_trace, merge_traces

__all__ = ["MapRunHistories", "fold_map_runs"]

#: Map Run ARN -> the histories of its child executions.
MapRunHistories = Mapping[str, Sequence[HistoryLike]]

# How a child execution ended, as a Map iteration's outcome is counted (see StateTrace).
_FAILED = ("FAILED", "TIMED_OUT")


def fold_map_runs(diagram: Diagram, trace: Trace, map_runs: MapRunHistories) -> Trace:
    """The trace of one execution with the child executions of its Map Runs (and theirs)
    merged in (:func:`~visualizer.trace.merge_traces`): its states, transitions, counts
    and names of states the diagram lacks are every execution's, while its events, visits
    (a timeline's rows), status, error, cause and times stay the execution's own, as its
    history has them. The trace itself when it started none of the Map Runs given."""
    children = list(_children(diagram, trace, map_runs, set()))
    if not children:
        return trace
    traces = [trace, *(child for _, child in children)]
    merged = merge_traces(traces, trace.status)
    merged.events, merged.visits, merged.owners = trace.events, trace.visits, trace.owners
    merged.error, merged.cause = trace.error, trace.cause
    merged.unknown_states = list(dict.fromkeys(n for t in traces for n in t.unknown_states))
    merged.start, merged.end = trace.start, trace.end
    for node, child in children:
        state = merged.states.setdefault(node, StateTrace(node))
        state.iterations += 1
        state.failed_iterations += child.status in _FAILED
        state.aborted_iterations += child.status == "ABORTED"
    return merged


def _children(
    diagram: Diagram, trace: Trace, map_runs: MapRunHistories, seen: set[str]
) -> Iterator[tuple[str, Trace]]:
    """Each child execution's trace with the node of the Map state that started it, depth
    first; a Map Run is read once even if histories name it twice."""
    for visit in trace.visits:
        if visit.node is None:
            continue
        for event in (e for e in visit.events if e["type"] == "MapRunStarted"):
            arn = details(event).get("mapRunArn")
            if not isinstance(arn, str) or arn in seen:
                continue
            seen.add(arn)
            for history in map_runs.get(arn, ()):
                child = build_trace(diagram, history)
                yield visit.node, child
                yield from _children(diagram, child, map_runs, seen)
