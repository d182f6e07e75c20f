"""Engine.redrive of a Distributed Map that reads its items with an ItemReader: which items
the redriven Map Run runs.

AWS's "Redriving Map Runs" page of the developer guide, "Scenarios of input used on Map
Run redrive": with an ItemReader, a Map Run that "failed after starting or attempting to
start child workflow executions" is redriven with "the same input provided in the
original execution attempt"; one that failed with ``States.ItemReaderFailed`` (or
``States.ResultWriterFailed``, or never started) "uses the input in the Amazon S3
bucket". An unsuccessful EXPRESS child is rerun with StartExecution and keeps its ARN
("Express child workflow executions use the same execution ARN as the original execution
attempt", the same page's table).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from asl.errors import ITEM_READER_FAILED
from integrations.base import FunctionIntegration, Registry
from runtime.executions import Engine, Execution
from runtime.host import LocalHost
from tests.flaky_tasks import SQS, Flaky
from tests.unit.test_distributed_map import FakeS3

BUCKET, KEY = "bucket", "items.json"


def _definition(execution_type: str) -> dict[str, Any]:
    """Each item of the JSON array in s3://bucket/items.json sent by a flaky Task."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {
                    "ReaderConfig": {"InputType": "JSON"},
                    "Resource": "arn:aws:states:::s3:getObject",
                    "Parameters": {"Bucket": BUCKET, "Key": KEY},
                },
                "ItemSelector": {"step.$": "$$.Map.Item.Value"},
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
                    "StartAt": "Send",
                    "States": {"Send": {"Type": "Task", "Resource": SQS, "End": True}},
                },
                "End": True,
            }
        },
    }


class _CountedS3(FakeS3):
    """The fake S3, counting the reads of the items' object."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, request: Any) -> Any:
        self.reads += 1
        return await super().get(request)


def _engine(db: Path, flaky: Flaky, s3: FakeS3) -> Engine:
    registry = Registry()
    registry.register("sqs:", FunctionIntegration(flaky.send))
    registry.register("s3:getObject", FunctionIntegration(s3.get))
    return Engine(LocalHost(invoker=registry, seed=11), database=db)


def _steps(execution: Execution) -> list[Any]:
    return [item["step"] for item in execution.output]


def test_a_redriven_map_run_runs_the_items_it_read_not_the_bucket_again(tmp_path: Path) -> None:
    """The object changes between the attempts: the redrive runs the items first read,
    reads nothing, and the EXPRESS child that failed runs again under its ARN."""
    flaky, s3 = Flaky({"b"}), _CountedS3()
    s3.objects[(BUCKET, KEY)] = json.dumps(["a", "b", "c"])

    async def main() -> tuple[Execution, Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky, s3)
        machine = engine.create_state_machine(_definition("EXPRESS"), name="m")
        first = await (await machine.start({})).wait()
        s3.objects[(BUCKET, KEY)] = json.dumps(["x", "y"])
        flaky.healed = True
        again = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return first, again

    first, again = asyncio.run(main())
    assert first.status == "FAILED" and first.error == "States.ExceedToleratedFailureThreshold"
    assert again.status == "SUCCEEDED" and _steps(again) == ["a", "b", "c"]
    assert s3.reads == 1
    assert sorted(flaky.calls) == ["a", "b", "b", "c"]
    [failed] = [c for c in first.map_runs[0].executions if c.status == "FAILED"]
    [rerun] = [c for c in again.map_runs[0].executions if c.index == failed.index]
    assert rerun.arn == failed.arn and ":express:" in rerun.arn
    assert (rerun.status, rerun.redrive_count, rerun.redrive_date) == ("SUCCEEDED", 0, None)


def test_a_map_run_that_failed_reading_its_items_reads_them_again(tmp_path: Path) -> None:
    """``States.ItemReaderFailed`` (the object missing): the redriven Map Run reads the
    bucket as it is now."""
    flaky, s3 = Flaky(set()), _CountedS3()

    async def main() -> tuple[Execution, Execution]:
        engine = _engine(tmp_path / "db.sqlite3", flaky, s3)
        machine = engine.create_state_machine(_definition("STANDARD"), name="m")
        first = await (await machine.start({})).wait()
        s3.objects[(BUCKET, KEY)] = json.dumps(["x", "y"])
        again = await (await engine.redrive(first.arn)).wait()
        await engine.aclose()
        return first, again

    first, again = asyncio.run(main())
    assert (first.status, first.error) == ("FAILED", ITEM_READER_FAILED)
    assert again.status == "SUCCEEDED" and _steps(again) == ["x", "y"]
    assert s3.reads == 2 and sorted(flaky.calls) == ["x", "y"]
    types = [event.type for event in again.history]
    assert types.count("MapRunStarted") == 1 and "MapRunRedriven" in types
