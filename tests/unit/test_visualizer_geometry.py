"""The laid-out picture (SVG from ``dot``), measured: where edges run against titles and
each other.

No edge crosses the title of a Parallel's branch or a Map's item processor. Each scope's
title ("Branch 1", "Each item (distributed)") is its cluster's label, drawn inside the
cluster at its top. The edge from the fork (the Parallel or Map node) to the scope's first
state used to be routed straight through it; it now ends on the cluster's border
(``lhead``). Two transitions between the same states (a ``Next`` and a Catch) are drawn
apart. Checked on the DOT text and on the geometry of the SVG: each edge's curve,
arrowhead and label against each title's box, and arrowheads against each other.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from visualizer import layout, load_diagram, to_dot
from visualizer.dot import cluster_id

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SVG = "{http://www.w3.org/2000/svg}"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:work"


def _steps(prefix: str, count: int) -> dict[str, Any]:
    names = [f"{prefix} {i}" for i in range(count)]
    states: dict[str, Any] = {}
    for i, name in enumerate(names):
        step: dict[str, Any] = {"Type": "Task", "Resource": LAMBDA}
        states[name] = step | ({"Next": names[i + 1]} if i + 1 < count else {"End": True})
    return {"StartAt": names[0], "States": states}


def _machine(kind: str, catch: bool) -> dict[str, Any]:
    """A Parallel or Map between two states, its Catch (when asked) to a Fail."""
    if kind == "parallel":
        middle: dict[str, Any] = {
            "Type": "Parallel",
            "Branches": [_steps("Left", 2), _steps("Middle", 1), _steps("Right", 3)],
        }
    else:
        processor = _steps("Each", 2)
        if kind == "distributed map":
            processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
        middle = {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor}
    middle["Next"] = "After"
    states: dict[str, Any] = {"Before": {"Type": "Pass", "Next": "Fan out"}, "Fan out": middle}
    states["After"] = {"Type": "Pass", "End": True}
    if catch:
        middle["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Report failure"}]
        states["Report failure"] = {"Type": "Fail", "Error": "FanOutFailed"}
    return {"StartAt": "Before", "States": states}


CASES = [
    pytest.param(kind, catch, id=f"{kind}{' with catch' if catch else ''}")
    for kind in ("parallel", "map", "distributed map")
    for catch in (False, True)
]


@dataclass(frozen=True, slots=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float

    def holds(self, x: float, y: float) -> bool:
        return self.left <= x <= self.right and self.top <= y <= self.bottom

    def meets(self, other: Box) -> bool:
        return not (
            other.right < self.left
            or other.left > self.right
            or other.bottom < self.top
            or other.top > self.bottom
        )


def _text_box(text: ET.Element) -> Box:
    """A generous box around an SVG text (graphviz gives its baseline and anchor, not its
    width): Helvetica's widest glyphs are under 0.75 of the font size."""
    size = float(text.get("font-size", "14"))
    x, y = float(text.get("x", "0")), float(text.get("y", "0"))
    width = 0.75 * size * len("".join(text.itertext()))
    left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor", "start")]
    return Box(left, y - size, left + width, y + 0.25 * size)


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def _curve_points(d: str, steps: int = 24) -> list[tuple[float, float]]:
    """Points along a graphviz edge path: ``M x,y C`` then cubic Bézier segments."""
    values = _numbers(d)
    points = list(zip(values[::2], values[1::2], strict=True))
    out = [points[0]]
    for i in range(1, len(points) - 2, 3):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[i - 1 : i + 3]
        for step in range(1, steps + 1):
            t = step / steps
            a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
            out.append((a * x0 + b * x1 + c * x2 + e * x3, a * y0 + b * y1 + c * y2 + e * y3))
    return out


@dataclass(frozen=True, slots=True)
class Layout:
    #: Cluster title (its SVG <title>) -> the box of each of its label's texts.
    titles: dict[str, list[Box]]
    #: Edge (its SVG <title>) -> points of its curve and arrowhead, and its label's boxes.
    edges: dict[str, tuple[list[tuple[float, float]], list[Box]]]
    #: Edge (its SVG <title>) -> the length of its line, without the arrowhead.
    lengths: dict[str, float]


def _laid_out(dot: str) -> Layout:
    root = ET.fromstring(layout(dot, "svg"))
    titles: dict[str, list[Box]] = {}
    edges: dict[str, tuple[list[tuple[float, float]], list[Box]]] = {}
    lengths: dict[str, float] = {}
    for group in root.iter(f"{SVG}g"):
        name = group.findtext(f"{SVG}title", "")
        texts = [_text_box(t) for t in group.iter(f"{SVG}text")]
        if group.get("class") == "cluster" and texts:
            titles[name] = texts
        elif group.get("class") == "edge":
            paths = group.iter(f"{SVG}path")
            points = [p for path in paths for p in _curve_points(path.get("d", ""))]
            lengths[name] = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
            for polygon in group.iter(f"{SVG}polygon"):
                values = _numbers(polygon.get("points", ""))
                points += list(zip(values[::2], values[1::2], strict=True))
            edges[name] = (points, texts)
    return Layout(titles, edges, lengths)


def _crossings(dot: str) -> list[str]:
    """Each (edge, cluster title) pair where the edge's line or label meets the title."""
    drawn = _laid_out(dot)
    found = []
    for cluster, boxes in drawn.titles.items():
        for edge, (points, labels) in drawn.edges.items():
            for box in boxes:
                if any(box.holds(x, y) for x, y in points) or any(box.meets(b) for b in labels):
                    found.append(f"{edge} crosses the title of {cluster}")
    return found


def _forks(definition: object) -> tuple[str, list[tuple[str, str, str]]]:
    """The DOT text of a definition and its fork edges: (fork, scope's start, cluster)."""
    diagram = load_diagram(definition)  # type: ignore[arg-type]
    forks = [
        (fork, scope.start, cluster_id(scope.id))
        for fork, scopes in diagram.children.items()
        for scope in scopes
        if scope.start is not None
    ]
    return to_dot(diagram), forks


def _check_forks(dot: str, forks: list[tuple[str, str, str]]) -> None:
    lines = dot.splitlines()
    for fork, start, cluster in forks:
        line = next(ln for ln in lines if ln.strip().startswith(f'"{fork}" -> "{start}"'))
        assert f'lhead="{cluster}"' in line
    assert _crossings(dot) == []
    # The fork's edges end on the border, above the titles, and still show as lines (an
    # edge one rank long was cut to a bare arrowhead by the clusters' margins and title).
    lengths = _laid_out(dot).lengths
    assert forks and all(lengths[f"{fork}->{start}"] >= 10 for fork, start, _ in forks)


@pytest.mark.parametrize(("kind", "catch"), CASES)
def test_the_fork_edge_ends_on_each_scope_cluster_above_its_title(kind: str, catch: bool) -> None:
    _check_forks(*_forks(_machine(kind, catch)))


@pytest.mark.parametrize("name", ["nested_map_in_parallel", "parallel", "map_failure"])
def test_nested_and_golden_scopes_have_their_fork_edges_clear_of_titles(name: str) -> None:
    _check_forks(*_forks(GOLDEN / "definitions" / f"{name}.asl.json"))


@pytest.mark.parametrize("history", ["map_failure", "parallel"])
def test_no_edge_of_a_trace_crosses_a_scope_title(history: str) -> None:
    # A trace's titles are longer ("Branch 1 · succeeded") and its edges carry counts.
    definition = GOLDEN / "definitions" / f"{history}.asl.json"
    events = json.loads((GOLDEN / "histories" / f"{history}.json").read_text(encoding="utf-8"))
    assert _crossings(to_dot(definition, events)) == []


def test_the_crossing_check_sees_an_edge_through_a_title() -> None:
    # The check itself: the same picture with the fork edges routed to the start states,
    # as they were drawn before, crosses the distributed Map's title.
    dot = to_dot(_machine("distributed map", True))
    before = re.sub(r' \[minlen="2", lhead="[^"]*"\]', "", dot)
    assert before != dot
    assert _crossings(before) != []


def test_a_next_and_a_catch_to_the_same_state_are_drawn_apart() -> None:
    # A fallback: on error, go on to the same state. The Next edge was laid almost on top
    # of the Catch edge, their arrowheads overlapping; a blank label gives it its own lane.
    definition = {
        "StartAt": "Quote shipping",
        "States": {
            "Quote shipping": {
                "Type": "Task",
                "Resource": LAMBDA,
                "Catch": [{"ErrorEquals": ["NoCarrierAvailable"], "Next": "Build quote"}],
                "Next": "Build quote",
            },
            "Build quote": {"Type": "Pass", "End": True},
        },
    }
    dot = to_dot(definition)
    source, target = "/States/Quote shipping", "/States/Build quote"
    edges = [ln.strip() for ln in dot.splitlines() if ln.strip().startswith(f'"{source}" ->')]
    assert edges == [
        f'"{source}" -> "{target}" [label=< >];',
        f'"{source}" -> "{target}" [style="dashed", color="#dc2626", fontcolor="#dc2626", '
        "label=<catch NoCarrierAvailable>];",
    ]
    arrowheads = []  # both edges have the same SVG title, "source->target"
    for group in ET.fromstring(layout(dot, "svg")).iter(f"{SVG}g"):
        if group.get("class") == "edge" and group.findtext(f"{SVG}title") == f"{source}->{target}":
            values = _numbers(next(group.iter(f"{SVG}polygon")).get("points", ""))
            xs, ys = values[::2], values[1::2]
            arrowheads.append(Box(min(xs), min(ys), max(xs), max(ys)))
    assert len(arrowheads) == 2
    assert not arrowheads[0].meets(arrowheads[1])
