"""Engine.redrive: an ended durable execution goes on from where it failed (runtime.redrive).

AWS's documentation (RedriveExecution API reference; "Redriving executions"): FAILED,
ABORTED and TIMED_OUT Standard executions are redriven from the unsuccessful step, the
execution's timeout starts again, ``$$.Execution.RedriveCount`` counts redrives. What a
redriven history records beyond ``ExecutionRedriven`` is not published: the choices here
(the unsuccessful state is not entered again, its retries start afresh) are ours.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import pytest

from asl.errors import (
    DATA_LIMIT_EXCEEDED,
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    ITEM_READER_FAILED,
    RESULT_WRITER_FAILED,
    RUNTIME,
)
from asl.jsontext import json_text
from runtime.executions import Engine, Execution
from runtime.redrive import (
    REDRIVE_EVENT_LIMIT,
    ExecutionNotRedrivable,
    StoredMapRun,
    redrive_plan,
)
from runtime.states import map_run
from runtime.store.executions import EventRow, JournalRow
from tests.flaky_tasks import SQS, Flaky, flaky_engine


def _engine(
    db: Path | str | None, flaky: Flaky, clock: Literal["virtual", "real"] = "virtual"
) -> Engine:
    return flaky_engine(db, flaky, 5, clock)


def _task(step: str, then: str | None = None, **fields: Any) -> dict[str, Any]:
    parameters = {"step": step, "redrives.$": "$$.Execution.RedriveCount"}
    state = {"Type": "Task", "Resource": SQS, "Parameters": parameters, **fields}
    return state | ({"Next": then} if then else {"End": True})


def _types(execution: Execution) -> list[str]:
    return [event.type for event in execution.history]


async def _failed_then_redriven(engine: Engine, definition: dict[str, Any]) -> Execution:
    machine = engine.create_state_machine(definition, name="m")
    first = await (await machine.start({})).wait()
    assert first.status == "FAILED"
    return await (await engine.redrive(first.arn)).wait()


def test_a_retried_task_that_failed_for_good_runs_again_with_its_retries_afresh(
    tmp_path: Path,
) -> None:
    retry = [{"ErrorEquals": ["Broken"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    definition = {"StartAt": "A", "States": {"A": _task("a", "B"), "B": _task("b", Retry=retry)}}
    flaky = Flaky({"b"})

    async def main() -> tuple[str, Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start({})).wait()
        assert flaky.calls == ["a", "b", "b"]
        again = await (await engine.redrive(first.arn)).wait()  # still broken: two attempts
        status = again.status
        flaky.healed = True
        done = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return status, done

    status, again = asyncio.run(main())
    assert status == "FAILED"
    assert flaky.calls == ["a", "b", "b", "b", "b", "b"]
    assert again.redrive_count == 2 and again.status == "SUCCEEDED"
    assert again.output == {"step": "b", "redrives": 2}
    types = _types(again)
    assert types.count("ExecutionRedriven") == 2 and types.count("ExecutionFailed") == 2
    assert types.count("TaskStateEntered") == 2  # A and B, once each


def test_the_execution_timeout_starts_again_at_the_redrive(tmp_path: Path) -> None:
    definition = {
        "TimeoutSeconds": 10,
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 30, "Next": "A"}, "A": _task("a")},
    }
    flaky = Flaky(set())

    async def main() -> tuple[str, Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start({})).wait()
        status = first.status
        redriven = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return status, redriven

    status, redriven = asyncio.run(main())
    assert (status, redriven.status) == ("TIMED_OUT", "TIMED_OUT")
    assert redriven.redrive_date is not None and redriven.stop_time is not None
    assert redriven.stop_time - redriven.redrive_date == pytest.approx(10)
    assert flaky.calls == []


def test_an_aborted_execution_is_redriven_from_the_state_it_was_stopped_in(
    tmp_path: Path,
) -> None:
    definition = {
        "StartAt": "A",
        "States": {"A": _task("a", "W"), "W": {"Type": "Wait", "Seconds": 1, "Next": "B"},
                   "B": _task("b")},
    }  # fmt: skip
    flaky = Flaky(set())

    async def main() -> Execution:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(definition, name="m")
        execution = await machine.start({})
        while "WaitStateEntered" not in _types(execution):
            await asyncio.sleep(0)
        execution.stop("Stop", "by hand")
        assert (await execution.wait()).status == "ABORTED"
        redriven = await (await engine.redrive(execution.arn)).wait()
        await engine.aclose()
        return redriven

    redriven = asyncio.run(main())
    assert redriven.status == "SUCCEEDED" and flaky.calls == ["a", "b"]
    types = _types(redriven)
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven", "WaitStateExited", "TaskStateEntered", "TaskScheduled",
        "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip


def test_a_redriven_execution_recovers_after_a_crash(tmp_path: Path) -> None:
    """Killed after its redrive, it is recovered like any other: the failed path the redrive
    set aside is not replayed, the re-run is."""
    definition = {
        "StartAt": "A",
        "States": {"A": _task("a", "W"), "W": {"Type": "Wait", "Seconds": 1, "Next": "B"},
                   "B": _task("b")},
    }  # fmt: skip
    flaky = Flaky({"a"})
    db = tmp_path / "db.sqlite3"

    async def crash() -> str:
        engine = _engine(db, flaky, "real")
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start({})).wait()
        flaky.healed = True
        redriven = await engine.redrive(first.arn)
        while "WaitStateEntered" not in _types(redriven):
            await asyncio.sleep(0)
        return first.arn  # the loop ends: the process "dies" waiting

    async def recover(arn: str) -> Execution:
        engine = _engine(db, flaky, "real")
        [recovered] = await engine.recover()
        done = await recovered.wait()
        await engine.aclose()
        return done

    done = asyncio.run(recover(asyncio.run(crash())))
    assert done.status == "SUCCEEDED" and flaky.calls == ["a", "a", "b"]
    assert done.redrive_count == 1
    ids = [event.id for event in done.history]
    assert ids == list(range(1, len(ids) + 1))


def test_what_cannot_be_redriven_says_why(tmp_path: Path) -> None:
    definition = {"StartAt": "A", "States": {"A": _task("a")}}

    async def main() -> list[str]:
        reasons = []
        memory = _engine(None, Flaky({"a"}))
        failed = await (await memory.create_state_machine(definition).start({})).wait()
        engine = _engine(tmp_path / "db.sqlite3", Flaky(set()))
        done = await (await engine.create_state_machine(definition).start({})).wait()
        for who, arn in ((memory, failed.arn), (engine, done.arn)):
            with pytest.raises(ExecutionNotRedrivable) as refused:
                await who.redrive(arn)
            reasons.append(refused.value.message)
        with pytest.raises(LookupError):
            await engine.redrive(done.arn + "-none")
        await engine.aclose()
        return reasons

    assert asyncio.run(main()) == [
        "Execution cannot be redriven: the engine keeps no journal without a database",
        "Execution is SUCCEEDED and cannot be redriven",
    ]


#: Three items run as child executions one at a time; an item whose Task fails fails the
#: Map Run (no failure tolerated) before the next starts.
DISTRIBUTED = {
    "StartAt": "Each",
    "States": {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Item",
                "States": {
                    "Item": {
                        "Type": "Task", "Resource": SQS, "End": True,
                        "Parameters": {"step.$": "$"},
                    }
                },
            },
            "End": True,
        }
    },
}  # fmt: skip


def _children(execution: Execution) -> list[tuple[str, str]]:
    [run] = execution.map_runs
    return sorted((child.arn, child.status) for child in run.executions)


@pytest.mark.parametrize("database", ["file", ":memory:"])
def test_a_redriven_map_run_runs_only_its_unsuccessful_children_again(
    tmp_path: Path, database: str
) -> None:
    """AWS's "Redriving Map Runs" page: a redriven parent restarts the Map Run's
    unsuccessful child executions, which keep their ARNs; the Map Run is the same, its
    redrive count shown by DescribeMapRun and a ``MapRunRedriven`` event recorded (its
    details ``{mapRunArn, redriveCount}``: botocore's MapRunRedrivenEventDetails)."""
    flaky = Flaky({"b"})
    db = tmp_path / "db.sqlite3" if database == "file" else ":memory:"

    async def main() -> tuple[Execution, list[tuple[str, str]], Execution]:
        engine = _engine(db, flaky)
        machine = engine.create_state_machine(DISTRIBUTED, name="m")
        first = await (await machine.start({"items": ["a", "b", "c"]})).wait()
        failed = _children(first)
        flaky.healed = True
        again = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return first, failed, again

    first, failed, again = asyncio.run(main())
    assert first.status == "FAILED" and sorted(s for _, s in failed) == ["FAILED", "SUCCEEDED"]
    assert flaky.calls == ["a", "b", "b", "c"]  # a, which succeeded, is not run again
    assert again.status == "SUCCEEDED"
    assert again.output == [{"step": s, "redrives": None} for s in "abc"]
    types = _types(again)
    assert types[types.index("ExecutionFailed") :] == [
        "ExecutionFailed", "ExecutionRedriven", "MapRunRedriven", "MapRunSucceeded",
        "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    [run] = again.map_runs
    redriven = again.history[types.index("MapRunRedriven")]
    assert redriven.details == {"mapRunArn": run.arn, "redriveCount": 1}
    assert (run.redrive_count, run.redrive_date) == (1, redriven.timestamp)
    assert {arn for arn, _ in failed} < {arn for arn, _ in _children(again)}


def test_a_map_run_redriven_twice_counts_its_redrives(tmp_path: Path) -> None:
    flaky = Flaky({"b"})

    async def main() -> Execution:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(DISTRIBUTED, name="m")
        first = await (await machine.start({"items": ["a", "b", "c"]})).wait()
        assert (await (await engine.redrive(first.arn)).wait()).status == "FAILED"
        flaky.healed = True
        again = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return again

    again = asyncio.run(main())
    assert again.status == "SUCCEEDED" and flaky.calls == ["a", "b", "b", "b", "c"]
    counts = [e.details["redriveCount"] for e in again.history if e.type == "MapRunRedriven"]
    assert counts == [1, 2] and again.map_runs[0].redrive_count == 2
    assert _types(again).count("MapRunStarted") == 1


def test_a_map_run_redriven_past_the_limit_fails_its_execution_with_a_runtime_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS's "Redriving Map Runs" page: "the hard limit of 1000 redrives of a given Map
    Run. If you've exceeded this limit, you'll receive the States.Runtime error". The
    limit is lowered to 2 here (1,000 redrives replay an ever longer history: over 30 s).
    States.Runtime is caught by no Catcher; the limit is hard: a later redrive, the Task
    healed, fails the same way and runs no child."""
    monkeypatch.setattr(map_run, "MAP_RUN_REDRIVE_LIMIT", 2)
    flaky = Flaky({"b"})

    async def main() -> tuple[list[Execution], Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(DISTRIBUTED, name="m")
        first = await (await machine.start({"items": ["b"]})).wait()
        ends = [await (await engine.redrive(first.arn)).wait() for _ in range(3)]
        flaky.healed = True
        again = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return ends, again

    ends, again = asyncio.run(main())
    assert [end.status for end in ends] == ["FAILED"] * 3
    assert flaky.calls == ["b", "b", "b"]  # the first run and two redrives
    past = ends[-1]
    assert (past.error, past.cause) == (
        "States.Runtime",
        f"The Map Run '{past.map_runs[0].arn}' cannot be redriven more than 2 times",
    )
    assert past.map_runs[0].redrive_count == 3 and past.map_runs[0].status == "FAILED"
    types = _types(past)
    assert types[types.index("MapRunRedriven", len(types) - 6) :] == [
        "MapRunRedriven", "MapRunFailed", "MapStateFailed", "ExecutionFailed",
    ]  # fmt: skip
    assert (again.status, again.error, again.cause) == ("FAILED", past.error, past.cause)
    assert flaky.calls == ["b", "b", "b"]


def _map_run_rows(error: str) -> list[EventRow]:
    """A top-level Distributed Map whose Map Run failed with ``error``."""
    arn = json_text({"mapRunArn": "run"})
    kinds = [
        ("ExecutionStarted", None), ("MapStateEntered", None), ("MapStateStarted", None),
        ("MapRunStarted", arn), ("MapRunFailed", json_text({"error": error})),
        ("MapStateFailed", None), ("ExecutionFailed", None),
    ]  # fmt: skip
    return [
        EventRow(i, i - 1, 0.0, kind, details, "", i - 1, i)
        for i, (kind, details) in enumerate(kinds, 1)
    ]


def test_a_map_run_failed_with_a_runtime_error_is_not_redriven_its_state_runs_again() -> None:
    """AWS's "Redriving Map Runs" page: a Map Run that failed with States.DataLimitExceeded
    or States.Runtime is not redriven, a new one starts; any other failure redrives it."""
    succeeded = {"run": StoredMapRun(frozenset({0}))}
    for error in (RUNTIME, DATA_LIMIT_EXCEEDED):
        plan = redrive_plan(_map_run_rows(error), [], 1, 9.0, succeeded)
        assert [e.type for e in plan.events] == ["ExecutionRedriven"]
        assert plan.set_aside == (3, 4, 5, 6, 7)  # from MapStateStarted on
    # The Map Run's strand: its ItemReader's answer (call 4), then a time (call 5).
    answers = [JournalRow("", "1", 0, "{}"), JournalRow("", "4", 1, '{"ok":["a","b"]}')]
    answers += [JournalRow(f"/4.d{i}", seq, 2, "{}") for i in (0, 1) for seq in "01"]
    answers.append(JournalRow("/4.d1/7.b0", "0", 3, "{}"))
    answers.append(JournalRow("", "5", 4, '{"v":1.0,"of":"now"}'))
    plan = redrive_plan(
        _map_run_rows(EXCEED_TOLERATED_FAILURE_THRESHOLD), answers, 1, 9.0, succeeded
    )
    assert [(e.type, e.details) for e in plan.events] == [
        ("ExecutionRedriven", '{"redriveCount":1}'),
        ("MapRunRedriven", '{"mapRunArn":"run","redriveCount":1}'),
    ]
    assert plan.set_aside == (5, 6, 7)  # from MapRunFailed on
    # All but the name of child 1, which failed, and the Map Run's time after its read:
    # its ItemReader's answer is kept ("Scenarios of input used on Map Run redrive").
    assert plan.forgotten == (("/4.d1", "1"), ("/4.d1/7.b0", "0"), ("", "5"))
    # Failed reading its items or writing its results, it reads them again.
    for error in (ITEM_READER_FAILED, RESULT_WRITER_FAILED):
        plan = redrive_plan(_map_run_rows(error), answers, 1, 9.0, succeeded)
        assert plan.forgotten == (("", "4"), ("/4.d1", "1"), ("/4.d1/7.b0", "0"), ("", "5"))


def _child_rows(strand: str) -> list[EventRow]:
    """A child that failed in its Task state: its events as stored, recorded by ``strand``
    (its calls: its name, two times, then the Task's answer)."""
    kinds = [
        ("ExecutionStarted", 2), ("TaskStateEntered", 3), ("TaskScheduled", 3),
        ("TaskFailed", 4), ("ExecutionFailed", 4),
    ]  # fmt: skip
    return [
        EventRow(i, i - 1, 0.0, kind, None, strand, i - 1, calls)
        for i, (kind, calls) in enumerate(kinds, 1)
    ]


def test_an_unsuccessful_standard_child_is_cut_as_an_execution_is() -> None:
    """A STANDARD child of a redriven Map Run is redriven from its failed state (the
    RedriveExecution API reference): its events after its failed state's entry set aside,
    its answers from that state on forgotten, ``ExecutionRedriven`` added to its history.
    One stored before children's events kept their strand runs again from its start."""
    answers = [JournalRow("/4.d1", str(seq), seq, "{}") for seq in range(4)]
    stored = {"run": StoredMapRun(frozenset({0}), {1: ("child", _child_rows("/4.d1"))})}
    plan = redrive_plan(_map_run_rows(EXCEED_TOLERATED_FAILURE_THRESHOLD), answers, 2, 9.0, stored)
    [child] = plan.children
    assert (child.arn, child.set_aside) == ("child", (3, 4, 5))
    [redriven] = child.events
    assert (redriven.id, redriven.previous_id, redriven.type, redriven.details) == (
        6, 5, "ExecutionRedriven", '{"redriveCount":1}',
    )  # fmt: skip
    assert plan.forgotten == (("/4.d1", "3"),)
    legacy = {"run": StoredMapRun(frozenset({0}), {1: ("child", _child_rows(""))})}
    plan = redrive_plan(_map_run_rows(EXCEED_TOLERATED_FAILURE_THRESHOLD), answers, 2, 9.0, legacy)
    assert plan.children == ()
    assert plan.forgotten == (("/4.d1", "1"), ("/4.d1", "2"), ("/4.d1", "3"))


@pytest.mark.parametrize("length", [REDRIVE_EVENT_LIMIT - 1, REDRIVE_EVENT_LIMIT])
def test_a_standard_child_past_the_history_limit_is_not_redriven(length: int) -> None:
    """ "Redriving Map Runs" (eligibility): a STANDARD child whose history exceeded the
    25,000 events limit is not redriven and counts as failed: its answers are kept, so it
    replays as it ran. One event fewer, it is redriven (its ExecutionRedriven still fits)."""
    answers = [JournalRow("/4.d1", str(seq), seq, "{}") for seq in range(4)]
    rows = _child_rows("/4.d1")
    *head, last = rows
    full = [
        *head,
        *(EventRow(i, i - 1, 0.0, "PassStateEntered", None, "/4.d1", i - 1, 4)
          for i in range(len(head) + 1, length)),
        replace(last, id=length, previous_id=length - 1, seq=length - 1),
    ]  # fmt: skip
    assert [e.id for e in full] == list(range(1, length + 1))
    stored = {"run": StoredMapRun(frozenset({0}), {1: ("child", full)})}
    plan = redrive_plan(_map_run_rows(EXCEED_TOLERATED_FAILURE_THRESHOLD), answers, 1, 9.0, stored)
    if length >= REDRIVE_EVENT_LIMIT:
        assert plan.children == () and plan.forgotten == ()
    else:
        [child] = plan.children
        assert child.arn == "child" and child.events[-1].type == "ExecutionRedriven"
