"""DescribeMapRun and ListMapRuns: the Map Runs of Distributed Map states (their child
executions are reached by DescribeExecution, GetExecutionHistory and ListExecutions with
a ``mapRunArn``)."""

from __future__ import annotations

from typing import Any

from runtime.service.backend import Backend, Operation
from runtime.service.lookup import execution, map_run
from runtime.service.paging import page

__all__ = ["OPERATIONS"]


async def describe_map_run(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """DescribeMapRun."""
    return (await map_run(backend, body["mapRunArn"])).describe()


async def list_map_runs(backend: Backend, body: dict[str, Any]) -> dict[str, Any]:
    """ListMapRuns of an execution, in the order they started."""
    started_by = await execution(backend, body["executionArn"])
    shown, more = page(await backend.executions.map_runs(started_by.arn), body)
    listed = []
    for run in shown:
        entry: dict[str, Any] = {
            "executionArn": run.execution_arn,
            "mapRunArn": run.arn,
            "stateMachineArn": run.state_machine_arn,
            "startDate": run.start_time,
        }
        if run.stop_time is not None:
            entry["stopDate"] = run.stop_time
        listed.append(entry)
    return {"mapRuns": listed, **more}


OPERATIONS: dict[str, Operation] = {
    "DescribeMapRun": describe_map_run,
    "ListMapRuns": list_map_runs,
}
