"""Server-sent events for an execution's page: a message each time its history grows, and
a ``done`` event once it has ended. One stream per open page; each checks the history's
length a few times a second (a length, no copy), so an idle page costs next to nothing; a
comment after ``Console.keep_alive_seconds`` quiet seconds (15 by default) keeps proxies
from closing a quiet stream, and ends the stream of a page that was closed: aiohttp does
not cancel a handler whose client went away (``handler_cancellation`` is off), but
writing to its connection then fails, and the handler returns."""

from __future__ import annotations

import asyncio

from aiohttp import web

from runtime.service.console.context import Context
from runtime.service.console.reads import run

__all__ = ["stream"]

_CHECK_SECONDS = 0.25


async def stream(ctx: Context) -> web.StreamResponse:
    """The event stream of the execution ``?arn=`` (``ExecutionDoesNotExist`` if none)."""
    arn = (await run(ctx, ctx.query("arn") or "")).arn
    progress = ctx.backend.executions.progress
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(ctx.request)
    keep_alive = ctx.console.keep_alive_seconds
    check = min(_CHECK_SECONDS, keep_alive)
    seen, status = await progress(arn)
    quiet = 0.0
    try:
        while status == "RUNNING":
            await asyncio.sleep(check)
            count, status = await progress(arn)
            quiet += check
            if count != seen:
                seen, quiet = count, 0.0
                await response.write(f"data: {count}\n\n".encode())
            elif quiet >= keep_alive:
                # A comment line: nothing for the page, but a closed page's stream ends here.
                quiet = 0.0
                await response.write(b": waiting\n\n")
        await response.write(b"event: done\ndata: \n\n")
    except ConnectionResetError:
        pass  # the page was closed
    return response
