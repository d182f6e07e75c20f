"""One execution as the console reads it, whatever its kind.

A Standard execution, or a Map Run's child, is read through the API's operations. An
Express one the API does not describe (DescribeExecution and GetExecutionHistory answer
``InvalidArn`` for its ARN, as AWS does: its history goes to CloudWatch Logs there), so
the console reads it from the engine running it, in the API's shapes. The definition a
Map Run's child runs is not kept by the API either (DescribeStateMachineForExecution):
it is its Map state's ItemProcessor, read from the definition of the execution that
started the Map Run, as a machine of its own.
"""

from __future__ import annotations

from typing import Any

from asl.graph import build_graph
from asl.jsontext import JSON, parse_json
from runtime.execution_arns import is_express
from runtime.service.console.context import Context
from runtime.service.errors import ExecutionDoesNotExist
from runtime.service.executions_backend import ExecutionView
from runtime.service.lookup import execution
from runtime.service.runs import describe_run

__all__ = ["definition", "describe", "found_history", "history", "parent", "run"]

#: The events asked for at once: the most GetExecutionHistory's ``maxResults`` allows.
_HISTORY_PAGE = 1000


async def run(ctx: Context, arn: str) -> ExecutionView:
    """The execution of ``arn`` (``ExecutionDoesNotExist``, ``InvalidArn``)."""
    return await (_express(ctx, arn) if is_express(arn) else execution(ctx.backend, arn))


async def parent(ctx: Context, arn: str) -> str | None:
    """The ARN of the execution whose Map Run started ``arn``'s, None for a top one."""
    if is_express(arn):
        return None
    await execution(ctx.backend, arn)  # ExecutionDoesNotExist, InvalidArn
    started_by = await ctx.backend.executions.map_run_of(arn)
    return None if started_by is None else started_by.execution_arn


async def describe(ctx: Context, arn: str) -> dict[str, Any]:
    """The execution as DescribeExecution answers."""
    if not is_express(arn):
        return await ctx.call("DescribeExecution", {"executionArn": arn})
    express = await _express(ctx, arn)
    origin = ctx.backend.catalog.origin(arn)
    machine_arn = express.state_machine_arn if origin is None else origin.target.record.arn
    return describe_run(express, machine_arn, origin)


async def history(ctx: Context, arn: str) -> dict[str, Any]:
    """The execution's events, all of them, as GetExecutionHistory answers (page after
    page)."""
    if is_express(arn):
        await _express(ctx, arn)  # ExecutionDoesNotExist
        return await found_history(ctx, arn)
    request: dict[str, Any] = {"executionArn": arn, "maxResults": _HISTORY_PAGE}
    answer = await ctx.call("GetExecutionHistory", request)
    events = answer["events"]
    # Every page: one of GetExecutionHistory's holds 100 events unless asked for more.
    while "nextToken" in answer:
        request["nextToken"] = answer["nextToken"]
        answer = await ctx.call("GetExecutionHistory", request)
        events += answer["events"]
    return {"events": events}


async def found_history(ctx: Context, arn: str) -> dict[str, Any]:
    """The events of an execution already found (an Express one, a child a Map Run
    listed), in GetExecutionHistory's shape, read from the backend at once: the
    operation would look the execution up again."""
    events = await ctx.backend.executions.history(arn)
    return {"events": [event.to_aws() for event in events]}


async def definition(ctx: Context, arn: str) -> JSON | None:
    """The definition the execution runs (text, or for a Map Run's child the document of
    its item processor), None when it is not known."""
    if is_express(arn):
        origin = ctx.backend.catalog.origin(arn)
        return None if origin is None else origin.target.definition
    started_by = await ctx.backend.executions.map_run_of(arn)
    if started_by is None:
        described = await ctx.call("DescribeStateMachineForExecution", {"executionArn": arn})
        return str(described["definition"])
    top, state_name = started_by, started_by.state_name
    while (outer := await ctx.backend.executions.map_run_of(top.execution_arn)) is not None:
        top = outer
    described = await ctx.call(
        "DescribeStateMachineForExecution", {"executionArn": top.execution_arn}
    )
    return item_processor(str(described["definition"]), state_name)


def item_processor(text: str, map_state: str) -> dict[str, Any] | None:
    """The ItemProcessor (or Iterator) of the Map state named ``map_state`` anywhere in a
    definition, as a machine: its StartAt and States, in the definition's query language
    (a Map's child states do not inherit the Map's own). None when there is no such Map.
    State names are unique across a machine, nested ones included."""
    document = parse_json(text)
    if not isinstance(document, dict):
        return None
    for _, node in build_graph(document).nodes(data=True):
        state = node["state"]
        if node["name"] != map_state or node["type"] != "Map":
            continue
        processor = state.get("ItemProcessor", state.get("Iterator"))
        if not isinstance(processor, dict):
            return None
        machine = {k: v for k, v in processor.items() if k != "ProcessorConfig"}
        if "QueryLanguage" in document:
            machine.setdefault("QueryLanguage", document["QueryLanguage"])
        return machine
    return None


async def _express(ctx: Context, arn: str) -> ExecutionView:
    found = await ctx.backend.executions.find(arn)
    if found is None:
        raise ExecutionDoesNotExist(arn)
    return found
