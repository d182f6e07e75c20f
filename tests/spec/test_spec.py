"""One driver for every data-driven spec case under ``tests/spec/**/*.json``.

A spec file is ``{"feature": ..., "source": ..., "kind": ..., "cases": [...]}``; each
case may override ``source`` and ``kind``. The ``kind`` picks a runner from
``tests/spec/kinds/<kind>.py`` (its ``run(case)`` asserts the expected outcome).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

SPEC_ROOT = Path(__file__).parent


def _cases() -> list[Any]:
    params = []
    for path in sorted(SPEC_ROOT.rglob("*.json")):
        spec = json.loads(path.read_text(encoding="utf-8"))
        for i, case in enumerate(spec["cases"]):
            full = {"source": spec.get("source"), "kind": spec.get("kind"), **case}
            case_id = f"{path.relative_to(SPEC_ROOT)}::{case.get('name', i)}"
            params.append(pytest.param(full, id=case_id))
    return params


ALL_CASES = _cases()


@pytest.mark.parametrize("case", ALL_CASES)
def test_spec_case(case: dict[str, Any]) -> None:
    assert case.get("source"), "every spec case cites where its expected value comes from"
    runner = importlib.import_module(f"tests.spec.kinds.{case['kind']}")
    runner.run(case)
