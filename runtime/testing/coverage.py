"""Workflow coverage: what a test session's executions exercised of each state machine.

Read from each execution's history in AWS's ``GetExecutionHistory`` format, folded onto
the machine's diagram by :func:`visualizer.trace.build_trace` (so it works for any
history, this engine's or AWS's). The items counted per machine: each state entered,
each transition taken (every Choice rule, Default and Next), each Retrier and each
Catcher by its index, and each Parallel branch and Map run started. A Distributed Map's
items run as child executions with histories of their own: given with the parent's
(:func:`map_run_histories`), they count towards the parent machine
(:func:`visualizer.map_runs.fold_map_runs`), each child an iteration of its Map state.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from asl.loader import Source
from runtime.lifecycle import Execution
from visualizer.diagram import Diagram, Edge, load_diagram
from visualizer.dot import to_dot
from visualizer.layout import layout
from visualizer.map_runs import MapRunHistories, fold_map_runs
from visualizer.trace import Trace, build_trace, merge_traces

__all__ = [
    "CoverageItem",
    "MachineCoverage",
    "SessionCoverage",
    "map_run_histories",
    "write_html_report",
]


_PLURAL = {
    "state": "states",
    "transition": "transitions",
    "retrier": "retriers",
    "catcher": "catchers",
    "branch": "branches",
}


@dataclass(frozen=True, slots=True)
class CoverageItem:
    """One thing of a machine a test can exercise, and how often the session did."""

    kind: str  # "state", "transition", "retrier", "catcher" or "branch"
    label: str
    hits: int


@dataclass(slots=True)
class MachineCoverage:
    """The coverage of one state machine, summed over its executions."""

    name: str
    diagram: Diagram
    traces: list[Trace] = field(default_factory=list)
    _merged: Trace | None = field(default=None, init=False, repr=False)

    @property
    def executions(self) -> int:
        """How many executions were counted."""
        return len(self.traces)

    def add(
        self,
        history: Mapping[str, Any] | list[Mapping[str, Any]],
        map_runs: MapRunHistories | None = None,
    ) -> None:
        """Count one execution's history, with its Distributed Maps' child executions
        (``map_runs``: Map Run ARN -> its children's histories, nested ones too)."""
        trace = build_trace(self.diagram, history)
        self.traces.append(fold_map_runs(self.diagram, trace, map_runs or {}))
        self._merged = None

    def trace(self) -> Trace:
        """Every execution folded into one :class:`Trace`: the counts to draw."""
        if self._merged is None:
            self._merged = merge_traces(self.traces)
        return self._merged

    def items(self) -> list[CoverageItem]:
        """Every coverable item of the machine, in document order, with its hits.

        A Retrier is hit by each error it handled and a Catcher by each error it caught:
        AWS applies the first Retrier, and then the first Catcher, whose ErrorEquals
        names the error, so which one fired follows from the error in the history."""
        diagram, merged, out = self.diagram, self.trace(), []
        for node, state in diagram.states.items():
            found = merged.state(node)
            out.append(CoverageItem("state", state.name, len(found.visits)))
            for index, retrier in enumerate(getattr(state, "retry", ())):
                label = f"{state.name} Retry #{index} ({', '.join(retrier.error_equals)})"
                out.append(CoverageItem("retrier", label, found.retriers[index]))
            for edge in diagram.out_edges(node):
                if edge.kind == "catch":
                    catcher = state.catch[edge.index or 0]  # type: ignore[attr-defined]
                    label = (
                        f"{state.name} Catch #{edge.index} ({', '.join(catcher.error_equals)})"
                        f" -> {diagram.name(edge.target)}"
                    )
                    out.append(CoverageItem("catcher", label, merged.edges[_key(edge)]))
            for number, scope in enumerate(diagram.children.get(node, ()), 1):
                if state.type == "Map":
                    label, hits = f"{state.name} iterations", found.iterations
                else:
                    label, hits = f"{state.name} branch {number}", merged.starts[scope.id]
                out.append(CoverageItem("branch", label, hits))
        for edge in diagram.edges():
            if edge.kind != "catch":
                label = f"{diagram.name(edge.source)} -> {diagram.name(edge.target)} ({_how(edge)})"
                out.append(CoverageItem("transition", label, merged.edges[_key(edge)]))
        return out

    def percent(self) -> float:
        """The share of items hit at least once, in percent (100 for a machine of none)."""
        return _percent(self.items())

    def heat_map(self) -> str:
        """The machine drawn as a heat map of its hits (DOT text, :func:`visualizer.dot.to_dot`)
        headed by its percentage."""
        headline = f"coverage {self.percent():.0f}% over {_runs(self.executions)}"
        return to_dot(self.diagram, replace(self.trace(), status=headline), heat=True)


def _key(edge: Edge) -> tuple[str, str, str]:
    return (edge.source, edge.target, edge.key)


def _how(edge: Edge) -> str:
    return f"choice #{edge.index}" if edge.kind == "choice" else str(edge.kind)


def _runs(count: int) -> str:
    return f"{count} run" if count == 1 else f"{count} runs"


def _percent(items: list[CoverageItem]) -> float:
    return 100.0 * sum(item.hits > 0 for item in items) / len(items) if items else 100.0


class SessionCoverage:
    """The coverage of every state machine a session's executions ran, by machine name."""

    def __init__(self) -> None:
        self.machines: dict[str, MachineCoverage] = {}

    def add(
        self,
        name: str,
        definition: Source,
        history: Mapping[str, Any],
        map_runs: MapRunHistories | None = None,
    ) -> None:
        """Count one execution of the machine ``name`` (its definition drawn the first time
        the name is seen), with its Map Runs' child executions (see
        :meth:`MachineCoverage.add`)."""
        machine = self.machines.get(name)
        if machine is None:
            machine = self.machines[name] = MachineCoverage(name, load_diagram(definition))
        machine.add(history, map_runs)

    def total_percent(self) -> float:
        """The share of all machines' items hit, in percent."""
        return _percent([item for machine in self.machines.values() for item in machine.items()])

    def report_lines(self, *, missed: bool = True, hits: bool = False) -> Iterable[str]:
        """The terminal summary: per machine its counts and percent, then what was missed
        (and with ``hits``, every item hit with how often)."""
        for name in sorted(self.machines):
            machine = self.machines[name]
            items = machine.items()
            kinds = Counter(item.kind for item in items)
            hit = Counter(item.kind for item in items if item.hits)
            counts = ", ".join(
                f"{_PLURAL[kind]} {hit[kind]}/{kinds[kind]}" for kind in _PLURAL if kinds[kind]
            )
            yield f"{name}: {machine.percent():.0f}% ({counts}; {_runs(machine.executions)})"
            for item in items:
                if item.hits and hits:
                    yield f"    {item.hits:>6}× {item.kind}: {item.label}"
                elif not item.hits and missed:
                    yield f"    missed {item.kind}: {item.label}"
        yield f"TOTAL: {self.total_percent():.0f}%"


def map_run_histories(execution: Execution) -> dict[str, list[dict[str, Any]]]:
    """The histories of the child executions of every Map Run an execution's Distributed
    Maps started, and of those their own Distributed Maps started, by Map Run ARN."""
    out: dict[str, list[dict[str, Any]]] = {}
    pending = list(execution.map_runs)
    while pending:
        map_run = pending.pop()
        out[map_run.arn] = [child.history_json() for child in map_run.executions]
        pending += [nested for child in map_run.executions for nested in child.map_runs]
    return out


def write_html_report(coverage: SessionCoverage, directory: str | os.PathLike[str]) -> Path:
    """Draw each machine with how often each state, transition, Retrier and Catcher was hit
    into ``directory``, one SVG each, and an ``index.html`` listing them with their
    percentages and a table of every item's hits (the missed ones first); return the
    index's path."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    sections = []
    for name in sorted(coverage.machines):
        machine = coverage.machines[name]
        picture = f"{_file_name(name)}.svg"
        (folder / picture).write_bytes(layout(machine.heat_map(), "svg"))
        sections.append(
            f"<section><h2>{html.escape(name)}: {machine.percent():.0f}%</h2>"
            f"{_item_table(machine.items())}"
            f"<img src='{picture}' alt='{html.escape(name)}'></section>"
        )
    title = f"Workflow coverage: {coverage.total_percent():.0f}%"
    index = folder / "index.html"
    index.write_text(
        f"<!doctype html><meta charset='utf-8'><title>{title}</title>{_STYLE}"
        f"<h1>{title}</h1>{''.join(sections)}\n",
        encoding="utf-8",
    )
    return index


_STYLE = (
    "<style>body{font-family:Helvetica,Arial,sans-serif;color:#1f2937}"
    "table{border-collapse:collapse;margin:0.5em 0}td,th{padding:2px 10px;text-align:left}"
    "td.hits{text-align:right}tr.missed{color:#b91c1c;font-weight:bold}</style>"
)


def _item_table(items: list[CoverageItem]) -> str:
    rows = "".join(
        f"<tr class='{'hit' if item.hits else 'missed'}'><td>{html.escape(item.kind)}</td>"
        f"<td>{html.escape(item.label)}</td><td class='hits'>{item.hits or 'missed'}</td></tr>"
        for item in sorted(items, key=lambda item: item.hits > 0)
    )
    return f"<table><tr><th>kind</th><th>item</th><th>hits</th></tr>{rows}</table>"


def _file_name(machine_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", machine_name)
