"""The API server: the backend built from its settings, the aiohttp site, the schedules
it fires, and its life (``serve`` until SIGINT or SIGTERM; ``serve_in_thread`` for tests
and notebooks)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from integrations.aws import AwsConfig
from integrations.base import Invoker
from integrations.mocks import MockCases, MockConfig
from runtime.executions import Engine
from runtime.heap import settle_heap
from runtime.host import LocalHost
from runtime.service import machines, map_runs, runs, tagging, tasks, test_state, versions
from runtime.service.backend import Backend, Operation
from runtime.service.catalog import Catalog, MemoryCatalog
from runtime.service.console import add_console
from runtime.service.lean_http import LeanServer
from runtime.service.local_executions import LocalExecutions
from runtime.service.schedule_overview import ScheduleReader
from runtime.service.server_schedules import serving_schedules
from runtime.service.settings import ServiceSettings, SettingsError
from runtime.service.sqlite_catalog import SqliteCatalog
from runtime.service.wire import API, HTTP_LOG, build_app
from runtime.stop_signals import handling_stops
from runtime.store.tasks import store_file
from runtime.testing import local_engine

__all__ = [
    "OPERATIONS",
    "RunningServer",
    "build_backend",
    "connect_backend",
    "serve",
    "serve_in_thread",
]

#: Every operation served. Not yet: UpdateMapRun.
OPERATIONS: dict[str, Operation] = {
    **machines.OPERATIONS,
    **versions.OPERATIONS,
    **runs.OPERATIONS,
    **map_runs.OPERATIONS,
    **tasks.OPERATIONS,
    **tagging.OPERATIONS,
    **test_state.OPERATIONS,
}


_SHUTDOWN_SECONDS = 2.0


def build_backend(settings: ServiceSettings) -> Backend:
    """The server's engine (local functions, HTTP connections, AWS integrations, the
    MockConfigFile), the catalog the operations work on and where executions live: on that
    engine (``settings.backend == "local"``), or on Temporal (connected by
    :func:`connect_backend`, which ``serve`` awaits). Both kept in ``settings.db`` (the
    durable engine's tables and :class:`SqliteCatalog`'s, one file), or in memory for
    ``":memory:"``. Raises the set-up files' own errors (``FunctionsFileError``,
    ``MockConfigError``, ``ValueError``) and ``StoreError`` for a database it cannot use."""
    if settings.backend == "temporal":
        raise SettingsError("executions on Temporal: build the backend with connect_backend")
    mock_config = None if settings.mock_config is None else MockConfig.load(settings.mock_config)
    cases: list[MockCases] = []

    def with_mocks(invoker: Invoker) -> Invoker:
        assert mock_config is not None
        cases.append(MockCases(mock_config, invoker))
        return cases[0]

    durable = str(settings.db) != ":memory:"
    database = store_file(settings.db) if durable else None
    engine = _engine(settings, database, None if mock_config is None else with_mocks)
    host = engine.host
    assert isinstance(host, LocalHost)
    catalog: Catalog = (
        MemoryCatalog()
        if database is None or engine.store is None
        else SqliteCatalog(database, rows=engine.store)
    )
    mock_cases = cases[0] if cases else None
    executions = LocalExecutions(engine, catalog, host.tokens, mock_cases=mock_cases)
    return Backend(
        engine,
        catalog,
        executions,
        mock_cases=mock_cases,
        activity_poll_seconds=settings.activity_poll_seconds,
    )


def _engine(
    settings: ServiceSettings,
    database: Path | None,
    wrap_invoker: Callable[[Invoker], Invoker] | None = None,
) -> Engine:
    """The server's engine with the integrations of ``settings``."""
    return local_engine(
        functions=settings.functions,
        connections=settings.connections,
        resources=settings.resources,
        aws=AwsConfig(endpoint_url=settings.aws_endpoint, region=settings.region),
        clock=settings.clock,
        region=settings.region,
        account=settings.account,
        external_answers=True,
        wrap_invoker=wrap_invoker,
        database=database,
    )


async def connect_backend(settings: ServiceSettings) -> Backend:
    """The backend ``settings`` ask for; on Temporal, connected to its server (raises
    ``runtime.temporal.workers.TemporalUnreachable`` when it does not answer or has no
    such namespace). Executions live on Temporal; the server's own engine (in memory)
    gives dates and ids and runs TestState, and the catalog stays in ``settings.db``."""
    if settings.backend != "temporal":
        return build_backend(settings)
    if settings.mock_config is not None:
        raise SettingsError(
            "a MockConfigFile (--mock-config, SFN_MOCK_CONFIG) needs --backend local: the "
            "workers on Temporal run the Tasks"
        )
    # Imported only here: a server on the local backend never loads the Temporal SDK.
    from runtime.service.temporal_executions import connect_temporal

    engine = _engine(settings, None)
    durable = str(settings.db) != ":memory:"
    catalog: Catalog = SqliteCatalog(store_file(settings.db)) if durable else MemoryCatalog()
    try:
        executions = await connect_temporal(settings, catalog)
    except BaseException:
        catalog.close()
        await engine.aclose()
        raise
    return Backend(
        engine, catalog, executions, activity_poll_seconds=settings.activity_poll_seconds
    )


async def _start_site(
    backend: Backend,
    settings: ServiceSettings,
    schedules: ScheduleReader | None,
    host: str,
    port: int,
) -> tuple[web.AppRunner, LeanServer, str]:
    app = build_app(backend, OPERATIONS)
    add_console(app, backend, OPERATIONS, settings.console_token, schedules=schedules)
    # Requests still open at shutdown (a GetActivityTask's long poll, a console's event
    # stream) get a moment, not aiohttp's default minute.
    runner = web.AppRunner(
        app,
        access_log=None,
        shutdown_timeout=_SHUTDOWN_SECONDS,
        logger=HTTP_LOG,
        keepalive_timeout=settings.idle_seconds,  # aiohttp's default: 3,630 s
    )
    await runner.setup()
    assert runner.server is not None  # set up
    # Plain API requests are answered without aiohttp's machinery; the rest by the app.
    lean = LeanServer(app[API], runner.server, settings.idle_seconds)
    try:
        bound = await lean.start(host, port)
    except BaseException:
        await runner.cleanup()
        raise
    return runner, lean, f"http://{host}:{bound}"


async def _stop_site(runner: web.AppRunner, lean: LeanServer) -> None:
    await lean.stop(_SHUTDOWN_SECONDS)
    await runner.cleanup()


async def _run(
    backend: Backend,
    settings: ServiceSettings,
    address: tuple[str, int],
    stop: asyncio.Event,
    ready: Callable[[str], None],
    stop_asked: threading.Event | None = None,
) -> None:
    # What a dead server left running goes on (its task tokens waiting again) before the
    # first request can ask about it.
    await backend.executions.recover()
    try:
        if stop_asked is not None and stop_asked.is_set():  # while starting: no site
            return
        async with serving_schedules(backend, settings) as scheduler:
            runner, lean, url = await _start_site(backend, settings, scheduler, *address)
            try:
                ready(url)
                await stop.wait()
            finally:
                await _stop_site(runner, lean)
    finally:
        await backend.executions.aclose()
        await backend.engine.aclose()
        backend.catalog.close()


def serve(
    settings: ServiceSettings,
    host: str,
    port: int,
    ready: Callable[[str], None],
    stop_asked: threading.Event | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; ``ready(url)`` once requests are accepted. A signal
    that comes while the server starts (``stop_asked`` set: the caller noted one before
    this was called) stops it once started, without a site. On the main thread only."""
    asked = stop_asked if stop_asked is not None else threading.Event()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int, frame: object) -> None:
            # A Python-level handler, not the loop's: it runs even while start-up code
            # holds the loop (the integrations built, the recovery replayed).
            asked.set()
            loop.call_soon_threadsafe(stop.set)

        with handling_stops(on_signal):
            backend = await connect_backend(settings)
            settle_heap()  # the server's process is its own
            await _run(backend, settings, (host, port), stop, ready, asked)

    asyncio.run(main())


@dataclass(slots=True)
class RunningServer:
    """A server running on a thread of its own: ``url``, and ``stop()`` to end it."""

    url: str
    _loop: asyncio.AbstractEventLoop
    _stop: asyncio.Event
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_in_thread(
    settings: ServiceSettings | None = None, host: str = "127.0.0.1", port: int = 0
) -> RunningServer:
    """Start a server on a thread of its own (``port`` 0: a free one) and return once it
    accepts requests."""
    started: dict[str, Any] = {}
    ready = threading.Event()
    given = settings or ServiceSettings()

    async def main() -> None:
        started["stop"] = asyncio.Event()
        started["loop"] = asyncio.get_running_loop()
        backend = await connect_backend(given)

        def accepted(url: str) -> None:
            started["url"] = url
            ready.set()

        await _run(backend, given, (host, port), started["stop"], accepted)

    def thread_main() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            started["error"] = exc
            raise
        finally:
            ready.set()

    thread = threading.Thread(target=thread_main, name="asl-serve", daemon=True)
    thread.start()
    ready.wait()
    if "url" not in started:
        thread.join()
        raise RuntimeError("the server did not start") from started.get("error")
    return RunningServer(started["url"], started["loop"], started["stop"], thread)
