"""A Task integration that fails until healed, for redrive tests: steps named in its
``failing`` set fail with ``Broken`` until ``healed``; each call's step is recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from asl.errors import StatesError
from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.executions import Engine
from runtime.host import LocalHost

__all__ = ["SQS", "Flaky", "flaky_engine"]

#: The resource the flaky integration serves.
SQS = "arn:aws:states:::sqs:sendMessage"


class Flaky:
    """A Task integration whose steps named in ``failing`` fail until ``healed``."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.healed = False
        self.calls: list[str] = []

    async def send(self, request: TaskRequest) -> Any:
        """Answer ``{step, redrives}`` from the Task's parameters, or fail."""
        step = request.parameters["step"]
        self.calls.append(step)
        if step in self.failing and not self.healed:
            raise StatesError("Broken", f"{step} failed")
        return {"step": step, "redrives": request.parameters.get("redrives")}


def flaky_engine(
    db: Path | str | None,
    flaky: Flaky,
    seed: int,
    clock: Literal["virtual", "real"] = "virtual",
) -> Engine:
    """An engine (durable on ``db``) whose ``sqs:`` Tasks ``flaky`` serves."""
    registry = Registry()
    registry.register("sqs:", FunctionIntegration(flaky.send))
    return Engine(LocalHost(invoker=registry, seed=seed, clock=clock), database=db)
