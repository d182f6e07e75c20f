"""The one clock: strands, parking, jumps, timers in real time, cancelled timers, deadlines."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from integrations.lambdas import LocalFunctions
from runtime.clock import DeadlineExpired, RealClock, VirtualClock, Wake, _VirtualAlarm
from runtime.executions import Engine, Execution
from runtime.host import SEEDED_START, LocalHost
from runtime.testing import local_engine
from tests.modules import import_file

DAY = 86_400


def _seconds(event: dict[str, Any]) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp()


def _events(execution: Execution) -> list[dict[str, Any]]:
    return execution.history_json()["events"]


def _task(resource: str, **fields: Any) -> dict[str, Any]:
    state = {"Type": "Task", "Resource": resource, "End": True, **fields}
    return {"StartAt": "T", "States": {"T": state}}


FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Slow"


async def test_a_parked_strand_lets_time_jump_and_a_running_one_holds_it() -> None:
    clock = VirtualClock(start=1000.0)
    order: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        order.append((name, clock.now()))

    await asyncio.gather(clock.spawn(sleeper, "b", 20), clock.spawn(sleeper, "a", 10))
    assert order == [("a", 1010.0), ("b", 1020.0)]


async def test_time_stands_still_while_a_strand_runs_outside_the_clock() -> None:
    clock = VirtualClock(start=0.0)
    seen: list[float] = []

    async def waiter() -> None:
        await clock.sleep(DAY)
        seen.append(clock.now())

    async def worker() -> None:
        await asyncio.sleep(0.05)  # real work, not on the clock: no jump meanwhile
        seen.append(clock.now())

    await asyncio.gather(clock.spawn(waiter), clock.spawn(worker))
    assert seen == [0.0, DAY]


async def test_timers_fire_in_real_time_while_work_runs_outside_the_clock() -> None:
    clock = VirtualClock(start=0.0)
    finished = threading.Event()

    async def overrun() -> None:
        async with clock.deadline(0.2):
            await asyncio.get_running_loop().run_in_executor(None, finished.wait, 5)

    with pytest.raises(DeadlineExpired):
        await clock.spawn(overrun)
    assert clock.now() == 0.2  # the virtual time of the deadline, exactly
    assert not finished.is_set()  # the work had not ended: the deadline cut it short
    finished.set()


@pytest.mark.parametrize("kind", ["virtual", "real"])
async def test_a_timer_counted_from_the_past_is_due_that_much_sooner_in_real_time(
    kind: str,
) -> None:
    # What an inline handler's function timeout is set as once the handler has returned.
    clock = VirtualClock(start=0.0) if kind == "virtual" else RealClock()
    began = clock.now()

    async def held() -> float:  # not parked: the virtual clock cannot jump to the timer
        timer = clock.timer(3600.0, elapsed=3599.9)
        done, _ = await asyncio.wait([timer], timeout=60)  # bounded; due in 0.1 s
        assert done == {timer}
        return clock.now()

    fired_at = await clock.spawn(held)
    if kind == "virtual":
        assert fired_at == 3600.0  # at its own time on the clock, all the same
    else:
        assert fired_at - began < 60


@pytest.mark.parametrize("kind", ["virtual", "real"])
async def test_a_strand_is_alone_when_no_other_strand_may_run(kind: str) -> None:
    # What a Task that answered at once asks before it lets the others go first.
    clock = VirtualClock(start=0.0) if kind == "virtual" else RealClock()
    seen: dict[str, bool] = {}
    other_parked = clock.wake()

    async def other() -> None:
        await clock.park(other_parked)

    async def looks() -> None:
        seen["beside a running strand"] = clock.alone()
        await asyncio.sleep(0)  # the other strand takes its first step: it parks
        seen["beside a parked strand"] = clock.alone()
        other_parked.set_result(None)  # it runs again
        seen["beside a woken strand"] = clock.alone()

    await asyncio.gather(clock.spawn(looks), clock.spawn(other))
    # A real clock counts no parking: a strand there is alone only when it is the only one.
    assert seen == {
        "beside a running strand": False,
        "beside a parked strand": kind == "virtual",
        "beside a woken strand": False,
    }
    with clock.hold():  # work outside the clock, held
        assert await clock.spawn(_alone, clock) is False
    assert await clock.spawn(_alone, clock) is True


async def _alone(clock: VirtualClock | RealClock) -> bool:
    return clock.alone()


async def test_a_cancelled_timer_leaves_the_clock() -> None:
    clock = VirtualClock(start=0.0)
    timer = clock.timer(DAY)
    assert clock.pending_timers() == 1
    timer.cancel()
    assert clock.pending_timers() == 0
    await clock.spawn(clock.sleep, 5)
    assert clock.now() == 5.0  # not a day: the cancelled timer was not jumped to


async def test_a_strand_cancelled_before_it_ran_ends_its_bookkeeping() -> None:
    clock = VirtualClock(start=0.0)
    never = clock.spawn(clock.sleep, DAY)
    clock.cancel(never)
    with pytest.raises(asyncio.CancelledError):
        await never
    await asyncio.sleep(0)
    await clock.spawn(clock.sleep, 3)  # jumps: nothing is left counted as running
    assert clock.now() == 3.0


async def test_run_all_cancels_the_others_at_the_first_failure() -> None:
    clock = VirtualClock(start=0.0)
    cancelled: list[int] = []

    async def wait_long(index: int) -> int:
        try:
            await clock.sleep(DAY)
        except asyncio.CancelledError:
            cancelled.append(index)
            raise
        return index

    async def fail() -> int:
        await clock.sleep(1)
        raise ValueError("boom")

    jobs = [lambda: wait_long(0), fail, lambda: wait_long(2)]
    with pytest.raises(ValueError, match="boom"):
        await clock.spawn(clock.run_all, jobs)
    assert sorted(cancelled) == [0, 2]
    assert clock.now() == 1.0


async def test_run_all_keeps_to_its_limit_and_the_order_of_results() -> None:
    clock = VirtualClock(start=0.0)
    running = 0
    most = 0

    async def job(index: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await clock.sleep(10 - index)
        running -= 1
        return index

    jobs = [lambda i=i: job(i) for i in range(6)]
    assert await clock.spawn(lambda: clock.run_all(jobs, limit=2)) == list(range(6))
    assert most == 2


@pytest.mark.parametrize("first_turn", [True, False])
async def test_strands_started_together_wait_for_one_anothers_first_steps(
    first_turn: bool,
) -> None:
    clock = VirtualClock(start=0.0)
    steps: list[str] = []

    async def job(index: int) -> None:
        for step in ("scheduled", "started"):
            steps.append(f"{step} {index}")
            await clock.after_first_turn()
        await clock.sleep(1)  # later turns: nothing to wait for
        steps.append(f"second {index}")
        await clock.after_first_turn()
        steps.append(f"done {index}")

    jobs = [lambda i=i: job(i) for i in range(3)]
    await clock.spawn(lambda: clock.run_all(jobs, first_turn=first_turn))
    if first_turn:
        assert steps[:6] == [
            "scheduled 0", "scheduled 1", "scheduled 2", "started 0", "started 1", "started 2"
        ]  # fmt: skip
    else:
        assert steps[:6] == [
            "scheduled 0", "started 0", "scheduled 1", "started 1", "scheduled 2", "started 2"
        ]  # fmt: skip
    assert steps[6:] == ["second 0", "done 0", "second 1", "done 1", "second 2", "done 2"]
    assert await clock.spawn(clock.after_first_turn) is None  # outside any group


async def test_real_clock_timers_and_deadlines() -> None:
    clock = RealClock()
    started = time.monotonic()
    await clock.spawn(clock.sleep, 0.01)
    assert time.monotonic() - started >= 0.01
    with pytest.raises(DeadlineExpired):
        async with clock.deadline(0.01):
            await asyncio.sleep(5)


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_handler_overrunning_timeout_seconds_times_out(kind: str) -> None:
    finished = threading.Event()

    def slow_sync(event: Any, context: Any) -> Any:
        finished.wait(5)
        return event

    async def slow_async(event: Any, context: Any) -> Any:
        await asyncio.sleep(5)
        finished.set()
        return event

    handler = slow_sync if kind == "sync" else slow_async
    engine = local_engine(functions={"Slow": handler}, seed=1)
    machine = engine.create_state_machine(_task(FUNCTION_ARN, TimeoutSeconds=1))
    execution = await (await machine.start({})).wait()
    await engine.aclose()
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert not finished.is_set()  # timed out while the handler still ran
    finished.set()
    events = _events(execution)
    scheduled = next(e for e in events if e["type"] == "LambdaFunctionScheduled")
    timed_out = next(e for e in events if e["type"] == "LambdaFunctionTimedOut")
    assert _seconds(timed_out) - _seconds(scheduled) == pytest.approx(1.0)
    assert _seconds(events[0]) == SEEDED_START


async def test_a_long_timeout_that_did_not_fire_does_not_delay_the_next_execution() -> None:
    engine = local_engine(functions={"Slow": lambda event, context: event})
    machine = engine.create_state_machine(_task(FUNCTION_ARN, TimeoutSeconds=DAY))
    first = await (await machine.start({})).wait()
    second = await (await machine.start({})).wait()
    await engine.aclose()
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert _seconds(_events(second)[0]) == _seconds(_events(first)[-1])
    clock = engine.host.clock
    assert isinstance(clock, VirtualClock) and clock.pending_timers() == 0


class _MovingClock(VirtualClock):
    """Virtual time that moves on a quarter second at every reading, as real time moves
    while work runs between two readings."""

    TICK = 0.25

    def now(self) -> float:
        self.move_to(super().now() + self.TICK)
        return super().now()


async def test_a_wait_counts_its_seconds_from_its_entry() -> None:
    """AWS: Seconds are "seconds from when the state begins"
    (https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html)."""
    clock = _MovingClock(SEEDED_START)
    engine = Engine(LocalHost(clock=clock))
    wait = {"Type": "Wait", "Seconds": 10, "End": True}
    machine = engine.create_state_machine({"StartAt": "W", "States": {"W": wait}})
    execution = await (await machine.start({})).wait()
    entered, exited = (e for e in execution.history if e.type.startswith("WaitState"))
    # Whatever the Wait read of the clock in between: one reading, the exit's own, later.
    assert exited.timestamp - entered.timestamp == 10 + clock.TICK


async def test_many_cancelled_timers_leave_the_clock_empty_and_its_memory_flat() -> None:
    engine = local_engine(functions={"Echo": lambda event, context: event})
    machine = engine.create_state_machine(_task(FUNCTION_ARN.replace("Slow", "Echo"),
                                                TimeoutSeconds=DAY))  # fmt: skip
    clock = engine.host.clock
    assert isinstance(clock, VirtualClock)

    async def run(count: int) -> None:
        for _ in range(count):
            execution = await (await machine.start({})).wait()
            assert execution.status == "SUCCEEDED"

    await run(4 * 1024)  # twice the bound below: a clock keeping its timers fails it
    await engine.aclose()
    assert clock.pending_timers() == 0
    gc.collect()
    timers = [o for o in gc.get_objects() if isinstance(o, Wake | _VirtualAlarm) and o._queued]
    assert len(timers) <= 2 * 1024  # settled timers are dropped in bulk, never kept


async def test_a_seeded_host_starts_its_clock_at_a_fixed_time() -> None:
    assert LocalHost(seed=5).now() == SEEDED_START
    assert LocalHost(seed=5, start=10.0).now() == 10.0
    assert LocalHost(seed=5).new_task_token() == LocalHost(seed=5).new_task_token()
    assert LocalHost().new_task_token() != LocalHost().new_task_token()


SLOW_MODULE = """
import pathlib
import time


def slow(event, context):
    time.sleep(event["seconds"])
    pathlib.Path(event["marker"]).write_text("finished")
    return event
"""


def _slow_handler(tmp_path: Path) -> Any:
    path = tmp_path / "slow_handlers.py"
    path.write_text(SLOW_MODULE)
    return import_file(path).slow


@pytest.mark.parametrize("isolation", ["thread", "process"])
async def test_a_function_overrunning_timeout_seconds_times_out_in_any_isolation(
    tmp_path: Path, isolation: str
) -> None:
    functions = LocalFunctions()
    functions.register("Slow", _slow_handler(tmp_path), timeout=30, isolation=isolation)
    engine = local_engine(functions=functions, seed=2)
    machine = engine.create_state_machine(_task(FUNCTION_ARN, TimeoutSeconds=1))
    marker = tmp_path / "finished"
    execution = await (await machine.start({"seconds": 5, "marker": str(marker)})).wait()
    await engine.aclose()
    assert (execution.status, execution.error) == ("FAILED", "States.Timeout")
    assert not marker.exists()  # the handler was still running when the Task timed out
    events = _events(execution)
    assert _seconds(events[-1]) - _seconds(events[0]) == pytest.approx(1.0)


async def test_a_function_overrunning_its_own_timeout_gets_lambdas_error(tmp_path: Path) -> None:
    functions = LocalFunctions()
    functions.register("Slow", _slow_handler(tmp_path), timeout=1)
    engine = local_engine(functions=functions, seed=2)
    machine = engine.create_state_machine(_task(FUNCTION_ARN))
    marker = tmp_path / "finished"
    execution = await (await machine.start({"seconds": 4, "marker": str(marker)})).wait()
    await engine.aclose()
    assert (execution.status, execution.error) == ("FAILED", "Sandbox.Timedout")
    assert "Task timed out after 1.00 seconds" in (execution.cause or "")
    assert not marker.exists()
    events = _events(execution)
    assert _seconds(events[-1]) - _seconds(events[0]) == pytest.approx(1.0)


async def test_a_passive_timer_is_never_jumped_to() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[float] = []
    clock.passive_timer(DAY, lambda: fired.append(clock.now()))
    answered = clock.wake()  # a strand waiting for a person: nothing else on the clock

    async def waiter() -> float:
        await clock.park(answered)
        return clock.now()

    strand = clock.spawn(waiter)
    for _ in range(20):
        await asyncio.sleep(0)
    answered.set_result(None)
    assert await strand == 0.0
    assert fired == []


async def test_a_jump_stops_at_a_passive_timer_on_its_way() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[float] = []
    limit = clock.passive_timer(10, lambda: fired.append(clock.now()))
    await clock.spawn(clock.sleep, 25)
    assert fired == [10.0]  # fired at its own time, not at the sleep's end
    assert limit.done() and clock.now() == 25.0


async def test_a_passive_deadline_cuts_a_long_sleep_at_its_time() -> None:
    clock = VirtualClock(start=0.0)

    async def sleep_past_the_limit() -> None:
        async with clock.deadline(5, passive=True):
            await clock.sleep(DAY)

    with pytest.raises(DeadlineExpired):
        await clock.spawn(sleep_past_the_limit)
    assert clock.now() == 5.0
    assert clock.pending_timers() == 0  # the sleep's timer left with its strand


async def test_a_passive_timer_fires_in_real_time_too() -> None:
    clock = VirtualClock(start=0.0)
    limit = clock.passive_timer(0.05)
    await asyncio.wait_for(limit, timeout=5)
    assert clock.now() == 0.05


async def test_many_cancelled_passive_timers_do_not_pile_up() -> None:
    clock = VirtualClock(start=0.0)
    for _ in range(20_000):
        clock.passive_timer(DAY).cancel()
    live = clock.passive_timer(DAY)
    assert len(clock._passive) <= 2 * 1024
    await clock.spawn(clock.sleep, 2 * DAY)
    assert live.done()


async def test_limits_share_one_alarm_and_each_fires_at_its_own_time() -> None:
    clock = VirtualClock(start=0.0)
    fired: list[tuple[str, float]] = []

    async def limited(name: str, at: float, seconds: float) -> None:
        try:
            with clock.limit(at):
                await clock.sleep(seconds)
        except DeadlineExpired:
            fired.append((name, clock.now()))

    strands = [
        clock.spawn(limited, "ends before its limit", 10, 1),
        clock.spawn(limited, "b", 20, DAY),
        clock.spawn(limited, "ends before its limit too", 30, 25),
        # Set after a later one (an execution recovered long after its start): its own alarm.
        clock.spawn(limited, "a", 15, DAY),
    ]
    await asyncio.sleep(0)
    assert len(clock._passive) == 2  # the shared alarm and the late-comer's own
    await asyncio.gather(*strands)
    assert fired == [("a", 15.0), ("b", 20.0)]
    assert clock.now() == 25.0


async def test_a_limit_after_the_earliest_was_cancelled_still_fires_at_its_time() -> None:
    clock = VirtualClock(start=0.0)
    with clock.limit(5):
        pass  # the shared alarm stays set for 5, with nothing due then

    async def limited() -> None:
        with clock.limit(50):
            await clock.sleep(DAY)

    with pytest.raises(DeadlineExpired):
        await clock.spawn(limited)
    assert clock.now() == 50.0


async def test_real_clock_limits_fire_in_order() -> None:
    clock = RealClock()
    fired: list[str] = []
    start = clock.now()

    async def limited(name: str, seconds: float) -> None:
        try:
            with clock.limit(start + seconds):
                await clock.sleep(DAY)
        except DeadlineExpired:
            fired.append(name)

    with clock.limit(start + 0.01):
        pass
    await asyncio.wait_for(
        asyncio.gather(clock.spawn(limited, "sooner", 0.03), clock.spawn(limited, "later", 0.06)),
        timeout=5,
    )
    assert fired == ["sooner", "later"]
    assert clock.now() - start >= 0.06


async def test_many_cancelled_virtual_deadlines_leave_the_clock_and_do_not_pile_up() -> None:
    clock = VirtualClock(start=0.0)
    for _ in range(10_000):
        with clock.deadline(DAY), clock.deadline(DAY, passive=True):
            pass
    assert clock.pending_timers() == 0
    assert len(clock._timers) <= 2 * 1024
    assert len(clock._passive) <= 2 * 1024
    assert len(clock._late.heap) <= 2 * (len(clock._timers) + len(clock._passive)) + 1024 + 1
    await clock.spawn(clock.sleep, 5)
    assert clock.now() == 5.0  # no cancelled deadline was jumped to


async def test_a_virtual_deadline_fires_in_real_time_while_work_runs_outside_the_clock() -> None:
    clock = VirtualClock(start=0.0)

    async def overrun() -> None:
        with clock.deadline(0.05):
            await asyncio.sleep(5)  # outside the clock: no jump, real time goes on

    with pytest.raises(DeadlineExpired):
        await asyncio.wait_for(clock.spawn(overrun), timeout=5)
    assert clock.now() == 0.05


async def test_a_standard_execution_waiting_for_a_token_is_not_ended_by_the_year_limit() -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "Echo", "Payload": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    engine = local_engine(functions={"Echo": lambda event, context: event}, seed=3)
    execution = await engine.create_state_machine(definition).start({})
    # Until the handler's thread has answered and the execution parks on its token (a
    # loaded machine takes a while); parked, it leaves the clock nothing to jump to.
    for _ in range(1000):
        if engine.host.tokens.pending() or execution.status != "RUNNING":
            break
        await asyncio.sleep(0.01)
    for _ in range(200):
        await asyncio.sleep(0)
    assert execution.status == "RUNNING"
    (waiting,) = engine.host.tokens.pending()
    engine.host.tokens.send_success(waiting.token, {"approved": True})
    await execution.wait()
    await engine.aclose()
    assert (execution.status, execution.output) == ("SUCCEEDED", {"approved": True})
    events = _events(execution)
    assert _seconds(events[-1]) == _seconds(events[0])  # no time passed: no jump


async def test_sync_handlers_of_concurrent_map_iterations_run_side_by_side() -> None:
    # Each handler blocks until all four run at once: one that held the event loop, or
    # handlers run one after another, would leave the barrier broken after its timeout.
    barrier = threading.Barrier(4, timeout=10)

    def meet(event: Any, context: Any) -> Any:
        barrier.wait()
        return event

    engine = local_engine(functions={"Meet": meet})
    definition = {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "End": True,
                "ItemProcessor": _task(FUNCTION_ARN.replace("Slow", "Meet")),
            }
        },
    }
    machine = engine.create_state_machine(definition)
    execution = await (await machine.start([1, 2, 3, 4])).wait()
    await engine.aclose()
    assert (execution.status, execution.output) == ("SUCCEEDED", [1, 2, 3, 4])


async def test_real_timers_fire_in_order_of_time_not_of_setting() -> None:
    clock = RealClock()
    fired: list[str] = []
    later = clock.passive_timer(0.2, lambda: fired.append("later"))
    soonest = clock.timer(0.03, lambda: fired.append("soonest"))
    sooner = clock.passive_timer(0.05, lambda: fired.append("sooner"))
    clock.passive_timer(0.01, lambda: fired.append("cancelled")).cancel()
    clock.timer(0.01, lambda: fired.append("cancelled")).cancel()
    await asyncio.wait_for(asyncio.gather(sooner, later, soonest), timeout=5)
    assert fired == ["soonest", "sooner", "later"]


async def test_real_timers_due_together_are_one_loop_timer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = RealClock()
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []
    call_at = loop.call_at

    def counted(when: float, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        scheduled.append(when)
        return call_at(when, *args, **kwargs)

    monkeypatch.setattr(loop, "call_at", counted)
    timers = [clock.timer(0.05 + i / 1_000_000) for i in range(100)]
    assert len(scheduled) == 1
    started = loop.time()
    await asyncio.wait_for(asyncio.gather(*timers), timeout=5)
    assert loop.time() - started >= 0.05


async def test_many_cancelled_real_timers_do_not_pile_up() -> None:
    clock = RealClock()
    for _ in range(10_000):
        clock.passive_timer(DAY).cancel()
        clock.timer(DAY).cancel()
        with clock.deadline(DAY), clock.deadline(DAY, passive=True):
            pass
    live = clock.timer(0.02)
    assert len(clock._watched.heap) <= 2 * 1024
    await asyncio.wait_for(live, timeout=5)
