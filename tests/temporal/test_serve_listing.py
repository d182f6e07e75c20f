"""ListExecutions and DescribeExecution on ``asl serve --backend temporal`` answer for
every execution on the namespace's task queue, whichever server started it: two
``asl serve`` processes, each with a catalog of its own, in front of one worker on one
dev server, driven by boto3.

AWS's order and paging (ListExecutions: newest first by ``startDate``, ``maxResults`` and
``nextToken``, ``statusFilter``) are those of the API reference
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html:
"Results are sorted by time, with the most recent execution first")."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.polling import until
from tests.serving import announced_port, sfn_client
from tests.temporal import machines
from tests.temporal.backend import Backend
from tests.temporal.test_serve_temporal import BOUND, ROLE, _asl, _done, _stopped

#: With every other test on Temporal on one xdist worker: one dev server for them all.
pytestmark = pytest.mark.xdist_group("temporal")

#: Succeeds at once, or (``{"park": true}``) waits on an activity no worker polls: RUNNING.
PARKING = {
    "StartAt": "Park?",
    "States": {
        "Park?": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.park", "BooleanEquals": True, "Next": "Park"}],
            "Default": "Done",
        },
        "Park": {"Type": "Task", "Resource": machines.activity_arn("nobody"), "End": True},
        "Done": {"Type": "Succeed"},
    },
}


@pytest.fixture(scope="module")
def servers(temporal: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Any]]:
    """A worker and two servers, each with its own catalog, on one task queue: a client
    of each server."""
    folder = tmp_path_factory.mktemp("serve-listing")
    options = ["--temporal-address", temporal.address, "--task-queue", f"listing-{uuid.uuid4()}"]
    worker = _asl("worker", *options, log=folder / "worker.log")
    processes = [worker]
    try:
        assert worker.stdout is not None and "serving task queue" in worker.stdout.readline()
        clients = []
        for number in (1, 2):
            server = _asl(
                "serve", "--backend", "temporal", *options, "--port", "0", "--clock", "virtual",
                "--db", str(folder / f"catalog-{number}.sqlite3"),
                log=folder / f"serve-{number}.log",
            )  # fmt: skip
            processes.append(server)
            assert server.stdout is not None
            port = announced_port(server.stdout.readline())
            assert server.stdout.readline().startswith("asl serve: executions on Temporal")
            clients.append(sfn_client(f"http://127.0.0.1:{port}"))
        yield clients
    finally:
        for process in reversed(processes):
            _stopped(process)


def test_each_server_lists_and_describes_the_other_s_executions(servers: list[Any]) -> None:
    name = f"shared-{uuid.uuid4().hex[:8]}"
    arns = {
        sfn.create_state_machine(name=name, definition=json.dumps(PARKING), roleArn=ROLE)[
            "stateMachineArn"
        ]
        for sfn in servers
    }
    [machine] = arns  # one name, one ARN: the same machine on both servers
    started: list[str] = []
    for number, park in [(0, False), (1, False), (0, True), (1, False), (0, False)]:
        sfn = servers[number]
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"park": park}))[
            "executionArn"
        ]
        if not park:
            _done(sfn, arn)
        started.append(arn)
    newest_first = started[::-1]
    parked = started[2]
    for sfn in servers:

        def all_listed(sfn: Any = sfn) -> list[dict[str, Any]] | None:
            listed: list[dict[str, Any]] = sfn.list_executions(stateMachineArn=machine)[
                "executions"
            ]
            return listed if len(listed) == len(started) else None

        listed = until(all_listed, BOUND, every=0.2)
        assert [e["executionArn"] for e in listed] == newest_first
        dates = [e["startDate"] for e in listed]
        assert dates == sorted(dates, reverse=True)
        assert {e["stateMachineArn"] for e in listed} == {machine}
        pages = [sfn.list_executions(stateMachineArn=machine, maxResults=2)]
        while "nextToken" in pages[-1]:
            pages.append(
                sfn.list_executions(
                    stateMachineArn=machine, maxResults=2, nextToken=pages[-1]["nextToken"]
                )
            )
        assert [len(p["executions"]) for p in pages] == [2, 2, 1]
        assert [e["executionArn"] for p in pages for e in p["executions"]] == newest_first
        running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")
        assert [e["executionArn"] for e in running["executions"]] == [parked]
        succeeded = sfn.list_executions(stateMachineArn=machine, statusFilter="SUCCEEDED")
        assert [e["executionArn"] for e in succeeded["executions"]] == [
            arn for arn in newest_first if arn != parked
        ]
        for arn in started:
            described = sfn.describe_execution(executionArn=arn)
            assert (described["stateMachineArn"], described["status"]) == (
                machine, "RUNNING" if arn == parked else "SUCCEEDED",
            )  # fmt: skip
    servers[0].stop_execution(executionArn=parked)
