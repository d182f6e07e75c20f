"""Results handed back in the order the work started, whatever order it finishes in."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime.clock import RealClock
from runtime.executions import Engine
from runtime.host import SEEDED_START, LocalHost
from runtime.in_order import InOrder


async def test_results_come_back_in_the_order_the_work_started() -> None:
    in_order = InOrder(RealClock())
    returned: list[int] = []

    async def work(index: int, seconds: float) -> int:
        await asyncio.sleep(seconds)  # the later ones finish first
        return index

    async def call(index: int) -> None:
        returned.append(await in_order.run(work(index, 0.03 - index * 0.01)))

    await asyncio.gather(*(call(i) for i in range(3)))
    assert returned == [0, 1, 2]


async def test_a_failure_keeps_its_place_and_a_cancelled_call_gives_up_its_turn() -> None:
    in_order = InOrder(RealClock())
    returned: list[object] = []
    release = asyncio.Event()

    async def fails() -> int:
        await release.wait()
        raise ValueError("first")

    async def call(work: object) -> None:
        try:
            returned.append(await in_order.run(work))  # type: ignore[arg-type]
        except ValueError as error:
            returned.append(str(error))

    first = asyncio.ensure_future(call(fails()))
    stuck = asyncio.ensure_future(in_order.run(asyncio.sleep(60)))
    last = asyncio.ensure_future(call(asyncio.sleep(0, result="third")))
    await asyncio.sleep(0.01)
    assert returned == []  # the third waits for the first two
    release.set()
    await first
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    await last
    assert returned == ["first", "third"]


async def test_work_waiting_on_the_virtual_clock_does_not_deadlock_a_seeded_host() -> None:
    durations = {"Slow": 10, "Quick": 5}

    async def takes_virtual_time(request: TaskRequest) -> Any:
        await host.sleep(durations[request.state_name])  # a fake whose work is virtual
        return request.state_name

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(takes_virtual_time))
    host = LocalHost(invoker=registry, seed=1)

    def branch(name: str) -> dict[str, Any]:
        task = {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True}
        return {"StartAt": name, "States": {name: task}}

    definition = {
        "StartAt": "Both",
        "States": {"Both": {"Type": "Parallel", "End": True,
                            "Branches": [branch("Slow"), branch("Quick")]}},
    }  # fmt: skip
    execution = await Engine(host).create_state_machine(definition).start({})
    await asyncio.wait_for(execution.wait(), 10)  # real seconds: a deadlock would hang
    assert (execution.status, execution.output) == ("SUCCEEDED", ["Slow", "Quick"])
    assert host.now() - SEEDED_START == 10
