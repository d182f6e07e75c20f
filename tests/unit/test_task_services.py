"""The Host's services as integrations see them, the deadline race, and the thread pool."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from integrations.base import SYSTEM_SERVICES, TaskRequest, TaskServices, before, parse_resource
from integrations.threads import ThreadPool
from tests.services import FakeServices, uid


def test_a_request_without_a_host_gets_the_system_services() -> None:
    request = TaskRequest(parse_resource("arn:aws:states:::sqs:sendMessage"), {}, "S", "e", "m",
                          "us-east-1", "123456789012")  # fmt: skip
    assert request.services is SYSTEM_SERVICES
    assert abs(SYSTEM_SERVICES.now() - time.time()) < 60
    assert uuid.UUID(SYSTEM_SERVICES.new_uuid()).version == 4


def test_the_fake_is_task_services() -> None:
    services: TaskServices = FakeServices(5.0)
    assert (services.now(), services.new_uuid(), services.new_uuid()) == (5.0, uid(1), uid(2))


async def test_system_timer_fires_and_cancels() -> None:
    fired = SYSTEM_SERVICES.timer(0.01)
    await asyncio.wait_for(fired, 5)
    cancelled = SYSTEM_SERVICES.timer(0.01)
    cancelled.cancel()
    await asyncio.sleep(0.03)
    assert cancelled.cancelled()


async def test_before_gives_the_result_and_cancels_the_deadline() -> None:
    services = FakeServices()
    work = asyncio.ensure_future(asyncio.sleep(0, "done"))
    assert await before(work, services.timer(1)) == "done"
    assert services.pending == 0


async def test_before_times_out_when_the_deadline_comes_first() -> None:
    services = FakeServices()
    work = asyncio.ensure_future(asyncio.Event().wait())
    race = asyncio.ensure_future(before(work, services.timer(3)))
    await asyncio.sleep(0)
    services.advance(3)
    with pytest.raises(TimeoutError):
        await race
    await asyncio.sleep(0)
    assert work.cancelled()


async def test_a_cancelled_caller_cancels_work_and_deadline() -> None:
    services = FakeServices()
    work = asyncio.ensure_future(asyncio.Event().wait())
    race = asyncio.ensure_future(before(work, services.timer(3)))
    await asyncio.sleep(0)
    race.cancel()
    with pytest.raises(asyncio.CancelledError):
        await race
    await asyncio.sleep(0)
    assert work.cancelled()
    assert services.pending == 0


# --- the thread pool --------------------------------------------------------------------


async def test_threads_are_reused() -> None:
    pool = ThreadPool("test-reuse")
    names = [await pool.submit(lambda: threading.current_thread().name) for _ in range(3)]
    assert names == ["test-reuse-1"] * 3
    assert pool.idle == 1
    pool.close()


async def test_after_runs_on_the_calls_thread_once_its_answer_is_back() -> None:
    """``after`` is bookkeeping the caller does not wait for (a handler's thread noting
    the processes it left): the answer arrives while it still runs, and the thread takes
    its next call only once it is done."""
    pool = ThreadPool("test-after")
    released = threading.Event()
    seen: list[tuple[bool, int]] = []

    def after() -> None:
        seen.append((released.wait(30), threading.get_ident()))

    caller = await pool.submit(threading.get_ident, after=after)  # answered: after waits
    released.set()
    assert await pool.submit(threading.get_ident) == caller  # the same thread, after after
    assert seen == [(True, caller)]
    pool.close()


async def test_a_hung_call_does_not_starve_later_ones() -> None:
    pool = ThreadPool("test-hung")
    release = threading.Event()
    hung = pool.submit(lambda: release.wait(30))
    assert await asyncio.wait_for(pool.submit(lambda: 2), 5) == 2
    hung.cancel()  # abandoned: its result, when it comes, is dropped
    release.set()
    pool.close()


async def test_a_call_still_running_at_close_ends_its_thread_when_it_returns() -> None:
    pool = ThreadPool("test-late")
    release = threading.Event()
    late = pool.submit(lambda: release.wait(30))
    pool.close()
    release.set()
    assert await asyncio.wait_for(late, 5) is True
    for _ in range(500):
        if _named("test-late") == 0:
            break
        await asyncio.sleep(0.01)
    assert (_named("test-late"), pool.idle) == (0, 0)


async def test_errors_reach_the_caller() -> None:
    pool = ThreadPool("test-errors")

    def broken() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        await pool.submit(broken)
    pool.close()


async def test_idle_threads_are_capped_and_closed() -> None:
    pool = ThreadPool("test-idle", max_idle=1)
    gate = threading.Barrier(3)
    await asyncio.gather(*(pool.submit(lambda: gate.wait(5)) for _ in range(3)))
    for _ in range(500):
        if _named("test-idle") == 1:
            break
        await asyncio.sleep(0.01)
    assert (_named("test-idle"), pool.idle) == (1, 1)
    pool.close()
    for _ in range(500):
        if _named("test-idle") == 0:
            break
        await asyncio.sleep(0.01)
    assert (_named("test-idle"), pool.idle) == (0, 0)
    assert await pool.submit(lambda: 1) == 1  # usable again after close
    pool.close()


def _named(prefix: str) -> int:
    return sum(t.name.startswith(prefix + "-") for t in threading.enumerate())


def test_max_idle_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="max_idle"):
        ThreadPool("x", max_idle=-1)
