"""A Distributed Map's inside drawn as reached by ``asl run --trace``.

In Distributed mode each item runs as a child workflow execution whose history is its
own: the parent's history shows only ``MapRunStarted`` ... ``MapRunSucceeded``
(https://docs.aws.amazon.com/step-functions/latest/dg/state-map.html). The drawing folds
the children's histories in, so the ItemProcessor's states are coloured and counted as an
inline Map's are.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

INNER = ("Double", "Check", "Two", "Other")


def _machine(mode: str) -> dict[str, Any]:
    processor: dict[str, Any] = {
        "StartAt": "Double",
        "States": {
            "Double": {"Type": "Pass", "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Two"}],
                "Default": "Other",
            },
            "Two": {"Type": "Pass", "End": True},
            "Other": {"Type": "Pass", "End": True},
        },
    }
    if mode == "DISTRIBUTED":
        processor["ProcessorConfig"] = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {
        "StartAt": "Each",
        "States": {"Each": {"Type": "Map", "ItemProcessor": processor, "End": True}},
    }


def asl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _run_traced(tmp_path: Path, mode: str, suffix: str) -> str:
    definition = tmp_path / f"{mode.lower()}.asl.json"
    definition.write_text(json.dumps(_machine(mode)))
    drawing = tmp_path / f"{mode.lower()}{suffix}"
    proc = asl("run", definition, "--input", "[1, 2, 3]", "--seed", "3", "--trace", drawing)
    assert proc.returncode == 0, proc.stderr
    return drawing.read_text()


def _inner_nodes(dot: str) -> dict[str, str]:
    """Each inner state's DOT node attributes, by state name."""
    found = {}
    for name in INNER:
        match = re.search(rf'"/States/Each/ItemProcessor/States/{name}" \[(.*)\];', dot)
        assert match, name
        found[name] = match.group(1)
    return found


def test_run_trace_draws_the_children_of_a_distributed_map_as_reached(tmp_path: Path) -> None:
    nodes = _inner_nodes(_run_traced(tmp_path, "DISTRIBUTED", ".dot"))
    assert all("status-not_reached" not in attributes for attributes in nodes.values())
    assert "3 runs" in nodes["Double"] and "3 runs" in nodes["Check"]
    assert "2 runs" in nodes["Other"]


def test_the_distributed_maps_inside_is_drawn_as_the_inline_maps(tmp_path: Path) -> None:
    distributed = _run_traced(tmp_path, "DISTRIBUTED", ".dot")
    inline = _run_traced(tmp_path, "INLINE", ".dot")
    assert _inner_nodes(distributed) == _inner_nodes(inline)
    edge = re.compile(r'^\s*"/States/Each/ItemProcessor/States/.*$', re.M)
    assert edge.findall(distributed) == edge.findall(inline)  # nodes and edges, with counts


@pytest.mark.parametrize("suffix", [".html", ".svg"])
def test_the_svg_and_the_html_report_mark_the_inside_reached(tmp_path: Path, suffix: str) -> None:
    text = html.unescape(_run_traced(tmp_path, "DISTRIBUTED", suffix))  # graphviz escapes "-"
    for name in INNER:
        node = re.search(rf'class="node state \w+ status-(\w+)">\s*<title>'
                         rf"/States/Each/ItemProcessor/States/{name}</title>", text)  # fmt: skip
        assert node and node.group(1) == "succeeded", name


def test_the_html_reports_events_stay_the_executions_own(tmp_path: Path) -> None:
    definition = tmp_path / "distributed.asl.json"
    definition.write_text(json.dumps(_machine("DISTRIBUTED")))
    report, history = tmp_path / "run.html", tmp_path / "history.json"
    proc = asl("run", definition, "--input", "[1, 2]", "--trace", report, "--history", history)
    assert proc.returncode == 0, proc.stderr
    events = json.loads(history.read_text())["events"]
    assert "MapRunStarted" in [event["type"] for event in events]
    assert report.read_text().count('<tr class="event') == len(events)


def test_render_draws_the_map_runs_that_run_wrote_as_run_trace_did(tmp_path: Path) -> None:
    definition = tmp_path / "distributed.asl.json"
    definition.write_text(json.dumps(_machine("DISTRIBUTED")))
    history, map_runs = tmp_path / "history.json", tmp_path / "map_runs.json"
    traced, rendered = tmp_path / "run.dot", tmp_path / "render.dot"
    proc = asl("run", definition, "--input", "[1, 2, 3]", "--trace", traced,
               "--history", history, "--map-runs", map_runs)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (map_run,) = json.loads(map_runs.read_text()).items()
    assert len(map_run[1]) == 3  # one history per item
    proc = asl("render", definition, "-o", rendered, "--history", history, "--map-runs", map_runs)
    assert proc.returncode == 0, proc.stderr
    assert rendered.read_text() == traced.read_text()
    assert "3 runs" in _inner_nodes(rendered.read_text())["Double"]


def test_render_refuses_map_runs_it_cannot_use(tmp_path: Path) -> None:
    definition = tmp_path / "distributed.asl.json"
    definition.write_text(json.dumps(_machine("DISTRIBUTED")))
    out, history, map_runs = tmp_path / "x.svg", tmp_path / "h.json", tmp_path / "m.json"
    history.write_text('{"events": []}')
    map_runs.write_text('{"arn:aws:states:us-east-1:123456789012:mapRun:M/L:1": [{"a": 1}]}')
    proc = asl("render", definition, "-o", out, "--map-runs", map_runs)
    assert (proc.returncode, proc.stderr) == (2, "asl render: --map-runs goes with --history\n")
    proc = asl("render", definition, "-o", out, "--history", history, "--map-runs", map_runs)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"asl render: {map_runs} is not a set of Map Run histories: "
        "arn:aws:states:us-east-1:123456789012:mapRun:M/L:1 history #1: "
        'a history is {"events": [...]} or a list of events\n'
    )
    map_runs.write_text("[]")
    proc = asl("render", definition, "-o", out, "--history", history, "--map-runs", map_runs)
    assert proc.returncode == 2
    assert 'Map Run histories are {"<Map Run ARN>": [history, ...]}' in proc.stderr
    proc = asl("render", definition, "-o", out, "--history", history, "--map-runs", tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not out.exists()
