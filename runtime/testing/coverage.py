"""Workflow coverage: what a test session's executions exercised of each state machine.

Read from each execution's history in AWS's ``GetExecutionHistory`` format, folded onto
the machine's diagram by :func:`visualizer.trace.build_trace` (so it works for any
history, this engine's or AWS's). The items counted per machine: each state entered,
each transition taken (every Choice rule, Default, Next and Catcher), each state's Retry
used, and each Parallel branch and Map run started.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl.loader import Source
from visualizer.diagram import Diagram, Edge, load_diagram
from visualizer.dot import to_dot
from visualizer.layout import layout
from visualizer.trace import StateTrace, Trace, build_trace

__all__ = ["CoverageItem", "MachineCoverage", "SessionCoverage", "write_html_report"]


_PLURAL = {"state": "states", "transition": "transitions", "retry": "retries", "branch": "branches"}


@dataclass(frozen=True, slots=True)
class CoverageItem:
    """One thing of a machine a test can exercise, and how often the session did."""

    kind: str  # "state", "transition", "retry" or "branch"
    label: str
    hits: int


@dataclass(slots=True)
class MachineCoverage:
    """The coverage of one state machine, summed over its executions."""

    name: str
    diagram: Diagram
    executions: int = 0
    entered: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    edges: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    starts: Counter[str] = field(default_factory=Counter)
    ends: Counter[str] = field(default_factory=Counter)
    iterations: Counter[str] = field(default_factory=Counter)
    traces: list[Trace] = field(default_factory=list)

    def add(self, history: Mapping[str, Any] | list[Mapping[str, Any]]) -> None:
        """Count one execution's history."""
        trace = build_trace(self.diagram, history)
        self.executions += 1
        self.traces.append(trace)
        for node, found in trace.states.items():
            self.entered[node] += len(found.visits)
            self.retries[node] += found.retries
            self.iterations[node] += found.iterations
        self.edges.update(trace.edges)
        self.starts.update(trace.starts)
        self.ends.update(trace.ends)

    def items(self) -> list[CoverageItem]:
        """Every coverable item of the machine, in document order, with its hits."""
        diagram, out = self.diagram, []
        for node, state in diagram.states.items():
            out.append(CoverageItem("state", state.name, self.entered[node]))
            if getattr(state, "retry", ()):
                out.append(CoverageItem("retry", f"{state.name} Retry", self.retries[node]))
            for number, scope in enumerate(diagram.children.get(node, ()), 1):
                if state.type == "Map":
                    label, hits = f"{state.name} iterations", self.iterations[node]
                else:
                    label, hits = f"{state.name} branch {number}", self.starts[scope.id]
                out.append(CoverageItem("branch", label, hits))
        for edge in diagram.edges():
            label = f"{diagram.name(edge.source)} -> {diagram.name(edge.target)} ({_how(edge)})"
            hits = self.edges[edge.source, edge.target, edge.key]
            out.append(CoverageItem("transition", label, hits))
        return out

    def percent(self) -> float:
        """The share of items hit at least once, in percent (100 for a machine of none)."""
        items = self.items()
        return 100.0 * sum(item.hits > 0 for item in items) / len(items) if items else 100.0

    def trace(self) -> Trace:
        """Every execution folded into one :class:`Trace` to draw: each state entered with
        all its visits and the status of the latest, one never entered ``not_reached``,
        each transition with how often it was taken."""
        states: dict[str, StateTrace] = {}
        for found in (s for t in self.traces for s in t.states.values()):
            merged = states.setdefault(found.node, StateTrace(found.node))
            merged.visits.extend(found.visits)
            merged.retries += found.retries
            merged.status = found.status
        return Trace(
            events=[],
            visits=[v for t in self.traces for v in t.visits],
            states=states,
            edges=Counter(self.edges),
            starts=Counter(self.starts),
            ends=Counter(self.ends),
            owners={},
            status=f"coverage {self.percent():.0f}% over {self.executions} runs",
        )


def _how(edge: Edge) -> str:
    if edge.kind in ("choice", "catch"):
        return f"{edge.kind} #{edge.index}"
    return str(edge.kind)


class SessionCoverage:
    """The coverage of every state machine a session's executions ran, by machine name."""

    def __init__(self) -> None:
        self.machines: dict[str, MachineCoverage] = {}

    def add(self, name: str, definition: Source, history: Mapping[str, Any]) -> None:
        """Count one execution of the machine ``name`` (its definition drawn the first time
        the name is seen)."""
        machine = self.machines.get(name)
        if machine is None:
            machine = self.machines[name] = MachineCoverage(name, load_diagram(definition))
        machine.add(history)

    def total_percent(self) -> float:
        """The share of all machines' items hit, in percent."""
        items = [item for machine in self.machines.values() for item in machine.items()]
        return 100.0 * sum(item.hits > 0 for item in items) / len(items) if items else 100.0

    def report_lines(self, *, missed: bool = True) -> Iterable[str]:
        """The terminal summary: per machine its counts and percent, then what was missed."""
        for name in sorted(self.machines):
            machine = self.machines[name]
            items = machine.items()
            kinds = Counter(item.kind for item in items)
            hit = Counter(item.kind for item in items if item.hits)
            counts = ", ".join(
                f"{_PLURAL[kind]} {hit[kind]}/{kinds[kind]}" for kind in _PLURAL if kinds[kind]
            )
            yield f"{name}: {machine.percent():.0f}% ({counts}; {machine.executions} runs)"
            if missed:
                for item in items:
                    if not item.hits:
                        yield f"    missed {item.kind}: {item.label}"
        yield f"TOTAL: {self.total_percent():.0f}%"


def write_html_report(coverage: SessionCoverage, directory: str | os.PathLike[str]) -> Path:
    """Draw each machine with the states it entered and the transitions it took (with their
    counts) into ``directory``, one SVG each, and an ``index.html`` listing them with their
    percentages and misses; return the index's path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in sorted(coverage.machines):
        machine = coverage.machines[name]
        picture = f"{_file_name(name)}.svg"
        (folder / picture).write_bytes(layout(to_dot(machine.diagram, machine.trace()), "svg"))
        missed = "".join(
            f"<li>{html.escape(item.kind)}: {html.escape(item.label)}</li>"
            for item in machine.items()
            if not item.hits
        )
        rows.append(
            f"<section><h2>{html.escape(name)}: {machine.percent():.0f}%</h2>"
            f"<ul>{missed}</ul><img src='{picture}' alt='{html.escape(name)}'></section>"
        )
    title = f"Workflow coverage: {coverage.total_percent():.0f}%"
    index = folder / "index.html"
    index.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{title}</title>"
        f"<h1>{title}</h1>{''.join(rows)}\n",
        encoding="utf-8",
    )
    return index


def _file_name(machine_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", machine_name)
