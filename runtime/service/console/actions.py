"""The console's forms (POST): start, stop and redrive an execution, approve or reject a
waiting task. Each is the API operation of the same name, then a redirect."""

from __future__ import annotations

from runtime.execution_arns import is_express
from runtime.service.console.context import Context
from runtime.service.console.html import url

__all__ = ["approve", "redrive", "reject", "start", "stop"]


async def start(ctx: Context, form: dict[str, str]) -> str:
    """StartExecution; to the new execution's page. An Express one is remembered: the API
    does not describe it, the console's pages do."""
    body = {"stateMachineArn": form.get("arn", ""), "input": form.get("input") or "{}"}
    if form.get("name"):
        body["name"] = form["name"]
    started = await ctx.call("StartExecution", body)
    arn = started["executionArn"]
    if is_express(arn):
        ctx.console.express.appendleft(arn)
    return url("/console/execution", arn=arn)


async def stop(ctx: Context, form: dict[str, str]) -> str:
    """StopExecution; back to the execution."""
    await ctx.call("StopExecution", {"executionArn": form.get("arn", "")})
    return url("/console/execution", arn=form.get("arn"))


async def redrive(ctx: Context, form: dict[str, str]) -> str:
    """RedriveExecution; back to the execution."""
    await ctx.call("RedriveExecution", {"executionArn": form.get("arn", "")})
    return url("/console/execution", arn=form.get("arn"))


async def approve(ctx: Context, form: dict[str, str]) -> str:
    """SendTaskSuccess with the output given (``{}`` when empty); back to the tasks."""
    output = form.get("output", "").strip() or "{}"
    await ctx.call("SendTaskSuccess", {"taskToken": form.get("token", ""), "output": output})
    return "/console/tasks"


async def reject(ctx: Context, form: dict[str, str]) -> str:
    """SendTaskFailure with the error and cause given; back to the tasks."""
    body = {"taskToken": form.get("token", "")}
    for field in ("error", "cause"):
        if form.get(field):
            body[field] = form[field]
    await ctx.call("SendTaskFailure", body)
    return "/console/tasks"
