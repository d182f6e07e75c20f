"""Running child scopes side by side (Parallel branches, Map iterations)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from asl import model as m

_INSTANT_TYPES = frozenset({"Pass", "Choice", "Succeed", "Fail"})
_instant_cache: dict[int, tuple[m.Scope, bool]] = {}


def is_instant(scope: m.Scope) -> bool:
    """True when a scope only moves data (Pass, Choice, Succeed, Fail): running it never
    waits, so its runs may go one after another with no observable difference."""
    cached = _instant_cache.get(id(scope))
    if cached is None:
        cached = (scope, all(s.type in _INSTANT_TYPES for s in scope.states.values()))
        _instant_cache[id(scope)] = cached
    return cached[1]


async def run_all(
    jobs: Sequence[Callable[[], Awaitable[Any]]], *, limit: int = 0, sequential: bool = False
) -> list[Any]:
    """Results of all jobs in order; the first failure cancels the rest and is raised.

    ``limit`` caps how many run at once (0 = no cap); ``sequential`` runs them in turn.
    """
    if sequential or limit == 1:
        return [await job() for job in jobs]
    results: list[Any] = [None] * len(jobs)
    if limit <= 0 or limit >= len(jobs):
        tasks = [asyncio.ensure_future(job()) for job in jobs]
    else:
        pending = iter(range(len(jobs)))

        async def worker() -> None:
            for index in pending:
                results[index] = await jobs[index]()

        tasks = [asyncio.ensure_future(worker()) for _ in range(limit)]
    try:
        done = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return done if limit <= 0 or limit >= len(jobs) else results
