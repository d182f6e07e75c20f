"""``make demo``: validate every example and describe what it does.

(As the engine grows, the demo runs the examples too.)
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asl
from asl import model as m
from asl.diagnostics import has_errors

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


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


def main() -> int:
    """Validate and describe each example; non-zero when any is invalid."""
    definitions = sorted(EXAMPLES.glob("*/*.asl.json"))
    failed = 0
    for path in definitions:
        rel = path.relative_to(EXAMPLES.parent)
        diagnostics = asl.validate(path)
        for d in diagnostics:
            print(d.format(str(rel)))
        if has_errors(diagnostics):
            failed += 1
            continue
        print(f"{rel}: valid")
        for line in describe(asl.load(path)):
            print(line)
    print(f"\n{len(definitions) - failed} of {len(definitions)} examples valid.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
