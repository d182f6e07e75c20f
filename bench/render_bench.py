"""Benchmark of drawing a large workflow: graph build + DOT text + ``dot`` layout to SVG.

Usage: python bench/render_bench.py [STATES]   (default 500; target under 2 s)

The machine is generated (see :func:`generate`): a chain of stages mixing Tasks with
Retry and Catch, Choices, Waits, Parallels and Maps, the shape of a real large workflow.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visualizer import layout, load_diagram, to_dot

_LAMBDA = "arn:aws:states:::lambda:invoke"


def generate(states: int) -> dict[str, Any]:
    """A valid definition of about ``states`` states (never fewer), top to bottom."""
    machine: dict[str, Any] = {}
    stage = 0
    open_ends: list[str] = []  # states whose Next is the following stage's entry
    while _count(machine) < states - 3:
        entry, ends = _stage(machine, stage, f"Stage {stage + 1} ")
        for name in open_ends:
            machine[name]["Next"] = entry
        open_ends = ends
        stage += 1
    for name in open_ends:
        machine[name]["Next"] = "Done"
    machine["Handle failure"] = {"Type": "Pass", "Next": "Failed"}
    machine["Failed"] = {"Type": "Fail", "Error": "StageFailed", "Cause": "A stage failed."}
    machine["Done"] = {"Type": "Succeed"}
    return {
        "Comment": f"Generated workflow of {_count(machine)} states",
        "StartAt": next(iter(machine)),
        "States": machine,
    }


def _count(states: dict[str, Any]) -> int:
    total = 0
    for state in states.values():
        total += 1
        for branch in state.get("Branches", ()):
            total += _count(branch["States"])
        if "ItemProcessor" in state:
            total += _count(state["ItemProcessor"]["States"])
    return total


def _stage(machine: dict[str, Any], stage: int, prefix: str) -> tuple[str, list[str]]:
    """Add one stage; return its entry state and the states that lead on from it."""
    kind = stage % 6
    if kind == 0:
        machine[prefix + "call"] = _task(prefix + "call", catch=True)
        return prefix + "call", [prefix + "call"]
    if kind == 1:
        return _choice_stage(machine, stage, prefix)
    if kind == 2:
        pause = {"Type": "Wait", "Seconds": 30 + stage, "Next": prefix + "check"}
        machine[prefix + "pause"] = pause
        machine[prefix + "check"] = _task(prefix + "check", catch=False)
        return prefix + "pause", [prefix + "check"]
    if kind == 3:
        machine[prefix + "fan out"] = _parallel(prefix)
        return prefix + "fan out", [prefix + "fan out"]
    if kind == 4:
        processor = {"StartAt": prefix + "item", "States": {
            prefix + "item": _task(prefix + "item", catch=False, next_=prefix + "item done"),
            prefix + "item done": {"Type": "Pass", "End": True}}}  # fmt: skip
        machine[prefix + "each"] = {
            "Type": "Map", "ItemsPath": f"$.s{stage}.items", "MaxConcurrency": 5,
            "ItemProcessor": processor,
        }  # fmt: skip
        return prefix + "each", [prefix + "each"]
    machine[prefix + "record"] = {"Type": "Pass"}
    return prefix + "record", [prefix + "record"]


def _choice_stage(machine: dict[str, Any], stage: int, prefix: str) -> tuple[str, list[str]]:
    machine[prefix + "decide"] = {
        "Type": "Choice",
        "Choices": [
            {"Variable": f"$.s{stage}.amount", "NumericGreaterThan": stage * 10,
             "Next": prefix + "big"},
            {"And": [{"Variable": f"$.s{stage}.kind", "StringEquals": "bulk"},
                     {"Variable": f"$.s{stage}.ok", "BooleanEquals": True}],
             "Next": prefix + "bulk"},
        ],
        "Default": prefix + "small",
    }  # fmt: skip
    ends = [prefix + branch for branch in ("big", "bulk", "small")]
    for name in ends:
        machine[name] = {"Type": "Pass"}
    return prefix + "decide", ends


def _parallel(prefix: str) -> dict[str, Any]:
    branches = [
        {"StartAt": f"{prefix}b{i} load", "States": {
            f"{prefix}b{i} load": _task(f"{prefix}b{i} load", catch=False,
                                        next_=f"{prefix}b{i} save"),
            f"{prefix}b{i} save": {"Type": "Pass", "End": True}}}
        for i in (1, 2)
    ]  # fmt: skip
    return {
        "Type": "Parallel",
        "Branches": branches,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle failure"}],
    }


def _task(name: str, *, catch: bool, next_: str | None = None) -> dict[str, Any]:
    task: dict[str, Any] = {
        "Type": "Task",
        "Resource": _LAMBDA,
        "Parameters": {"FunctionName": name.replace(" ", "-"), "Payload.$": "$"},
        "Retry": [{"ErrorEquals": ["Lambda.TooManyRequestsException"], "MaxAttempts": 3}],
    }
    if catch:
        task["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Handle failure"}]
    if next_ is not None:
        task["Next"] = next_
    return task


def main() -> None:
    """Print the time of each step for a generated machine."""
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    definition = generate(size)
    start = time.perf_counter()
    diagram = load_diagram(definition)
    built = time.perf_counter()
    text = to_dot(diagram)
    written = time.perf_counter()
    svg = layout(text, "svg")
    done = time.perf_counter()
    print(f"{len(diagram.states)} states, {diagram.graph.number_of_edges()} transitions")
    print(f"  validate + graph + model: {built - start:.3f} s")
    print(f"  DOT text ({len(text)} chars): {written - built:.3f} s")
    print(f"  dot layout to SVG ({len(svg)} bytes): {done - written:.3f} s")
    print(f"  total: {done - start:.3f} s (target < 2 s)")


if __name__ == "__main__":
    main()
