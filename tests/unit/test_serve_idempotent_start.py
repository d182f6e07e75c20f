"""StartExecution is idempotent for a running Standard execution of the same name and
input, on a durable server too, where starts that come together are committed together:
the AWS API reference (StartExecution: "If StartExecution is called with the same name
and input as a running execution, the call succeeds and return the same response as the
original request"), recorded in localstack's test_start_execution_idempotent snapshot
(tests/aws/services/stepfunctions/v2/test_sfn_api.snapshot.json)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from runtime.service import OPERATIONS, ServiceSettings, build_backend
from runtime.service.wire import build_app

ROLE = "arn:aws:iam::123456789012:role/r"
WAITS = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": True}}}


def test_starts_of_one_name_and_input_that_come_together_answer_one_execution(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        backend = build_backend(ServiceSettings(clock="real", db=tmp_path / "db.sqlite3"))
        async with TestClient(TestServer(build_app(backend, OPERATIONS))) as client:

            async def call(operation: str, body: dict[str, Any]) -> tuple[int, Any]:
                reply = await client.post(
                    "/",
                    data=json.dumps(body).encode(),
                    headers={"X-Amz-Target": f"AWSStepFunctions.{operation}"},
                )
                return reply.status, await reply.json(content_type=None)

            _, made = await call(
                "CreateStateMachine",
                {"name": "m", "definition": json.dumps(WAITS), "roleArn": ROLE},
            )
            start = {"stateMachineArn": made["stateMachineArn"], "name": "once", "input": "{}"}
            # Called side by side in one event-loop turn (over HTTP each request may come in a
            # turn of its own), so the later ones meet the first while its start is committed.
            starts = [OPERATIONS["StartExecution"](backend, dict(start)) for _ in range(5)]
            answered = await asyncio.gather(*starts)
            assert len({answer["executionArn"] for answer in answered}) == 1
            status, again = await call("StartExecution", start)
            assert (status, again["executionArn"]) == (200, answered[0]["executionArn"])
            other = start | {"input": '{"other": true}'}
            status, refused = await call("StartExecution", other)
            assert (status, refused["__type"]) == (400, "ExecutionAlreadyExists")
            await call("StopExecution", {"executionArn": again["executionArn"]})

    asyncio.run(main())
