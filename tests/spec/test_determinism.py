"""Seeded runs repeat to the byte: every execution spec case, run twice with one seed
(and, as a property, with any seed), gives identical outputs and histories."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.spec.kinds.execution import observed
from tests.spec.test_spec import ALL_CASES

EXECUTION_CASES = [
    pytest.param(param.values[0], id=param.id)
    for param in ALL_CASES
    if param.values[0]["kind"] == "execution" and param.values[1] == "local"
]


def test_there_are_execution_cases() -> None:
    assert len(EXECUTION_CASES) > 300


@pytest.mark.parametrize("case", EXECUTION_CASES)
def test_a_seeded_run_repeats(case: dict[str, Any]) -> None:
    assert observed(case, 7) == observed(case, 7)


@settings(max_examples=40)
@given(index=st.integers(0, len(EXECUTION_CASES) - 1), seed=st.integers(0, 2**32))
def test_any_seed_repeats(index: int, seed: int) -> None:
    case = EXECUTION_CASES[index].values[0]
    assert observed(case, seed) == observed(case, seed)
