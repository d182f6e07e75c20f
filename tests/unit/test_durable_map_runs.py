"""A durable engine's Map Runs: written with their execution's end, so an ended execution
that ran a Distributed Map leaves memory like any other and its Map Runs, child
executions (their histories, their own Map Runs) are read back from the file as they
were; a crash while a Map Run runs is recovered by replay, each item's work done once.

A crash is simulated as in test_durable: the event loop the engine runs on ends."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from asl.errors import StatesError
from integrations.base import FunctionIntegration, Registry, TaskRequest
from runtime import lifecycle
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from runtime.states.map_run import ChildRecord, MapRunRecord

SQS = "arn:aws:states:::sqs:sendMessage"


def _engine(db: Path, calls: list[Any]) -> Engine:
    async def send(request: TaskRequest) -> Any:
        calls.append(request.parameters)
        if request.parameters.get("n") == 2:
            raise StatesError("Refused", "item 2 is refused")
        return {"sent": request.parameters}

    registry = Registry()
    registry.register("sqs:", FunctionIntegration(send))
    return Engine(LocalHost(invoker=registry, seed=5), database=db)


def _distributed(processor: dict[str, Any], **fields: Any) -> dict[str, Any]:
    config = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    return {
        "Type": "Map",
        "ItemProcessor": {"ProcessorConfig": config, **processor},
        **fields,
    }


SEND = {"Type": "Task", "Resource": SQS, "Parameters": {"n.$": "$"}}
#: Items 1..3 each sent by a child; item 2's child fails (tolerated); then a nested
#: Distributed Map in a second Map Run whose children each run a Map Run of their own.
FAN_OUT = {
    "StartAt": "Each",
    "States": {
        "Each": _distributed(
            {"StartAt": "Send", "States": {"Send": SEND | {"End": True}}},
            ItemsPath="$.items",
            ToleratedFailureCount=1,
            Label="each",
            ResultPath=None,
            Next="Nested",
        ),
        "Nested": _distributed(
            {
                "StartAt": "Inner",
                "States": {
                    "Inner": _distributed(
                        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                        ItemsPath="$.pair",
                        End=True,
                    )
                },
            },
            ItemsPath="$.pairs",
            End=True,
        ),
    },
}
INPUT = {"items": [1, 2, 3], "pairs": [{"pair": [1, 2]}, {"pair": [3]}]}


def _child(child: ChildRecord) -> dict[str, Any]:
    return {
        "fields": (child.arn, child.index, child.name, child.input, child.status, child.output,
                   child.error, child.cause, child.start_time, child.stop_time,
                   child.item_count, child.state_machine_arn),
        "history": [event.to_aws() for event in child.history],
        "path": child.path,
        "map_runs": [_map_run(run) for run in child.map_runs],
    }  # fmt: skip


def _map_run(run: MapRunRecord) -> dict[str, Any]:
    return {
        "described": run.describe(),
        "machine": run.state_machine_arn,
        "children": [_child(child) for child in run.executions],
    }


def _map_runs(execution: Execution) -> list[dict[str, Any]]:
    return [_map_run(run) for run in execution.map_runs]


def test_an_ended_executions_map_runs_leave_memory_and_are_read_back(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def main() -> tuple[str, list[dict[str, Any]]]:
        engine = _engine(db, calls)
        machine = engine.create_state_machine(FAN_OUT, name="M")
        execution = await (await machine.start(INPUT, name="e")).wait()
        assert execution.status == "SUCCEEDED", execution.cause
        live = _map_runs(execution)
        assert execution.arn not in [e.arn for e in engine.executions()]  # left memory
        stored = engine.get_execution(execution.arn)
        assert stored is not None and stored is not execution
        assert _map_runs(stored) == live
        await engine.aclose()
        return execution.arn, live

    arn, live = asyncio.run(main())
    each, nested = live
    assert each["described"]["itemCounts"] == {
        "pending": 0, "running": 0, "succeeded": 2, "failed": 1, "timedOut": 0, "aborted": 0,
        "total": 3, "resultsWritten": 3, "failuresNotRedrivable": 0, "pendingRedrive": 0,
    }  # fmt: skip
    assert each["children"][1]["fields"][4:8] == ("FAILED", None, "Refused", "item 2 is refused")
    assert [len(child["map_runs"]) for child in nested["children"]] == [1, 1]
    assert calls == [{"n": 1}, {"n": 2}, {"n": 3}]

    async def reopened() -> None:
        engine = _engine(db, calls)
        stored = engine.get_execution(arn)
        assert stored is not None and _map_runs(stored) == live
        await engine.aclose()

    asyncio.run(reopened())
    assert len(calls) == 3


WAITING_CHILDREN = {
    "StartAt": "Each",
    "States": {
        "Each": _distributed(
            {
                "StartAt": "Send",
                "States": {
                    "Send": SEND | {"Next": "Nap"},
                    "Nap": {"Type": "Wait", "Seconds": 3600, "End": True},
                },
            },
            ItemsPath="$.items",
            MaxConcurrency=1,
            End=True,
        )
    },
}


def test_a_map_run_cut_by_a_crash_resumes_and_completes_once(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    calls: list[Any] = []

    async def before_crash() -> str:
        engine = _engine(db, calls)
        engine.host.clock.begin_hold()  # the first child's Wait never ends in this process
        execution = await engine.create_state_machine(WAITING_CHILDREN, name="M").start(
            {"items": [1, 3]}, name="e"
        )
        for _ in range(5000):
            runs = execution.map_runs
            if runs and runs[0].executions and runs[0].executions[0].path == ["Send", "Nap"]:
                return runs[0].arn
            await asyncio.sleep(0.001)
        raise AssertionError("the first child never reached its Wait")

    map_run_arn = asyncio.run(before_crash())
    assert calls == [{"n": 1}]

    async def recovered() -> None:
        engine = _engine(db, calls)
        (execution,) = await engine.recover()
        await execution.wait()
        assert execution.status == "SUCCEEDED", execution.cause
        stored = engine.get_execution(execution.arn)
        assert stored is not None and stored is not execution
        (run,) = stored.map_runs
        assert run.arn == map_run_arn
        assert run.describe()["executionCounts"]["succeeded"] == 2
        types = [event.type for event in stored.history]
        assert types.count("MapRunStarted") == types.count("MapRunSucceeded") == 1
        for child in run.executions:
            assert [event.type for event in child.history][-1] == "ExecutionSucceeded"
        await engine.aclose()

    asyncio.run(recovered())
    assert calls == [{"n": 1}, {"n": 3}]  # the first item's work was not done again


def test_an_execution_whose_end_cannot_be_recorded_still_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of the engine's in writing an execution's end (here: its Map Runs' rows)
    leaves the execution ended and its waiters woken, the bug kept in ``fault``, rather
    than RUNNING forever."""

    def broken(runs: Any) -> Any:
        raise ValueError("a bug in writing Map Runs")

    monkeypatch.setattr(lifecycle, "map_run_rows", broken)

    async def run() -> None:
        engine = _engine(tmp_path / "db.sqlite3", [])
        execution = await engine.create_state_machine(FAN_OUT, name="M").start(INPUT)
        await asyncio.wait_for(execution.wait(), 30)
        assert execution.status == "FAILED"
        assert isinstance(execution.fault, ValueError)
        await engine.aclose()

    asyncio.run(run())
