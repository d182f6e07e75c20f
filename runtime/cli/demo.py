"""``make demo``: validate, describe and run every example; write each one's history,
diagram, execution trace and HTML report to ``out/<example>/``.

Examples that call AWS services run with their ``mock_config.json`` (Step Functions
Local's format), so the demo needs no network and no credentials; an example with
deploy-time placeholders gets their values from its ``substitutions.json``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asl
from asl import model as m
from asl.diagnostics import has_errors
from asl.loader import read_document
from runtime.executions import Execution
from runtime.testing import start
from visualizer import render

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OUT = ROOT / "out"


def _all_states(scope: m.Scope) -> Iterator[m.State]:
    for state in scope.states.values():
        yield state
        if isinstance(state, m.Parallel):
            for branch in state.branches:
                yield from _all_states(branch)
        elif isinstance(state, m.Map):
            yield from _all_states(state.item_processor)


def describe(machine: m.StateMachine) -> list[str]:
    """A few lines saying what a machine is made of."""
    states = list(_all_states(machine.scope))
    types = Counter(s.type for s in states)
    resources = sorted({s.resource for s in states if isinstance(s, m.Task)})
    lines = [
        f"  {len(states)} states ({', '.join(f'{n} {t}' for t, n in types.most_common())}),"
        f" query language {machine.query_language}, starts at {machine.start_at!r}",
    ]
    lines += [f"  task: {r}" for r in resources]
    return lines


def substitutions_of(folder: Path) -> dict[str, Any] | None:
    """The placeholder values of an example (its ``substitutions.json``), if it has any."""
    file = folder / "substitutions.json"
    return json.loads(file.read_text()) if file.exists() else None


def example_definition(path: Path) -> Path | dict[str, Any]:
    """An example's definition file as it runs and is drawn: with the placeholders its
    folder's ``substitutions.json`` fills, when it has one."""
    values = substitutions_of(path.parent)
    return path if values is None else read_document(path, values).value


def _first_test_case(mock_file: Path, machine_name: str) -> str:
    document = json.loads(mock_file.read_text())
    return next(iter(document["StateMachines"][machine_name]["TestCases"]))


async def run_example(folder: Path, *, seed: int | None = None) -> Execution:
    """Run one example as its README says, mocks standing in for AWS services (seeded
    with ``seed``: two runs then give identical outputs and histories)."""
    name = folder.name
    options: dict[str, Any] = {
        "state_machine_name": name,
        "seed": seed,
        "substitutions": substitutions_of(folder),
    }
    if (folder / "functions.json").exists():
        options["functions"] = folder / "functions.json"
    mocks = folder / "mock_config.json"
    if mocks.exists():
        options.update(mock_config=mocks, test_case=_first_test_case(mocks, name))
    input_value = json.loads((folder / "input.json").read_text())
    execution = await start(folder / f"{name}.asl.json", input_value, **options)
    return await execution.wait()


def _summary(execution: Execution) -> str:
    if execution.status == "SUCCEEDED":
        text = json.dumps(execution.output)
        return f"SUCCEEDED: {text[:100]}{'...' if len(text) > 100 else ''}"
    return f"{execution.status}: {execution.error}: {execution.cause}"


def main() -> int:
    """Validate, describe and run each example; non-zero when any is invalid or fails."""
    failed = 0
    folders = sorted(p.parent for p in EXAMPLES.glob("*/*.asl.json"))
    for folder in folders:
        path = folder / f"{folder.name}.asl.json"
        rel = path.relative_to(ROOT)
        values = substitutions_of(folder)
        diagnostics = asl.validate(path, substitutions=values)
        for d in diagnostics:
            print(d.format(str(rel)))
        if has_errors(diagnostics):
            failed += 1
            continue
        print(f"{rel}: valid")
        for line in describe(asl.load(path, substitutions=values)):
            print(line)
        execution = asyncio.run(run_example(folder))
        out = OUT / folder.name
        out.mkdir(parents=True, exist_ok=True)
        history = execution.history_json()
        (out / "history.json").write_text(json.dumps(history, indent=2))
        drawn = example_definition(path)
        render(drawn, out / "diagram.svg")
        render(drawn, out / "trace.svg", history=history)
        render(drawn, out / "report.html", history=history)
        print(f"  ran {len(execution.path)} states, {len(execution.history)} events -> "
              f"{_summary(execution)}")  # fmt: skip
        print(
            f"  wrote {out.relative_to(ROOT)}/: history.json, diagram.svg, trace.svg, report.html"
        )
        failed += execution.status != "SUCCEEDED"
    print(f"\n{len(folders) - failed} of {len(folders)} examples valid and succeeded.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
