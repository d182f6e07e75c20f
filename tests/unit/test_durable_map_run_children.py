"""A Map Run's child executions through the API on a durable server, once their parent
ended and left memory (read back from the database), and after a restart on the same
file: DescribeExecution still names the Map Run that started each child, ListExecutions
of the Map Run still gives each child's ``mapRunArn`` and ``itemCount``.

AWS's behaviour is that of the API reference (DescribeExecutionOutput.mapRunArn,
ExecutionListItem.mapRunArn and itemCount), asserted in memory by the spec cases of
tests/spec/api/map_run_children.json."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from runtime.service import OPERATIONS, ServiceSettings, build_backend
from runtime.service.wire import build_app

ROLE = "arn:aws:iam::123456789012:role/r"
FAN = {
    "StartAt": "Fan",
    "States": {
        "Fan": {
            "Type": "Map",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P",
                "States": {"P": {"Type": "Pass", "End": True}},
            },
            "ItemsPath": "$.items",
            "ItemBatcher": {"MaxItemsPerBatch": 2},
            "Label": "each",
            "End": True,
        }
    },
}


async def _call(client: TestClient, operation: str, body: dict[str, Any]) -> Any:  # type: ignore[type-arg]
    reply = await client.post(
        "/",
        data=json.dumps(body).encode(),
        headers={"X-Amz-Target": f"AWSStepFunctions.{operation}"},
    )
    answer = await reply.json(content_type=None)
    assert reply.status == 200, answer
    return answer


async def _children(db: Path, parent: str | None) -> dict[str, Any]:
    """On a server over ``db``: the parent started (when ``parent`` is None) and run to
    its end, then what the API says of its Map Run's children."""
    backend = build_backend(ServiceSettings(clock="virtual", db=db))
    async with TestClient(TestServer(build_app(backend, OPERATIONS))) as client:
        if parent is None:
            made = await _call(
                client,
                "CreateStateMachine",
                {"name": "fan", "definition": json.dumps(FAN), "roleArn": ROLE},
            )
            body = {"stateMachineArn": made["stateMachineArn"], "input": '{"items": [1, 2, 3]}'}
            parent = (await _call(client, "StartExecution", body))["executionArn"]
            while (await _call(client, "DescribeExecution", {"executionArn": parent}))[
                "status"
            ] == "RUNNING":
                await asyncio.sleep(0.01)
        assert parent not in [e.arn for e in backend.engine.executions()]  # left memory
        (run,) = (await _call(client, "ListMapRuns", {"executionArn": parent}))["mapRuns"]
        listed = (await _call(client, "ListExecutions", {"mapRunArn": run["mapRunArn"]}))[
            "executions"
        ]
        described = [
            await _call(client, "DescribeExecution", {"executionArn": child["executionArn"]})
            for child in listed
        ]
    await backend.engine.aclose()
    backend.catalog.close()
    return {"parent": parent, "run": run["mapRunArn"], "listed": listed, "described": described}


def test_children_of_an_ended_execution_name_their_map_run(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    first = asyncio.run(_children(db, None))
    assert sorted(child["itemCount"] for child in first["listed"]) == [1, 2]
    assert {child["mapRunArn"] for child in first["listed"]} == {first["run"]}
    assert [d["mapRunArn"] for d in first["described"]] == [first["run"]] * 2
    assert {d["status"] for d in first["described"]} == {"SUCCEEDED"}

    again = asyncio.run(_children(db, first["parent"]))
    assert again == first
