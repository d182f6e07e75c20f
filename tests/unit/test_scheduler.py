"""The scheduler on a virtual clock, starting executions of a real engine: how often it
fires, what it starts, and what it remembers across a restart."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from runtime.clock import RealClock, VirtualClock
from runtime.executions import Execution, ExecutionAlreadyExists
from runtime.service.schedule_entries import Schedule, read_schedules
from runtime.service.schedule_overview import ScheduleOverview
from runtime.service.schedules import Scheduler, execution_name
from runtime.store.schedules import ScheduleRecord, ScheduleStore, ScheduleStoreError
from runtime.testing import local_engine

T0 = 1_735_689_600  # 2025-01-01T00:00:00Z
HOUR = 3600
DAY = 24 * HOUR
ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scheduled_cleanup"
MACHINE = {"StartAt": "Clean", "States": {"Clean": {"Type": "Pass", "End": True}}}


def schedules(tmp_path: Path, expression: str, **fields: Any) -> list[Schedule]:
    """One schedule named nightly, of the machine ``cleanup``, from a schedules file."""
    entry = {
        "Name": "nightly",
        "ScheduleExpression": expression,
        "Target": {"Arn": "cleanup", "Input": '{"time": "<aws.scheduler.scheduled-time>"}'},
        **fields,
    }
    path = tmp_path / "schedules.json"
    path.write_text(json.dumps({"Schedules": [entry]}))
    return read_schedules(path, region="us-east-1", account="123456789012")


async def serve(
    entries: list[Schedule],
    store: Path,
    begin: int,
    seconds: int,
    *,
    definition: Any = MACHINE,
    name: str = "cleanup",
    functions: Path | None = None,
    **start_options: Any,
) -> list[Execution]:
    """Run the scheduler from ``begin`` for ``seconds`` of virtual time, as one life of a
    server: a fresh engine and clock, the schedule store kept in ``store``."""
    clock = VirtualClock(begin)
    engine = local_engine(clock=clock, functions=functions)  # type: ignore[arg-type]
    machine = engine.create_state_machine(definition, name=name)
    started: list[Execution] = []

    async def start(arn: str, value: Any, name: str) -> None:
        assert arn == machine.arn
        if start_options.get("fail"):
            raise LookupError(f"State Machine Does Not Exist: '{arn}'")
        if start_options.get("exists"):
            raise ExecutionAlreadyExists(name)
        started.append(await machine.start(value, name=name))

    async def time_passes() -> None:
        await clock.sleep(seconds)

    scheduler = Scheduler(entries, start, clock, store)
    scheduler.start()
    await clock.spawn(time_passes)
    await scheduler.stop()
    for execution in started:
        await execution.wait()
    await engine.aclose()
    return started


def fired(executions: list[Execution]) -> list[int]:
    """The scheduled times of the executions, read back from their inputs."""
    times = [execution.input["time"] for execution in executions]
    assert all(execution.status == "SUCCEEDED" for execution in executions)
    return [int(datetime.fromisoformat(text).timestamp()) for text in times]


async def test_a_daily_rate_over_three_virtual_days_starts_three_executions(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 day)")
    started = await serve(entries, tmp_path / "db", T0, 3 * DAY - 1)
    assert fired(started) == [T0, T0 + DAY, T0 + 2 * DAY]
    assert [execution.start_time for execution in started] == [T0, T0 + DAY, T0 + 2 * DAY]
    assert [execution.name for execution in started] == [
        execution_name(ARN, T0 + day * DAY) for day in range(3)
    ]


async def test_the_scheduled_cleanup_example_runs_from_its_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # its sessions live in out/, where it runs
    entries = read_schedules(EXAMPLE / "schedules.yaml", region="us-east-1", account="123456789012")
    (schedule,) = entries
    assert schedule.target.definition == EXAMPLE / "scheduled_cleanup.asl.json"
    assert schedule.target.machine_arn.endswith(":stateMachine:scheduled_cleanup")
    nights = await serve(
        entries,
        tmp_path / "db",
        T0,
        2 * DAY,
        definition=schedule.target.definition,
        name="scheduled_cleanup",
        functions=EXAMPLE / "functions.json",
    )
    assert fired(nights) == [T0 + 3 * HOUR, T0 + DAY + 3 * HOUR]
    seeded = json.loads((EXAMPLE / "seed_sessions.json").read_text())["sessions"]
    rule = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly-session-cleanup"
    assert [night.output for night in nights] == [
        {
            "ranAt": "2025-01-01T03:00:00Z",
            "rule": rule,
            "batches": -(-len(seeded) // 10),
            "deleted": len(seeded),
        },
        {"ranAt": "2025-01-02T03:00:00Z", "rule": rule, "batches": 0, "deleted": 0},
    ]


async def test_a_restart_does_not_start_a_time_twice(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 day)")
    store = tmp_path / "db"
    assert fired(await serve(entries, store, T0, 2 * DAY + HOUR)) == [T0, T0 + DAY, T0 + 2 * DAY]
    assert await serve(entries, store, T0 + 2 * DAY + HOUR, HOUR) == []
    # The rate keeps its cadence from when the schedule was first seen.
    assert fired(await serve(entries, store, T0 + 2 * DAY + 2 * HOUR, DAY)) == [T0 + 3 * DAY]


async def test_runs_missed_while_down_start_once_for_the_latest(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "cron(0 3 * * ? *)")
    store = tmp_path / "db"
    assert fired(await serve(entries, store, T0, 4 * HOUR)) == [T0 + 3 * HOUR]
    # Down for three days: the runs of the 2nd, 3rd and 4th are missed.
    restarted = await serve(entries, store, T0 + 3 * DAY + 5 * HOUR, HOUR)
    assert fired(restarted) == [T0 + 3 * DAY + 3 * HOUR]
    assert restarted[0].start_time == T0 + 3 * DAY + 5 * HOUR


async def test_missed_runs_older_than_the_maximum_event_age_are_dropped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries = schedules(
        tmp_path,
        "cron(0 3 * * ? *)",
        Target={"Arn": "cleanup", "Input": "{}", "RetryPolicy": {"MaximumEventAgeInSeconds": HOUR}},
    )
    store = tmp_path / "db"
    assert len(await serve(entries, store, T0, 4 * HOUR)) == 1
    with caplog.at_level(logging.WARNING):
        assert await serve(entries, store, T0 + DAY + 5 * HOUR, HOUR) == []
    assert "older than 3600 seconds, not started" in caplog.text
    later = await serve(entries, store, T0 + DAY + 6 * HOUR, DAY)
    assert [execution.start_time for execution in later] == [T0 + 2 * DAY + 3 * HOUR]


async def test_a_one_time_schedule_fires_once_ever(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "at(2025-01-01T01:00:00)")
    store = tmp_path / "db"
    assert fired(await serve(entries, store, T0, 2 * HOUR)) == [T0 + HOUR]
    assert await serve(entries, store, T0 + 3 * HOUR, 5 * DAY) == []


async def test_a_one_time_schedule_missed_while_down_starts_at_the_restart(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "at(2025-01-01T05:00:00)")
    store = tmp_path / "db"
    assert await serve(entries, store, T0, HOUR) == []
    assert fired(await serve(entries, store, T0 + 6 * HOUR, HOUR)) == [T0 + 5 * HOUR]


async def test_a_disabled_schedule_never_fires(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 hour)", State="DISABLED")
    assert await serve(entries, tmp_path / "db", T0, DAY) == []


async def test_a_changed_schedule_starts_afresh(tmp_path: Path) -> None:
    store = tmp_path / "db"
    assert len(await serve(schedules(tmp_path, "rate(1 day)"), store, T0, HOUR)) == 1
    # Changed while down: its old times are not missed runs, and it counts from now.
    hourly = schedules(tmp_path, "rate(6 hours)")
    started = await serve(hourly, store, T0 + 2 * DAY, 7 * HOUR)
    assert fired(started) == [T0 + 2 * DAY, T0 + 2 * DAY + 6 * HOUR]


async def test_the_time_zone_of_a_cron_schedule(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "cron(0 3 * * ? *)", ScheduleExpressionTimezone="Europe/Paris")
    assert fired(await serve(entries, tmp_path / "db", T0, 2 * DAY)) == [
        T0 + 2 * HOUR,
        T0 + DAY + 2 * HOUR,
    ]


async def test_a_start_that_fails_is_logged_and_the_schedule_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries = schedules(tmp_path, "rate(1 hour)")
    with caplog.at_level(logging.ERROR):
        await serve(entries, tmp_path / "db", T0, 2 * HOUR - 1, fail=True)
    failures = [record for record in caplog.records if "could not start" in record.message]
    assert len(failures) == 2
    assert "State Machine Does Not Exist" in caplog.text


async def test_an_execution_already_started_counts_as_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    entries = schedules(tmp_path, "rate(1 hour)")
    with caplog.at_level(logging.INFO):
        await serve(entries, tmp_path / "db", T0, HOUR - 1, exists=True)
    assert "the run of 2025-01-01T00:00:00Z was started already" in caplog.text
    assert "could not start" not in caplog.text


async def test_a_store_that_cannot_be_used_is_refused_before_anything_fires(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("")
    entries = schedules(tmp_path, "rate(1 hour)")
    scheduler = Scheduler(entries, _never, VirtualClock(T0), tmp_path / "file" / "db.sqlite3")
    with pytest.raises(
        ScheduleStoreError, match=r"the schedule store .*db\.sqlite3 cannot be used"
    ):
        scheduler.start()


async def _never(arn: str, value: Any, name: str) -> None:
    raise AssertionError("nothing may start")


def test_execution_names_are_uuid_shaped_and_fixed_by_schedule_and_time() -> None:
    name = execution_name(ARN, T0)
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", name
    )
    assert name == execution_name(ARN, T0)
    digits = name.replace("-", "")
    assert digits[2:10] == f"{T0:08x}"  # the scheduled time, as in AWS's names
    assert execution_name(ARN, T0 + DAY).replace("-", "")[10:] == digits[10:]
    assert execution_name(ARN.replace("nightly", "hourly"), T0) != name


async def test_on_the_real_clock_a_new_rate_schedule_fires_at_once(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 hour)")
    names: list[str] = []
    started = asyncio.Event()

    async def start(arn: str, value: Any, name: str) -> None:
        names.append(name)
        started.set()

    scheduler = Scheduler(entries, start, RealClock(), tmp_path / "db")
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=30)
    await scheduler.stop()
    assert len(names) == 1


async def _shared(entries: list[Schedule], store: Path, seconds: int) -> list[tuple[int, str]]:
    """Two schedulers on one store file and one virtual clock from T0 for ``seconds``: each
    start either makes, as (which scheduler, execution name)."""
    clock = VirtualClock(T0)
    attempts: list[tuple[int, str]] = []

    def starter(which: int) -> Any:
        async def start(arn: str, value: Any, name: str) -> None:
            attempts.append((which, name))

        return start

    schedulers = [Scheduler(entries, starter(which), clock, store) for which in (0, 1)]
    for scheduler in schedulers:
        scheduler.start()

    async def time_passes() -> None:
        await clock.sleep(seconds)
        # Stopped by this strand, which runs meanwhile: time cannot jump on past the end.
        await asyncio.gather(*(scheduler.stop() for scheduler in schedulers))

    await clock.spawn(time_passes)
    return attempts


async def test_two_schedulers_on_one_store_start_each_time_once(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 day)")
    attempts = await _shared(entries, tmp_path / "db", 3 * DAY - 1)
    names = [name for _, name in attempts]
    assert names == [execution_name(ARN, T0 + day * DAY) for day in range(3)]  # no start twice


async def test_a_claim_whose_scheduler_died_is_taken_over_when_it_expires(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 day)")
    (schedule,) = entries
    store = ScheduleStore(tmp_path / "db")
    fresh = ScheduleRecord("default/nightly", schedule.signature(), created=T0, handled=T0 - 1)
    record = store.open(fresh)
    assert store.claim(record, T0, "a scheduler that died", T0, 60.0).won
    store.close()
    clock = VirtualClock(T0)
    started: list[tuple[str, float]] = []

    async def start(arn: str, value: Any, name: str) -> None:
        started.append((name, clock.now()))

    scheduler = Scheduler(entries, start, clock, tmp_path / "db")
    scheduler.start()
    await clock.spawn(clock.sleep, HOUR)
    await scheduler.stop()
    assert started == [(execution_name(ARN, T0), T0 + 60.0)]  # once its lease ran out


async def test_the_overview_gives_next_fires_and_the_fires_handled(tmp_path: Path) -> None:
    path = tmp_path / "schedules.json"
    target = {"Arn": "cleanup"}
    path.write_text(
        json.dumps(
            {
                "Schedules": [
                    {"Name": "hourly", "ScheduleExpression": "rate(1 hour)", "Target": target},
                    {
                        "Name": "paused",
                        "ScheduleExpression": "rate(1 hour)",
                        "State": "DISABLED",
                        "Target": target,
                    },
                ]
            }
        )
    )
    entries = read_schedules(path, region="us-east-1", account="123456789012")
    clock = VirtualClock(T0)
    calls = 0

    async def start(arn: str, value: Any, name: str) -> str | None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise LookupError("no such machine")
        return f"arn:aws:states:us-east-1:123456789012:execution:cleanup:{name}"

    async def time_passes() -> list[ScheduleOverview]:
        await clock.sleep(2 * HOUR + 1)
        return scheduler.overview(count=3)  # read on the clock's strand, at that time

    scheduler = Scheduler(entries, start, clock)
    scheduler.start()
    hourly, paused = await clock.spawn(time_passes)
    await scheduler.stop()
    assert hourly.arn == "arn:aws:scheduler:us-east-1:123456789012:schedule/default/hourly"
    assert hourly.upcoming == (T0 + 3 * HOUR, T0 + 4 * HOUR, T0 + 5 * HOUR)
    assert [(f.scheduled, f.execution_arn, f.problem) for f in hourly.fired] == [
        (
            T0 + 2 * HOUR,
            f"arn:aws:states:us-east-1:123456789012:execution:cleanup:"
            f"{execution_name(hourly.arn, T0 + 2 * HOUR)}",
            None,
        ),
        (T0 + HOUR, None, "LookupError: no such machine"),
        (
            T0,
            f"arn:aws:states:us-east-1:123456789012:execution:cleanup:"
            f"{execution_name(hourly.arn, T0)}",
            None,
        ),
    ]
    assert (paused.schedule.enabled, paused.upcoming, paused.fired) == (False, (), ())


async def test_the_latest_fires_are_kept_in_the_store_across_a_restart(tmp_path: Path) -> None:
    entries = schedules(tmp_path, "rate(1 hour)")
    store = tmp_path / "db"

    async def start(arn: str, value: Any, name: str) -> str:
        if name == execution_name(ARN, T0 + 11 * HOUR):
            raise LookupError("no such machine")
        return f"arn:aws:states:us-east-1:123456789012:execution:cleanup:{name}"

    async def life(begin: int, seconds: int) -> list[ScheduleOverview]:
        """One life of a server from ``begin``: the overview once ``seconds`` passed."""
        clock = VirtualClock(begin)
        scheduler = Scheduler(entries, start, clock, store)
        scheduler.start()

        async def time_passes() -> list[ScheduleOverview]:
            await clock.sleep(seconds)
            return scheduler.overview(count=1)

        shown = await clock.spawn(time_passes)
        await scheduler.stop()
        return shown

    (first,) = await life(T0, 12 * HOUR - 1)  # fires T0 .. T0 + 11 hours
    (restarted,) = await life(T0 + 12 * HOUR - 1, 0)  # read before anything fires again
    kept = [(f.scheduled, f.execution_arn, f.problem) for f in restarted.fired]
    assert kept == [(f.scheduled, f.execution_arn, f.problem) for f in first.fired]
    assert [f.scheduled for f in restarted.fired] == [T0 + h * HOUR for h in range(11, 1, -1)]
    assert kept[0] == (T0 + 11 * HOUR, None, "LookupError: no such machine")
    assert kept[1] == (
        T0 + 10 * HOUR,
        f"arn:aws:states:us-east-1:123456789012:execution:cleanup:"
        f"{execution_name(ARN, T0 + 10 * HOUR)}",
        None,
    )
    assert restarted.upcoming == (T0 + 12 * HOUR,)
