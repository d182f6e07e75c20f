"""The console's routes, added to the API's aiohttp application under ``/console/``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from html import escape

from aiohttp import web

from runtime.service.backend import Backend, Operation
from runtime.service.console import actions, live, pages, schedules_page
from runtime.service.console.context import Console, Context
from runtime.service.console.guard import SESSION_COOKIE, check_access, check_post, session
from runtime.service.console.html import page
from runtime.service.schedule_overview import ScheduleReader
from runtime.store import ApiError

__all__ = ["add_console"]

_CONSOLE: web.AppKey[Console] = web.AppKey("console", Console)
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "frame-ancestors 'self'",
    "Referrer-Policy": "same-origin",
}

Page = Callable[[Context], Awaitable[str]]
Action = Callable[[Context, dict[str, str]], Awaitable[str]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PAGES: dict[str, Page] = {
    "/": pages.machines,
    "/machine": pages.machine,
    "/executions": pages.executions,
    "/execution": pages.execution,
    "/report": pages.report,
    "/tasks": pages.tasks,
    "/schedules": schedules_page.schedules,
}
_ACTIONS: dict[str, Action] = {
    "/start": actions.start,
    "/stop": actions.stop,
    "/redrive": actions.redrive,
    "/approve": actions.approve,
    "/reject": actions.reject,
}


def add_console(
    app: web.Application,
    backend: Backend,
    operations: Mapping[str, Operation],
    token: str | None = None,
    *,
    schedules: ScheduleReader | None = None,
    keep_alive_seconds: float = 15.0,
) -> None:
    """Serve the console under ``/console/`` of ``app``; with a ``token``, only to a browser
    that gave it once as ``?token=``. ``schedules``: the server's scheduler, for the
    Schedules page; ``keep_alive_seconds``: how long an execution's event stream stays
    quiet before it sends a comment (which ends the stream of a page that was closed)."""
    console = web.Application(middlewares=[_guarded])
    console[_CONSOLE] = Console(backend, operations, token, schedules, keep_alive_seconds)
    for path, render in _PAGES.items():
        console.router.add_get(path, _page(render))
    for path, act in _ACTIONS.items():
        console.router.add_post(path, _action(act))
    console.router.add_get("/live", _live)
    app.add_subapp("/console", console)
    app.router.add_get("/console", _to_console)


async def _to_console(request: web.Request) -> web.StreamResponse:
    raise web.HTTPPermanentRedirect(str(request.rel_url.with_path("/console/")))


def _context(request: web.Request) -> tuple[Context, bool]:
    csrf, new = session(request)
    return Context(request.app[_CONSOLE], request, csrf), new


def _html(ctx: Context, text: str, new: bool, status: int = 200) -> web.Response:
    response = web.Response(text=text, status=status, content_type="text/html", headers=_HEADERS)
    if new:
        response.set_cookie(SESSION_COOKIE, ctx.csrf, httponly=True, samesite="Strict")
    return response


def _refused(ctx: Context, new: bool, why: str, status: int) -> web.Response:
    return _html(ctx, page("Refused", f'<p class="error">{escape(why)}</p>'), new, status)


@web.middleware
async def _guarded(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every console route: the access token first; an ``ApiError`` shown as a page."""
    denied = check_access(request, request.app[_CONSOLE].token)
    if denied is not None:
        return denied
    try:
        return await handler(request)
    except ApiError as error:
        ctx, new = _context(request)
        return _refused(ctx, new, f"{error.code}: {error.message}", 400)


def _page(render: Page) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx, new = _context(request)
        return _html(ctx, await render(ctx), new)

    return handler


def _action(act: Action) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        ctx, new = _context(request)
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        why = check_post(request, form.get("csrf", ""))
        if why is not None:
            return _refused(ctx, new, f"Refused: {why}", 403)
        raise web.HTTPSeeOther(await act(ctx, form))

    return handler


async def _live(request: web.Request) -> web.StreamResponse:
    return await live.stream(_context(request)[0])
