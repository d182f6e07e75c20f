"""One driver for every data-driven spec case under ``tests/spec/**/*.json``.

A spec file is ``{"feature": ..., "source": ..., "kind": ..., "cases": [...]}``; each
case may override ``source`` and ``kind``. The ``kind`` picks a runner from
``tests/spec/kinds/<kind>.py`` (its ``run(case)`` asserts the expected outcome).

Every ``execution`` case, and every ``callback`` case that takes an activity task, runs
on two backends: the local engine (its id as is) and Temporal (its id ending
``@temporal``; see :mod:`tests.temporal.spec_cases`), but for the cases
:func:`tests.temporal.spec_cases.local_only` says why cannot.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.temporal.backend import ON_TEMPORAL
from tests.temporal.spec_cases import Ended, local_only

SPEC_ROOT = Path(__file__).parent
TEMPORAL = "@temporal"
#: The kinds whose cases run on both backends.
ON_BOTH = ("execution", "callback")


def _cases() -> list[Any]:
    params = []
    for path in sorted(SPEC_ROOT.rglob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        for i, case in enumerate(spec["cases"]):
            full = {"source": spec.get("source"), "kind": spec.get("kind"), **case}
            case_id = f"{path.relative_to(SPEC_ROOT)}::{case.get('name', i)}"
            params.append(pytest.param(full, "local", id=case_id))
            if full["kind"] in ON_BOTH and local_only(full) is None:
                params.append(
                    pytest.param(full, "temporal", id=case_id + TEMPORAL, marks=ON_TEMPORAL)
                )
    return params


ALL_CASES = _cases()


@pytest.mark.parametrize(("case", "backend"), ALL_CASES)
def test_spec_case(case: dict[str, Any], backend: str, request: pytest.FixtureRequest) -> None:
    assert case.get("source"), "every spec case cites where its expected value comes from"
    if backend == "local":
        runner = importlib.import_module(f"tests.spec.kinds.{case['kind']}")
        runner.run(case)
        return
    ended: dict[str, Ended | BaseException] = request.getfixturevalue("temporal_spec_runs")
    found = ended[request.node.callspec.id]
    if isinstance(found, BaseException):
        raise found
    importlib.import_module(f"tests.spec.kinds.{case['kind']}").check(case, found)


def test_only_cases_with_a_reason_stay_local() -> None:
    """Every execution and callback case runs on Temporal too, but those whose reason is
    given."""
    local = [p.id for p in ALL_CASES if p.values[1] == "local" and p.values[0]["kind"] in ON_BOTH]
    on_temporal = {p.id.removesuffix(TEMPORAL) for p in ALL_CASES if p.values[1] == "temporal"}
    for case_id in set(local) - on_temporal:
        case = next(p.values[0] for p in ALL_CASES if p.id == case_id)
        assert local_only(case), case_id
    assert len(on_temporal) > 0.95 * len([i for i in local if "callbacks/" not in i])
    activities = [i for i in local if i.startswith("callbacks/activities.json")]
    assert activities and on_temporal.issuperset(activities)
