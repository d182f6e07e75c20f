"""Golden DOT text of the examples and of edge cases, with and without an execution.

The DOT text is the reviewable form of a picture: any change to it shows in a diff. To
accept intended changes, regenerate with
``UPDATE_GOLDEN=1 pytest tests/unit/test_visualizer_golden.py`` and review the diff;
without it, any difference fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runtime.cli.demo import example_definition
from visualizer import build_trace, load_diagram, to_dot, to_mermaid
from visualizer.trace import merge_traces

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*/*.asl.json"))
EDGE_CASES = sorted((GOLDEN / "definitions").glob("*.asl.json"))
#: (definition, history) pairs drawn as traces.
TRACES = {
    "success": "success",
    "caught": "caught",
    "retry": "retry",
    "map_failure": "map_failure",
    "parallel": "parallel",
    "parallel_running": "parallel",
}
#: Heat maps: a definition and the histories merged onto it.
HEAT_MAPS = {"parallel": ["parallel", "parallel_running"], "retry": ["retry"]}
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def _check(actual: str, golden: Path) -> None:
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}: run with UPDATE_GOLDEN=1 and review it"
    expected = golden.read_text(encoding="utf-8")
    assert actual == expected, f"{golden.name} differs: regenerate with UPDATE_GOLDEN=1 if intended"


def _name(path: Path) -> str:
    return path.name.removesuffix(".asl.json")


@pytest.mark.parametrize("definition", EXAMPLES + EDGE_CASES, ids=_name)
def test_definition_dot_matches_golden(definition: Path) -> None:
    _check(to_dot(example_definition(definition)), GOLDEN / "dot" / f"{_name(definition)}.dot")


@pytest.mark.parametrize("history", sorted(TRACES), ids=str)
def test_trace_dot_matches_golden(history: str) -> None:
    definition = GOLDEN / "definitions" / f"{TRACES[history]}.asl.json"
    events = json.loads((GOLDEN / "histories" / f"{history}.json").read_text(encoding="utf-8"))
    _check(to_dot(definition, events), GOLDEN / "dot" / f"{history}.trace.dot")


@pytest.mark.parametrize("name", ["order_approval", "map_failure"], ids=str)
def test_mermaid_matches_golden(name: str) -> None:
    if name == "map_failure":
        definition = GOLDEN / "definitions" / "map_failure.asl.json"
        history = json.loads((GOLDEN / "histories" / "map_failure.json").read_text("utf-8"))
        text = to_mermaid(definition, history)
    else:
        text = to_mermaid(ROOT / "examples" / name / f"{name}.asl.json")
    _check(text, GOLDEN / "mermaid" / f"{name}.mmd")


def test_every_example_and_case_has_a_golden() -> None:
    expected = {f"{_name(p)}.dot" for p in EXAMPLES + EDGE_CASES}
    expected |= {f"{h}.trace.dot" for h in TRACES}
    expected |= {f"{d}.heat.dot" for d in HEAT_MAPS}
    assert {p.name for p in (GOLDEN / "dot").glob("*.dot")} == expected
    assert len(EXAMPLES) == 7


@pytest.mark.parametrize("definition", sorted(HEAT_MAPS), ids=str)
def test_heat_map_dot_matches_golden(definition: str) -> None:
    diagram = load_diagram(GOLDEN / "definitions" / f"{definition}.asl.json")
    traces = [
        build_trace(diagram, json.loads((GOLDEN / "histories" / f"{name}.json").read_text()))
        for name in HEAT_MAPS[definition]
    ]
    drawn = to_dot(diagram, merge_traces(traces, "hits of the golden histories"), heat=True)
    _check(drawn, GOLDEN / "dot" / f"{definition}.heat.dot")
