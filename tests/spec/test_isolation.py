"""How a local function runs is not observable in what an execution records: every
execution spec case that calls local functions (echoes, fixed results, raising handlers;
in Task, Map, Parallel, Retry and Catch) passes with its functions registered
``"isolation": "inline"``, and with them written as ``async def`` handlers that answer
without waiting (run in place), and gives, with one seed, the same outputs and histories
to the byte as with sync handlers on threads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.spec.kinds.execution import check, execute, observed
from tests.spec.test_spec import ALL_CASES

CASES_WITH_FUNCTIONS = [
    pytest.param(param.values[0], id=param.id)
    for param in ALL_CASES
    if param.values[0]["kind"] == "execution"
    and param.values[1] == "local"
    and "functions" in param.values[0]
]


def test_there_are_cases_with_functions() -> None:
    assert len(CASES_WITH_FUNCTIONS) >= 50


@pytest.mark.parametrize("case", CASES_WITH_FUNCTIONS)
def test_an_inline_function_gives_what_aws_recorded(case: dict[str, Any]) -> None:
    check(case, execute(case, isolation="inline"))


@pytest.mark.parametrize("case", CASES_WITH_FUNCTIONS)
def test_inline_and_thread_isolation_record_the_same(case: dict[str, Any]) -> None:
    assert observed(case, 7, "inline") == observed(case, 7, "thread")


@pytest.mark.parametrize("case", CASES_WITH_FUNCTIONS)
def test_an_async_handler_answering_at_once_gives_what_aws_recorded(case: dict[str, Any]) -> None:
    check(case, execute(case, asynchronous=True))
