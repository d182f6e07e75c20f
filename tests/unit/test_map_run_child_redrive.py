"""Engine.redrive of an execution whose Distributed Map's Map Run failed: what becomes of
the Map Run's unsuccessful child executions.

AWS's documentation: the RedriveExecution API reference ("continues the failed execution
from the unsuccessful step and uses the same input ... preserves the results and execution
history of the successful steps, and doesn't rerun these steps"; "When you redrive a Map
Run, the Express child workflows are rerun using the StartExecution API action") and the
"Redriving Map Runs" page of the developer guide (a redriven parent redrives the Map Run's
unsuccessful child workflow executions). So a STANDARD child that failed or was aborted is
redriven as an execution is: same ARN, its history kept and gone on with
``ExecutionRedriven``, its redrive count one more, its failed state run again and the
states before it not; an EXPRESS child runs again from its start. Where the re-run events
link (``previousEventId``) is ours, as for any redrive.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Literal

from runtime.executions import Engine, Execution
from runtime.states.map_run import ChildRecord
from tests.flaky_tasks import SQS, Flaky, flaky_engine


def _engine(
    db: Path | str | None, flaky: Flaky, clock: Literal["virtual", "real"] = "virtual"
) -> Engine:
    return flaky_engine(db, flaky, 7, clock)


def _step(suffix: str, then: str | None = None) -> dict[str, Any]:
    parameters = {
        "step.$": f"States.Format('{{}}{suffix}', $.v)",
        "redrives.$": "$$.Execution.RedriveCount",
    }
    state: dict[str, Any] = {"Type": "Task", "Resource": SQS, "Parameters": parameters}
    return state | ({"Next": then, "ResultPath": None} if then else {"End": True})


def _machine(states: dict[str, Any], start: str, kind: str = "STANDARD") -> dict[str, Any]:
    """A Distributed Map over ``$.items`` (one child at a time unless an item says how
    long to nap), each child running ``states``."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemSelector": {"v.$": "$$.Map.Item.Value.v", "nap.$": "$$.Map.Item.Value.nap"},
                "MaxConcurrency": 2,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": kind},
                    "StartAt": start,
                    "States": states,
                },
                "End": True,
            }
        },
    }


#: Prepare, then Work: b's Work fails until healed.
TWO_STEPS = {"Prepare": _step("-prepare", "Work"), "Work": _step("")}
ITEMS = {"items": [{"v": v, "nap": 0} for v in "ab"]}


def _child(execution: Execution, index: int) -> ChildRecord:
    [run] = execution.map_runs
    [child] = [c for c in run.executions if c.index == index]
    return child


def _types(child: ChildRecord) -> list[str]:
    return [event.type for event in child.history]


async def _redriven(engine: Engine, arn: str) -> Execution:
    return await (await engine.redrive(arn)).wait()


def test_a_failed_standard_child_is_redriven_again_and_again_from_its_failed_state(
    tmp_path: Path,
) -> None:
    flaky = Flaky({"b"})

    async def main() -> tuple[ChildRecord, list[str], Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(_machine(TWO_STEPS, "Prepare"), name="m")
        first = await (await machine.start(ITEMS)).wait()
        failed = _child(first, 1)
        assert (await _redriven(engine, first.arn)).status == "FAILED"  # still broken
        once = _types(_child(engine.get_execution(first.arn) or first, 1))
        flaky.healed = True
        again = await _redriven(engine, first.arn)
        await engine.aclose()
        return failed, once, again

    failed, once, again = asyncio.run(main())
    assert failed.status == "FAILED" and failed.redrive_count == 0
    assert again.status == "SUCCEEDED"
    assert sorted(flaky.calls) == ["a", "a-prepare", "b", "b", "b", "b-prepare"]
    assert again.output == [{"step": "a", "redrives": 0}, {"step": "b", "redrives": 2}]
    child = _child(again, 1)
    assert child.arn == failed.arn and child.status == "SUCCEEDED"
    attempt = ["TaskScheduled", "TaskStarted"]
    assert _types(child) == [
        "ExecutionStarted", "TaskStateEntered", *attempt, "TaskSucceeded", "TaskStateExited",
        "TaskStateEntered", *attempt, "TaskFailed", "ExecutionFailed",
        "ExecutionRedriven", *attempt, "TaskFailed", "ExecutionFailed",
        "ExecutionRedriven", *attempt, "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    assert once == _types(child)[: once.index("ExecutionRedriven") + 5]
    events = list(child.history)
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    redriven = [e for e in events if e.type == "ExecutionRedriven"]
    assert [e.details for e in redriven] == [{"redriveCount": 1}, {"redriveCount": 2}]
    assert (child.redrive_count, child.redrive_date) == (2, redriven[-1].timestamp)
    assert redriven[-1].timestamp == again.redrive_date
    # The re-run Task follows its state's entry (our choice, as for any redrive).
    work = [e.id for e in events if e.type == "TaskStateEntered"][1]
    assert [e.previous_event_id for e in events if e.type == "TaskScheduled"][1:] == [work] * 3
    assert (
        _child(again, 0).redrive_count == 0
        and _types(_child(again, 0)).count("ExecutionRedriven") == 0
    )


def test_an_aborted_standard_child_is_redriven_from_the_state_it_was_stopped_in(
    tmp_path: Path,
) -> None:
    """Item a fails its Work while b naps: the Map Run fails and aborts b, which on the
    redrive goes on from its Wait (its Wait runs again), not from its start."""
    states = {
        "Nap": {"Type": "Wait", "SecondsPath": "$.nap", "Next": "Prepare"},
        "Prepare": _step("-prepare", "Work"),
        "Work": _step(""),
    }
    flaky = Flaky({"a"})
    value = {"items": [{"v": "a", "nap": 1}, {"v": "b", "nap": 100}]}

    async def main() -> tuple[list[str], Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(_machine(states, "Nap"), name="m")
        first = await (await machine.start(value)).wait()
        statuses = [_child(first, i).status for i in (0, 1)]
        flaky.healed = True
        again = await _redriven(engine, first.arn)
        await engine.aclose()
        return statuses, again

    statuses, again = asyncio.run(main())
    assert statuses == ["FAILED", "ABORTED"]
    assert again.status == "SUCCEEDED" and sorted(flaky.calls) == [
        "a",
        "a",
        "a-prepare",
        "b",
        "b-prepare",
    ]
    child = _child(again, 1)
    assert child.redrive_count == 1
    assert _types(child) == [
        "ExecutionStarted", "WaitStateEntered", "WaitStateAborted", "ExecutionAborted",
        "ExecutionRedriven",
        "WaitStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip


def test_a_redriven_child_recovers_after_a_crash(tmp_path: Path) -> None:
    """Killed while a redriven child naps, the parent is recovered like any execution: the
    child's history comes out as an uninterrupted redrive makes it."""
    states = {
        "Prepare": _step("-prepare", "Work"),
        "Work": _step("", "Nap"),
        "Nap": {"Type": "Wait", "Seconds": 1, "End": True},
    }
    states["Work"]["ResultPath"] = "$.work"
    flaky = Flaky({"b"})
    db = tmp_path / "db.sqlite3"

    async def crash() -> str:
        engine = _engine(db, flaky, "real")
        machine = engine.create_state_machine(_machine(states, "Prepare"), name="m")
        first = await (await machine.start(ITEMS)).wait()
        flaky.healed = True
        redriven = await engine.redrive(first.arn)
        while "WaitStateEntered" not in _types(_child(redriven, 1)):
            await asyncio.sleep(0.01)
        return first.arn  # the loop ends: the process "dies" waiting

    async def recover() -> Execution:
        engine = _engine(db, flaky, "real")
        [recovered] = await engine.recover()
        done = await recovered.wait()
        await engine.aclose()
        return done

    arn = asyncio.run(crash())
    done = asyncio.run(recover())
    assert done.arn == arn and done.status == "SUCCEEDED"
    assert sorted(flaky.calls) == ["a", "a-prepare", "b", "b", "b-prepare"]
    child = _child(done, 1)
    types = _types(child)
    assert types.count("ExecutionRedriven") == 1 and types.count("TaskStateEntered") == 2
    assert types[types.index("ExecutionRedriven") :] == [
        "ExecutionRedriven", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "WaitStateEntered", "WaitStateExited", "ExecutionSucceeded",
    ]  # fmt: skip
    ids = [event.id for event in child.history]
    assert ids == list(range(1, len(ids) + 1)) and child.redrive_count == 1


def test_a_failed_express_child_runs_again_from_its_start(tmp_path: Path) -> None:
    """EXPRESS children are "rerun using the StartExecution API action": from their first
    state, no ExecutionRedriven, their redrive count 0 (DescribeExecution's redriveDate "is
    unavailable if you redrive a Map Run that starts child workflow executions of type
    EXPRESS", botocore's model)."""
    flaky = Flaky({"b"})

    async def main() -> tuple[ChildRecord, Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        definition = _machine(TWO_STEPS, "Prepare", "EXPRESS")
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start(ITEMS)).wait()
        failed = _child(first, 1)
        flaky.healed = True
        again = await _redriven(engine, first.arn)
        await engine.aclose()
        return failed, again

    failed, again = asyncio.run(main())
    assert failed.status == "FAILED" and again.status == "SUCCEEDED"
    assert sorted(flaky.calls) == ["a", "a-prepare", "b", "b", "b-prepare", "b-prepare"]
    assert again.output == [{"step": "a", "redrives": 0}, {"step": "b", "redrives": 0}]
    child = _child(again, 1)
    assert (child.redrive_count, child.redrive_date) == (0, None)
    assert _types(child) == [
        "ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded",
        "TaskStateExited", "ExecutionSucceeded",
    ]  # fmt: skip


def test_a_redriven_child_replays_as_it_ran_when_a_later_state_of_its_parent_is_redriven(
    tmp_path: Path,
) -> None:
    """The Map Run succeeded on the first redrive and a later state failed: the second
    redrive replays the Map, its child's history (with its own redrive) as it was."""
    definition = _machine(TWO_STEPS, "Prepare")
    each = definition["States"]["Each"]
    del each["End"]
    each |= {"Next": "After", "ResultPath": "$.each"}
    after = {"step": "after", "redrives.$": "$$.Execution.RedriveCount"}
    definition["States"]["After"] = {
        "Type": "Task", "Resource": SQS, "Parameters": after, "End": True,
    }  # fmt: skip
    flaky = Flaky({"b", "after"})

    async def main() -> tuple[list[str], Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start(ITEMS)).wait()
        flaky.failing = {"after"}
        once = await _redriven(engine, first.arn)
        assert once.status == "FAILED"
        kept = _types(_child(once, 1))
        flaky.healed = True
        again = await _redriven(engine, first.arn)
        await engine.aclose()
        return kept, again

    kept, again = asyncio.run(main())
    assert again.status == "SUCCEEDED"
    assert sorted(flaky.calls) == ["a", "a-prepare", "after", "after", "b", "b", "b-prepare"]
    child = _child(again, 1)
    assert _types(child) == kept and kept.count("ExecutionRedriven") == 1
    assert child.redrive_count == 1 and child.status == "SUCCEEDED"


def test_a_child_whose_events_hold_a_lone_surrogate_is_redriven_from_its_failed_state(
    tmp_path: Path,
) -> None:
    """The store keeps a lone surrogate escaped (UTF-8 cannot hold one); the redriven
    child's replayed events are compared so, not taken for a diverging replay."""
    broken = "b\ud800"
    flaky = Flaky({broken})
    items = {"items": [{"v": v, "nap": 0} for v in ("a", broken)]}

    async def main() -> Execution:
        engine = _engine(tmp_path / "db.sqlite3", flaky)
        machine = engine.create_state_machine(_machine(TWO_STEPS, "Prepare"), name="m")
        first = await (await machine.start(items)).wait()
        flaky.healed = True
        again = await _redriven(engine, first.arn)
        await engine.aclose()
        return again

    again = asyncio.run(main())
    assert again.status == "SUCCEEDED", (again.error, again.cause)
    assert sorted(flaky.calls).count(f"{broken}-prepare") == 1  # Prepare not run again
    assert "ExecutionRedriven" in _types(_child(again, 1))


#: A child that loops until its history is full (item "loop"), or sends its item.
LOOPING = {
    "Route": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.v", "StringEquals": "loop", "Next": "Loop"}],
        "Default": "Work",
    },
    "Loop": {"Type": "Pass", "Next": "Route"},
    "Work": _step(""),
}


def test_a_standard_child_past_the_history_limit_counts_as_a_failure_not_redrivable(
    tmp_path: Path,
) -> None:
    """DescribeMapRun's ``failuresNotRedrivable``: "The number of FAILED, ABORTED, or
    TIMED_OUT child workflow executions that cannot be redriven because their execution
    status is terminal" (the API reference, MapRunExecutionCounts and MapRunItemCounts);
    "Redriving Map Runs": a STANDARD child past the history limit "won't be attempted
    again. The last error or output of the execution is permanent". It stays so after a
    redrive of its parent (which leaves it as it ended), read live or from the database;
    the failed child that can be redriven is not counted."""
    flaky = Flaky({"b"})
    items = {"items": [{"v": v, "nap": 0} for v in ("loop", "b", "c")]}
    db = tmp_path / "db.sqlite3"

    async def main() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        engine = _engine(db, flaky)
        definition = _machine(LOOPING, "Route")
        definition["States"]["Each"]["ToleratedFailureCount"] = 1
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start(items)).wait()
        counted = first.map_runs[0].describe()
        flaky.healed = True
        again = await (await engine.redrive(first.arn)).wait()
        live = again.map_runs[0].describe()
        await engine.aclose()
        reopened = _engine(db, flaky)
        stored = reopened.get_execution(first.arn)
        assert stored is not None
        read = stored.map_runs[0].describe()
        await reopened.aclose()
        return counted, live, read

    counted, live, read = asyncio.run(main())
    assert counted["status"] == "FAILED"
    assert counted["executionCounts"]["failed"] == 2
    assert counted["executionCounts"]["failuresNotRedrivable"] == 1
    assert counted["itemCounts"]["failuresNotRedrivable"] == 1
    assert live["status"] == read["status"] == "SUCCEEDED"  # the one failure tolerated
    for described in (live, read):
        counts = described["executionCounts"]
        assert (counts["succeeded"], counts["failed"], counts["failuresNotRedrivable"]) == (2, 1, 1)
        assert counts["pendingRedrive"] == 0


def test_a_redriven_map_run_counts_the_children_waiting_to_run_again(tmp_path: Path) -> None:
    """DescribeMapRun's ``pendingRedrive``: "The number of unsuccessful child workflow
    executions currently waiting to be redriven" (the API reference, MapRunExecutionCounts);
    "Redriving Map Runs": a redriven Map Run at its concurrency limit holds them pending,
    and the count "is reset to 0" once it has completed. One child at a time: while b
    (failed, redriven) naps, c (failed) waits; a (succeeded) is not waited for."""
    states = {
        "Work": _step("", "Nap"),
        "Nap": {"Type": "Wait", "SecondsPath": "$.nap", "End": True},
    }
    flaky = Flaky({"b", "c"})
    items = {"items": [{"v": "a", "nap": 0}, {"v": "b", "nap": 1}, {"v": "c", "nap": 0}]}

    async def main() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        engine = _engine(tmp_path / "db.sqlite3", flaky, "real")
        definition = _machine(states, "Work")
        definition["States"]["Each"] |= {"MaxConcurrency": 1, "ToleratedFailureCount": 1}
        machine = engine.create_state_machine(definition, name="m")
        first = await (await machine.start(items)).wait()
        ended = first.map_runs[0].describe()
        flaky.healed = True

        async def watch() -> dict[str, Any]:
            # b naps a second: seen running (bounded loop) long before it ends.
            for _ in range(4000):
                live = engine.get_execution(first.arn)
                runs = [] if live is None or live.status != "RUNNING" else live.map_runs
                if runs and any(c.index == 1 and c.status == "RUNNING" for c in runs[0].executions):
                    return runs[0].describe()
                await asyncio.sleep(0.001)
            raise AssertionError("b was never seen running")

        watcher = asyncio.create_task(watch())
        redriven = await engine.redrive(first.arn)
        waiting = await watcher
        done = await redriven.wait()
        finished = done.map_runs[0].describe()
        await engine.aclose()
        return ended, waiting, finished

    ended, waiting, finished = asyncio.run(main())
    assert ended["status"] == "FAILED" and ended["executionCounts"]["failed"] == 2
    assert ended["executionCounts"]["pendingRedrive"] == 0
    assert waiting["status"] == "RUNNING"
    counts = waiting["executionCounts"]
    assert (counts["succeeded"], counts["running"], counts["pending"]) == (1, 1, 1)
    assert counts["pendingRedrive"] == waiting["itemCounts"]["pendingRedrive"] == 1
    assert finished["status"] == "SUCCEEDED"
    assert finished["executionCounts"]["pendingRedrive"] == 0
    assert finished["executionCounts"]["succeeded"] == 3
