"""The worker's side of a Task: the ``asl.invoke_task`` activity, which runs one Task
invocation through the worker's integrations (local functions, HTTP, AWS services,
mocks).

While the invocation runs, the activity heartbeats to Temporal (three times per the
workflow's liveness period): a worker that dies stops heartbeating, and Temporal gives
the invocation to another worker once the period is over. An ASL ``HeartbeatSeconds``
is not this: it concerns callbacks, and is kept by the execution's task tokens.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from asl.bindings import SystemEntropy
from asl.errors import StatesError
from integrations.base import SYSTEM_SERVICES, Invoker
from runtime.temporal.payloads import (
    INTEGRATION_FAULT,
    INVOKE_ACTIVITY,
    failure_of,
    result_payload,
    task_request,
)

_log = logging.getLogger(__name__)


class _Services:
    """What an integration asks of the Host, on a worker: the execution's time when the
    Task was scheduled plus the real time since, ids seeded by the workflow (a retried
    invocation makes the same ones), real-time timers."""

    def __init__(self, seed: int, now: float) -> None:
        self._entropy = SystemEntropy(seed)
        self._now = now
        self._began = time.monotonic()

    def now(self) -> float:
        return self._now + (time.monotonic() - self._began)

    def new_uuid(self) -> str:
        return self._entropy.uuid4()

    def timer(self, seconds: float, elapsed: float = 0.0) -> asyncio.Future[Any]:
        return SYSTEM_SERVICES.timer(seconds, elapsed)

    def alone(self) -> bool:
        return SYSTEM_SERVICES.alone()


class TaskActivities:
    """The activities of a worker holding ``invoker`` (the integrations)."""

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    @activity.defn(name=INVOKE_ACTIVITY)
    async def invoke_task(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one Task invocation; its ``StatesError`` becomes the activity's failure."""
        request = task_request(payload, _Services(payload["seed"], payload["now"]))
        beating = asyncio.create_task(_heartbeats(activity.info().heartbeat_timeout))
        try:
            result = await self._invoker.invoke(request)
        except StatesError as error:
            raise failure_of(error) from None
        except Exception as bug:
            _log.exception("Task %s of %s", request.state_name, request.execution_arn)
            raise ApplicationError(
                f"{type(bug).__name__}: {bug}", type=INTEGRATION_FAULT, non_retryable=True
            ) from None
        finally:
            beating.cancel()
        return result_payload(result)


async def _heartbeats(period: Any) -> None:
    """Heartbeat while the invocation runs (none without a heartbeat timeout)."""
    if period is None:
        return
    while True:
        activity.heartbeat()
        await asyncio.sleep(period.total_seconds() / 3)
