"""Server-sent events for an execution's page: a message each time its history grows, and
a ``done`` event once it has ended. One stream per open page; each checks the history's
length a few times a second (a length, no copy), so an idle page costs next to nothing; a
comment every 15 quiet seconds ends the stream of a page that was closed."""

from __future__ import annotations

import asyncio

from aiohttp import web

from runtime.service.console.context import Context
from runtime.service.lookup import execution

__all__ = ["stream"]

_CHECK_SECONDS = 0.25
_KEEP_ALIVE_SECONDS = 15.0


async def stream(ctx: Context) -> web.StreamResponse:
    """The event stream of the execution ``?arn=`` (``ExecutionDoesNotExist`` if none)."""
    run = execution(ctx.backend, ctx.query("arn") or "")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(ctx.request)
    seen, quiet = len(run.history), 0.0
    try:
        while run.status == "RUNNING":
            await asyncio.sleep(_CHECK_SECONDS)
            count = len(run.history)
            quiet += _CHECK_SECONDS
            if count != seen:
                seen, quiet = count, 0.0
                await response.write(f"data: {count}\n\n".encode())
            elif quiet >= _KEEP_ALIVE_SECONDS:
                # A comment line: nothing for the page, but a closed page's stream ends here.
                quiet = 0.0
                await response.write(b": waiting\n\n")
        await response.write(b"event: done\ndata: \n\n")
    except ConnectionResetError:
        pass  # the page was closed
    return response
