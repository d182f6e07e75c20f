"""Results handed back in the order the work started, whatever order it finishes in."""

from __future__ import annotations

import asyncio

import pytest

from runtime.in_order import InOrder


async def test_results_come_back_in_the_order_the_work_started() -> None:
    in_order = InOrder()
    returned: list[int] = []

    async def work(index: int, seconds: float) -> int:
        await asyncio.sleep(seconds)  # the later ones finish first
        return index

    async def call(index: int) -> None:
        returned.append(await in_order.run(work(index, 0.03 - index * 0.01)))

    await asyncio.gather(*(call(i) for i in range(3)))
    assert returned == [0, 1, 2]


async def test_a_failure_keeps_its_place_and_a_cancelled_call_gives_up_its_turn() -> None:
    in_order = InOrder()
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
