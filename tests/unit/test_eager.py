"""integrations.eager: a coroutine started in place, made a task only once it waits."""

from __future__ import annotations

import asyncio
import contextvars

import pytest

from integrations import eager

_seen: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="caller")


async def _answer(value: int) -> int:
    return value * 2


async def _sets_then_waits(gate: asyncio.Future[str]) -> tuple[str, str]:
    _seen.set("coroutine")
    opened = await gate
    return opened, _seen.get()


async def test_a_coroutine_that_never_waits_ends_in_place_with_no_task() -> None:
    tasks_before = len(asyncio.all_tasks())
    started = eager.start(_answer(21))
    assert (started.result, started.task) == (42, None)
    assert len(asyncio.all_tasks()) == tasks_before


async def test_one_that_waits_goes_on_as_a_task_in_its_own_context() -> None:
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    started = eager.start(_sets_then_waits(gate))
    assert started.task is not None and not started.task.done()
    assert _seen.get() == "caller"  # what the coroutine set stays in its own context
    gate.set_result("open")
    assert await started.task == ("open", "coroutine")
    assert _seen.get() == "caller"


async def test_what_the_first_step_raises_is_raised_at_the_start() -> None:
    async def fails() -> None:
        raise LookupError("at once")

    with pytest.raises(LookupError, match="at once"):
        eager.start(fails())


async def test_what_it_raises_after_waiting_is_the_tasks_exception() -> None:
    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise LookupError("later")

    started = eager.start(fails_later())
    assert started.task is not None
    with pytest.raises(LookupError, match="later"):
        await started.task


async def test_cancelling_the_task_reaches_the_coroutine_which_may_answer_it() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return "caught"
        return "slept"

    started = eager.start(stubborn())
    assert started.task is not None
    await asyncio.sleep(0)
    started.task.cancel()
    assert await started.task == "caught"


async def test_cancelled_and_not_caught_the_task_is_cancelled() -> None:
    started = eager.start(asyncio.sleep(3600))
    assert started.task is not None
    started.task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await started.task
    assert started.task.cancelled()


async def test_values_sent_back_reach_the_coroutine_at_each_wait() -> None:
    async def twice() -> list[int]:
        loop = asyncio.get_running_loop()
        got = []
        for value in (1, 2):
            future: asyncio.Future[int] = loop.create_future()
            loop.call_soon(future.set_result, value)
            got.append(await future)
        return got

    started = eager.start(twice())
    assert started.task is not None
    assert await started.task == [1, 2]
