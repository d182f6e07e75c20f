"""The console's trace of an execution whose history names a Map Run its backend no longer
holds (on Temporal, a redrive's new run does not hold the Map Runs of the run it replaced):
the report is drawn without that Map Run's children and says why, instead of refusing the
whole page. The server is built as ``asl serve`` builds it, its ListExecutions of a Map
Run answering ``ResourceNotFound`` as DescribeMapRun answers an ARN it does not know."""

from __future__ import annotations

import html
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from runtime.service.backend import Backend
from runtime.service.errors import ResourceNotFound
from runtime.service.server import OPERATIONS
from tests.e2e.test_serve_boto3 import DISTRIBUTED
from tests.serving import console_server


async def _no_map_runs(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListExecutions, but of a Map Run the backend no longer holds."""
    if "mapRunArn" in body:
        raise ResourceNotFound(f"Map Run Does Not Exist: {body['mapRunArn']}")
    return await OPERATIONS["ListExecutions"](backend, body)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Backend, str]]:
    async with console_server({**OPERATIONS, "ListExecutions": _no_map_runs}) as served:
        yield served


async def test_a_map_run_that_cannot_be_read_is_left_out_with_a_note(
    served: tuple[Backend, str],
) -> None:
    backend, url = served
    created = await OPERATIONS["CreateStateMachine"](
        backend,
        {"name": "fan", "definition": json.dumps(DISTRIBUTED), "roleArn": "arn:aws:iam::1:role/r"},
    )
    started = await OPERATIONS["StartExecution"](
        backend, {"stateMachineArn": created["stateMachineArn"], "input": '{"items": [1, 2]}'}
    )
    arn = started["executionArn"]
    assert (await backend.executions.wait(arn)).status == "SUCCEEDED"
    (map_run,) = (await OPERATIONS["ListMapRuns"](backend, {"executionArn": arn}))["mapRuns"]
    async with ClientSession() as session:
        response = await session.get(url + "/console/report", params={"arn": arn})
        text = await response.text()
    assert response.status == 200
    run_id = map_run["mapRunArn"].rsplit(":", 1)[-1]
    refused = ResourceNotFound(f"Map Run Does Not Exist: {map_run['mapRunArn']}")
    notes = [html.unescape(note) for note in re.findall(r'<p class="note">([^<]*)</p>', text)]
    assert notes == [
        f"Map Run {run_id}: drawn from the 0 child executions read before "
        f"ResourceNotFound: {refused.message}"
    ]
    # The execution's own states are drawn; the item processor's, unread, are not reached.
    assert 'class="node state map status&#45;succeeded"' in text
    assert 'class="node state pass status&#45;not_reached"' in text
