"""``asl serve --backend temporal``'s side of activity tasks: AWS's quota of workers
polling one activity at once (GetActivityTask), held by the server.

AWS: at most 1,000 pollers calling GetActivityTask per activity ARN; beyond it,
``ActivityWorkerLimitExceeded`` "The maximum number of workers concurrently polling for
activity tasks has been reached." (AWS Step Functions service quotas page, and the API
reference of GetActivityTask's errors). The count is ``runtime.activities.Pollers``, whose
1,000 the local engine's unit test reaches; here it is lowered to 3, since a thousand real
polls at once exceed the dev server's rate limit of requests per namespace."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from runtime import activities
from runtime.service import temporal_executions
from runtime.service.catalog import MemoryCatalog
from runtime.store import ActivityWorkerLimitExceeded
from tests.temporal import machines
from tests.temporal.backend import Backend

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

_LIMIT = 3


def test_polls_of_one_activity_beyond_the_limit_are_refused(
    temporal: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(activities, "MAX_POLLERS_PER_ARN", _LIMIT)
    backend = temporal_executions.TemporalExecutionsBackend(temporal.executions, MemoryCatalog())
    crowded = machines.activity_arn("crowded")
    other = machines.activity_arn("uncrowded")

    async def scenario() -> tuple[ActivityWorkerLimitExceeded, Any, Any]:
        polls = [
            asyncio.ensure_future(backend.get_activity_task(crowded, f"w{n}", 60))
            for n in range(_LIMIT)
        ]
        await asyncio.sleep(0)  # every poll under way
        try:
            with pytest.raises(ActivityWorkerLimitExceeded) as refused:
                await backend.get_activity_task(crowded, "one too many", 0)
            elsewhere = await backend.get_activity_task(other, "elsewhere", 0)
        finally:
            for poll in polls:
                poll.cancel()
            await asyncio.gather(*polls, return_exceptions=True)
        again = await backend.get_activity_task(crowded, "later", 0)
        return refused.value, elsewhere, again

    refused, elsewhere, again = temporal.run(scenario())
    assert (refused.code, refused.message) == (
        "ActivityWorkerLimitExceeded",
        "The maximum number of workers concurrently polling for activity tasks has been reached.",
    )
    assert elsewhere is None and again is None  # other activities, and later polls, go on
