"""Time to load (parse, validate, compile) a generated 1,000-state machine.

Run: ``.venv/bin/python bench/validate_bench.py [--states N] [--runs R] [--profile]``.
The machine mixes every state type: Tasks with Parameters, Retry and Catch, Choice states
with nested rules, Pass, Wait, Parallel branches and Map processors. Prints the best of a
few runs of ``asl.load`` and of each step.

``--filter-paths N`` loads a chain of N Pass states instead, each selecting with a filter
path of its own (``$.orders[?(@.total > 7)].id``): paths jsonpath-ng parses.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections.abc import Callable
from typing import Any

import asl
from asl.compile import build_machine
from asl.loader import parse_text
from asl.validate import validate_document

LAMBDA = "arn:aws:states:::lambda:invoke"


def _task(i: int, next_: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": LAMBDA,
        "Parameters": {
            "FunctionName": f"arn:aws:lambda:us-east-1:123456789012:function:step{i}",
            "Payload": {"input.$": "$", "step": i, "id.$": "$$.Execution.Id"},
        },
        "ResultSelector": {"value.$": "$.Payload.value"},
        "ResultPath": f"$.results.step{i}",
        "TimeoutSeconds": 60,
        "Retry": [
            {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "BackoffRate": 2},
            {"ErrorEquals": ["States.ALL"], "MaxAttempts": 1},
        ],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}],
        "Next": next_,
    }


def _choice(i: int, next_: str, skip: str) -> dict[str, Any]:
    return {
        "Type": "Choice",
        "Choices": [
            {
                "And": [
                    {"Variable": f"$.results.step{i}.value", "IsPresent": True},
                    {"Not": {"Variable": f"$.results.step{i}.value", "NumericLessThan": 0}},
                ],
                "Next": next_,
            },
            {"Variable": "$.mode", "StringEquals": "fast", "Next": skip},
        ],
        "Default": next_,
    }


def _inner(prefix: str, count: int) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for j in range(count):
        last = j == count - 1
        state: dict[str, Any] = {"Type": "Pass", "Parameters": {"n.$": "$.n", "j": j}}
        state.update({"End": True} if last else {"Next": f"{prefix}{j + 1}"})
        states[f"{prefix}{j}"] = state
    return {"StartAt": f"{prefix}0", "States": states}


def machine(size: int = 1000) -> dict[str, Any]:
    """A machine of about ``size`` states (nested ones included), every state reachable."""
    states: dict[str, Any] = {}
    i = 0
    while len(_count(states)) < size - 2:
        name, next_ = f"S{i}", f"S{i + 1}"
        kind = i % 8
        if kind in (0, 3, 6):
            states[name] = _task(i, next_)
        elif kind == 1:
            states[name] = _choice(i - 1, next_, f"S{i + 2}")
        elif kind == 2:
            states[name] = {"Type": "Pass", "Parameters": {"step": i, "x.$": "$.x"}, "Next": next_}
        elif kind == 4:
            states[name] = {"Type": "Wait", "SecondsPath": "$.delay", "Next": next_}
        elif kind == 5:
            branches = [_inner(f"P{i}b{b}_", 3) for b in range(2)]
            states[name] = {"Type": "Parallel", "Branches": branches, "Next": next_}
        else:
            processor = {"ProcessorConfig": {"Mode": "INLINE"}, **_inner(f"M{i}_", 3)}
            states[name] = {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"item.$": "$$.Map.Item.Value"},
                "ItemProcessor": processor,
                "Next": next_,
            }
        i += 1
    states[f"S{i}"] = {"Type": "Succeed"}
    states["Failed"] = {"Type": "Fail", "Error": "StepFailed", "CausePath": "$.error.Cause"}
    return {"Comment": f"{size} generated states", "StartAt": "S0", "States": states}


def filter_machine(count: int) -> dict[str, Any]:
    """A chain of ``count`` Pass states, each with a filter path no other state has."""
    states: dict[str, Any] = {}
    for i in range(count):
        parameters = {"ids.$": f"$.orders[?(@.total > {i})].id"}
        step = {"Next": f"F{i + 1}"} if i < count - 1 else {"End": True}
        states[f"F{i}"] = {"Type": "Pass", "Parameters": parameters, **step}
    return {"Comment": f"{count} filter paths", "StartAt": "F0", "States": states}


def _count(states: dict[str, Any]) -> list[str]:
    names = list(states)
    for state in states.values():
        for scope in [*state.get("Branches", []), state.get("ItemProcessor", {})]:
            names.extend(scope.get("States", {}))
    return names


def best(fn: Callable[[], object], runs: int) -> float:
    """The shortest wall time of ``runs`` calls, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--filter-paths", type=int, metavar="N")
    args = parser.parse_args()
    definition = (
        machine(args.states) if args.filter_paths is None else filter_machine(args.filter_paths)
    )
    text = json.dumps(definition, indent=2)
    assert [d for d in asl.validate(text) if d.severity == "ERROR"] == []
    document = parse_text(text)
    print(f"{len(_count(definition['States']))} states, {len(text):,} bytes of JSON")
    print(f"parse      {best(lambda: parse_text(text), args.runs) * 1000:8.1f} ms")
    print(f"validate   {best(lambda: validate_document(document), args.runs) * 1000:8.1f} ms")
    print(f"compile    {best(lambda: build_machine(document.value), args.runs) * 1000:8.1f} ms")
    print(f"asl.load   {best(lambda: asl.load(text), args.runs) * 1000:8.1f} ms  (target < 500)")
    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(asl.load, text)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
